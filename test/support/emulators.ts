import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { baseClientConfig, s3ClientConfig } from '../../lib/shared/aws-clients';

// The emulators ship without type declarations; the local DynamoDB is dynalite plus BatchExecuteStatement.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { localDynamo } = require('../../lib/local/partiql-batch') as { localDynamo: (options: object) => Server };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: object) => { run(): Promise<AddressInfo>; close(): Promise<void> };

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );

export interface TestDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

/** dynalite on 127.0.0.1, a free port, in memory, as the embedded runtime runs it (lib/local/partiql-batch.js). */
export async function startDynalite(): Promise<TestDynamo> {
  const server = localDynamo({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const endpoint = await listen(server);
  const client = new DynamoDBClient(baseClientConfig({ endpoint, region: 'us-east-1' }));
  return {
    endpoint,
    client,
    doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    stop: async () => {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The aggregates and device-state tables, keyed as the CDK stack keys them. */
export async function createPipelineTables(client: DynamoDBClient, prefix = 't'): Promise<[string, string]> {
  const aggregates = `${prefix}-aggregates`;
  const state = `${prefix}-device-state`;
  await client.send(
    new CreateTableCommand({
      TableName: aggregates,
      KeySchema: [
        { AttributeName: 'Name', KeyType: 'HASH' },
        { AttributeName: 'StatusTime', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'Name', AttributeType: 'S' },
        { AttributeName: 'StatusTime', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await client.send(
    new CreateTableCommand({
      TableName: state,
      KeySchema: [{ AttributeName: 'Name', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'Name', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return [aggregates, state];
}

export interface TestS3 {
  readonly endpoint: string;
  readonly client: S3Client;
  stop(): Promise<void>;
}

/** s3rver on 127.0.0.1, a free port, in a temporary directory, with the given buckets. */
export async function startS3rver(buckets: string[]): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client(s3ClientConfig({ endpoint, region: 'us-east-1' }));
  for (const Bucket of buckets) await client.send(new CreateBucketCommand({ Bucket }));
  return {
    endpoint,
    client,
    stop: async () => {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
