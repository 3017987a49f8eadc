import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamRecord, KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import { readAggregatorConfig } from '../../lambdas/aggregator/config';
import { processKinesisWindow } from '../../lambdas/aggregator/process';
import { archiveTables, fillParams, NAMED_QUERIES, UNTYPED_TABLE } from '../../lib/catalog';
import { ARCHIVE_ERROR_PREFIX, ARCHIVE_RAW_PREFIX } from '../../lib/constructs/archive-delivery';
import { minuteStart } from '../../lib/core';
import { PROFILES, profilePartitionJq } from '../../lib/core/profiles';
import { AnalyticsEngine, type QueryOutput } from '../../lib/local/athena/engine';
import { CheckpointStore } from '../../lib/local/checkpoints';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { FirehoseDelivery } from '../../lib/local/firehose';
import { baseClientConfig, s3ClientConfig } from '../../lib/shared/aws-clients';
import { sleep } from '../../lib/shared/sleep';
import { DynamoAggregateStore } from '../../lib/storage/dynamo-aggregate-store';
import { badRecordCases, edgeValueRecords } from '../support/bad-records';
import { createPipelineTables } from '../support/emulators';

/**
 * Bad data never breaks a query: the fuzz suite's bad inputs and edge values, archived by the embedded
 * Firehose (the real delivery code, with the stack's routing JQ) and aggregated by the real aggregator
 * path into dynalite; then every named query and SELECT * over every table answer, the bad records are
 * in `untyped_raw` (or Firehose's error output when they are not JSON objects), and the per-minute
 * consistency check equals the aggregates table digit for digit.
 */
const BUCKET = 'archive';
const DB = 'iot';
const STREAM = 'telemetry';
const NOW = Date.now();
// Events in the three minutes before this one: never in the future, never late.
const T0 = minuteStart(NOW) - 3 * 60_000;

let dir: string;
let emulators: Emulators;
let kinesis: KinesisClient;
let s3: S3Client;
let dynamo: DynamoDBClient;
let engine: AnalyticsEngine;
let records: string[];
let aggregatesTable: string;
let firehoseFailed = 0;

function kinesisEvent(data: readonly string[]): KinesisStreamTumblingWindowEvent {
  return {
    Records: data.map(
      (d, i): KinesisStreamRecord => ({
        awsRegion: 'us-east-1',
        eventID: `shardId-000000000000:${String(i + 1).padStart(20, '0')}`,
        eventName: 'aws:kinesis:record',
        eventSource: 'aws:kinesis',
        eventSourceARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${STREAM}`,
        eventVersion: '1.0',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/aggregator',
        kinesis: {
          approximateArrivalTimestamp: NOW / 1000,
          data: Buffer.from(d).toString('base64'),
          kinesisSchemaVersion: '1.0',
          partitionKey: 'pk',
          sequenceNumber: String(i + 1).padStart(20, '0'),
        },
      }),
    ),
    window: { start: new Date(minuteStart(NOW)).toISOString(), end: new Date(minuteStart(NOW) + 60_000).toISOString() },
    state: {},
    shardId: 'shardId-000000000000',
    eventSourceARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${STREAM}`,
    isFinalInvokeForWindow: true,
    isWindowTerminatedEarly: false,
  } as unknown as KinesisStreamTumblingWindowEvent;
}

async function archive(): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 1 }));
  await sleep(100);
  for (let i = 0; i < records.length; i += 400) {
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: STREAM,
        Records: records.slice(i, i + 400).map((r, j) => ({ Data: Buffer.from(r), PartitionKey: `pk${i + j}` })),
      }),
    );
    expect(out.FailedRecordCount ?? 0).toBe(0);
  }
  const delivery = new FirehoseDelivery({
    plan: {
      logicalId: 'ArchiveDelivery',
      name: 'archive-delivery',
      streamName: STREAM,
      bucket: BUCKET,
      prefix: ARCHIVE_RAW_PREFIX,
      errorPrefix: ARCHIVE_ERROR_PREFIX,
      bufferSeconds: 1,
      bufferMiB: 64,
      compression: 'GZIP',
      partitionQuery: profilePartitionJq(),
      delimiter: '\n',
    },
    kinesis,
    s3,
    checkpoints: new CheckpointStore(),
    pollIntervalMs: 50,
  });
  await delivery.start();
  const since = Date.now();
  for (let i = 0; i < 600 && !delivery.drained(since); i++) await sleep(50);
  await delivery.stop();
  expect(delivery.stats.recordsIn).toBe(records.length);
  firehoseFailed = delivery.stats.recordsFailed;
}

async function aggregate(): Promise<void> {
  const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const [aggregates, deviceState] = await createPipelineTables(dynamo, 'bad');
  aggregatesTable = aggregates;
  const config = readAggregatorConfig({
    AGGREGATES_TABLE: aggregates,
    DEVICE_STATE_TABLE: deviceState,
    ARCHIVE_BUCKET: BUCKET,
    QUARANTINE_PREFIX: 'quarantine/',
    POWERTOOLS_SERVICE_NAME: 'iot-aggregator-test',
    POWERTOOLS_METRICS_NAMESPACE: 'IotTelemetryTest',
  });
  const { response } = await processKinesisWindow(kinesisEvent(records), {
    config,
    store: new DynamoAggregateStore({ client: doc, aggregatesTable: aggregates, deviceStateTable: deviceState }),
    quarantine: { client: s3, bucket: BUCKET, prefix: config.quarantinePrefix },
    log: { info: () => {}, error: () => {} },
  });
  expect(response.batchItemFailures).toEqual([]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bad-data-'));
  emulators = await startEmulators({ scratchDir: join(dir, 's3') });
  kinesis = new KinesisClient(baseClientConfig({ endpoint: emulators.kinesis.url, region: 'us-east-1' }));
  s3 = new S3Client(s3ClientConfig({ endpoint: emulators.s3.url, region: 'us-east-1' }));
  dynamo = new DynamoDBClient(baseClientConfig({ endpoint: emulators.dynamodb.url, region: 'us-east-1' }));
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  records = [...edgeValueRecords(T0), ...badRecordCases(T0)];
  await archive();
  await aggregate();
  engine = await AnalyticsEngine.create({
    s3: { endpoint: emulators.s3.url, region: 'us-east-1' },
    tables: archiveTables({ databaseName: DB, bucketName: BUCKET, profiles: PROFILES, parquet: false }),
    cacheDir: join(dir, 'cache'),
  });
}, 180_000);

afterAll(async () => {
  await engine?.close();
  kinesis?.destroy();
  s3?.destroy();
  dynamo?.destroy();
  await emulators?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const RANGE = { from: day(T0 - 86_400_000), to: day(NOW + 86_400_000) };
const run = (sql: string): Promise<QueryOutput> => engine.execute(sql, { database: DB });

describe('bad records archived through the embedded Firehose', () => {
  test('every named query answers over an archive holding every bad-input case', async () => {
    for (const q of NAMED_QUERIES) {
      await expect(run(fillParams(q.sql, q.params, RANGE))).resolves.toHaveProperty('columns');
    }
  }, 180_000);

  test('SELECT * answers on every table, and every JSON object record is in exactly one of them', async () => {
    let rows = 0;
    for (const t of ['unicorn_raw', 'solar_raw', UNTYPED_TABLE]) {
      const r = await run(`SELECT * FROM ${t}`);
      rows += r.rows.length;
    }
    const objects = records.filter((r) => {
      try {
        const v = JSON.parse(r);
        // jq 1.6 refuses a lone surrogate escape: Firehose's error output keeps those records.
        return v !== null && typeof v === 'object' && !Array.isArray(v) && !r.includes('\\ud83e');
      } catch {
        return false;
      }
    });
    expect(rows).toBe(objects.length);
    // The rest are not JSON objects: Firehose's error output keeps them (base64), as on AWS.
    expect(firehoseFailed).toBe(records.length - objects.length);
    const errors = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'errors/processing-failed/' }));
    expect(errors.KeyCount).toBeGreaterThan(0);
    await expect(run('SELECT * FROM quarantine')).resolves.toHaveProperty('columns');
  });

  test('the records of the wrong type are in untyped_raw, as strings, under the profile they claimed', async () => {
    const r = await run(
      `SELECT profile, name, healthpoints, seq FROM ${UNTYPED_TABLE} WHERE name = 'Bad-HealthPoints-string' OR panelid = 'Panel-Bad-seq-object'`,
    );
    const byProfile = Object.fromEntries(r.rows.map((x) => [x[0], x]));
    expect(byProfile.unicorn_untyped?.[2]).toBe('abc');
    expect(byProfile.solar_untyped?.[3]).toBe('{"a":1}');
    const unknown = await run(`SELECT count(*) FROM ${UNTYPED_TABLE} WHERE profile = 'unknown'`);
    expect(Number(unknown.rows[0][0])).toBeGreaterThan(0);
  });
});

/** An exact decimal in one canonical notation (digits × 10^exponent, no redundant zeros), from any notation. */
function canonical(text: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a number: ${text}`);
  const [, sign, int, frac = '', exp = '0'] = m;
  let digits = `${int}${frac}`.replace(/^0+/, '');
  let exponent = Number(exp) - frac.length;
  if (digits === '') return '0';
  const zeros = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - zeros);
  exponent += zeros;
  return `${sign}${digits}e${exponent}`;
}

async function dynamoItems(): Promise<Map<string, Record<string, AttributeValue>>> {
  const out = new Map<string, Record<string, AttributeValue>>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(new ScanCommand({ TableName: aggregatesTable, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) out.set(`${item.Name.S}|${item.StatusTime.S}`, item);
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

describe('the per-minute consistency check equals the aggregates table, digit for digit', () => {
  test.each(PROFILES.map((p) => p.name))(
    '%s-per-minute',
    async (profile) => {
      const q = NAMED_QUERIES.find((x) => x.name === `${profile}-per-minute`)!;
      const result = await run(fillParams(q.sql, q.params, RANGE));
      const items = await dynamoItems();
      const names = result.columns.map((c) => c.name);
      const mine = [...items.entries()].filter(([, item]) => item.Profile.S === profile);
      expect(mine.length).toBeGreaterThan(1);
      const diffs: string[] = [];
      const seen = new Set<string>();
      for (const row of result.rows) {
        const key = `${row[0]}|${row[1]}`;
        seen.add(key);
        const item = items.get(key);
        if (!item) {
          diffs.push(`${key}: in the check, not in DynamoDB`);
          continue;
        }
        names.slice(2).forEach((column, i) => {
          const attribute = Object.keys(item).find((a) => a.toLowerCase() === column);
          const stored = attribute ? item[attribute].N : undefined;
          const computed = row[i + 2];
          if (stored === undefined || computed === null || canonical(stored) !== canonical(computed))
            diffs.push(`${key} ${column}: check ${computed}, DynamoDB ${stored}`);
        });
      }
      for (const [key] of mine) if (!seen.has(key)) diffs.push(`${key}: in DynamoDB, not in the check`);
      // The one difference the archive cannot resolve (docs/queries.md): valid records carrying a second
      // spelling of a column key (`DISTANCE` beside `Distance`), which the aggregator accepts and the routing
      // keeps out of the typed table, because a case-insensitive SerDe could read either value.
      const known = profile === 'unicorn' ? ['Bad-Case'] : [];
      expect(diffs.filter((d) => !known.includes(d.split('|')[0]))).toEqual([]);
      expect(diffs).toHaveLength(known.length);
    },
    60_000,
  );

  test('canonical decimals', () => {
    expect(canonical('29.700000')).toBe(canonical('29.7'));
    expect(canonical('1.0E7')).toBe(canonical('10000000'));
    expect(canonical('1e-7')).toBe(canonical('0.0000001'));
    expect(canonical('1e+21')).toBe(canonical('1000000000000000000000'));
    expect(canonical('-0.0')).toBe('0');
    expect(canonical('0.6000000000000001')).not.toBe(canonical('0.6'));
  });
});
