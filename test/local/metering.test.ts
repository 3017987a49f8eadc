import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { Metering } from '../../lib/local/metering';
import { baseClientConfig } from '../../lib/shared/aws-clients';
import { type Kinesalite, startKinesalite } from '../simulator/kinesis-fixtures';

/** The Kinesis side of the metering proxy, on kinesalite's wire protocol: records sized as AWS bills them. */
let kinesalite: Kinesalite;
let metering: Metering;
let client: KinesisClient;

beforeAll(async () => {
  kinesalite = await startKinesalite();
  await kinesalite.createStream('metered', 1);
  metering = new Metering();
  const urls = await metering.proxy({
    kinesis: kinesalite.endpoint,
    dynamodb: kinesalite.endpoint,
    s3: kinesalite.endpoint,
  });
  client = new KinesisClient(baseClientConfig({ endpoint: urls.kinesis, region: 'us-east-1' }));
});
afterAll(async () => {
  client?.destroy();
  await metering?.close();
  await kinesalite?.close();
});

test('PutRecords: one PUT unit per 25 KB, Firehose 5 KB steps, on-demand 1 KB steps, per record', async () => {
  const sizes = [200, 5 * 1024, 5 * 1024 + 1, 30 * 1024];
  await client.send(
    new PutRecordsCommand({
      StreamName: 'metered',
      Records: sizes.map((n, i) => ({ Data: Buffer.alloc(n, 120), PartitionKey: `k${i}` })),
    }),
  );
  const k = metering.snapshot([], []).kinesis;
  expect(k.records).toBe(4);
  expect(k.putCalls).toBe(1);
  expect(k.bytes).toBe(200 + 5120 + 5121 + 30720);
  expect(k.putPayloadUnits).toBe(1 + 1 + 1 + 2);
  expect(k.firehoseBilledBytes).toBe((1 + 1 + 2 + 6) * 5120);
  expect(k.onDemandBilledBytes).toBe((1 + 5 + 6 + 30) * 1024);
});
