import {
  CreateStreamCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { type EdgeRouter, startEdgeRouter } from '../../lib/local/edge-router';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import {
  AwsLimits,
  iteratorShard,
  KINESIS_SHARD_LIMITS,
  type LimitedStream,
  TokenBucket,
} from '../../lib/local/limits';
import { baseClientConfig } from '../../lib/shared/aws-clients';

const ALL_HASHES: LimitedStream['shards'] = [
  { shardId: 'shardId-000000000000', startingHashKey: 0n, endingHashKey: 2n ** 128n - 1n },
];
const record = (i: number, bytes = 10) => ({
  Data: Buffer.alloc(bytes, 'x').toString('base64'),
  PartitionKey: `d${i}`,
});
const putRecords = (records: unknown[]) => Buffer.from(JSON.stringify({ StreamName: 's', Records: records }));

describe('AWS limits (pure, on a fake clock)', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('a token bucket refills at its rate up to its capacity', () => {
    const b = new TokenBucket(10, 10, clock);
    expect(b.take(10)).toBe(true);
    expect(b.take(1)).toBe(false);
    now += 500;
    expect(b.take(5)).toBe(true);
    expect(b.take(1)).toBe(false);
    now += 60_000;
    expect(b.available()).toBe(10);
  });

  it('PutRecords past 1,000 records/s on a shard fails exactly the excess, per record, in order', () => {
    const limits = new AwsLimits([{ name: 's', onDemand: false, shards: ALL_HASHES }], [], clock);
    const records = Array.from({ length: 1200 }, (_, i) => record(i));
    const d1 = limits.admit('kinesis', 'PutRecords', putRecords(records.slice(0, 500)));
    expect(d1.kind).toBe('forward');
    const d2 = limits.admit('kinesis', 'PutRecords', putRecords(records.slice(500, 1000)));
    expect(d2.kind).toBe('forward');
    const d3 = limits.admit('kinesis', 'PutRecords', putRecords(records.slice(1000)));
    expect(d3.kind).toBe('respond');
    if (d3.kind === 'respond') {
      const body = d3.body as { FailedRecordCount: number; Records: { ErrorCode: string }[] };
      expect(body.FailedRecordCount).toBe(200);
      expect(new Set(body.Records.map((r) => r.ErrorCode))).toEqual(
        new Set(['ProvisionedThroughputExceededException']),
      );
    }
    expect(limits.throttled['kinesis.PutRecords.records']).toBe(200);
  });

  it('a partial PutRecords forwards the admitted records and merges the throttled ones back in their places', () => {
    const limits = new AwsLimits([{ name: 's', onDemand: false, shards: ALL_HASHES }], [], clock);
    // 1 MiB/s: 3 records of 400 KB admit two.
    const d = limits.admit(
      'kinesis',
      'PutRecords',
      putRecords([record(0, 400_000), record(1, 400_000), record(2, 400_000)]),
    );
    expect(d.kind).toBe('partial');
    if (d.kind !== 'partial') return;
    expect(JSON.parse(d.body.toString()).Records).toHaveLength(2);
    const upstream = Buffer.from(
      JSON.stringify({ FailedRecordCount: 0, Records: [{ SequenceNumber: '1' }, { SequenceNumber: '2' }] }),
    );
    const merged = JSON.parse(d.merge(upstream).toString());
    expect(merged.FailedRecordCount).toBe(1);
    expect(
      merged.Records.map((r: { SequenceNumber?: string; ErrorCode?: string }) => r.SequenceNumber ?? r.ErrorCode),
    ).toEqual(['1', '2', 'ProvisionedThroughputExceededException']);
  });

  it('an on-demand stream has its documented initial capacity (4,000 records/s)', () => {
    const limits = new AwsLimits([{ name: 's', onDemand: true, shards: ALL_HASHES }], [], clock);
    const batch = putRecords(Array.from({ length: 500 }, (_, i) => record(i)));
    for (let i = 0; i < 8; i++) expect(limits.admit('kinesis', 'PutRecords', batch).kind).toBe('forward');
    expect(limits.admit('kinesis', 'PutRecords', batch).kind).toBe('respond');
    expect(KINESIS_SHARD_LIMITS.onDemandShards * KINESIS_SHARD_LIMITS.writeRecordsPerSecond).toBe(4000);
  });

  it('GetRecords: 5 calls per second per shard, then refused until the second passes', () => {
    // biome-ignore lint/suspicious/noExplicitAny: kinesalite ships no types
    const db = require('kinesalite/db') as any;
    const iterator = db.createShardIterator('s', 'shardId-000000000000', '0') as string;
    expect(iteratorShard(iterator)).toEqual({ stream: 's', shardId: 'shardId-000000000000' });
    const limits = new AwsLimits([{ name: 's', onDemand: false, shards: ALL_HASHES }], [], clock);
    const call = Buffer.from(JSON.stringify({ ShardIterator: iterator }));
    for (let i = 0; i < 5; i++) expect(limits.admit('kinesis', 'GetRecords', call).kind).toBe('forward');
    const sixth = limits.admit('kinesis', 'GetRecords', call);
    expect(sixth.kind === 'refuse' && sixth.refusal.code).toBe('ProvisionedThroughputExceededException');
    now += 1000;
    expect(limits.admit('kinesis', 'GetRecords', call).kind).toBe('forward');
  });

  it('a provisioned table throttles past its capacity (after its 300 s burst); an on-demand table never', () => {
    const limits = new AwsLimits([], [{ name: 'prov', readCapacityUnits: 1, writeCapacityUnits: 1 }], clock);
    const put = (table: string) =>
      limits.admit('dynamodb', 'PutItem', Buffer.from(JSON.stringify({ TableName: table, Item: { k: { S: 'x' } } })));
    for (let i = 0; i < 300; i++) expect(put('prov').kind).toBe('forward');
    const over = put('prov');
    expect(over.kind === 'refuse' && over.refusal.code).toBe('ProvisionedThroughputExceededException');
    for (let i = 0; i < 1000; i++) expect(put('on-demand').kind).toBe('forward');
    now += 1000;
    expect(put('prov').kind).toBe('forward');
  });

  it('a batch of PartiQL INSERTs is charged a write unit per statement, on the table each names', () => {
    const limits = new AwsLimits([], [{ name: 'prov-"q"', readCapacityUnits: 1, writeCapacityUnits: 1 }], clock);
    const insert = { Statement: `INSERT INTO "prov-""q""" VALUE {'k': ?}`, Parameters: [{ S: 'x' }] };
    const batch = (n: number) =>
      limits.admit(
        'dynamodb',
        'BatchExecuteStatement',
        Buffer.from(JSON.stringify({ Statements: Array(n).fill(insert) })),
      );
    for (let i = 0; i < 12; i++) expect(batch(25).kind).toBe('forward'); // 300 units of burst
    const over = batch(1);
    expect(over.kind === 'refuse' && over.refusal.code).toBe('ProvisionedThroughputExceededException');
  });
});

describe('AWS limits through the real router and kinesalite', () => {
  let emulators: Emulators;
  let router: EdgeRouter;
  let kinesis: KinesisClient;

  beforeAll(async () => {
    emulators = await startEmulators({});
    const direct = new KinesisClient(baseClientConfig({ endpoint: emulators.kinesis.url, region: 'us-east-1' }));
    await direct.send(new CreateStreamCommand({ StreamName: 'limited', ShardCount: 1 }));
    let shards: Shard[] = [];
    for (let i = 0; i < 50 && shards.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      shards = (await direct.send(new ListShardsCommand({ StreamName: 'limited' }))).Shards ?? [];
    }
    expect(shards).toHaveLength(1);
    direct.destroy();
    const limits = new AwsLimits(
      [
        {
          name: 'limited',
          onDemand: false,
          shards: shards.map((s) => ({
            shardId: s.ShardId!,
            startingHashKey: BigInt(s.HashKeyRange!.StartingHashKey!),
            endingHashKey: BigInt(s.HashKeyRange!.EndingHashKey!),
          })),
        },
      ],
      [],
    );
    router = await startEdgeRouter({
      upstreams: { kinesis: emulators.kinesis.url },
      services: [],
      port: 0,
      limiter: limits,
    });
    kinesis = new KinesisClient({ ...baseClientConfig({ endpoint: router.url, region: 'us-east-1' }), maxAttempts: 1 });
  });

  afterAll(async () => {
    kinesis?.destroy();
    await router?.close();
    await emulators?.stop();
  });

  it('PutRecords answers per-record ProvisionedThroughputExceededException past a shard limit; PutRecord throttles', async () => {
    // 4,000 records at once into a shard that takes 1,000 per second (a bucket of 1 s, refilled at 1,000/s)
    const t0 = Date.now();
    const outs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        kinesis.send(
          new PutRecordsCommand({
            StreamName: 'limited',
            Records: Array.from({ length: 500 }, (_, j) => ({
              Data: Buffer.from(`r${i}-${j}`),
              PartitionKey: `d${j}`,
            })),
          }),
        ),
      ),
    );
    const failed = outs.reduce((n, o) => n + (o.FailedRecordCount ?? 0), 0);
    const written = outs.reduce((n, o) => n + o.Records!.filter((r) => r.SequenceNumber).length, 0);
    for (const o of outs) {
      expect(o.Records).toHaveLength(500);
      for (const r of o.Records!)
        if (!r.SequenceNumber) expect(r.ErrorCode).toBe('ProvisionedThroughputExceededException');
    }
    expect(written + failed).toBe(4000);
    // What the shard admits is bounded by the time the requests took to arrive: a loaded machine spreads the
    // eight requests over more than a second, so a fixed ">= 2,000 throttled" assumed a speed, not the limit.
    const seconds = (Date.now() - t0) / 1000;
    expect(written).toBeLessThanOrEqual(Math.ceil(1000 * (1 + seconds)));
    expect(failed).toBeGreaterThan(0);
    // PutRecord: three 600 KB records at once into a shard that takes 1 MiB/s
    const single = await Promise.allSettled(
      [0, 1, 2].map((i) =>
        kinesis.send(
          new PutRecordCommand({ StreamName: 'limited', Data: Buffer.alloc(600_000, i), PartitionKey: `p${i}` }),
        ),
      ),
    );
    const refused = single.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) expect(r.reason).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
  });
});
