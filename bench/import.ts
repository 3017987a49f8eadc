import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decodeBytes, EventWindow, flushWindow } from '../lib/core';
import { solarProfile } from '../lib/core/profiles';
import { pricesFor } from '../lib/cost/prices';
import { IMPORT_NODE_FLAGS } from '../lib/import/node-flags';
import { type DayArchiveWriter, ParquetDayWriter } from '../lib/import/parquet-archive';
import { IMPORT_FLUSH_LATENESS_MS, type ObjectSink } from '../lib/import/publish';
import { type ImportSummary, runImport } from '../lib/import/run';
import { startEmulators } from '../lib/local/emulators';
import { baseClientConfig, s3ClientConfig } from '../lib/shared/aws-clients';
import { DynamoAggregateStore } from '../lib/storage/dynamo-aggregate-store';
import { createPipelineTables } from '../test/support/emulators';
import { type BenchReport, fmt, perSecond } from './report';
import { WrittenKeysStore } from './written-keys-store';

/**
 * `npm run bench -- import`: generated history (the simulator's --out: IMPORT_BENCH_PANELS panels over
 * IMPORT_BENCH_DAYS simulated days, default 1,000 panels × 1 day, 10 retry copies of every message,
 * seconds apart), imported from the file into Parquet archive objects on s3rver (in its own process, as
 * the embedded runtime runs it). 1,000 panels give ~12,000 distinct records per hourly object, nearer the
 * solar fleet's ~114,000 than a few panels over many days, whose hundreds of tiny objects measure
 * s3rver's PUT rate rather than the import. Three runs:
 * 1. files → archive (s3rver) with the aggregates merged into an in-memory store through the same
 *    flushWindow: the import's own throughput, which the emulated DynamoDB would otherwise hide; in a
 *    process of its own with the V8 flags `npm run import` runs with (lib/import/node-flags.ts);
 * 2. the first event-time hour → dynalite, to count DynamoDB writes per device-minute and the emulator's rate;
 * 3. the same hour's merge through the DynamoDB adapter against an endpoint that answers at once: the
 *    client's own CPU per conditional write, which bounds one import process on real DynamoDB.
 * Prints AWS list-price costs per raw record from the measured counts (lib/cost/prices.ts).
 */
/** A DynamoDB endpoint on 127.0.0.1 that answers every request at once with an empty result; prints its port. */
const INSTANT_DYNAMODB = `
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.setHeader('content-type', 'application/x-amz-json-1.0'); res.end('{}'); });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume(); // gone with its parent
`;

interface EndToEndArgs {
  readonly file: string;
  readonly s3Endpoint: string;
  readonly work: string;
}

interface EndToEndResult {
  readonly summary: ImportSummary;
  readonly memoryWrites: number;
  /** Summed over parallel calls. */
  readonly putMs: number;
  readonly duckMs: number;
  /** DuckDB's share run again alone on the same spools. */
  readonly duckAloneMs: number;
  readonly flushMs: number;
}

const END_TO_END_ENV = 'IMPORT_BENCH_END_TO_END';
const SOLAR_COLUMNS = solarProfile.archiveColumns.map((c) => ({ name: c.name.toLowerCase(), type: c.type }));

/** Step 1 in a child process: node with the import's V8 flags (lib/import/node-flags.ts), as `npm run import` runs. */
async function endToEndInChild(args: EndToEndArgs): Promise<EndToEndResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...IMPORT_NODE_FLAGS, '--require', require.resolve('tsx/cjs'), __filename],
    { env: { ...process.env, [END_TO_END_ENV]: JSON.stringify(args) }, maxBuffer: 16 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').pop() as string) as EndToEndResult;
}

/**
 * Files → Parquet objects in s3rver, with the aggregates merged through the same flushWindow into a store
 * that keeps only what the merge reads (`WrittenKeysStore`: a year's millions of device-minutes stay out of the heap).
 */
async function endToEnd({ file, s3Endpoint, work }: EndToEndArgs): Promise<EndToEndResult> {
  const s3 = new S3Client(s3ClientConfig({ endpoint: s3Endpoint, region: 'us-east-1' }));
  let putMs = 0;
  const archive: ObjectSink = {
    put: async (key, body, contentType) => {
      const t = Date.now();
      await s3.send(new PutObjectCommand({ Bucket: 'archive', Key: key, Body: body, ContentType: contentType }));
      putMs += Date.now() - t;
    },
  };
  const memory = new WrittenKeysStore();
  const duck = new ParquetDayWriter({ columns: () => SOLAR_COLUMNS });
  let duckMs = 0;
  const writer: DayArchiveWriter = {
    writeDay: async (...a) => {
      const t = Date.now();
      const files = await duck.writeDay(...a);
      duckMs += Date.now() - t;
      return files;
    },
    close: () => duck.close(),
  };
  let flushMs = 0;
  try {
    const summary = await runImport({
      inputs: [file],
      s3,
      bucket: 'archive',
      format: 'parquet',
      parquet: writer,
      store: memory,
      archive,
      flush: async (w) => {
        const t = Date.now();
        const r = await flushWindow(w, memory, { allowedLatenessMs: IMPORT_FLUSH_LATENESS_MS });
        flushMs += Date.now() - t;
        return r;
      },
      stateDir: join(work, 'state-1'),
    });
    // DuckDB's share measured alone (the same spools, the JavaScript thread idle): inside the import its
    // result waits for the JavaScript thread, so the overlapped figure above says little about DuckDB itself.
    const spoolRoot = join(work, 'state-1', 'spool');
    let duckAloneMs = 0;
    mkdirSync(join(work, 'duck-alone'));
    for (const profile of readdirSync(spoolRoot)) {
      for (const f of readdirSync(join(spoolRoot, profile))) {
        const t = Date.now();
        await duck.writeDay(profile, join(spoolRoot, profile, f), join(work, 'duck-alone', `${profile}-${f}`));
        duckAloneMs += Date.now() - t;
      }
    }
    return { summary, memoryWrites: memory.writes, putMs, duckMs, duckAloneMs, flushMs };
  } finally {
    await writer.close();
    s3.destroy();
  }
}

export async function runImportBench(): Promise<BenchReport> {
  const panels = Number(process.env.IMPORT_BENCH_PANELS ?? 1000);
  const days = Number(process.env.IMPORT_BENCH_DAYS ?? 1);
  // January 1st of the latest year whose history of `days` lies wholly in the past (the simulator refuses
  // event times in the future): 2026 for a day, 2025 for a year, as of December 2026.
  let startYear = new Date().getUTCFullYear();
  while (Date.UTC(startYear, 0, 1) + days * 86_400_000 > Date.now()) startYear--;
  mkdirSync('.bench', { recursive: true });
  const file = join('.bench', `import-history-${panels}p-${days}d-${startYear}.ndjson`);
  if (!existsSync(file)) {
    await promisify(execFile)(
      process.execPath,
      [
        '--require',
        require.resolve('tsx/cjs'),
        'bin/simulate.ts',
        '--profile',
        'solar',
        '--devices',
        String(panels),
        '--sim-duration',
        `${days}d`,
        '--rate',
        'max',
        '--duplicates',
        '10',
        '--delay',
        'seconds',
        '--seed',
        '1',
        '--start',
        `${startYear}-01-01T00:00:00Z`,
        '--out',
        file,
      ],
      { maxBuffer: 64 << 20 },
    );
  }
  const bytes = statSync(file).size;
  const work = mkdtempSync(join(tmpdir(), 'bench-import-'));
  // The embedded runtime's emulators, each in its own process: s3rver's request handling must not share
  // the import's thread (on AWS it is another machine).
  const emulators = await startEmulators({ scratchDir: work });
  const s3 = { client: new S3Client(s3ClientConfig({ endpoint: emulators.s3.url, region: 'us-east-1' })) };
  for (const Bucket of ['archive', 'archive-ddb']) await s3.client.send(new CreateBucketCommand({ Bucket }));
  const ddbClient = new DynamoDBClient(baseClientConfig({ endpoint: emulators.dynamodb.url, region: 'us-east-1' }));
  const dynamo = {
    client: ddbClient,
    doc: DynamoDBDocumentClient.from(ddbClient, { marshallOptions: { removeUndefinedValues: true } }),
  };
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(', ');
  const lines: string[] = [];
  const figures: Record<string, number> = {};
  try {
    // 1. Files to archive, aggregates in memory: in a process of its own started as `npm run import`
    // starts the import (its V8 flags), the emulators in theirs.
    const loadBefore = load();
    const { summary, memoryWrites, putMs, duckMs, duckAloneMs, flushMs } = await endToEndInChild({
      file,
      s3Endpoint: emulators.s3.url,
      work,
    });
    const raw = summary.scan.records;
    const total = summary.elapsedMs;
    figures.rawRecords = raw;
    figures.rawRecordsPerSecond = perSecond(raw, total);
    figures.scanRecordsPerSecond = perSecond(raw, summary.scanMs);
    figures.objects = summary.publish.objects;
    figures.deviceMinutes = summary.publish.deviceMinutesWritten;
    figures.minuteWrites = memoryWrites;
    lines.push(
      `machine: ${cpus().length} vCPU (${cpus()[0]?.model.trim()}), Node ${process.versions.node}; load average (1, 5, 15 min) ${loadBefore} before, ${load()} after`,
      `history: ${panels} panels × ${days} simulated days, 10 copies per message: ${fmt(raw)} raw records, ${(bytes / 1e6).toFixed(0)} MB NDJSON (simulator --out)`,
      `end to end, file → Parquet (ZSTD) objects in s3rver (+ aggregates merged in memory): **${fmt(figures.rawRecordsPerSecond)} raw records/s** (${(total / 1000).toFixed(1)} s)`,
      `  scan (read, validate, drop copies, spool, quarantine): ${fmt(figures.scanRecordsPerSecond)} raw records/s, ${(summary.scanMs / 1000).toFixed(1)} s`,
      `  publish (${fmt(summary.publish.archived)} distinct records → ${fmt(summary.publish.objects)} hourly objects, ${(summary.publish.archiveBytes / 1e6).toFixed(1)} MB): ${(summary.publishMs / 1000).toFixed(1)} s; overlapping in it (summed over parallel calls): DuckDB COPY until its result reached JavaScript ${(duckMs / 1000).toFixed(1)} s (${(duckAloneMs / 1000).toFixed(1)} s when run alone), S3 PUTs ${(putMs / 1000).toFixed(1)} s, merge (flushWindow into memory) ${(flushMs / 1000).toFixed(1)} s`,
      `  copies dropped ${fmt(summary.scan.copiesDropped)}, invalid ${fmt(summary.scan.invalid)}, device-minutes ${fmt(summary.publish.deviceMinutesWritten)}, aggregate writes ${fmt(memoryWrites)} (${(memoryWrites / Math.max(1, summary.publish.deviceMinutesWritten)).toFixed(2)} per device-minute)`,
    );

    // 2. One day into dynalite: writes per device-minute, the emulator's rate.
    const [aggregates, state] = await createPipelineTables(dynamo.client, 'bench');
    const store = new DynamoAggregateStore({
      client: dynamo.doc,
      aggregatesTable: aggregates,
      deviceStateTable: state,
    });
    let minuteWrites = 0;
    let latestWrites = 0;
    let reads = 0;
    const counted = {
      getMinutes: (refs: Parameters<typeof store.getMinutes>[0], c: boolean) => {
        reads += refs.length;
        return store.getMinutes(refs, c);
      },
      getWatermarks: (ids: readonly string[]) => {
        reads += ids.length;
        return store.getWatermarks(ids);
      },
      getNewest: (ids: readonly string[]) => {
        reads += ids.length;
        return store.getNewest(ids);
      },
      putMinutes: (writes: Parameters<typeof store.putMinutes>[0]) => {
        minuteWrites += writes.length;
        return store.putMinutes(writes);
      },
      putLatest: (...a: Parameters<typeof store.putLatest>) => {
        latestWrites++;
        return store.putLatest(...a);
      },
    };
    const dayFile = join(work, 'one-day.ndjson');
    const { createReadStream, createWriteStream } = await import('node:fs');
    const { createInterface } = await import('node:readline');
    const out = createWriteStream(dayFile);
    // The first event-time hour: dynalite's ~700 conditional writes/s would take minutes for a whole day.
    const firstDay = `"ts":"${startYear}-01-01T00:`;
    for await (const line of createInterface({ input: createReadStream(file) })) {
      if (line.includes(firstDay)) out.write(`${line}\n`);
    }
    await new Promise((r) => out.end(r));
    const writer2 = new ParquetDayWriter({ columns: () => SOLAR_COLUMNS });
    const t2 = Date.now();
    const ddb = await runImport({
      inputs: [dayFile],
      s3: s3.client,
      bucket: 'archive-ddb',
      format: 'parquet',
      parquet: writer2,
      store: counted,
      stateDir: join(work, 'state-2'),
    });
    const ddbMs = Date.now() - t2;
    await writer2.close();
    figures.dynaliteWritesPerSecond = perSecond(minuteWrites + latestWrites, ddb.publishMs);
    figures.writesPerDeviceMinute = minuteWrites / Math.max(1, ddb.publish.deviceMinutesWritten);
    lines.push(
      `first hour into dynalite: ${fmt(ddb.scan.records)} raw records, ${fmt(ddb.publish.deviceMinutesWritten)} device-minutes, ` +
        `${fmt(minuteWrites)} aggregate writes (${figures.writesPerDeviceMinute.toFixed(2)} per device-minute) + ${fmt(latestWrites)} device-state writes, ` +
        `${fmt(reads)} reads; ${(ddbMs / 1000).toFixed(1)} s, ${fmt(figures.dynaliteWritesPerSecond)} writes/s (dynalite's rate: the client's own CPU per write is on the next line)`,
    );

    // 3. The DynamoDB client's own cost: the same first hour's merge against an endpoint on 127.0.0.1 that
    // answers every request at once, so what is measured is this process's CPU per conditional write
    // (the merge, AWS SDK marshalling, signing, HTTP): the bound of one import process on real DynamoDB.
    // The endpoint runs in its own process, so that only the client's CPU is counted here.
    const instant = spawn(process.execPath, ['-e', INSTANT_DYNAMODB], { stdio: ['pipe', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      instant.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      instant.once('error', reject);
    });
    const instantClient = new DynamoDBClient(
      baseClientConfig({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1' }),
    );
    try {
      const window = new EventWindow();
      const arrival = Date.now();
      for (const line of readFileSync(dayFile, 'utf8').split('\n')) {
        const e = line ? decodeBytes(Buffer.from(line), arrival) : undefined;
        if (e?.ok) window.add(e);
      }
      const instantStore = new DynamoAggregateStore({
        client: DynamoDBDocumentClient.from(instantClient, { marshallOptions: { removeUndefinedValues: true } }),
        aggregatesTable: 'a',
        deviceStateTable: 's',
      });
      const cpu0 = process.cpuUsage();
      const t3 = Date.now();
      const r = await flushWindow(window, instantStore, { allowedLatenessMs: IMPORT_FLUSH_LATENESS_MS });
      const cpu = process.cpuUsage(cpu0);
      const sdkMs = Date.now() - t3;
      figures.sdkWritesPerSecond = perSecond(r.aggregatesWritten, sdkMs);
      figures.sdkCpuMicrosPerWrite = (cpu.user + cpu.system) / r.aggregatesWritten;
      lines.push(
        `DynamoDB client cost (same first hour, endpoint answering at once): ${fmt(r.aggregatesWritten)} conditional writes (new minutes 25 to a BatchExecuteStatement), ` +
          `${fmt(figures.sdkWritesPerSecond)} writes/s, ${fmt(figures.sdkCpuMicrosPerWrite)} µs CPU per write in this process ` +
          `(load average ${load()}): one import process writes aggregates at most this fast on real DynamoDB`,
      );
    } finally {
      instantClient.destroy();
      instant.kill();
    }

    // Cost on AWS from the measured counts (on-demand, us-east-1 list prices).
    const p = pricesFor('us-east-1');
    const perRaw = {
      puts: (summary.publish.objects + summary.scan.quarantineObjects) / raw,
      wru: (memoryWrites + summary.publish.devicesUpdated) / raw,
      rru:
        (0.5 *
          (summary.publish.deviceMinutesWritten +
            summary.publish.eventsAlreadyStored +
            summary.publish.devicesUpdated)) /
        raw,
    };
    const fleetRaw = 10e9;
    const usd = {
      puts: (perRaw.puts * fleetRaw * p.s3PutThousand.usd) / 1000,
      writes: (perRaw.wru * fleetRaw * p.dynamoWriteUnitsMillion.usd) / 1e6,
      reads: (perRaw.rru * fleetRaw * p.dynamoReadUnitsMillion.usd) / 1e6,
    };
    figures.fleetYearUsd = usd.puts + usd.writes + usd.reads;
    lines.push(
      `AWS cost of the import from the measured counts, scaled to the solar fleet's year (10 billion raw records): ` +
        `S3 PUTs ${(perRaw.puts * fleetRaw).toExponential(2)} = $${usd.puts.toFixed(2)}, ` +
        `DynamoDB ${(perRaw.wru * fleetRaw).toExponential(2)} WRU = $${usd.writes.toFixed(2)}, ${(perRaw.rru * fleetRaw).toExponential(2)} RRU = $${usd.reads.toFixed(2)}; ` +
        `total $${figures.fleetYearUsd.toFixed(2)} (no Firehose, Kinesis or Lambda: the import bypasses them)`,
    );
  } finally {
    s3.client.destroy();
    ddbClient.destroy();
    await emulators.stop();
    rmSync(work, { recursive: true, force: true });
  }
  return { title: 'History import (npm run import)', lines, figures };
}

if (process.env[END_TO_END_ENV]) {
  endToEnd(JSON.parse(process.env[END_TO_END_ENV] as string) as EndToEndArgs).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
} else if (require.main === module) {
  runImportBench().then((r) => {
    console.log(`## ${r.title}`);
    for (const l of r.lines) console.log(l);
  });
}
