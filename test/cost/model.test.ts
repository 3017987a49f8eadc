import { cpuStretch, runGbSeconds } from '../../lib/cost/lambda-time';
import { JQ_MICROSECONDS_PER_RECORD, priceStack } from '../../lib/cost/model';
import { designCounts } from '../../lib/cost/path-counts';
import { pricesFor } from '../../lib/cost/prices';
import type { StackFacts } from '../../lib/cost/stack';
import { priceTutorial } from '../../lib/cost/tutorial';
import { type Workload, workload } from '../../lib/cost/workload';

/**
 * Every line of the bill against arithmetic done by hand, for a small fleet whose numbers are easy:
 * 1,000 devices reading every 100 s (26,280,000 readings a 730-hour month), each sent twice, 200 bytes.
 */
const GiB = 1024 ** 3;
const MONTH = 730 * 3600;
const READINGS = (1000 / 100) * MONTH; // 26,280,000
const SENDS = 2 * READINGS; // 52,560,000

const stack: StackFacts = {
  region: 'us-east-1',
  streams: [{ logicalId: 'Stream', mode: 'PROVISIONED', shards: 1, retentionHours: 24, consumers: 2 }],
  tables: [
    { logicalId: 'Aggregates', billingMode: 'PAY_PER_REQUEST', pointInTimeRecovery: true, role: 'minutes' },
    { logicalId: 'State', billingMode: 'PAY_PER_REQUEST', pointInTimeRecovery: true, role: 'listing' },
  ],
  functions: [
    {
      logicalId: 'Aggregator',
      architecture: 'arm64',
      memoryMb: 512,
      mapping: { batchSize: 500, maxBatchingWindowSeconds: 5, tumblingWindowSeconds: 60, parallelizationFactor: 1 },
    },
  ],
  deliveries: [
    {
      logicalId: 'Archive',
      fromKinesis: true,
      compression: 'GZIP',
      parquet: false,
      dynamicPartitioning: true,
      bufferSeconds: 60,
      bufferMiB: 64,
    },
  ],
  alarms: 8,
  autoscalingAlarms: 0,
  dashboards: 1,
  kmsKeys: 1,
  queues: 1,
  logGroups: 2,
  athenaScanLimitBytes: 10 * GiB,
};

const small: Workload = {
  ...workload('solar-fleet'),
  name: 'small',
  devices: 1000,
  intervalSeconds: 100,
  copies: 1,
  recordBytes: 200,
  queriesPerMonth: 100,
  queryDays: 1,
};

const prices = pricesFor('us-east-1');
const bill = priceStack(stack, small, designCounts(stack, small), prices);
const usd = (service: string, what: RegExp) => {
  const found = bill.lines.filter((l) => l.service === service && what.test(l.what));
  expect(found).toHaveLength(1);
  return found[0].usd;
};

describe('the cost model, line by line', () => {
  test('Kinesis: one shard for 730 hours, one 25 KB PUT unit per record sent', () => {
    expect(usd('Kinesis', /provisioned shard/)).toBeCloseTo(730 * 0.015, 10);
    expect(usd('Kinesis', /PUT payload units/)).toBeCloseTo((SENDS / 1e6) * 0.014, 10);
  });

  test('Lambda: a batch per 5 s window (100 of the 20 records/s) plus a final invoke per 60 s window', () => {
    const invocations = (20 / 100) * MONTH + MONTH / 60; // 525,600 + 43,800
    expect(usd('Lambda', /requests/)).toBeCloseTo((invocations / 1e6) * 0.2, 10);
    // 20 ms per invocation, 2 ms per write request (2 per reading), 0.5 GB
    const gbSeconds = ((invocations * 20 + 2 * READINGS * 2) / 1000) * 0.5;
    expect(usd('Lambda', /duration/)).toBeCloseTo(gbSeconds * 0.0000133334, 8);
  });

  test('Lambda from a run: its CPU time at the memory share of a vCPU, plus the waits per write, 1 ms per invocation', () => {
    expect(cpuStretch(512)).toBeCloseTo(1769 / 512, 10);
    expect(cpuStretch(4096)).toBe(1);
    // 1,000 ms of CPU at 512 MB runs 3,455 ms; 100 writes wait 5 ms / 16 in flight each; 10 invocations
    // round up 1 ms each
    const ms = 1000 * (1769 / 512) + (100 * 5) / 16 + 10;
    expect(runGbSeconds({ cpuMs: 1000, invocations: 10, writeRequests: 100, memoryMb: 512 })).toBeCloseTo(
      (ms / 1000) * 0.5,
      10,
    );
  });

  // The hand-made stack facts name no device-state refresh: the listing row is rewritten every flush.
  test('DynamoDB: readings 100 s apart are alone in their minute: 2 write units each, a read per cached hour', () => {
    expect(usd('DynamoDB', /write request units/)).toBeCloseTo(((2 * READINGS) / 1e6) * 0.625, 10);
    // The newest-item Query (0.5 RRU) once per hour a container remembers it: every 36th reading 100 s apart
    expect(usd('DynamoDB', /read request units/)).toBeCloseTo(((0.5 * READINGS) / 36 / 1e6) * 0.125, 10);
    // one 380-byte item per reading, 100 bytes overhead; kept forever, so a year of them is held at month 12
    const storageGb = (12 * READINGS * (380 + 100)) / GiB;
    expect(usd('DynamoDB', /^aggregates storage \(after 12 months, kept forever/)).toBeCloseTo(storageGb * 0.25, 10);
    expect(usd('DynamoDB', /point-in-time/)).toBeCloseTo(storageGb * 0.2, 10);
  });

  test('DynamoDB storage with a TTL: only the TTL days of items are held', () => {
    const withTtl: StackFacts = {
      ...stack,
      functions: stack.functions.map((f) => ({ ...f, aggregatesTtlDays: 7 })),
    };
    const r = priceStack(withTtl, small, designCounts(withTtl, small), prices);
    const storage = r.lines.find((l) => /^aggregates storage/.test(l.what))!;
    expect(storage.what).toBe('aggregates storage (7 day(s) of items, iot:aggregatesTtlDays)');
    const perDay = READINGS / (MONTH / 86_400);
    expect(storage.usd).toBeCloseTo(((7 * perDay * 480) / GiB) * 0.25, 10);
  });

  test('Firehose: every record billed as 5 KB; partitioning on real bytes; one object a minute', () => {
    expect(usd('Firehose', /ingestion/)).toBeCloseTo(((SENDS * 5120) / GiB) * 0.029, 10);
    expect(usd('Firehose', /data processed/)).toBeCloseTo(((SENDS * 200) / GiB) * 0.02, 10);
    expect(usd('Firehose', /objects delivered/)).toBeCloseTo((MONTH / 60 / 1000) * 0.005, 10);
    expect(usd('Firehose', /JQ/)).toBeCloseTo(((SENDS * JQ_MICROSECONDS_PER_RECORD * 1e-6) / 3600) * 0.07, 10);
  });

  test('S3 and Athena: GZIP JSON at 8:1, queries of one day with the 10 MB minimum', () => {
    const archive = (SENDS * 201) / 8; // bytes a month, newline-delimited
    // the archive grows: priced as it stands after 12 months
    expect(usd('S3', /^archive after 12 months/)).toBeCloseTo(((12 * archive) / GiB) * 0.023, 10);
    const perDay = archive / (MONTH / 86_400);
    expect(perDay).toBeGreaterThan(10 * 1024 ** 2);
    expect(usd('Athena', /queries/)).toBeCloseTo(((100 * perDay) / 1024 ** 4) * 5, 10);
    expect(usd('S3', /PUT/)).toBeCloseTo(((MONTH / 60 + 200) / 1000) * 0.005, 10);
    expect(usd('S3', /GET/)).toBeCloseTo(((100 * 1440) / 1000) * 0.0004, 10);
  });

  test('CloudWatch, KMS: alarms, dashboard, metric series and logs from the template and the counts', () => {
    expect(usd('CloudWatch', /alarms/)).toBeCloseTo(0.8, 10);
    expect(usd('CloudWatch', /dashboard/)).toBeCloseTo(3, 10);
    // RecordsIn, AggregatesWritten and (copies reach the aggregator) DuplicatesDropped; the rest are sparse.
    expect(usd('CloudWatch', /metric series/)).toBeCloseTo(3 * 0.3, 10);
    const invocations = (20 / 100) * MONTH + MONTH / 60;
    expect(usd('CloudWatch', /logs/)).toBeCloseTo(((invocations * 1024) / GiB) * 0.5, 10);
    expect(usd('KMS', /key/)).toBe(1);
  });

  test('the total is the sum of the lines and the three dominating lines come first', () => {
    expect(bill.totalUsd).toBeCloseTo(
      bill.lines.reduce((s, l) => s + l.usd, 0),
      10,
    );
    const sorted = [...bill.lines].sort((a, b) => b.usd - a.usd);
    expect(bill.dominant.map((l) => l.what)).toEqual(sorted.slice(0, 3).map((l) => l.what));
    expect(bill.dominant[0].service).toBe('DynamoDB');
  });

  test('packing readings into Kinesis records (KPL) divides the per-record lines', () => {
    const packed = priceStack(
      stack,
      { ...small, readingsPerKinesisRecord: 25 },
      designCounts(stack, { ...small, readingsPerKinesisRecord: 25 }),
      prices,
    );
    const line = (r: typeof bill, what: RegExp) => r.lines.find((l) => what.test(l.what))!.usd;
    expect(line(packed, /PUT payload units/)).toBeCloseTo(line(bill, /PUT payload units/) / 25, 10);
    // 25 x 200 bytes = 5,000 bytes: still one 5 KB step per Kinesis record
    expect(line(packed, /ingestion/)).toBeCloseTo(line(bill, /ingestion/) / 25, 10);
  });

  test('provisioned tables are priced at the capacity autoscaling settles on, clamped to its range', () => {
    const provisioned: StackFacts = {
      ...stack,
      tables: stack.tables.map((t) => ({
        ...t,
        billingMode: 'PROVISIONED' as const,
        writeScaling: { min: 5, max: 50, targetPercent: 70 },
        readScaling: { min: 1, max: 10, targetPercent: 70 },
      })),
    };
    const r = priceStack(provisioned, small, designCounts(provisioned, small), prices);
    // 2 WRU per reading at 10 readings/s (a listing row every flush): 10 WCU/s per table, ceil(10 / 0.7) = 15 WCU each
    const wcu = r.lines.filter((l) => /WCU/.test(l.what));
    expect(wcu.map((l) => l.what)).toEqual(['Aggregates provisioned 15 WCU', 'State provisioned 15 WCU']);
    expect(wcu[0].usd).toBeCloseTo(15 * 730 * 0.00065, 10);
    // 0.5 / 36 RRU per reading = 0.14/s, all on the minutes table (the listing is never read on the data
    // path): the autoscaling floor of 1 on both
    expect(r.lines.find((l) => /Aggregates provisioned .* RCU/.test(l.what))?.what).toBe(
      'Aggregates provisioned 1 RCU',
    );
    expect(r.lines.find((l) => /State provisioned .* RCU/.test(l.what))?.what).toBe('State provisioned 1 RCU');
  });
  test('the alarms Application Auto Scaling creates for target tracking are billed like the template alarms', () => {
    const scaled: StackFacts = { ...stack, autoscalingAlarms: 16 };
    const r = priceStack(scaled, small, designCounts(scaled, small), prices);
    const alarms = r.lines.filter((l) => l.service === 'CloudWatch' && /alarms/.test(l.what));
    expect(alarms.map((l) => [l.quantity, l.usd])).toEqual([
      [8, 8 * 0.1],
      [16, 16 * 0.1],
    ]);
    expect(
      priceStack(stack, small, designCounts(stack, small), prices).lines.filter((l) => /autoscaling/.test(l.what)),
    ).toEqual([]);
  });
  test('each provisioned table is sized for its own traffic: the listing takes only its refresh writes', () => {
    const provisioned: StackFacts = {
      ...stack,
      functions: stack.functions.map((f) => ({ ...f, deviceStateRefreshSeconds: 6 * 3600 })),
      tables: stack.tables.map((t) => ({
        ...t,
        billingMode: 'PROVISIONED' as const,
        writeScaling: { min: 5, max: 50, targetPercent: 70 },
        readScaling: { min: 1, max: 10, targetPercent: 70 },
      })),
    };
    const r = priceStack(provisioned, small, designCounts(provisioned, small), prices);
    // 10 readings/s: the minutes take ~1 WRU each (ceil(9.95 / 0.7) = 15 WCU); the listing is rewritten
    // once per 6 h of a device's readings (100 s apart): 0.046 WCU/s, so autoscaling's floor of 5.
    const what = r.lines.filter((l) => /provisioned/.test(l.what) && l.service === 'DynamoDB').map((l) => l.what);
    expect(what).toEqual([
      'Aggregates provisioned 15 WCU',
      'Aggregates provisioned 1 RCU',
      'State provisioned 5 WCU',
      'State provisioned 1 RCU',
    ]);
  });
});

test("the unicorns' listing follows every flush whatever the refresh interval; the panels' follows the refresh", () => {
  const refreshing: StackFacts = {
    ...stack,
    functions: stack.functions.map((f) => ({ ...f, deviceStateRefreshSeconds: 6 * 3600 })),
  };
  // 5 unicorns reading every second, one 60 s window: a listing row per device and window
  expect(designCounts(refreshing, workload('workshop')).dynamoListingWriteUnits).toBeCloseTo(1 / 60, 10);
  // panels ~946 s apart: a listing row per 6 h of a device's readings
  const solar = workload('solar-fleet');
  expect(designCounts(refreshing, solar).dynamoListingWriteUnits).toBeCloseTo(solar.intervalSeconds / 21_600, 10);
});

describe('the tutorial architecture', () => {
  test('one DynamoDB write per raw record, 5 KB Firehose records, a year of raw JSON per query, KDA at 1 KPU', () => {
    const t = priceTutorial(small, prices);
    const l = (what: RegExp) => t.lines.find((x) => what.test(x.what))!.usd;
    expect(l(/one per raw record/)).toBeCloseTo((SENDS / 1e6) * 0.625, 10);
    expect(l(/5 KB per record/)).toBeCloseTo(((SENDS * 5120) / GiB) * 0.029, 10);
    expect(l(/full scans/)).toBeCloseTo(((100 * SENDS * 201 * 12) / 1024 ** 4) * 5, 10);
    expect(l(/KPU/)).toBeCloseTo(730 * 0.11, 10);
    // 20 records/s: one shard at 100 records/s per shard
    expect(t.lines[0].what).toBe('1 provisioned shard(s)');
  });
});
