import { CreateTableCommand, type CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { baseClientConfig, type ClientTarget, s3ClientConfig } from '../shared/aws-clients';
import { waitForStreamActive } from '../shared/kinesis-shards';
import type { LocalSqs } from './sqs';
import type { StackPlan } from './stack-plan';

/** Where provisioning sends each service's calls: the emulators directly, before the endpoint opens. */
export interface ProvisionTargets {
  readonly region: string;
  readonly kinesis: string;
  readonly dynamodb: string;
  readonly s3: string;
}

/**
 * Creates what the template declares, idempotently (existing resources from a previous run are kept
 * with their data). Tables are always on-demand in dynalite (it models no capacity); the limits module
 * throttles provisioned tables at the endpoint.
 */
export async function provision(plan: StackPlan, targets: ProvisionTargets, sqs: LocalSqs): Promise<void> {
  const at = (endpoint: string): ClientTarget => ({ endpoint, region: targets.region });
  const kinesis = new KinesisClient(baseClientConfig(at(targets.kinesis)));
  const ddb = new DynamoDBClient(baseClientConfig(at(targets.dynamodb)));
  const s3 = new S3Client(s3ClientConfig(at(targets.s3)));
  try {
    for (const s of plan.streams) {
      await ignoreExisting(kinesis.send(new CreateStreamCommand({ StreamName: s.name, ShardCount: s.shardCount })));
      await waitForStreamActive(kinesis, s.name);
    }
    for (const t of plan.tables) {
      const input: CreateTableCommandInput = {
        TableName: t.name,
        KeySchema: t.keySchema,
        AttributeDefinitions: t.attributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        ...(t.globalSecondaryIndexes?.length ? { GlobalSecondaryIndexes: t.globalSecondaryIndexes as never } : {}),
        ...(t.localSecondaryIndexes?.length ? { LocalSecondaryIndexes: t.localSecondaryIndexes as never } : {}),
      };
      await ignoreExisting(ddb.send(new CreateTableCommand(input)));
    }
    for (const b of plan.buckets) await ignoreExisting(s3.send(new CreateBucketCommand({ Bucket: b.name })));
    for (const q of plan.queues) sqs.createQueue(q.name);
  } finally {
    kinesis.destroy();
    ddb.destroy();
    s3.destroy();
  }
}

async function ignoreExisting(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    const name = (err as Error).name;
    if (!['ResourceInUseException', 'BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(name)) throw err;
  }
}
