import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type EdgeRouter, startEdgeRouter } from '../../lib/local/edge-router';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { LocalRuntimeError } from '../../lib/local/errors';
import { ServiceError } from '../../lib/local/service';
import { LocalSqs } from '../../lib/local/sqs';
import { baseClientConfig, s3ClientConfig } from '../../lib/shared/aws-clients';

describe('edge router: one endpoint for every emulated service', () => {
  let dir: string;
  let emulators: Emulators;
  let router: EdgeRouter;
  let target: { endpoint: string; region: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edge-'));
    emulators = await startEmulators({ scratchDir: dir });
    let url = '';
    const sqs = new LocalSqs({ endpoint: () => url, region: 'us-east-1' });
    const echo = {
      targetPrefixes: ['AmazonAthena'],
      handle: async (op: string, input: Record<string, unknown>) => {
        if (op === 'Fail') throw new ServiceError('InvalidRequestException', 'nope');
        return { op, input };
      },
      close: async () => undefined,
    };
    router = await startEdgeRouter({
      upstreams: { kinesis: emulators.kinesis.url, dynamodb: emulators.dynamodb.url, s3: emulators.s3.url },
      services: [sqs, echo],
      port: 0,
    });
    url = router.url;
    target = { endpoint: router.url, region: 'us-east-1' };
  });

  afterAll(async () => {
    await router?.close();
    await emulators?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes Kinesis, DynamoDB and S3 (with ListObjectsV2 paging) to their emulators', async () => {
    const kinesis = new KinesisClient(baseClientConfig(target));
    await kinesis.send(new CreateStreamCommand({ StreamName: 's1', ShardCount: 1 }));
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 's1' }));
    expect(summary.StreamDescriptionSummary?.StreamName).toBe('s1');

    const ddb = new DynamoDBClient(baseClientConfig(target));
    await ddb.send(
      new CreateTableCommand({
        TableName: 'table1',
        KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    expect((await ddb.send(new ListTablesCommand({}))).TableNames).toContain('table1');

    const s3 = new S3Client(s3ClientConfig(target));
    await s3.send(new CreateBucketCommand({ Bucket: 'bucket1' }));
    for (let i = 0; i < 5; i++) await s3.send(new PutObjectCommand({ Bucket: 'bucket1', Key: `k${i}`, Body: `v${i}` }));
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'bucket1', MaxKeys: 2, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((c) => c.Key!));
      token = page.NextContinuationToken;
    } while (token);
    expect(keys).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(router.counts.kinesis).toBeGreaterThan(0);
    expect(router.counts.s3).toBeGreaterThan(0);
  });

  it('hosts SQS in-process with AWS SDK v3 (JSON protocol, MD5 checks)', async () => {
    const sqs = new SQSClient(baseClientConfig(target));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'dlq' }));
    expect(QueueUrl).toBe(`${router.url}/000000000000/dlq`);
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"a":1}' }));
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe('1');
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(got.Messages?.map((m) => m.Body)).toEqual(['{"a":1}']);
  });

  it('dispatches JSON-protocol services by X-Amz-Target and maps ServiceError', async () => {
    const call = (op: string) =>
      fetch(router.url, {
        method: 'POST',
        headers: { 'x-amz-target': `AmazonAthena.${op}`, 'content-type': 'application/x-amz-json-1.1' },
        body: '{"QueryString":"SELECT 1"}',
      });
    const ok = await call('StartQueryExecution');
    expect(await ok.json()).toEqual({ op: 'StartQueryExecution', input: { QueryString: 'SELECT 1' } });
    const bad = await call('Fail');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ __type: 'InvalidRequestException', message: 'nope' });
  });

  it('answers 400 naming an unknown service', async () => {
    const res = await fetch(router.url, {
      method: 'POST',
      headers: {
        authorization: 'AWS4-HMAC-SHA256 Credential=S3RVER/20240101/us-east-1/lambda/aws4_request, Signature=x',
      },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('"lambda"');
  });

  it('reports a port in use with what to do', async () => {
    await expect(startEdgeRouter({ upstreams: {}, services: [], port: router.port })).rejects.toThrow(
      new LocalRuntimeError(
        `port ${router.port} is in use: stop the other process (LocalStack?) or pass --port <free port>`,
      ),
    );
  });
});
