import { PutRecordsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { listShardIds, listShards, ShardReader, waitForStreamActive } from '../../lib/shared/kinesis-shards';
import { consumeStream } from '../../lib/simulator/consumer';
import { type Kinesalite, startKinesalite } from '../simulator/kinesis-fixtures';

let k: Kinesalite;
beforeAll(async () => {
  k = await startKinesalite();
});
afterAll(async () => {
  await k?.close();
});

async function put(stream: string, from: number, n: number): Promise<void> {
  const entries = Array.from({ length: n }, (_, i) => ({
    PartitionKey: `dev-${(from + i) % 7}`,
    Data: Buffer.from(`r${from + i}`),
  }));
  await k.client.send(new PutRecordsCommand({ StreamName: stream, Records: entries }));
}

test('one reader for the runtime and the consumer: a split shard is read to its end, then its children', async () => {
  await k.createStream('split', 1);
  await put('split', 0, 40);
  const [parent] = await listShardIds(k.client, 'split');
  await k.client.send(
    new SplitShardCommand({
      StreamName: 'split',
      ShardToSplit: parent,
      NewStartingHashKey: (2n ** 127n).toString(),
    }),
  );
  await waitForStreamActive(k.client, 'split');
  await put('split', 40, 40);

  const shards = await listShards(k.client, 'split');
  expect(shards).toHaveLength(3);
  expect(await listShardIds(k.client, 'split')).toHaveLength(2); // the parent is closed

  // The parent's reader says when the shard is closed, after its last record.
  const reader = new ShardReader(k.client, 'split', parent, { type: 'TRIM_HORIZON' });
  const parentRecords: string[] = [];
  let closed = false;
  for (let i = 0; i < 10 && !closed; i++) {
    const r = await reader.read(25);
    parentRecords.push(...r.records.map((x) => Buffer.from(x.data).toString()));
    closed = r.closed === true;
  }
  expect(closed).toBe(true);
  expect(parentRecords).toEqual(Array.from({ length: 40 }, (_, i) => `r${i}`));

  const seen: string[] = [];
  const summary = await consumeStream({
    client: k.client,
    streamName: 'split',
    count: 80,
    idleTimeoutMs: 3000,
    pollMs: 50,
    onRecord: (r) => seen.push(Buffer.from(r.data).toString()),
  });
  expect(summary).toMatchObject({ records: 80, shards: 3, stoppedBy: 'count' });
  expect(seen.slice(0, 40)).toEqual(parentRecords);
  expect(new Set(seen).size).toBe(80);
});
