import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CreateStreamCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { profilePartitionJq } from '../../lib/core/profiles';
import { CheckpointStore } from '../../lib/local/checkpoints';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { FirehoseDelivery } from '../../lib/local/firehose';
import { compilePartitionQuery, evaluatePrefix, objectName } from '../../lib/local/firehose-format';
import type { DeliveryPlan } from '../../lib/local/stack-plan';
import { baseClientConfig, s3ClientConfig } from '../../lib/shared/aws-clients';
import { waitForStreamActive } from '../../lib/shared/kinesis-shards';
import { sleep } from '../../lib/shared/sleep';

const RAW =
  'raw/profile=!{partitionKeyFromQuery:profile}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/';
const ERRORS =
  'errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/';

describe('Firehose format pieces', () => {
  it('evaluates exactly the profile partition JQ and refuses any other', () => {
    const q = compilePartitionQuery(profilePartitionJq());
    expect(q({ Name: 'Shadowfax' })).toEqual({ profile: 'unicorn' });
    expect(q({ panelId: 'p1' })).toEqual({ profile: 'solar' });
    expect(q({ other: 1 })).toEqual({ profile: 'unknown' });
    expect(() => compilePartitionQuery('{profile: .type}')).toThrow(/not supported locally/);
  });

  it('evaluates prefixes with arrival time in UTC and names objects like Firehose', () => {
    const t = Date.UTC(2024, 0, 2, 3, 4, 5);
    expect(evaluatePrefix(RAW, { timestamp: t, partitionKeys: { profile: 'solar' } })).toBe(
      'raw/profile=solar/year=2024/month=01/day=02/hour=03/',
    );
    expect(evaluatePrefix(ERRORS, { timestamp: t, errorOutputType: 'processing-failed' })).toBe(
      'errors/processing-failed/year=2024/month=01/day=02/hour=03/',
    );
    expect(evaluatePrefix('plain/', { timestamp: t })).toBe('plain/2024/01/02/03/');
    expect(objectName('ds', t, '.gz')).toMatch(/^ds-1-2024-01-02-03-04-05-[0-9a-f-]{36}\.gz$/);
  });
});

describe('local Firehose delivery from Kinesis to S3', () => {
  let dir: string;
  let emulators: Emulators;
  let kinesis: KinesisClient;
  let s3: S3Client;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fh-'));
    emulators = await startEmulators({ scratchDir: dir });
    kinesis = new KinesisClient(baseClientConfig({ endpoint: emulators.kinesis.url, region: 'us-east-1' }));
    s3 = new S3Client(s3ClientConfig({ endpoint: emulators.s3.url, region: 'us-east-1' }));
  });
  afterAll(async () => {
    kinesis?.destroy();
    s3?.destroy();
    await emulators?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const unicorn = { Name: 'Shadowfax', StatusTime: '2017-06-02 18:43:04.123', Distance: 29.7 };
  const solar = { panelId: 'p-1', ts: '2024-01-01T10:00:00Z', seq: 7, acPowerW: 120.5 };

  async function setup(name: string, over: Partial<DeliveryPlan>) {
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 2 }));
    await s3.send(new CreateBucketCommand({ Bucket: `bucket-${name}` }));
    await waitForStreamActive(kinesis, name);
    const records = [JSON.stringify(unicorn), JSON.stringify(solar), '{"x":1}', 'not json {', JSON.stringify(unicorn)];
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: name,
        Records: records.map((r, i) => ({ Data: Buffer.from(r), PartitionKey: `pk${i}` })),
      }),
    );
    const plan: DeliveryPlan = {
      logicalId: 'D',
      name: `ds-${name}`,
      streamName: name,
      bucket: `bucket-${name}`,
      prefix: RAW,
      errorPrefix: ERRORS,
      bufferSeconds: 1,
      bufferMiB: 64,
      compression: 'GZIP',
      partitionQuery: profilePartitionJq(),
      delimiter: '\n',
      ...over,
    };
    const delivery = new FirehoseDelivery({
      plan,
      kinesis,
      s3,
      checkpoints: new CheckpointStore(),
      pollIntervalMs: 50,
    });
    await delivery.start();
    const since = Date.now();
    const deadline = Date.now() + 60_000; // a condition with a generous bound, not a count of 50 ms sleeps
    while (!delivery.drained(since)) {
      if (Date.now() > deadline) throw new Error('the delivery did not drain within 60 s');
      await sleep(50);
    }
    await delivery.stop();
    const list = await s3.send(new ListObjectsV2Command({ Bucket: plan.bucket }));
    const objects = new Map<string, Buffer>();
    for (const o of list.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: plan.bucket, Key: o.Key }));
      objects.set(o.Key!, Buffer.from(await got.Body!.transformToByteArray()));
    }
    return { objects, delivery };
  }

  it('partitions by profile, gzips NDJSON, and sends invalid JSON to the error prefix', async () => {
    const { objects, delivery } = await setup('gz', {});
    const now = new Date();
    const hour = `year=${now.getUTCFullYear()}/month=${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    const byPrefix = (p: string) => [...objects.entries()].filter(([k]) => k.startsWith(p));
    const lines = (p: string) => byPrefix(p).flatMap(([, b]) => gunzipSync(b).toString().split('\n').filter(Boolean));
    expect(lines('raw/profile=unicorn/').map((l) => JSON.parse(l))).toEqual([unicorn, unicorn]);
    expect(lines('raw/profile=solar/').map((l) => JSON.parse(l))).toEqual([solar]);
    expect(lines('raw/profile=unknown/').map((l) => JSON.parse(l))).toEqual([{ x: 1 }]);
    const errors = lines('errors/processing-failed/').map((l) => JSON.parse(l));
    expect(errors).toHaveLength(1);
    expect(Buffer.from(errors[0].rawData, 'base64').toString()).toBe('not json {');
    for (const key of objects.keys()) {
      expect(key).toContain(hour);
      expect(key).toMatch(/\/ds-gz-1-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f-]{36}\.gz$/);
    }
    expect(delivery.stats).toMatchObject({ recordsIn: 5, recordsFailed: 1 });
  });

  it('converts to Parquet with the Glue schema columns', async () => {
    const { objects } = await setup('pq', {
      compression: 'UNCOMPRESSED',
      parquetCompression: 'GZIP',
      parquetColumns: [
        { name: 'name', type: 'string' },
        { name: 'distance', type: 'double' },
        { name: 'panelid', type: 'string' },
        { name: 'seq', type: 'bigint' },
      ],
    });
    const [key, body] = [...objects.entries()].find(([k]) => k.startsWith('raw/profile=solar/'))!;
    expect(key.endsWith('.parquet')).toBe(true);
    const file = join(dir, 'x.parquet');
    writeFileSync(file, body);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const rows = (await conn.runAndReadAll(`SELECT * FROM '${file}'`)).getRowObjectsJson();
    expect(rows).toEqual([{ name: null, distance: null, panelid: 'p-1', seq: '7' }]);
    const codecs = (
      await conn.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`)
    ).getRowObjectsJson();
    expect(codecs).toEqual([{ compression: 'GZIP' }]);
    conn.closeSync();
    db.closeSync();
  });

  it('a delivery stopped and restarted while records arrive loses none of them (checkpoint only after the objects)', async () => {
    const name = 'restart';
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 2 }));
    await s3.send(new CreateBucketCommand({ Bucket: `bucket-${name}` }));
    await waitForStreamActive(kinesis, name);
    const plan: DeliveryPlan = {
      logicalId: 'D',
      name: `ds-${name}`,
      streamName: name,
      bucket: `bucket-${name}`,
      prefix: RAW,
      errorPrefix: ERRORS,
      bufferSeconds: 0.2,
      bufferMiB: 64,
      compression: 'GZIP',
      partitionQuery: profilePartitionJq(),
      delimiter: '\n',
    };
    const file = join(dir, 'restart-checkpoints.json');
    const delivery = () =>
      new FirehoseDelivery({ plan, kinesis, s3, checkpoints: new CheckpointStore(file), pollIntervalMs: 20 });
    const total = 2000;
    const producer = (async () => {
      for (let n = 0; n < total; n += 100) {
        const records = Array.from({ length: 100 }, (_, j) => ({
          Data: Buffer.from(
            JSON.stringify((n + j) % 3 ? { Name: `u${(n + j) % 7}`, n: n + j } : { panelId: 'p', n: n + j }),
          ),
          PartitionKey: `pk${(n + j) % 11}`,
        }));
        const out = await kinesis.send(new PutRecordsCommand({ StreamName: name, Records: records }));
        expect(out.FailedRecordCount ?? 0).toBe(0);
        await sleep(20);
      }
    })();
    let current = delivery();
    await current.start();
    let done = false;
    void producer.finally(() => {
      done = true;
    });
    let restarts = 0;
    while (!done || restarts < 5) {
      await sleep(40 + restarts * 7);
      await current.stop(); // mid-read, mid-buffer or mid-flush: whatever was not delivered is read again
      current = delivery();
      await current.start();
      restarts++;
    }
    await producer;
    const since = Date.now();
    const deadline = since + 60_000;
    while (!current.drained(since)) {
      if (Date.now() > deadline) throw new Error('the delivery did not drain within 60 s');
      await sleep(50);
    }
    await current.stop();
    const seen = new Set<number>();
    let token: string | undefined;
    do {
      const list = await s3.send(
        new ListObjectsV2Command({ Bucket: plan.bucket, Prefix: 'raw/', ContinuationToken: token }),
      );
      for (const o of list.Contents ?? []) {
        const got = await s3.send(new GetObjectCommand({ Bucket: plan.bucket, Key: o.Key }));
        const text = gunzipSync(Buffer.from(await got.Body!.transformToByteArray())).toString();
        for (const line of text.split('\n').filter(Boolean)) seen.add((JSON.parse(line) as { n: number }).n);
      }
      token = list.NextContinuationToken;
    } while (token);
    const missing = Array.from({ length: total }, (_, n) => n).filter((n) => !seen.has(n));
    expect(missing).toEqual([]);
    expect(restarts).toBeGreaterThanOrEqual(5);
  }, 120_000);
});
