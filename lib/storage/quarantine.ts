import { isUtf8 } from 'node:buffer';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RejectedRecord } from '../core';

export { QUARANTINE_COLUMNS } from './quarantine-columns';

export interface QuarantineTarget {
  readonly client: S3Client;
  readonly bucket: string;
  /** @default 'quarantine/' */
  readonly prefix?: string;
}

/** One line of a quarantine object: the raw record and why it was rejected (queryable as the `quarantine` table). */
export interface QuarantineLine {
  readonly reason: string;
  readonly arrivalTime: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** The record as UTF-8 text, or base64 when it is not valid UTF-8 (`encoding` says which). */
  readonly data: string;
  readonly encoding: 'utf8' | 'base64';
}

export function quarantineLines(rejected: readonly RejectedRecord[], shardId: string): QuarantineLine[] {
  return rejected.map(({ record, reason }) => {
    const bytes = Buffer.from(record.data, 'base64');
    const utf8 = isUtf8(bytes);
    return {
      reason,
      arrivalTime: new Date(record.arrivalMs).toISOString(),
      shardId,
      sequenceNumber: record.sequenceNumber,
      partitionKey: record.partitionKey,
      data: utf8 ? bytes.toString('utf8') : record.data,
      encoding: utf8 ? 'utf8' : 'base64',
    };
  });
}

/**
 * The object key for a batch's rejects: partitioned by the first record's arrival day (Athena partition
 * projection), named by shard and sequence range so a retried batch overwrites its own object instead
 * of adding a copy. One PUT per batch with rejects ($0.005 per 1,000), never one per record.
 */
export function quarantineKey(prefix: string, shardId: string, rejected: readonly RejectedRecord[]): string {
  const first = rejected[0].record;
  const last = rejected[rejected.length - 1].record;
  const day = new Date(first.arrivalMs).toISOString();
  return `${prefix}year=${day.slice(0, 4)}/month=${day.slice(5, 7)}/day=${day.slice(8, 10)}/${shardId}-${first.sequenceNumber}-${last.sequenceNumber}.json`;
}

export async function writeQuarantine(
  target: QuarantineTarget,
  shardId: string,
  rejected: readonly RejectedRecord[],
): Promise<string | undefined> {
  if (rejected.length === 0) return undefined;
  const key = quarantineKey(target.prefix ?? 'quarantine/', shardId, rejected);
  const body = quarantineLines(rejected, shardId)
    .map((line) => JSON.stringify(line))
    .join('\n');
  await target.client.send(
    new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: `${body}\n`, ContentType: 'application/x-ndjson' }),
  );
  return key;
}
