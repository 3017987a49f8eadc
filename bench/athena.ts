import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { archiveTables, fillParams, findNamedQuery, type GlueTableDef } from '../lib/catalog';
import { PROFILES } from '../lib/core/profiles';
import { AnalyticsEngine } from '../lib/local/athena/engine';
import { ParquetWriter } from '../lib/local/parquet';
import { formatBytes } from '../lib/query/client';
import { s3ClientConfig } from '../lib/shared/aws-clients';
import { generateFleet } from '../lib/simulator/generate';

// s3rver ships no types.
// biome-ignore lint/suspicious/noExplicitAny: untyped CommonJS module
const S3rver: any = require('s3rver');

const BUCKET = 'archive';
const DB = 'iot';
const DEVICES = 200;
const DAYS = 3;
const START = Date.parse('2026-06-01T00:00:00Z');

/**
 * What Athena would read (and bill) for the same queries over the same records: the JSON (gzip) archive
 * versus Parquet, and with versus without partition pruning. Measured on the embedded engine, whose
 * "data scanned" counts object sizes for JSON and column-chunk sizes for Parquet, as Athena does.
 */
export async function runAthenaBench(): Promise<{ title: string; lines: string[]; figures: Record<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'athena-bench-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 's3') });
  const { port } = await server.run();
  const target = { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1' };
  const s3 = new S3Client(s3ClientConfig(target));
  let engine: AnalyticsEngine | undefined;
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const tables = archiveTables({ bucketName: BUCKET, databaseName: DB, profiles: PROFILES, parquet: false });
    const solar = tables.find((t) => t.tableName === 'solar_raw')!;
    const parquetTable = (codec: string): GlueTableDef => ({
      ...solar,
      tableName: `solar_parquet_${codec}`,
      location: `s3://${BUCKET}/parquet-${codec}/profile=solar/`,
      parameters: {
        ...solar.parameters,
        'storage.location.template': `s3://${BUCKET}/parquet-${codec}/profile=solar/year=\${year}/month=\${month}/day=\${day}/hour=\${hour}/`,
        classification: 'parquet',
      },
      serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    });
    const codecs = ['SNAPPY', 'GZIP'] as const; // Firehose's record format conversion offers both (Snappy is its default)
    const parquet = codecs.map((codec) => parquetTable(codec.toLowerCase()));

    // The same records, retry copies included (1-5 per message), in hourly arrival partitions, in both formats.
    const fleet = generateFleet({
      profile: 'solar',
      devices: DEVICES,
      start: new Date(START),
      durationMs: DAYS * 86_400_000,
      seed: 1,
    });
    const byHour = new Map<string, string[]>();
    let messages = 0;
    let records = 0;
    for (const r of fleet.records()) {
      const copies = 1 + (messages++ % 5);
      for (let c = 0; c < copies; c++) {
        const d = new Date(r.eventTimeMs + 2000 + c * 60_000);
        const p = (n: number) => String(n).padStart(2, '0');
        const key = `year=${d.getUTCFullYear()}/month=${p(d.getUTCMonth() + 1)}/day=${p(d.getUTCDate())}/hour=${p(d.getUTCHours())}/`;
        const arr = byHour.get(key);
        if (arr) arr.push(r.json);
        else byHour.set(key, [r.json]);
        records++;
      }
    }
    let jsonBytes = 0;
    const parquetBytes = [0, 0];
    let rawBytes = 0;
    for (const [hour, arr] of byHour) {
      const text = `${arr.join('\n')}\n`;
      rawBytes += Buffer.byteLength(text);
      const gz = gzipSync(text);
      jsonBytes += gz.length;
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `raw/profile=solar/${hour}part-0.gz`, Body: gz }));
      for (const [k, codec] of codecs.entries()) {
        // The writer the embedded Firehose uses, so the figures are the runtime's.
        const writer = new ParquetWriter(parquet[k].columns, codec);
        const pq = await writer.write(arr.map((line) => JSON.parse(line)));
        await writer.close();
        parquetBytes[k] += pq.length;
        await s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: `parquet-${codec.toLowerCase()}/profile=solar/${hour}part-0.parquet`,
            Body: pq,
          }),
        );
      }
    }

    engine = await AnalyticsEngine.create({
      s3: target,
      tables: [...tables, ...parquet],
      cacheDir: join(dir, 'cache'),
    });
    const day = new Date(START + 86_400_000).toISOString().slice(0, 10);
    const named = (name: string, params: Record<string, string> = {}) => {
      const q = findNamedQuery(name);
      return fillParams(q.sql, q.params, params);
    };
    const queries: { label: string; sql: string }[] = [
      { label: `per-minute aggregates, all ${DAYS} days`, sql: named('solar-per-minute') },
      { label: 'per-minute aggregates, one day', sql: named('solar-per-minute', { from: day, to: day }) },
      { label: 'fleet energy per day', sql: named('solar-fleet-trends', { granularity: 'day' }) },
      { label: 'spikes, one day', sql: named('solar-spikes', { from: day, to: day }) },
      { label: 'copies per device (duplicates)', sql: named('solar-duplicates') },
    ];
    const figures: Record<string, number> = {
      records,
      messages,
      raw_json_bytes: rawBytes,
      archive_json_gz_bytes: jsonBytes,
      archive_parquet_snappy_bytes: parquetBytes[0],
      archive_parquet_gzip_bytes: parquetBytes[1],
    };
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    const lines = [
      `${DEVICES} panels × ${DAYS} days, ${messages} readings sent as ${records} records (retry copies 1-5); archive objects: JSON ${formatBytes(rawBytes)}, JSON.gz ${formatBytes(jsonBytes)}, Parquet/Snappy ${formatBytes(parquetBytes[0])}, Parquet/GZIP ${formatBytes(parquetBytes[1])}`,
    ];
    let i = 0;
    for (const q of queries) {
      const json = await engine.execute(q.sql, { database: DB });
      const pq = [];
      for (const t of parquet) {
        const r = await engine.execute(q.sql.replace(/\bsolar_raw\b/g, t.tableName), { database: DB });
        if (!sameAnswer(json.rows, r.rows)) throw new Error(`${q.label}: Parquet and JSON answers differ`);
        pq.push(r);
      }
      figures[`q${i}_json_gz_bytes`] = json.dataScannedInBytes;
      figures[`q${i}_parquet_snappy_bytes`] = pq[0].dataScannedInBytes;
      figures[`q${i}_parquet_gzip_bytes`] = pq[1].dataScannedInBytes;
      figures[`q${i}_parquet_gzip_to_json_ratio`] = pq[1].dataScannedInBytes / json.dataScannedInBytes;
      lines.push(
        `${q.label}: JSON.gz ${formatBytes(json.dataScannedInBytes)}, Parquet/Snappy ${formatBytes(pq[0].dataScannedInBytes)} (${pct(pq[0].dataScannedInBytes / json.dataScannedInBytes)}), Parquet/GZIP ${formatBytes(pq[1].dataScannedInBytes)} (${pct(pq[1].dataScannedInBytes / json.dataScannedInBytes)}); engine ${json.engineExecutionTimeInMillis} / ${pq[0].engineExecutionTimeInMillis} / ${pq[1].engineExecutionTimeInMillis} ms`,
      );
      i++;
    }
    const pruned = figures.q1_json_gz_bytes / figures.q0_json_gz_bytes;
    figures.pruning_one_day_to_all_ratio = pruned;
    lines.push(
      `partition pruning: one day of ${DAYS} reads ${pct(pruned)} of the unfiltered query's bytes (JSON.gz); Parquet/GZIP + pruning reads ${pct(figures.q1_parquet_gzip_bytes / figures.q0_json_gz_bytes)}`,
    );
    return { title: 'Athena: bytes read, JSON.gz vs Parquet, with and without partition pruning', lines, figures };
  } finally {
    await engine?.close();
    s3.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Same rows; floating-point sums may differ in the last bits with the summation order. */
function sameAnswer(a: readonly (readonly (string | null)[])[], b: readonly (readonly (string | null)[])[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((row, i) =>
    row.every((v, j) => {
      const w = b[i][j];
      if (v === w) return true;
      const x = Number(v);
      const y = Number(w);
      return v !== null && w !== null && Number.isFinite(x) && Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x));
    }),
  );
}

if (require.main === module) {
  runAthenaBench().then(
    (r) => {
      console.log(r.title);
      for (const l of r.lines) console.log(`  ${l}`);
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
