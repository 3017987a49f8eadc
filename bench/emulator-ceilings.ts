import { fork } from 'node:child_process';
import {
  type AttributeValue,
  BatchExecuteStatementCommand,
  type BatchStatementRequest,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  KinesisClient,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { CONFIG_KEYS } from '../lib/config/schema';
import { FLUSH_CONCURRENCY, forEachConcurrently, MINUTE_WRITE_BATCH, minuteBatchesInFlight } from '../lib/core';
import { FIREHOSE_READ_LIMIT } from '../lib/local/firehose';
import { esmReadLimit } from '../lib/local/kinesis-esm';
import { baseClientConfig } from '../lib/shared/aws-clients';
import { listShardIds, ShardReader, waitForStreamActive } from '../lib/shared/kinesis-shards';
import { sleep } from '../lib/shared/sleep';
import { insertStatement } from '../lib/storage/dynamo-aggregate-store';
import { createPipelineTables } from '../test/support/emulators';

/**
 * The emulators' own ceilings for the end-to-end benchmark: kinesalite taking the producer's PutRecords
 * and the two consumers' reads of them, and dynalite taking, alone, each kind of DynamoDB request the pipeline sends.
 * The client runs in a child process of its own, as the pipeline's DynamoDB client does (the Lambda's
 * environment): from the benchmark's process, whose heap holds the whole run's records and the runtime,
 * the SDK's own CPU bound the loop, and the "ceiling" came out below what dynalite did in the pipeline.
 * Each loop runs once untimed first (the JIT, the connections), then timed.
 */

/** PutRecords batches in flight, the producer's and the ceiling's. */
export const PRODUCER_IN_FLIGHT = 4;
/** How long the ceiling's readers wait for the last records they put (a hang would be a kinesalite fault). */
const READ_BACK_TIMEOUT_MS = 60_000;

export async function putAll(kinesis: KinesisClient, stream: string, work: PutRecordsRequestEntry[][]): Promise<void> {
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
  await Promise.all(Array.from({ length: PRODUCER_IN_FLIGHT }, lane));
}

/**
 * An item the size and shape of a solar minute with its latest reading (~380 bytes: the metrics, the
 * packed event ids, the reading), so that dynalite's work per write is the pipeline's.
 */
function ceilingItem(i: number, minute: string, devices: number): Record<string, AttributeValue> {
  const n = (v: number): AttributeValue => ({ N: String(v) });
  return {
    Name: { S: `SP-${String(i % devices).padStart(6, '0')}` },
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

/** DynamoDB requests of each kind (per unique reading, or in all), as the pipeline's run metered them. */
export interface RequestMix {
  /** Writes sent as statements of BatchExecuteStatement calls (new minutes), 25 to a call. */
  readonly batched: number;
  /** Writes sent one per request (conditional PutItem: listing rows, changed minutes). */
  readonly puts: number;
  readonly reads: number;
}

/**
 * `n` readings' worth of one kind of the pipeline's DynamoDB requests, as the flush sends them: new
 * minutes as batches of 25 PartiQL INSERTs (minuteBatchesInFlight), conditional puts and newest-item
 * Queries 16 in flight.
 */
async function ceilingRequests(
  ddb: DynamoDBClient,
  count: number,
  kind: 'batched' | 'puts' | 'reads',
  prefix: string,
  devices: number,
  table: string,
): Promise<void> {
  const minute = (i: number) => `${prefix}${String(i).padStart(6, '0')}`;
  if (kind === 'batched') {
    const batchCount = Math.ceil(count / MINUTE_WRITE_BATCH);
    const batchesOf25 = Array.from({ length: batchCount }, (_, b) => b);
    await forEachConcurrently(batchesOf25, minuteBatchesInFlight(FLUSH_CONCURRENCY), async (b) => {
      const statements = [];
      for (let i = b * MINUTE_WRITE_BATCH; i < Math.min(count, (b + 1) * MINUTE_WRITE_BATCH); i++) {
        statements.push(insertStatement(table, ceilingItem(i, minute(i), devices)) as BatchStatementRequest);
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
            TableName: table,
            KeyConditionExpression: '#n = :d',
            ExpressionAttributeNames: { '#n': 'Name' },
            ExpressionAttributeValues: { ':d': { S: `SP-${String(i % devices).padStart(6, '0')}` } },
            ScanIndexForward: false,
            Limit: 1,
          }),
        );
      } else {
        await ddb.send(
          new PutItemCommand({
            TableName: table,
            Item: ceilingItem(i, minute(i), devices),
            ConditionExpression: 'attribute_not_exists(#n)',
            ExpressionAttributeNames: { '#n': 'Name' },
          }),
        );
      }
    },
  );
}

/**
 * Seconds the emulated DynamoDB takes, alone, for each kind of request in `requests` (the numbers the
 * pipeline sent), after a third as many untimed; 0 for a kind the pipeline did not send.
 */
async function dynaliteAlone(
  endpoint: string,
  requests: RequestMix,
  devices: number,
): Promise<Record<keyof RequestMix, number>> {
  const ddb = new DynamoDBClient(baseClientConfig({ endpoint, region: 'us-east-1' }));
  // The aggregates table's keys, as the stack defines them.
  const [table] = await createPipelineTables(ddb, 'ceiling');
  const seconds = async (kind: keyof RequestMix, prefix: string) => {
    const count = requests[kind];
    if (count === 0) return 0;
    await ceilingRequests(ddb, Math.ceil(count / 3), kind, `${prefix}-warm`, devices, table);
    const t = performance.now();
    await ceilingRequests(ddb, count, kind, prefix, devices, table);
    return (performance.now() - t) / 1000;
  };
  const out = {
    batched: await seconds('batched', 'b'),
    puts: await seconds('puts', 'p'),
    reads: await seconds('reads', 'q'),
  };
  ddb.destroy();
  return out;
}

/**
 * Seconds kinesalite takes what the pipeline asks of it for `work`: the PutRecords, and both consumers
 * reading every record back as they read the stream (the aggregator's event source mapping, a batch
 * per GetRecords, and Firehose), at once as in the pipeline. A bare PutRecords loop alone left out the
 * two reads, which cost kinesalite about as much as the writes.
 */
async function kinesaliteAlone(endpoint: string, work: PutRecordsRequestEntry[][]): Promise<number> {
  const kinesis = new KinesisClient(baseClientConfig({ endpoint, region: 'us-east-1' }));
  const pass = async (stream: string, batches: PutRecordsRequestEntry[][]) => {
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    await waitForStreamActive(kinesis, stream);
    const [shardId] = await listShardIds(kinesis, stream);
    const expected = batches.reduce((n, b) => n + b.length, 0);
    const readAll = async (limit: number) => {
      const reader = new ShardReader(kinesis, stream, shardId, { type: 'TRIM_HORIZON' });
      const deadline = Date.now() + READ_BACK_TIMEOUT_MS;
      for (let got = 0; got < expected; ) {
        const r = await reader.read(limit);
        got += r.records.length;
        if (r.records.length > 0) continue;
        if (Date.now() > deadline) {
          throw new Error(
            `kinesalite returned ${got} of the ${expected} records put into ${stream} (reads of ${limit})`,
          );
        }
        await sleep(5);
      }
    };
    const t = performance.now();
    await Promise.all([
      putAll(kinesis, stream, batches),
      readAll(esmReadLimit(CONFIG_KEYS.batchSize.default as number)),
      readAll(FIREHOSE_READ_LIMIT),
    ]);
    return (performance.now() - t) / 1000;
  };
  await pass('ceiling-warm', work.slice(0, Math.ceil(work.length / 3)));
  const seconds = await pass('ceiling', work);
  kinesis.destroy();
  return seconds;
}

export interface EmulatorCeilings {
  /** Seconds for kinesalite to take `work` and both consumers' reads of it. */
  readonly kinesaliteSeconds: number;
  /** Seconds for dynalite, alone, to take each kind of request in the numbers asked. */
  readonly dynaliteSeconds: Record<keyof RequestMix, number>;
}

export interface CeilingJob {
  /** The producer's PutRecords batches. */
  readonly work: PutRecordsRequestEntry[][];
  /** DynamoDB requests of each kind, as the pipeline sent them (metered). */
  readonly requests: RequestMix;
  /** Partition keys the requests spread over (the fleet's panels). */
  readonly devices: number;
}

interface ChildJob extends CeilingJob {
  readonly kinesis: string;
  readonly dynamodb: string;
}

/** Measures both ceilings from a child process (this file, run again), on the emulators at these URLs. */
export function measureCeilings(
  endpoints: { kinesis: string; dynamodb: string },
  job: CeilingJob,
): Promise<EmulatorCeilings> {
  return new Promise((resolve, reject) => {
    // The parent's execArgv carries tsx's loader; structured clone carries the records' bytes as they are.
    const child = fork(__filename, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: EmulatorCeilings | undefined;
    child.on('message', (m: { ok: true; ceilings: EmulatorCeilings } | { ok: false; error: string }) => {
      if (m.ok) result = m.ceilings;
      else reject(new Error(`the ceiling client failed: ${m.error}`));
    });
    child.on('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`the ceiling client exited with ${code} before reporting`));
    });
    child.send({ ...endpoints, ...job } satisfies ChildJob);
  });
}

if (require.main === module && process.send) {
  process.once('message', async (job: ChildJob) => {
    try {
      const kinesaliteSeconds = await kinesaliteAlone(job.kinesis, job.work);
      const dynaliteSeconds = await dynaliteAlone(job.dynamodb, job.requests, job.devices);
      process.send?.({ ok: true, ceilings: { kinesaliteSeconds, dynaliteSeconds } }, () => process.exit(0));
    } catch (err) {
      process.send?.({ ok: false, error: (err as Error).message }, () => process.exit(1));
    }
  });
}
