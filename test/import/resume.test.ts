import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { archiveTables, fillParams, findNamedQuery } from '../../lib/catalog';
import { PROFILES } from '../../lib/core/profiles';
import type { Manifest } from '../../lib/import/manifest';
import { AnalyticsEngine } from '../../lib/local/athena/engine';
import { unpackIds } from '../../lib/storage/id-codec';
import { createPipelineTables, startDynalite, startS3rver, type TestDynamo, type TestS3 } from '../support/emulators';
import { chunksDone, finish, runAndKill, scanTable as scanDynamo, startImport } from './cli';
import { BAD_LINES, gzipped, history, ndjson, referenceAggregates, solarCsv, withCopies } from './fixtures';

/**
 * The import as a user runs it (a child process of bin/import.ts against dynalite and s3rver), killed
 * with SIGKILL at several points of both phases and run again until it completes; then the archive,
 * the quarantine and both DynamoDB tables must equal those of an uninterrupted import, and the
 * aggregates must equal a reference computed here from the deduplicated events.
 */
interface Target {
  readonly bucket: string;
  readonly aggregates: string;
  readonly state: string;
  readonly stateDir: string;
}

describe('npm run import: kill -9 at any point, then the same command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-resume-'));
  const unique = history(1, 6, new Date('2026-06-01T00:00:00.000Z'), 4);
  const copies = withCopies(unique);
  let dynamo: TestDynamo;
  let s3: TestS3;
  const targets: Record<'clean' | 'killed', Target> = {
    clean: { bucket: 'clean', aggregates: '', state: '', stateDir: join(dir, 'state-clean') },
    killed: { bucket: 'killed', aggregates: '', state: '', stateDir: join(dir, 'state-killed') },
  };
  const inputs = join(dir, 'in');
  let kills = 0;

  const args = (t: Target) => [
    inputs,
    '--aws',
    '--s3-endpoint',
    s3.endpoint,
    '--dynamodb-endpoint',
    dynamo.endpoint,
    '--region',
    'us-east-1',
    '--bucket',
    t.bucket,
    '--aggregates-table',
    t.aggregates,
    '--device-state-table',
    t.state,
    '--archive-format',
    'parquet',
    '--state-dir',
    t.stateDir,
    '--chunk-mb',
    '0.25',
    // The killed import scans on two worker threads, the clean one on its own thread: both must agree.
    ...(t.bucket === 'killed' ? ['--scan-threads', '2'] : []),
    '--json',
  ];
  const start = (t: Target) => startImport(args(t));
  const kill = async (t: Target, when: (m: Manifest) => boolean) => {
    if (await runAndKill(() => start(t), t.stateDir, when)) kills++;
  };

  beforeAll(async () => {
    dynamo = await startDynalite();
    s3 = await startS3rver(['clean', 'killed']);
    for (const name of ['clean', 'killed'] as const) {
      const [aggregates, state] = await createPipelineTables(dynamo.client, name);
      targets[name] = { ...targets[name], aggregates, state };
    }
    const { mkdirSync } = await import('node:fs');
    mkdirSync(inputs);
    const third = Math.floor(copies.length / 3);
    const rest = copies.slice(2 * third);
    writeFileSync(join(inputs, 'a.ndjson'), ndjson([...copies.slice(0, third), ...BAD_LINES]));
    writeFileSync(join(inputs, 'b.ndjson.gz'), gzipped(copies.slice(third, 2 * third)));
    writeFileSync(join(inputs, 'c.csv'), solarCsv(rest.filter((l) => l.includes('panelId'))));
    writeFileSync(join(inputs, 'd.jsonl'), ndjson(rest.filter((l) => !l.includes('panelId'))));

    const clean = await finish(start(targets.clean));
    if (clean.code !== 0) throw new Error(`uninterrupted import failed: ${clean.stderr}`);

    // Kill points: during the scan of the first file, inside the gzip file, during the publish.
    const t = targets.killed;
    await kill(t, (m) => chunksDone(m) > 0);
    await kill(t, (m) => m.files[join(inputs, 'b.ndjson.gz')]?.doneBytes > 0);
    await kill(t, (m) => m.published.length > 0);
    const last = await finish(start(t));
    if (last.code !== 0) throw new Error(`resumed import failed: ${last.stderr}`);
  }, 240_000);

  afterAll(async () => {
    await dynamo?.stop();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const scanTable = (table: string) => scanDynamo(dynamo.client, table);
  const objects = async (client: S3Client, bucket: string) => {
    const out = new Map<string, Buffer>();
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
        out.set(
          o.Key as string,
          Buffer.from(await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()),
        );
      }
      token = page.NextContinuationToken;
    } while (token);
    return out;
  };
  const withoutId = (key: string) => key.replace(/import-[0-9a-f]{12}/, 'import-ID');

  it('was really killed in both phases', () => {
    expect(kills).toBe(3);
  });

  it('the aggregates and device state equal the uninterrupted import', async () => {
    const clean = await scanTable(targets.clean.aggregates);
    const killed = await scanTable(targets.killed.aggregates);
    expect(killed.length).toBe(clean.length);
    const norm = (i: Record<string, unknown>) => ({ ...i, EventIds: unpackIds(i.EventIds as Uint8Array) });
    expect(killed.map(norm)).toEqual(clean.map(norm));
    expect(await scanTable(targets.killed.state)).toEqual(await scanTable(targets.clean.state));
  });

  it('the aggregates equal the reference computed from the deduplicated events', async () => {
    const ref = referenceAggregates(unique.filter((l) => !l.includes('"2099-')));
    const items = await scanTable(targets.killed.aggregates);
    const actual = Object.fromEntries(items.map((i) => [`${i.Name}|${i.StatusTime}`, i]));
    expect(Object.keys(actual).sort()).toEqual(Object.keys(ref).sort());
    for (const [key, row] of Object.entries(ref)) {
      expect(actual[key].RecordCount).toBe(row.RecordCount);
      for (const [name, v] of Object.entries(row))
        expect([key, name, actual[key][name]]).toEqual([key, name, expect.closeTo(v, 6)]);
    }
  });

  it('the archive and the quarantine hold the same objects, whole, as the uninterrupted import', async () => {
    const clean = await objects(s3.client, 'clean');
    const killed = await objects(s3.client, 'killed');
    const keys = (m: Map<string, Buffer>) => [...m.keys()].map(withoutId).sort();
    expect(keys(killed)).toEqual(keys(clean));
    expect(keys(killed).filter((k) => k.startsWith('raw/')).length).toBe(25); // 24 solar hours, 1 unicorn hour
    // Parquet objects: every one readable, the same rows.
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const rows = async (body: Buffer) => {
      const p = join(dir, `obj-${Math.random()}.parquet`);
      writeFileSync(p, body);
      const r = await conn.runAndReadAll(`SELECT * FROM read_parquet('${p}') ORDER BY ALL`);
      return JSON.stringify(r.getRowObjectsJson());
    };
    const cleanByKey = new Map([...clean].map(([k, v]) => [withoutId(k), v]));
    let distinct = 0;
    for (const [key, body] of killed) {
      const other = cleanByKey.get(withoutId(key)) as Buffer;
      if (key.endsWith('.parquet')) {
        const r = await rows(body);
        expect(r).toEqual(await rows(other));
        distinct += JSON.parse(r).length;
      } else {
        const lines = (b: Buffer) =>
          (key.endsWith('.gz') ? gunzipSync(b) : b).toString('utf8').trim().split('\n').sort();
        // Each import stamps its own start as the arrival time.
        const strip = (l: string) => l.replace(/import-[0-9a-f]{12}/, 'import-ID').replace(/"arrivalTime":"[^"]*"/, '');
        expect(lines(body).map(strip)).toEqual(lines(other).map(strip));
      }
    }
    conn.closeSync();
    db.closeSync();
    expect(distinct).toBeGreaterThanOrEqual(unique.length);
  });

  it('the named queries over the imported archive agree with the reference and the aggregates table', async () => {
    const cacheDir = mkdtempSync(join(dir, 'cache-'));
    const tables = archiveTables({ bucketName: 'killed', databaseName: 'db', profiles: PROFILES, parquet: true });
    const engine = await AnalyticsEngine.create({
      s3: { endpoint: s3.endpoint, region: 'us-east-1' },
      tables,
      cacheDir,
      threads: 1,
    });
    try {
      const ref = referenceAggregates(unique);
      const items = Object.fromEntries(
        (await scanTable(targets.killed.aggregates)).map((i) => [`${i.Name}|${i.StatusTime}`, i]),
      );
      const params = { from: '2026-06-01', to: '2026-06-01', slack_hours: '0' };
      for (const [name, energy] of [
        ['solar-per-minute', 'energywh'],
        ['unicorn-per-minute', 'distance'],
      ] as const) {
        const q = findNamedQuery(name);
        const r = await engine.execute(fillParams(q.sql, q.params, params), { database: 'db' });
        const col = (c: string) => r.columns.findIndex((x) => x.name === c);
        expect(r.rows.length).toBeGreaterThan(0);
        for (const row of r.rows) {
          const key = `${row[col('name')]}|${row[col('statustime')]}`;
          expect([key, Number(row[col('recordcount')])]).toEqual([key, ref[key].RecordCount]);
          expect(Number(row[col('recordcount')])).toBe(items[key].RecordCount);
          const attr = energy === 'energywh' ? 'EnergyWh' : 'Distance';
          expect(Number(row[col(energy)])).toBeCloseTo(items[key][attr] as number, 6);
        }
      }
      const solarKeys = Object.keys(ref).filter((k) => k.startsWith('SP-'));
      const q = findNamedQuery('solar-per-minute');
      const all = await engine.execute(fillParams(q.sql, q.params, params), { database: 'db' });
      const got = new Set(all.rows.map((row) => `${row[0]}|${row[1]}`));
      const missing = solarKeys.filter((k) => !got.has(k));
      expect(missing).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it('the quarantine holds each bad record once, with its reason', async () => {
    const killed = await objects(s3.client, 'killed');
    const lines = [...killed]
      .filter(([k]) => k.startsWith('quarantine/'))
      .flatMap(([, b]) => b.toString('utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as { reason: string; data: string });
    const byData = new Map(lines.map((l) => [l.data, l.reason]));
    expect(lines.length).toBe(byData.size);
    expect(byData.get('definitely not json')).toBe('invalid_json');
    expect(byData.get('{"neither":"unicorn nor panel"}')).toBe('unknown_profile');
    expect(byData.get(BAD_LINES[3])).toBe('timestamp_in_future');
    expect(byData.get(BAD_LINES[2])).toMatch(/^(timestamp_too_old|out_of_range:ts)$/);
  });
});
