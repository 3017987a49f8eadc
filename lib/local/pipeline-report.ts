import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { runQuery } from '../query/client';
import { baseClientConfig, s3ClientConfig } from '../shared/aws-clients';
import type { StackTarget } from '../shared/stack-target';

/**
 * What a finished local run left behind, read back through the public endpoint with the AWS SDK
 * (exactly what a user's own tools would see): aggregate rows, archive objects, the DLQ, a SQL answer.
 */
export interface ArchiveCounts {
  readonly raw: number;
  readonly errors: number;
  readonly quarantine: number;
  readonly other: number;
}

export async function countItems(target: StackTarget, table: string): Promise<number> {
  const ddb = new DynamoDBClient(baseClientConfig(target));
  try {
    let count = 0;
    let key: Record<string, unknown> | undefined;
    do {
      const out = await ddb.send(
        new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey: key as never }),
      );
      count += out.Count ?? 0;
      key = out.LastEvaluatedKey;
    } while (key);
    return count;
  } finally {
    ddb.destroy();
  }
}

/** Every object key in a bucket (ListObjectsV2 paging through the endpoint). */
export async function listKeys(target: StackTarget, bucket: string, prefix = ''): Promise<string[]> {
  const s3 = new S3Client(s3ClientConfig(target));
  try {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      keys.push(...(out.Contents ?? []).map((c) => c.Key!));
      token = out.NextContinuationToken;
    } while (token);
    return keys;
  } finally {
    s3.destroy();
  }
}

export function countArchive(keys: readonly string[]): ArchiveCounts {
  const c = { raw: 0, errors: 0, quarantine: 0, other: 0 };
  for (const k of keys) {
    if (k.startsWith('raw/')) c.raw++;
    else if (k.startsWith('errors/')) c.errors++;
    else if (k.startsWith('quarantine/')) c.quarantine++;
    else c.other++;
  }
  return c;
}

/** A device's first per-minute rows, as the workshop's operators queried `UnicornSensorData`. */
export async function minuteRows(target: StackTarget, table: string, device: string, limit: number) {
  const ddb = new DynamoDBClient(baseClientConfig(target));
  try {
    const out = await ddb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#n = :n',
        ExpressionAttributeNames: { '#n': 'Name' },
        ExpressionAttributeValues: { ':n': { S: device } },
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((item) => {
      const row: Record<string, string | number> = {};
      for (const [k, v] of Object.entries(item)) {
        if (v.S !== undefined) row[k] = v.S;
        else if (v.N !== undefined) row[k] = Number(v.N);
      }
      return row;
    });
  } finally {
    ddb.destroy();
  }
}

export async function queueDepth(target: StackTarget, queueUrl: string): Promise<number> {
  const sqs = new SQSClient(baseClientConfig(target));
  try {
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
  } finally {
    sqs.destroy();
  }
}

/** Runs one SQL query through the Athena API on the endpoint with the query tool's client; returns the header and rows. */
export async function athenaQuery(target: StackTarget, sql: string, timeoutMs = 120_000): Promise<string[][]> {
  const athena = new AthenaClient(baseClientConfig(target));
  try {
    const run = await runQuery(athena, {
      sql,
      workgroup: target.athenaWorkgroup,
      database: target.glueDatabase,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return [run.columns.map((c) => c.name), ...run.rows.map((r) => r.map((v) => v ?? ''))];
  } finally {
    athena.destroy();
  }
}
