import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamRecord, KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import { readAggregatorConfig } from '../../lambdas/aggregator/config';
import { processKinesisWindow } from '../../lambdas/aggregator/process';
import type { RawRecord } from '../../lib/core';
import { designCounts, measuredCounts } from '../../lib/cost/path-counts';
import { readStack } from '../../lib/cost/stack';
import { workload } from '../../lib/cost/workload';
import { Metering } from '../../lib/local/metering';
import { baseClientConfig } from '../../lib/shared/aws-clients';
import { itemBytes, type WireItem, writeUnits } from '../../lib/shared/dynamo-units';
import { DynamoAggregateStore } from '../../lib/storage/dynamo-aggregate-store';
import { createPipelineTables, startDynalite, type TestDynamo } from '../support/emulators';
import { panel, rawRecord, unicorn } from '../support/records';

/**
 * The model's write units against what the DynamoDB adapter really consumes: the aggregator writes
 * through the runtime's metering proxy into dynalite, which reports ConsumedCapacity as DynamoDB sizes
 * items; the model sizes the same stored items with lib/shared/dynamo-units.ts.
 */
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
let dynamo: TestDynamo;
let metering: Metering;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynalite();
  metering = new Metering();
  const urls = await metering.proxy({ kinesis: dynamo.endpoint, dynamodb: dynamo.endpoint, s3: dynamo.endpoint });
  client = new DynamoDBClient(baseClientConfig({ endpoint: urls.dynamodb, region: 'us-east-1' }));
  doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
});
afterAll(async () => {
  client?.destroy();
  await metering?.close();
  await dynamo?.stop();
});

let tables = 0;
async function deps() {
  const [aggregates, deviceState] = await createPipelineTables(client, `w${++tables}`);
  const config = readAggregatorConfig({
    AGGREGATES_TABLE: aggregates,
    DEVICE_STATE_TABLE: deviceState,
    ARCHIVE_BUCKET: 'unused',
    QUARANTINE_PREFIX: 'quarantine/',
    POWERTOOLS_SERVICE_NAME: 'iot-aggregator-test',
    POWERTOOLS_METRICS_NAMESPACE: 'IotTelemetryTest',
  });
  return {
    aggregates,
    deviceState,
    deps: {
      config,
      store: new DynamoAggregateStore({ client: doc, aggregatesTable: aggregates, deviceStateTable: deviceState }),
      quarantine: { client: undefined as never, bucket: 'unused', prefix: 'quarantine/' },
      log: { info: () => {}, error: () => {} },
    },
  };
}

function finalWindow(records: RawRecord[]): KinesisStreamTumblingWindowEvent {
  return {
    Records: records.map(
      (r) =>
        ({
          eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/telemetry',
          eventID: `shardId-000000000000:${r.sequenceNumber}`,
          kinesis: {
            data: r.data,
            partitionKey: r.partitionKey,
            sequenceNumber: r.sequenceNumber,
            approximateArrivalTimestamp: r.arrivalMs / 1000,
          },
        }) as unknown as KinesisStreamRecord,
    ),
    window: { start: new Date(T0).toISOString(), end: new Date(T0 + 60_000).toISOString() },
    state: {},
    isFinalInvokeForWindow: true,
    isWindowTerminatedEarly: false,
  } as unknown as KinesisStreamTumblingWindowEvent;
}

const snap = () => metering.snapshot([], []).dynamodb;
async function storedItems(table: string): Promise<WireItem[]> {
  return ((await client.send(new ScanCommand({ TableName: table }))).Items ?? []) as WireItem[];
}
const modelUnits = (items: WireItem[]) => items.reduce((s, i) => s + writeUnits(itemBytes(i)), 0);

describe('DynamoDB write units: the model agrees with what the adapter consumes (dynalite)', () => {
  test('solar readings alone in their minute: 1 write unit each once the listing row exists, as the design counts them', async () => {
    const h = await deps();
    const ids = Array.from({ length: 40 }, (_, i) => `SP-${String(i).padStart(6, '0')}`);
    const window = (k: number) =>
      finalWindow(
        ids.map((id, i) => rawRecord(panel(id, T0 + k * 946_000 + i * 1000, k + 1), T0 + k * 946_000 + 61_000, id)),
      );
    // A new panel: its minute, and its first listing row.
    let before = snap();
    await processKinesisWindow(window(0), h.deps);
    let after = snap();
    expect(after.writeUnits - before.writeUnits).toBe(
      modelUnits([...(await storedItems(h.aggregates)), ...(await storedItems(h.deviceState))]),
    );
    expect((await storedItems(h.deviceState)).length).toBe(40);
    // Each new panel's newest-item Query finds nothing, and is still billed its 0.5 RRU.
    expect(after.readUnits - before.readUnits).toBe(20);
    // The next reading of each (~16 minutes later, as the solar fleet): the minute only, its newest-item read.
    before = snap();
    await processKinesisWindow(window(1), h.deps);
    after = snap();
    const consumed = after.writeUnits - before.writeUnits;
    const minutes = await storedItems(h.aggregates);
    expect(minutes).toHaveLength(80);
    const newest = minutes.filter((m) => m.LastEventId && (m.LastEventId as { N: string }).N === '2');
    expect(newest).toHaveLength(40);
    expect(consumed).toBe(modelUnits(newest));
    expect(consumed).toBe(40); // a minute with its latest reading stays under 1 KB
    // The newest items were read in the first window and followed through this store's writes: no read.
    expect(after.readUnits - before.readUnits).toBe(0);

    // the synthesized stack's 60 s tumbling window and 6 h listing refresh (npm test synthesizes cdk.out first)
    const facts = readStack(join(__dirname, '..', '..', 'cdk.out'), 'us-east-1');
    const design = designCounts(facts, workload('solar-fleet'));
    const refreshShare = workload('solar-fleet').intervalSeconds / (6 * 3600);
    expect(design.dynamoWriteUnits).toBeCloseTo(1 + refreshShare, 6);
    // A newest-item Query (0.5 RRU) per device and hour the container remembers it: every 4th reading
    expect(design.dynamoReadUnits).toBe(0.125);
    const measured = measuredCounts(
      {
        ...metering.snapshot([], []),
        dynamodb: { ...after, writeUnits: consumed, readUnits: after.readUnits - before.readUnits },
        pipeline: {
          recordsIn: 40,
          duplicatesDropped: 0,
          invalid: 0,
          late: 0,
          aggregatesWritten: 40,
          uniqueReadings: 40,
          metricSeries: 0,
        },
      },
      design,
      'test run',
    );
    expect(measured.dynamoWriteUnits).toBe(1);
    // The design counts a newest-item read per device and cached hour; measured (a warm store) is at most that.
    expect(measured.dynamoReadUnits).toBeLessThanOrEqual(design.dynamoReadUnits);
  });

  test('an item over 1 KB costs a unit per started KB, the same for the model and the emulator', async () => {
    const h = await deps();
    const before = snap().writeUnits;
    // 1,200 events (the per-minute bound) in one unicorn minute: a packed id each, so the item passes 1 KB
    const records = Array.from({ length: 1200 }, (_, i) =>
      rawRecord(unicorn('Shadowfax', T0 + i * 50, { Distance: 29 + i / 100 }), T0 + 61_000, 'Shadowfax'),
    );
    await processKinesisWindow(finalWindow(records), h.deps);
    const [minute] = await storedItems(h.aggregates);
    expect(itemBytes(minute)).toBeGreaterThan(1024);
    const consumed = snap().writeUnits - before;
    const items = [minute, ...(await storedItems(h.deviceState))];
    expect(consumed).toBe(modelUnits(items));
    expect(writeUnits(itemBytes(minute))).toBeGreaterThanOrEqual(2);
  });

  test('a replayed window writes nothing: its reads are billed, no failed conditional put', async () => {
    const h = await deps();
    const records = [rawRecord(panel('SP-9', T0, 7), T0 + 61_000, 'SP-9')];
    await processKinesisWindow(finalWindow(records), h.deps);
    const before = snap();
    await processKinesisWindow(finalWindow(records), h.deps);
    const after = snap();
    expect(after.failedConditionalWrites - before.failedConditionalWrites).toBe(0);
    expect(after.writeUnits - before.writeUnits).toBe(0);
    // The newest item is known from the first run (cached); the minute may exist, so it is read: 0.5 RRU.
    expect(after.readUnits - before.readUnits).toBe(0.5);
  });
});
