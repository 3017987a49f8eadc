import { cpus } from 'node:os';
import {
  type AttributeValue,
  BatchExecuteStatementCommand,
  type BatchStatementRequest,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  KinesisClient,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { FLUSH_CONCURRENCY, forEachConcurrently, MINUTE_WRITE_BATCH, minuteBatchesInFlight } from '../lib/core';
import { startEmulators } from '../lib/local/emulators';
import { countArchive, listKeys } from '../lib/local/pipeline-report';
import { startRuntime } from '../lib/local/runtime';
import { baseClientConfig } from '../lib/shared/aws-clients';
import { sleep } from '../lib/shared/sleep';
import { EdgeDedupe } from '../lib/simulator/edge-dedupe';
import { generateFleet } from '../lib/simulator/generate';
import { KinesisSender } from '../lib/simulator/kinesis-sender';
import { aggregatingSink, edgeGateway } from '../lib/simulator/sinks';
import { insertStatement } from '../lib/storage/dynamo-aggregate-store';
import { processTreeCpuMs } from './report';

/**
 * End-to-end throughput of the embedded runtime on this machine: unique readings per second from the
 * producer to aggregates readable in DynamoDB and objects in S3, at 10 duplicates per message, next to
 * the emulators' own ceilings in the same run: a bare PutRecords loop of the same records into kinesalite
 * (in unique readings per second) and dynalite taking, alone, the kinds of DynamoDB request the pipeline
 * sent, in the numbers per reading it sent them (as metered: batched INSERTs of new minutes, conditional
 * puts, newest-item Queries; items of a solar minute's size). The lower one binds. Both ceilings are
 * measured through the AWS SDK, as the pipeline's own clients are. Also the CPU the pipeline's processes
 * used, the write and read units per unique reading as metered, and the latency from a record's arrival
 * to its aggregate being readable. A script, not a timed test.
 */
const COPIES = 11;
const IN_FLIGHT = 4;

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

function batches(unique: number): PutRecordsRequestEntry[][] {
  const start = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000);
  const solar = generateFleet({
    profile: 'solar',
    devices: Math.ceil(unique / 6),
    start,
    durationMs: 30 * 60_000,
    seed: 1,
    anomalies: false,
  });
  const json = [...solar.records()].slice(0, unique).map((r) => ({ deviceId: r.deviceId, json: r.json }));
  const all: PutRecordsRequestEntry[] = [];
  // copies spread over the following records: the retry bug's delays, without breaking per-device order much
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

async function putAll(kinesis: KinesisClient, stream: string, work: PutRecordsRequestEntry[][]): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < work.length) {
      let records = work[next++];
      while (records.length > 0) {
        const out = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
        records = records.filter((_, i) => out.Records?.[i]?.ErrorCode);
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}

/** The table the bare DynamoDB loops write: the aggregates table's keys. */
async function ceilingTable(ddb: DynamoDBClient): Promise<void> {
  await ddb.send(
    new CreateTableCommand({
      TableName: 'ceiling',
      KeySchema: [
        { AttributeName: 'Name', KeyType: 'HASH' },
        { AttributeName: 'StatusTime', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'Name', AttributeType: 'S' },
        { AttributeName: 'StatusTime', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

/**
 * An item the size and shape of a solar minute with its latest reading (~380 bytes: the metrics, the
 * packed event ids, the reading), so that dynalite's work per write is the pipeline's.
 */
function ceilingItem(i: number, minute: string): Record<string, AttributeValue> {
  const n = (v: number): AttributeValue => ({ N: String(v) });
  return {
    Name: { S: `SP-${String(i % 500).padStart(6, '0')}` },
    StatusTime: { S: minute },
    Profile: { S: 'solar' },
    RecordCount: n(1),
    EnergyWh: n(12.345),
    AcPowerMin: n(401.2),
    AcPowerMax: n(401.2),
    AcPowerMean: n(401.2),
    PanelTempMax: n(41.7),
    DcVoltageMin: n(30.12),
    FaultCount: n(0),
    EventIds: { B: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
    Version: n(1),
    LastEventTime: n(1764583200123 + i),
    LastEventId: n(123456789),
    Status: { S: 'OK' },
    StateAt: n(1764583200123),
    Reading: {
      M: {
        acPowerW: n(401.2),
        dcVoltageV: n(30.12),
        dcCurrentA: n(13.9),
        energyWh: n(12.345),
        panelTempC: n(41.7),
        irradianceWm2: n(812),
        seq: n(i),
      },
    },
  };
}

/** DynamoDB requests per unique reading, as the pipeline's run metered them. */
interface RequestMix {
  /** Writes sent as statements of BatchExecuteStatement calls (new minutes), 25 to a call. */
  readonly batched: number;
  /** Writes sent one per request (conditional PutItem: listing rows, changed minutes). */
  readonly puts: number;
  readonly reads: number;
}

/**
 * `n` readings' worth of one kind of the pipeline's DynamoDB requests, as the flush sends them: new
 * minutes as batches of 25 PartiQL INSERTs (4 batches in flight), conditional puts and newest-item
 * Queries 16 in flight.
 */
async function ceilingRequests(
  ddb: DynamoDBClient,
  count: number,
  kind: 'batched' | 'puts' | 'reads',
  prefix: string,
): Promise<void> {
  const minute = (i: number) => `${prefix}${String(i).padStart(6, '0')}`;
  if (kind === 'batched') {
    const batchCount = Math.ceil(count / MINUTE_WRITE_BATCH);
    const batchesOf25 = Array.from({ length: batchCount }, (_, b) => b);
    await forEachConcurrently(batchesOf25, minuteBatchesInFlight(FLUSH_CONCURRENCY), async (b) => {
      const statements = [];
      for (let i = b * MINUTE_WRITE_BATCH; i < Math.min(count, (b + 1) * MINUTE_WRITE_BATCH); i++) {
        statements.push(insertStatement('ceiling', ceilingItem(i, minute(i))) as BatchStatementRequest);
      }
      await ddb.send(new BatchExecuteStatementCommand({ Statements: statements }));
    });
    return;
  }
  await forEachConcurrently(
    Array.from({ length: count }, (_, i) => i),
    FLUSH_CONCURRENCY,
    async (i) => {
      if (kind === 'reads') {
        await ddb.send(
          new QueryCommand({
            TableName: 'ceiling',
            KeyConditionExpression: '#n = :d',
            ExpressionAttributeNames: { '#n': 'Name' },
            ExpressionAttributeValues: { ':d': { S: `SP-${String(i % 500).padStart(6, '0')}` } },
            ScanIndexForward: false,
            Limit: 1,
          }),
        );
      } else {
        await ddb.send(
          new PutItemCommand({
            TableName: 'ceiling',
            Item: ceilingItem(i, minute(i)),
            ConditionExpression: 'attribute_not_exists(#n)',
            ExpressionAttributeNames: { '#n': 'Name' },
          }),
        );
      }
    },
  );
}

/** The emulated DynamoDB's own rates, alone on the machine, for each kind of request the pipeline sends. */
async function dynaliteAlone(endpoint: string): Promise<Record<keyof RequestMix, number>> {
  const ddb = new DynamoDBClient(baseClientConfig({ endpoint, region: 'us-east-1' }));
  await ceilingTable(ddb);
  const n = 3000;
  const rate = async (kind: keyof RequestMix, prefix: string) => {
    const t = performance.now();
    await ceilingRequests(ddb, n, kind, prefix);
    return (n * 1000) / (performance.now() - t);
  };
  const rates = { batched: await rate('batched', 'b'), puts: await rate('puts', 'p'), reads: await rate('reads', 'q') };
  ddb.destroy();
  return rates;
}

export async function runEndToEndBench(unique = 3000, path: ProducerPath = 'copies'): Promise<BenchResult> {
  const copies = batches(unique);
  const raw = copies.reduce((n, b) => n + b.length, 0);
  const work = path === 'gateway' ? await gatewayBatches(copies) : copies;
  const sentRecords = work.reduce((n, b) => n + b.length, 0);

  // 1. The ceiling: the same batches, bare PutRecords into kinesalite, nothing reading.
  const emulators = await startEmulators({});
  const bare = new KinesisClient(baseClientConfig({ endpoint: emulators.kinesis.url, region: 'us-east-1' }));
  await bare.send(new CreateStreamCommand({ StreamName: 'bench', ShardCount: 1 }));
  await sleep(100);
  let t = performance.now();
  await putAll(bare, 'bench', work);
  const bareSeconds = (performance.now() - t) / 1000;
  bare.destroy();
  const dynamo = await dynaliteAlone(emulators.dynamodb.url);
  await emulators.stop();

  // 2. The pipeline: producer -> endpoint -> Kinesis -> aggregator (tumbling window) -> DynamoDB, and Firehose -> S3.
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
    metered: ReturnType<typeof runtime.meteringSnapshot>;
    latencies: number[];
  };
  try {
    const kinesis = new KinesisClient(baseClientConfig(target));
    const cpu0 = processTreeCpuMs({ includeSelf: true });
    t = performance.now();
    await putAll(kinesis, target.streamName!, work);
    const produceSeconds = (performance.now() - t) / 1000;
    await runtime.drain({ timeoutMs: 300_000 });
    const e2eSeconds = (performance.now() - t) / 1000;
    const cpuMs = processTreeCpuMs({ includeSelf: true }) - cpu0;
    const objects = countArchive(await listKeys(target, target.archiveBucket!));
    const metered = runtime.meteringSnapshot();

    // 3. Latency: one new reading for a new device, from PutRecords to its aggregate readable.
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
  const mix: RequestMix = {
    batched: batchedWrites / unique,
    puts: (metered.dynamodb.writeRequests - batchedWrites) / unique,
    reads: metered.dynamodb.readRequests / unique,
  };
  const kinesaliteUniqueCeiling = unique / bareSeconds;
  const dynaliteUniqueCeiling = 1 / (mix.batched / dynamo.batched + mix.puts / dynamo.puts + mix.reads / dynamo.reads);
  const bindingCeiling = Math.min(kinesaliteUniqueCeiling, dynaliteUniqueCeiling);
  const binding = bindingCeiling === kinesaliteUniqueCeiling ? 'kinesalite' : 'dynalite';
  const e2eUniquePerSec = unique / e2eSeconds;
  const figures = {
    e2eUniquePerSec,
    e2eRawPerSec: raw / e2eSeconds,
    producerRecordsPerSec: sentRecords / produceSeconds,
    sentRecords,
    bareKinesaliteRecordsPerSec: sentRecords / bareSeconds,
    ratioToBare: bareSeconds / e2eSeconds,
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
    title: `End to end (embedded runtime), ${path === 'gateway' ? 'through the edge gateway (copies dropped, KPL aggregates)' : 'every copy sent (no gateway)'}`,
    lines: [
      `machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`,
      path === 'gateway'
        ? `${unique} unique readings x ${COPIES} copies = ${raw} readings sent by the firmware; the gateway sends ${sentRecords} KPL records (${(unique / sentRecords).toFixed(0)} readings each); PutRecords 500/batch, ${IN_FLIGHT} in flight`
        : `${unique} unique readings x ${COPIES} copies = ${raw} records, PutRecords 500/batch, ${IN_FLIGHT} in flight`,
      `bare PutRecords of the same records into kinesalite: ${figures.bareKinesaliteRecordsPerSec.toFixed(0)} records/s`,
      `producer -> aggregates in DynamoDB + objects in S3: ${figures.e2eUniquePerSec.toFixed(0)} unique/s, ${figures.e2eRawPerSec.toFixed(0)} readings sent/s (${(figures.ratioToBare * 100).toFixed(0)}% of bare kinesalite; ${objects.raw} raw objects)`,
      `producer alone while the pipeline reads: ${figures.producerRecordsPerSec.toFixed(0)} records/s`,
      `the pipeline's DynamoDB work per unique reading (metered): ${mix.batched.toFixed(3)} INSERTs in ${((metered.dynamodb.batchCalls ?? 0) / unique).toFixed(3)} BatchExecuteStatement calls, ` +
        `${mix.puts.toFixed(3)} conditional puts, ${mix.reads.toFixed(3)} reads (a warm aggregator remembers the devices' newest items)`,
      `dynalite alone, items of a solar minute's size: ${dynamo.batched.toFixed(0)} INSERTs/s in batches of 25 (4 in flight), ` +
        `${dynamo.puts.toFixed(0)} conditional PutItem/s and ${dynamo.reads.toFixed(0)} newest-item Query/s (16 in flight): ` +
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
  runEndToEndBench(Number(process.argv[2] ?? 3000), path).then(
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
