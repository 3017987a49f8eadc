import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  BatchExecuteStatementCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamRecord, KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import { readAggregatorConfig } from '../../lambdas/aggregator/config';
import { type AggregatorDeps, processKinesisWindow } from '../../lambdas/aggregator/process';
import type { RawRecord } from '../../lib/core';
import { DynamoAggregateStore } from '../../lib/storage/dynamo-aggregate-store';
import { QUARANTINE_COLUMNS } from '../../lib/storage/quarantine';
import { createPipelineTables, startDynalite, startS3rver, type TestDynamo, type TestS3 } from '../support/emulators';
import { panel, rawRecord, unicorn } from '../support/records';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const BUCKET = 'archive';
let dynamo: TestDynamo;
let s3: TestS3;
let tableCount = 0;

beforeAll(async () => {
  [dynamo, s3] = await Promise.all([startDynalite(), startS3rver([BUCKET])]);
});
afterAll(async () => {
  await Promise.all([dynamo?.stop(), s3?.stop()]);
});

interface Harness {
  deps: AggregatorDeps;
  aggregates: string;
  deviceState: string;
  doc: DynamoDBDocumentClient;
}

async function harness(overrides: Record<string, string> = {}): Promise<Harness> {
  const [aggregates, deviceState] = await createPipelineTables(dynamo.client, `t${++tableCount}`);
  const config = readAggregatorConfig({
    AGGREGATES_TABLE: aggregates,
    DEVICE_STATE_TABLE: deviceState,
    ARCHIVE_BUCKET: BUCKET,
    QUARANTINE_PREFIX: `quarantine-${tableCount}/`,
    POWERTOOLS_SERVICE_NAME: 'iot-aggregator-test',
    POWERTOOLS_METRICS_NAMESPACE: 'IotTelemetryTest',
    ...overrides,
  });
  return {
    aggregates,
    deviceState,
    doc: dynamo.doc,
    deps: {
      config,
      store: new DynamoAggregateStore({
        client: dynamo.doc,
        aggregatesTable: aggregates,
        deviceStateTable: deviceState,
      }),
      quarantine: { client: s3.client, bucket: BUCKET, prefix: config.quarantinePrefix },
      log: { info: () => {}, error: () => {} },
    },
  };
}

function kinesisEvent(
  records: RawRecord[],
  window: { state?: unknown; final?: boolean; tumbling?: boolean } = {},
): KinesisStreamTumblingWindowEvent {
  return {
    Records: records.map(
      (r): KinesisStreamRecord => ({
        awsRegion: 'us-east-1',
        eventID: `shardId-000000000000:${r.sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        eventSource: 'aws:kinesis',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/telemetry',
        eventVersion: '1.0',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/aggregator',
        kinesis: {
          approximateArrivalTimestamp: r.arrivalMs / 1000,
          data: r.data,
          kinesisSchemaVersion: '1.0',
          partitionKey: r.partitionKey,
          sequenceNumber: r.sequenceNumber,
        },
      }),
    ),
    ...(window.tumbling === false
      ? {}
      : { window: { start: new Date(T0).toISOString(), end: new Date(T0 + 60_000).toISOString() } }),
    state: (window.state ?? {}) as Record<string, unknown>,
    isFinalInvokeForWindow: window.final ?? false,
    isWindowTerminatedEarly: false,
  } as KinesisStreamTumblingWindowEvent;
}

const arrival = T0 + 120_000;
/** The variables the handler cannot start without. */
const REQUIRED_ENV = {
  AGGREGATES_TABLE: 'a',
  DEVICE_STATE_TABLE: 'b',
  ARCHIVE_BUCKET: 'c',
  POWERTOOLS_SERVICE_NAME: 's',
  POWERTOOLS_METRICS_NAMESPACE: 'n',
};
const shadowfaxMinute = () =>
  Array.from({ length: 60 }, (_, s) =>
    rawRecord(unicorn('Shadowfax', T0 + s * 1000, { Distance: 29 + s / 100, MagicPoints: 140 + (s % 7) }), arrival),
  );

async function aggregatesOf(h: Harness) {
  const out = await h.doc.send(new ScanCommand({ TableName: h.aggregates }));
  return (out.Items ?? [])
    .map(({ EventIds: _ids, ...rest }) => rest)
    .sort((a, b) => a.StatusTime.localeCompare(b.StatusTime));
}

describe('aggregator handler on a real DynamoDB wire protocol (dynalite)', () => {
  test('a window of workshop records becomes one workshop-shaped row per unicorn-minute', async () => {
    const h = await harness();
    const records = shadowfaxMinute();
    const first = await processKinesisWindow(kinesisEvent(records.slice(0, 30)), h.deps);
    expect(first.summary.flush).toBeUndefined();
    const second = await processKinesisWindow(
      kinesisEvent(records.slice(30), { state: first.response.state, final: true }),
      h.deps,
    );
    expect(second.response).toEqual({ state: { v: 1, p: {} }, batchItemFailures: [] });
    const rows = await h.doc.send(
      new QueryCommand({
        TableName: h.aggregates,
        KeyConditionExpression: '#n = :n',
        ExpressionAttributeNames: { '#n': 'Name' },
        ExpressionAttributeValues: { ':n': 'Shadowfax' },
      }),
    );
    expect(rows.Items).toHaveLength(1);
    expect(rows.Items?.[0]).toMatchObject({
      Name: 'Shadowfax',
      StatusTime: '2026-11-22T10:00:00.000Z',
      Profile: 'unicorn',
      RecordCount: 60,
      Distance: 1757.7,
      MinMagicPoints: 140,
      MaxMagicPoints: 146,
      MinHealthPoints: 150,
      MaxHealthPoints: 150,
      Version: 1,
    });
  });

  test('the same window delivered twice changes nothing and writes nothing the second time', async () => {
    const h = await harness();
    const event = kinesisEvent([...shadowfaxMinute(), rawRecord(panel('SP-1', T0, 1), arrival)], { final: true });
    const first = await processKinesisWindow(event, h.deps);
    const before = await aggregatesOf(h);
    const again = await processKinesisWindow(event, h.deps);
    expect(first.summary.flush?.aggregatesWritten).toBe(2);
    expect(again.summary.flush).toMatchObject({ aggregatesWritten: 0, eventsAdded: 0, duplicatesDropped: 61 });
    expect(await aggregatesOf(h)).toEqual(before);
  });

  test('ten copies of every record count once, across batches and windows', async () => {
    const h = await harness();
    const records = shadowfaxMinute();
    const copies = records.flatMap((r) => Array.from({ length: 10 }, () => r));
    await processKinesisWindow(kinesisEvent(copies.slice(0, 300), { final: true }), h.deps);
    await processKinesisWindow(kinesisEvent(copies.slice(300), { final: true }), h.deps);
    const [row] = await aggregatesOf(h);
    expect(row).toMatchObject({ RecordCount: 60, Distance: 1757.7, Version: 2 });
  });

  test('a batch with bad records: they are quarantined with their reasons, the good ones aggregate', async () => {
    const h = await harness();
    const good = shadowfaxMinute().slice(0, 5);
    const bad = [
      rawRecord('{"Name":"Shadowfax",', arrival),
      rawRecord({ ...unicorn('Shadowfax', T0), HealthPoints: 'lots' }, arrival),
      rawRecord(Buffer.from([0xff, 0xfe, 0x00]), arrival),
      rawRecord(unicorn('Shadowfax', arrival + 3_600_000), arrival),
    ];
    const { response, summary } = await processKinesisWindow(
      kinesisEvent([good[0], bad[0], good[1], bad[1], good[2], bad[2], good[3], bad[3], good[4]], { final: true }),
      h.deps,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(summary.counts).toMatchObject({ recordsIn: 9, added: 5, invalid: 4 });
    const [row] = await aggregatesOf(h);
    expect(row.RecordCount).toBe(5);

    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: h.deps.quarantine.prefix }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([summary.quarantineKey]);
    expect(summary.quarantineKey).toMatch(
      /^quarantine-\d+\/year=2026\/month=11\/day=22\/shardId-000000000000-\d+-\d+\.json$/,
    );
    const body = await (
      await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: summary.quarantineKey }))
    ).Body?.transformToString();
    const lines = body
      ?.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines?.map((l) => l.reason)).toEqual([
      'invalid_json',
      'wrong_type:HealthPoints',
      'invalid_utf8',
      'timestamp_in_future',
    ]);
    expect(lines?.[0]).toMatchObject({
      data: '{"Name":"Shadowfax",',
      encoding: 'utf8',
      shardId: 'shardId-000000000000',
    });
    expect(lines?.[2]).toMatchObject({ data: Buffer.from([0xff, 0xfe, 0x00]).toString('base64'), encoding: 'base64' });
    // Every field has its column in the quarantine Glue table (Athena lower-cases the keys).
    expect(Object.keys(lines?.[0]).map((k) => k.toLowerCase())).toEqual(QUARANTINE_COLUMNS.map((c) => c.name));
  });

  test("late and too-old records go to the batch's one quarantine object with their reasons; late copies are counted", async () => {
    const h = await harness();
    const now = T0 + 30 * 60_000;
    await processKinesisWindow(
      kinesisEvent([...shadowfaxMinute(), rawRecord(unicorn('Shadowfax', now), now)], { final: true }),
      h.deps,
    );
    const late = rawRecord(unicorn('Shadowfax', T0 + 19 * 60_000), now + 1000);
    const lateCopy = { ...shadowfaxMinute()[7], arrivalMs: now + 1000 }; // already counted in the 10:00 minute
    const unsetClock = rawRecord(unicorn('Shadowfax', 7_000), now + 1000);
    const { summary } = await processKinesisWindow(kinesisEvent([late, lateCopy, unsetClock], { final: true }), h.deps);
    expect(summary.counts).toMatchObject({ recordsIn: 3, invalid: 2, lateCopies: 1, added: 0 });
    expect(summary.counts.invalidByReason).toEqual({ too_late: 1, timestamp_too_old: 1 });
    const body = await (
      await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: summary.quarantineKey }))
    ).Body?.transformToString();
    const lines = body
      ?.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines?.map((l) => [l.reason, l.sequenceNumber])).toEqual([
      ['too_late', late.sequenceNumber],
      ['timestamp_too_old', unsetClock.sequenceNumber],
    ]);
    expect(JSON.parse(lines?.[0].data)).toEqual(unicorn('Shadowfax', T0 + 19 * 60_000));
    const rows = await aggregatesOf(h);
    expect(rows.map((r) => [r.StatusTime, r.RecordCount])).toEqual([
      ['2026-11-22T10:00:00.000Z', 60],
      ['2026-11-22T10:30:00.000Z', 1],
    ]);
  });

  test('an early-terminated window (state over budget) flushes mid-window and the total stays exact', async () => {
    const h = await harness({ MAX_WINDOW_STATE_BYTES: '2000' });
    const records = shadowfaxMinute();
    let state: unknown = {};
    let flushes = 0;
    for (let i = 0; i < 60; i += 10) {
      const { response, summary } = await processKinesisWindow(
        kinesisEvent(records.slice(i, i + 10), { state, final: i === 50 }),
        h.deps,
      );
      if (summary.flush) flushes++;
      state = response.state;
    }
    expect(flushes).toBeGreaterThan(1);
    const [row] = await aggregatesOf(h);
    expect(row).toMatchObject({ RecordCount: 60, Distance: 1757.7 });
  });

  test('a flush that fails half-way is retried by Lambda and still counts every event once', async () => {
    const h = await harness();
    const event = kinesisEvent(
      Array.from({ length: 8 }, (_, d) =>
        shadowfaxMinute().map((r) => ({ ...r, data: reName(r.data, `U${d}`) })),
      ).flat(),
      { final: true },
    );
    // A fault DynamoDB cannot be made to produce on demand: the connection drops after three of the
    // batch's aggregate inserts have landed (the rest never reach the table).
    const failing = {
      ...h.deps,
      store: new DynamoAggregateStore({
        client: {
          send: async (command: { constructor: { name: string }; input: { Statements?: unknown[] } }) => {
            if (command.constructor.name !== 'BatchExecuteStatementCommand') return h.doc.send(command as never);
            const firstThree = { ...command.input, Statements: command.input.Statements?.slice(0, 3) };
            await h.doc.send(new BatchExecuteStatementCommand(firstThree as never));
            throw new Error('socket hang up');
          },
        } as unknown as DynamoDBDocumentClient,
        aggregatesTable: h.aggregates,
        deviceStateTable: h.deviceState,
      }),
    };
    await expect(processKinesisWindow(event, failing)).rejects.toThrow('socket hang up');
    expect((await aggregatesOf(h)).length).toBeGreaterThan(0);
    await processKinesisWindow(event, h.deps);
    const rows = await aggregatesOf(h);
    expect(rows).toHaveLength(8);
    for (const row of rows) expect(row).toMatchObject({ RecordCount: 60, Distance: 1757.7 });
  });

  test('without a tumbling window every batch is flushed; device state keeps the newest reading', async () => {
    const h = await harness();
    const records = shadowfaxMinute();
    await processKinesisWindow(kinesisEvent(records.slice(40), { tumbling: false }), h.deps);
    await processKinesisWindow(kinesisEvent(records.slice(0, 40), { tumbling: false }), h.deps);
    const state = await h.doc.send(new GetCommand({ TableName: h.deviceState, Key: { Name: 'Shadowfax' } }));
    expect(state.Item).toMatchObject({
      Profile: 'unicorn',
      Status: 'OK',
      LastEventTime: T0 + 59_000,
      LastStatusTime: '2026-11-22T10:00:59.000Z',
      Reading: { StatusTime: '2026-11-22 10:00:59.000', HealthPoints: 150 },
    });
    const [row] = await aggregatesOf(h);
    expect(row).toMatchObject({ RecordCount: 60, Version: 2 });
    // The exact latest state rides in the newest minute item (its watermark too).
    expect(row).toMatchObject({
      LastEventTime: T0 + 59_000,
      Status: 'OK',
      Reading: { StatusTime: '2026-11-22 10:00:59.000', HealthPoints: 150 },
    });
  });

  test('solar minutes carry energy, power and faults', async () => {
    const h = await harness();
    await processKinesisWindow(
      kinesisEvent(
        [
          rawRecord(panel('SP-9', T0 + 1000, 1, { acPowerW: 100, energyWh: 1.5 }), arrival),
          rawRecord(panel('SP-9', T0 + 31_000, 2, { acPowerW: 300, energyWh: 2.5, status: 'FAULT_GRID' }), arrival),
          rawRecord(panel('SP-9', T0 + 31_000, 2, { acPowerW: 300, energyWh: 2.5, status: 'FAULT_GRID' }), arrival),
        ],
        { final: true },
      ),
      h.deps,
    );
    const [row] = await aggregatesOf(h);
    expect(row).toMatchObject({
      Name: 'SP-9',
      Profile: 'solar',
      RecordCount: 2,
      EnergyWh: 4,
      MinPowerW: 100,
      MaxPowerW: 300,
      MeanPowerW: 200,
      FaultCount: 1,
    });
  });

  test('a panel named like a unicorn in the same minute does not block the shard: it is counted invalid and logged', async () => {
    const h = await harness();
    const errors: unknown[] = [];
    const deps = { ...h.deps, log: { info: () => {}, error: (_m: string, extra?: unknown) => errors.push(extra) } };
    // Before the guard, both profiles' minutes were one key twice in a BatchGetItem: DynamoDB refused the
    // request, the batch failed, and Lambda retried it until the records aged out.
    const records = [
      rawRecord(unicorn('Twin', T0 + 1000), arrival),
      rawRecord(panel('Twin', T0 + 2000, 1), arrival),
      rawRecord(unicorn('Twin', T0 + 3000), arrival),
    ];
    const first = await processKinesisWindow(kinesisEvent(records, { final: true }), deps);
    expect(first.summary.counts.invalidByReason).toEqual({ device_profile_conflict: 1 });
    expect(errors).toEqual([
      {
        reason: 'device_profile_conflict',
        conflicts: [{ deviceId: 'Twin', profile: 'solar', heldBy: 'unicorn', events: 1 }],
      },
    ]);
    // A later window with the panel alone: the stored item names the unicorn profile, so the panel is set aside again.
    const later = await processKinesisWindow(
      kinesisEvent([rawRecord(panel('Twin', T0 + 4000, 2), arrival)], { final: true }),
      deps,
    );
    expect(later.summary.flush?.profileConflicts).toEqual([
      { deviceId: 'Twin', profile: 'solar', heldBy: 'unicorn', events: 1 },
    ]);
    const rows = await aggregatesOf(h);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ Name: 'Twin', Profile: 'unicorn', RecordCount: 2 });
  });

  test('the configured earliest event time reaches the core: older records are timestamp_too_old', async () => {
    const h = await harness({ EARLIEST_EVENT_TIME: '2026-11-22T10:00:30Z' });
    expect(h.deps.config.earliestEventTimeMs).toBe(T0 + 30_000);
    const { summary } = await processKinesisWindow(kinesisEvent(shadowfaxMinute(), { final: true }), h.deps);
    expect(summary.counts).toMatchObject({ added: 30, invalid: 30, invalidByReason: { timestamp_too_old: 30 } });
    expect(readAggregatorConfig({ ...REQUIRED_ENV }).earliestEventTimeMs).toBe(Date.UTC(2000, 0, 1));
    expect(() => readAggregatorConfig({ ...REQUIRED_ENV, EARLIEST_EVENT_TIME: '1970' })).toThrow(
      /EARLIEST_EVENT_TIME=1970 is not an ISO-8601 timestamp/,
    );
  });

  test('missing configuration fails the cold start with a message saying what to do', () => {
    expect(() => readAggregatorConfig({})).toThrow(
      /AGGREGATES_TABLE is not set: deploy the function with the CDK stack/,
    );
    expect(() =>
      readAggregatorConfig({
        AGGREGATES_TABLE: 'a',
        DEVICE_STATE_TABLE: 'b',
        ARCHIVE_BUCKET: 'c',
        ALLOWED_LATENESS_MINUTES: '-1',
      }),
    ).toThrow(/ALLOWED_LATENESS_MINUTES=-1 is not a number between 0 and 1440/);
  });
});

describe('the deployed handler (lambdas/aggregator/index.ts)', () => {
  const lambdaContext = (awsRequestId: string): Context =>
    ({
      awsRequestId,
      functionName: 'aggregator',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:aggregator',
      memoryLimitInMB: '512',
      logGroupName: '/aws/lambda/aggregator',
      logStreamName: 'test',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => 60_000,
    }) as Context;

  test('every log line of an invocation carries its request id; the module is set up once', async () => {
    const [aggregates, deviceState] = await createPipelineTables(dynamo.client, `t${++tableCount}`);
    const savedEnv = { ...process.env };
    // The handler builds its clients at module scope from the environment, as in Lambda: the SDK's
    // service-specific endpoint variable points DynamoDB at dynalite (valid records only: S3 is not used).
    Object.assign(process.env, {
      AGGREGATES_TABLE: aggregates,
      DEVICE_STATE_TABLE: deviceState,
      ARCHIVE_BUCKET: BUCKET,
      POWERTOOLS_SERVICE_NAME: 'iot-aggregator-test',
      POWERTOOLS_METRICS_NAMESPACE: 'IotTelemetryTest',
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', // set by Lambda; Powertools' cold-start flag reads it
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    try {
      // A fresh module registry: the module-scope setup (config, clients) runs here, once, as at a cold start.
      let loaded: typeof import('../../lambdas/aggregator/index') | undefined;
      await jest.isolateModulesAsync(async () => {
        loaded = await import('../../lambdas/aggregator/index');
      });
      const handler = loaded!.handler;
      const records = shadowfaxMinute();
      const first = await handler(kinesisEvent(records.slice(0, 30)), lambdaContext('request-1'));
      await handler(kinesisEvent(records.slice(30), { state: first.state, final: true }), lambdaContext('request-2'));
    } finally {
      write.mockRestore();
      process.env = savedEnv;
    }
    const logged = lines
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.message === 'batch processed');
    expect(logged.map((entry) => [entry.function_request_id, entry.cold_start, entry.records])).toEqual([
      ['request-1', true, 30],
      ['request-2', false, 30],
    ]);
    expect(logged[1]).toMatchObject({ service: 'iot-aggregator-test', function_name: 'aggregator', final: true });
    const [row] = await aggregatesOf({ aggregates, doc: dynamo.doc } as Harness);
    expect(row).toMatchObject({ RecordCount: 60 });
  });
});

function reName(data: string, name: string): string {
  const record = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  return Buffer.from(JSON.stringify({ ...record, Name: name })).toString('base64');
}
