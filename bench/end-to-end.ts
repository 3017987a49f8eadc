import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { FLUSH_CONCURRENCY, MINUTE_WRITE_BATCH, minuteBatchesInFlight } from '../lib/core';
import { startEmulators } from '../lib/local/emulators';
import type { MeteringSnapshot } from '../lib/local/metering-types';
import { countArchive, listKeys } from '../lib/local/pipeline-report';
import { startRuntime } from '../lib/local/runtime';
import { baseClientConfig } from '../lib/shared/aws-clients';
import { sleep } from '../lib/shared/sleep';
import { EdgeDedupe } from '../lib/simulator/edge-dedupe';
import { DEFAULT_INTERVAL_MS, generateFleet } from '../lib/simulator/generate';
import { KinesisSender } from '../lib/simulator/kinesis-sender';
import { aggregatingSink, edgeGateway } from '../lib/simulator/sinks';
import {
  type EmulatorCeilings,
  measureCeilings,
  PRODUCER_IN_FLIGHT,
  putAll,
  type RequestMix,
} from './emulator-ceilings';
import { processTreeCpuMs } from './report';

/**
 * End-to-end throughput of the embedded runtime on this machine: unique readings per second from the
 * producer to aggregates readable in DynamoDB and objects in S3, at 10 duplicates per message, next to
 * the emulators' own ceilings in the same run (bench/emulator-ceilings.ts): kinesalite taking the same
 * records and both consumers' reads of them, and dynalite taking, alone, the kinds of DynamoDB request the
 * pipeline sent, in the numbers per reading it sent them (as metered: batched INSERTs of new minutes,
 * conditional puts, newest-item Queries; items of a solar minute's size). The lower one binds. The
 * ceilings' emulators keep their data on disk as the runtime's do, and their client is a process of its
 * own as the Lambda is. Also the CPU the pipeline's processes used, the write and read units per unique
 * reading as metered, and the latency from a record's arrival to its aggregate being readable. A script,
 * not a timed test.
 *
 * Both sides are measured warm: by default the fleet is online before the timed run (each panel's first
 * reading went through, as on a running stack), and each ceiling loop runs once untimed first. A cold
 * fleet (`cold`: the panels appearing at once) adds each panel's listing row and newest-item Query, a
 * once-per-panel cost, and the container's cold start; it is reported as its own section.
 */
const COPIES = 11;
const READINGS_PER_PANEL = 6;

export interface BenchResult {
  title: string;
  lines: string[];
  figures: Record<string, number>;
}

/**
 * How the producer reaches the stream: `copies`, every copy the firmware sends, as PutRecords (the
 * worst case, no gateway); `gateway`, what the README recommends for the solar fleet, the edge gateway
 * dropping copies and packing KPL aggregates (lib/simulator/sinks.ts). The gateway runs at the edge,
 * on its own machine: its records are prepared before the timed run, which then sends them.
 */
export type ProducerPath = 'copies' | 'gateway';

/**
 * The firmware's PutRecords batches for `unique` readings of a solar fleet (6 per panel), every copy
 * included. With `warmFleet`, the fleet is already online: each panel's reading before those (its first)
 * comes separately in `warmup`, which the pipeline takes before the timed run, so that the timed run
 * sees what a running stack sees (a warm container that knows its panels' newest items, listing rows
 * already written) rather than every panel appearing at once. Each panel reads once an interval at a
 * fixed phase and the records come in event-time order, so the first `panels` records are the first readings.
 */
function batches(
  unique: number,
  panels: number,
  warmFleet: boolean,
): { warmup: PutRecordsRequestEntry[][]; timed: PutRecordsRequestEntry[][] } {
  const durationMs = (READINGS_PER_PANEL + (warmFleet ? 1 : 0)) * DEFAULT_INTERVAL_MS.solar;
  const start = new Date(Math.floor(Date.now() / 60_000) * 60_000 - durationMs);
  const solar = generateFleet({ profile: 'solar', devices: panels, start, durationMs, seed: 1, anomalies: false });
  const json = [...solar.records()].map((r) => ({ deviceId: r.deviceId, json: r.json }));
  const first = warmFleet ? panels : 0;
  return { warmup: withCopies(json.slice(0, first)), timed: withCopies(json.slice(first, first + unique)) };
}

/** Every copy the firmware sends, spread over the following records (the retry bug's delays, per-device order kept). */
function withCopies(json: readonly { deviceId: string; json: string }[]): PutRecordsRequestEntry[][] {
  const all: PutRecordsRequestEntry[] = [];
  for (let i = 0; i < json.length; i += 50) {
    const chunk = json.slice(i, i + 50);
    for (let c = 0; c < COPIES; c++) {
      for (const r of chunk) all.push({ Data: Buffer.from(r.json), PartitionKey: r.deviceId });
    }
  }
  const out: PutRecordsRequestEntry[][] = [];
  for (let i = 0; i < all.length; i += 500) out.push(all.slice(i, i + 500));
  return out;
}

/** The PutRecords batches the edge gateway sends for `work`: the same sink the simulator's gateway mode uses. */
async function gatewayBatches(work: PutRecordsRequestEntry[][]): Promise<PutRecordsRequestEntry[][]> {
  const sent: PutRecordsRequestEntry[] = [];
  const capture = {
    send: async (command: PutRecordsCommand) => {
      const records = command.input.Records ?? [];
      sent.push(...records);
      return { FailedRecordCount: 0, Records: records.map(() => ({ SequenceNumber: '0', ShardId: 'shardId-0' })) };
    },
  };
  const sender = new KinesisSender({ client: capture as Pick<KinesisClient, 'send'>, streamName: 'edge' });
  const sink = edgeGateway(aggregatingSink(sender), new EdgeDedupe());
  const arrivalMs = Date.now();
  for (const batch of work) {
    for (const e of batch) {
      const json = Buffer.from(e.Data as Uint8Array).toString('utf8');
      await sink.put({ deviceId: e.PartitionKey as string, eventTimeMs: 0, json }, arrivalMs);
    }
  }
  await sink.close();
  const out: PutRecordsRequestEntry[][] = [];
  for (let i = 0; i < sent.length; i += 500) out.push(sent.slice(i, i + 500));
  return out;
}

/**
 * Unique readings in the timed run: 4,000 panels' half hour (6 readings each), ~10 s at this machine's
 * rate, so that what comes before the first write (the batch's read, its ingest) is a small part of it.
 */
export const E2E_READINGS = 24_000;

export async function runEndToEndBench(
  unique = E2E_READINGS,
  path: ProducerPath = 'copies',
  warmFleet = true,
): Promise<BenchResult> {
  const panels = Math.ceil(unique / READINGS_PER_PANEL);
  const firmware = batches(unique, panels, warmFleet);
  const copies = firmware.timed;
  const raw = copies.reduce((n, b) => n + b.length, 0);
  const produce = (w: PutRecordsRequestEntry[][]) => (path === 'gateway' ? gatewayBatches(w) : Promise.resolve(w));
  const work = await produce(copies);
  const warmup = await produce(firmware.warmup);
  const sentRecords = work.reduce((n, b) => n + b.length, 0);

  // 1. The pipeline: producer -> endpoint -> Kinesis -> aggregator (tumbling window) -> DynamoDB, and Firehose -> S3.
  const windowSeconds = 2;
  const runtime = await startRuntime({
    dataDir: null,
    port: 0,
    stackFile: null,
    analytics: false,
    limits: false, // measures the emulators' ceiling, not AWS's per-shard quotas
    overrides: {
      tumblingWindowSeconds: windowSeconds,
      firehoseBufferSeconds: 1,
      maxBatchingWindowSeconds: 0.2,
      pollIntervalMs: 50,
      windowCloseGraceMs: 300,
    },
  });
  const target = runtime.target();
  let pipeline: {
    produceSeconds: number;
    e2eSeconds: number;
    cpuMs: number;
    objects: ReturnType<typeof countArchive>;
    metered: Pick<MeteringSnapshot, 'dynamodb'>;
    latencies: number[];
  };
  try {
    const kinesis = new KinesisClient(baseClientConfig(target));
    if (warmup.length > 0) {
      await putAll(kinesis, target.streamName!, warmup);
      await runtime.drain({ timeoutMs: 300_000 });
    }
    const before = runtime.meteringSnapshot();
    const cpu0 = processTreeCpuMs({ includeSelf: true });
    const t = performance.now();
    await putAll(kinesis, target.streamName!, work);
    const produceSeconds = (performance.now() - t) / 1000;
    await runtime.drain({ timeoutMs: 300_000 });
    const e2eSeconds = (performance.now() - t) / 1000;
    const cpuMs = processTreeCpuMs({ includeSelf: true }) - cpu0;
    const objects = countArchive(await listKeys(target, target.archiveBucket!));
    const metered = meteredSince(before, runtime.meteringSnapshot());

    // 2. Latency: one new reading for a new device, from PutRecords to its aggregate readable.
    const ddb = new DynamoDBClient(baseClientConfig(target));
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const now = new Date();
      const panelId = `latency-${i}-${now.getTime()}`;
      const record = {
        panelId,
        ts: now.toISOString(),
        seq: 1,
        acPowerW: 100,
        dcVoltageV: 30,
        dcCurrentA: 3,
        energyWh: 1,
        panelTempC: 25,
        irradianceWm2: 500,
        status: 'OK',
      };
      const minute = new Date(now.getTime() - (now.getTime() % 60_000)).toISOString();
      const sent = performance.now();
      await kinesis.send(
        new PutRecordsCommand({
          StreamName: target.streamName,
          Records: [{ Data: Buffer.from(JSON.stringify(record)), PartitionKey: panelId }],
        }),
      );
      for (;;) {
        const got = await ddb.send(
          new GetItemCommand({
            TableName: target.aggregatesTable,
            Key: { Name: { S: panelId }, StatusTime: { S: minute } },
          }),
        );
        if (got.Item) break;
        await sleep(20);
      }
      latencies.push(performance.now() - sent);
    }
    kinesis.destroy();
    ddb.destroy();

    pipeline = { produceSeconds, e2eSeconds, cpuMs, objects, metered, latencies };
  } finally {
    await runtime.stop();
  }
  const { produceSeconds, e2eSeconds, cpuMs, objects, metered, latencies } = pipeline;
  latencies.sort((a, b) => a - b);
  const batchedWrites = metered.dynamodb.batchedWrites ?? 0;
  const requests: RequestMix = {
    batched: batchedWrites,
    puts: metered.dynamodb.writeRequests - batchedWrites,
    reads: metered.dynamodb.readRequests,
  };
  const mix: RequestMix = {
    batched: requests.batched / unique,
    puts: requests.puts / unique,
    reads: requests.reads / unique,
  };

  // 3. The ceilings, once the runtime stopped: fresh emulators alone on the machine (emulator-ceilings.ts),
  // keeping their data on disk as the runtime's do (dynalite on LevelDB, not in memory), taking the same
  // records and the same DynamoDB requests, in the numbers the pipeline sent them.
  const ceilingDir = mkdtempSync(join(tmpdir(), 'iot-bench-ceiling-'));
  const emulators = await startEmulators({ dataDir: ceilingDir });
  let ceilings: EmulatorCeilings;
  try {
    ceilings = await measureCeilings(
      { kinesis: emulators.kinesis.url, dynamodb: emulators.dynamodb.url },
      { work, requests, devices: panels },
    );
  } finally {
    await emulators.stop();
    rmSync(ceilingDir, { recursive: true, force: true });
  }
  const { kinesaliteSeconds, dynaliteSeconds } = ceilings;
  const perSecond = (kind: keyof RequestMix) =>
    dynaliteSeconds[kind] > 0 ? requests[kind] / dynaliteSeconds[kind] : 0;
  const dynamo = { batched: perSecond('batched'), puts: perSecond('puts'), reads: perSecond('reads') };
  const rateText = (kind: keyof RequestMix, what: string) =>
    dynamo[kind] > 0 ? `${dynamo[kind].toFixed(0)} ${what}` : `no ${what.replace('/s', '')} sent`;
  const kinesaliteUniqueCeiling = unique / kinesaliteSeconds;
  const dynaliteUniqueCeiling = unique / (dynaliteSeconds.batched + dynaliteSeconds.puts + dynaliteSeconds.reads);
  const bindingCeiling = Math.min(kinesaliteUniqueCeiling, dynaliteUniqueCeiling);
  const binding = bindingCeiling === kinesaliteUniqueCeiling ? 'kinesalite' : 'dynalite';
  const e2eUniquePerSec = unique / e2eSeconds;
  const figures = {
    e2eUniquePerSec,
    e2eRawPerSec: raw / e2eSeconds,
    producerRecordsPerSec: sentRecords / produceSeconds,
    sentRecords,
    kinesaliteAloneRecordsPerSec: sentRecords / kinesaliteSeconds,
    dynaliteBatchedInsertsPerSec: dynamo.batched,
    dynaliteConditionalPutsPerSec: dynamo.puts,
    dynaliteQueriesPerSec: dynamo.reads,
    dynaliteUniquePerSec: dynaliteUniqueCeiling,
    batchedWritesPerUnique: mix.batched,
    putsPerUnique: mix.puts,
    readRequestsPerUnique: mix.reads,
    kinesaliteUniquePerSec: kinesaliteUniqueCeiling,
    bindingCeilingUniquePerSec: bindingCeiling,
    ratioToBindingCeiling: e2eUniquePerSec / bindingCeiling,
    // Metered over the throughput run (before the latency probes): as DynamoDB would bill them.
    writeUnitsPerUnique: metered.dynamodb.writeUnits / unique,
    readUnitsPerUnique: metered.dynamodb.readUnits / unique,
    deviceStateWriteUnits: stateUnits(metered.dynamodb.byTable, target.deviceStateTable).writeUnits,
    cpuMsPerUnique: cpuMs / unique,
    coresBusy: cpuMs / 1000 / e2eSeconds,
    latencyMedianMs: latencies[2],
    latencyMaxMs: latencies[4],
    windowSeconds,
    rawObjects: objects.raw,
  };
  return {
    title: `End to end (embedded runtime), ${path === 'gateway' ? 'through the edge gateway (copies dropped, KPL aggregates)' : 'every copy sent (no gateway)'}, ${warmFleet ? 'fleet online' : 'every panel new'}`,
    lines: [
      `machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`,
      warmFleet
        ? `fleet online: each of the ${panels} panels sent its first reading before the timed run (a warm container, listing rows written, newest items known)`
        : "every panel new: the timed run includes the cold start, each panel's first listing row and newest-item Query",
      path === 'gateway'
        ? `${unique} unique readings x ${COPIES} copies = ${raw} readings sent by the firmware; the gateway sends ${sentRecords} KPL records (${(unique / sentRecords).toFixed(0)} readings each); PutRecords 500/batch, ${PRODUCER_IN_FLIGHT} in flight`
        : `${unique} unique readings x ${COPIES} copies = ${raw} records, PutRecords 500/batch, ${PRODUCER_IN_FLIGHT} in flight`,
      `kinesalite alone taking the same records and both consumers' reads of them: ${figures.kinesaliteAloneRecordsPerSec.toFixed(0)} records/s`,
      `producer -> aggregates in DynamoDB + objects in S3: ${figures.e2eUniquePerSec.toFixed(0)} unique/s, ${figures.e2eRawPerSec.toFixed(0)} readings sent/s (${objects.raw} raw objects)`,
      `producer alone while the pipeline reads: ${figures.producerRecordsPerSec.toFixed(0)} records/s`,
      `the pipeline's DynamoDB work per unique reading (metered): ${mix.batched.toFixed(3)} INSERTs in ${((metered.dynamodb.batchCalls ?? 0) / unique).toFixed(3)} BatchExecuteStatement calls, ` +
        `${mix.puts.toFixed(3)} conditional puts, ${mix.reads.toFixed(3)} reads (a warm aggregator remembers the devices' newest items)`,
      `dynalite alone, the same requests, items of a solar minute's size: ${rateText('batched', 'INSERTs/s')} in batches of ${MINUTE_WRITE_BATCH} (${minuteBatchesInFlight(FLUSH_CONCURRENCY)} in flight), ` +
        `${rateText('puts', 'conditional PutItem/s')} and ${rateText('reads', 'newest-item Query/s')} (${FLUSH_CONCURRENCY} in flight): ` +
        `${dynaliteUniqueCeiling.toFixed(0)} unique readings/s in that mix; kinesalite alone in unique readings: ${kinesaliteUniqueCeiling.toFixed(0)}/s`,
      `binding emulator ceiling: ${binding}, ${bindingCeiling.toFixed(0)} unique readings/s; the pipeline reached ` +
        `${e2eUniquePerSec.toFixed(0)} unique readings/s = ${figures.ratioToBindingCeiling.toFixed(2)}x of it`,
      `CPU of the pipeline's processes (emulators, runtime, Lambda, producer) while it ran: ${figures.cpuMsPerUnique.toFixed(2)} ms per unique reading, ` +
        `${figures.coresBusy.toFixed(2)} of ${cpus().length} cores busy on average`,
      `DynamoDB as billed, per unique reading: ${figures.writeUnitsPerUnique.toFixed(3)} WRU, ${figures.readUnitsPerUnique.toFixed(3)} RRU ` +
        `(device-state table: ${figures.deviceStateWriteUnits} WRU in all)`,
      `arrival -> aggregate readable: median ${figures.latencyMedianMs.toFixed(0)} ms, max ${figures.latencyMaxMs.toFixed(0)} ms with a ${windowSeconds} s tumbling window (the template's 60 s window adds up to 60 s)`,
    ],
    figures,
  };
}

/** The DynamoDB counts metered between two snapshots of one run (the timed part, without the warm-up). */
function meteredSince(before: MeteringSnapshot, after: MeteringSnapshot): Pick<MeteringSnapshot, 'dynamodb'> {
  const d = (k: 'writeUnits' | 'readUnits' | 'writeRequests' | 'readRequests' | 'batchedWrites' | 'batchCalls') =>
    (after.dynamodb[k] ?? 0) - (before.dynamodb[k] ?? 0);
  const byTable: Record<string, { writeUnits: number; readUnits: number }> = {};
  for (const [table, t] of Object.entries(after.dynamodb.byTable)) {
    const b = before.dynamodb.byTable[table] ?? { writeUnits: 0, readUnits: 0 };
    byTable[table] = { writeUnits: t.writeUnits - b.writeUnits, readUnits: t.readUnits - b.readUnits };
  }
  return {
    dynamodb: {
      ...after.dynamodb,
      writeUnits: d('writeUnits'),
      readUnits: d('readUnits'),
      writeRequests: d('writeRequests'),
      readRequests: d('readRequests'),
      batchedWrites: d('batchedWrites'),
      batchCalls: d('batchCalls'),
      byTable,
    },
  };
}

function stateUnits(
  byTable: Readonly<Record<string, { readonly writeUnits: number; readonly readUnits: number }>>,
  table: string | undefined,
): { writeUnits: number; readUnits: number } {
  return (table && byTable[table]) || { writeUnits: 0, readUnits: 0 };
}

if (require.main === module) {
  const path = (process.argv[3] ?? 'copies') as ProducerPath;
  if (path !== 'copies' && path !== 'gateway') {
    console.error(`Error: the producer path is copies or gateway (got ${path})`);
    process.exit(2);
  }
  const fleet = process.argv[4] ?? 'warm';
  if (fleet !== 'warm' && fleet !== 'cold') {
    console.error(`Error: the fleet is warm (already online) or cold (every panel new) (got ${fleet})`);
    process.exit(2);
  }
  runEndToEndBench(Number(process.argv[2] ?? E2E_READINGS), path, fleet === 'warm').then(
    (r) => {
      console.log(r.title);
      for (const l of r.lines) console.log(`  ${l}`);
    },
    (err: Error) => {
      console.error(`Error: ${err.message}`);
      process.exit(1);
    },
  );
}
