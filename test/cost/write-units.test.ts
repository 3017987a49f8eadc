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
  test('solar readings alone in their minute: 2 write units each, as the design counts them', async () => {
    const h = await deps();
    const before = snap();
    const panels = Array.from({ length: 40 }, (_, i) =>
      rawRecord(panel(`SP-${String(i).padStart(6, '0')}`, T0 + i * 1000, 1), T0 + 61_000, `SP-${i}`),
    );
    await processKinesisWindow(finalWindow(panels), h.deps);
    const after = snap();
    const consumed = after.writeUnits - before.writeUnits;
    const items = [...(await storedItems(h.aggregates)), ...(await storedItems(h.deviceState))];
    expect(items).toHaveLength(80);
    expect(consumed).toBe(modelUnits(items));

    // the synthesized stack's 60 s tumbling window (npm test synthesizes cdk.out first)
    const facts = readStack(join(__dirname, '..', '..', 'cdk.out'), 'us-east-1');
    const design = designCounts(facts, workload('solar-fleet'));
    expect(design.dynamoWriteUnits).toBe(2);
    const measured = measuredCounts(
      {
        ...metering.snapshot([], []),
        dynamodb: { ...after, writeUnits: consumed },
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
    expect(measured.dynamoWriteUnits).toBe(design.dynamoWriteUnits);
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

  test('a replayed window writes no aggregate, but the failed conditional state put is billed', async () => {
    const h = await deps();
    const records = [rawRecord(panel('SP-9', T0, 7), T0 + 61_000, 'SP-9')];
    await processKinesisWindow(finalWindow(records), h.deps);
    const before = snap();
    await processKinesisWindow(finalWindow(records), h.deps);
    const after = snap();
    const [state] = await storedItems(h.deviceState);
    expect(after.failedConditionalWrites - before.failedConditionalWrites).toBe(1);
    expect(after.writeUnits - before.writeUnits).toBe(writeUnits(itemBytes(state)));
    expect(after.readUnits - before.readUnits).toBe(1); // two eventually consistent reads of 0.5
  });
});
