import { createHash } from 'node:crypto';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';

/**
 * The one Kinesis shard reader: the embedded runtime's event source mappings and Firehose, and the
 * workshop-style consumer (`npm run consume`), all read shards through it.
 */
type KinesisSender = Pick<KinesisClient, 'send'>;

/** A record as read from a shard, with what the Lambda event and Firehose need. */
export interface StreamRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  /** Approximate arrival time, epoch ms (Kinesis assigns it when the record is written). */
  readonly arrival: number;
}

export interface ReadResult {
  readonly records: StreamRecord[];
  /** True when this read came back empty at the tip of the shard. */
  readonly atTip: boolean;
  /** When the GetRecords call that saw the tip started (epoch ms); 0 when not at tip. */
  readonly tipCheckedAt: number;
  /** The shard is closed (split or merged) and every record of it has been returned: its children carry on. */
  readonly closed?: boolean;
}

export type StartPosition =
  | { readonly type: 'TRIM_HORIZON' | 'LATEST' }
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: number }
  | { readonly type: 'AFTER_SEQUENCE_NUMBER'; readonly sequenceNumber: string };

/**
 * Reads one shard in order with GetShardIterator/GetRecords, re-positioning after the last record it
 * returned when an iterator expires. Kinesalite wants StreamName (it rejects StreamARN).
 */
export class ShardReader {
  private iterator?: string;
  private last?: string;

  constructor(
    private readonly kinesis: KinesisSender,
    private readonly streamName: string,
    readonly shardId: string,
    private readonly start: StartPosition,
  ) {}

  async read(limit: number): Promise<ReadResult> {
    const startedAt = Date.now();
    if (!this.iterator) this.iterator = await this.newIterator();
    let out: GetRecordsCommandOutput;
    try {
      out = await this.kinesis.send(
        new GetRecordsCommand({ ShardIterator: this.iterator, Limit: Math.min(10_000, limit) }),
      );
    } catch (err) {
      if ((err as Error).name === 'ExpiredIteratorException') {
        this.iterator = undefined;
        return { records: [], atTip: false, tipCheckedAt: 0 };
      }
      // Past the shard's 5 reads/s (shared by every consumer, as on AWS): read again after the poll interval.
      if ((err as Error).name === 'ProvisionedThroughputExceededException') {
        return { records: [], atTip: false, tipCheckedAt: 0 };
      }
      throw err;
    }
    this.iterator = out.NextShardIterator;
    const closed = out.NextShardIterator === undefined || out.NextShardIterator === null;
    const records = (out.Records ?? []).map(
      (r): StreamRecord => ({
        shardId: this.shardId,
        sequenceNumber: r.SequenceNumber!,
        partitionKey: r.PartitionKey!,
        data: r.Data ?? new Uint8Array(),
        arrival: r.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
      }),
    );
    if (records.length > 0) this.last = records[records.length - 1].sequenceNumber;
    const atTip = records.length === 0 && (out.MillisBehindLatest ?? 0) === 0;
    return { records, atTip, tipCheckedAt: atTip ? startedAt : 0, ...(closed ? { closed } : {}) };
  }

  private async newIterator(): Promise<string> {
    const input: GetShardIteratorCommandInput = {
      StreamName: this.streamName,
      ShardId: this.shardId,
      ShardIteratorType: 'LATEST',
    };
    const s = this.last ? ({ type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: this.last } as const) : this.start;
    input.ShardIteratorType = s.type;
    if (s.type === 'AFTER_SEQUENCE_NUMBER') input.StartingSequenceNumber = s.sequenceNumber;
    if (s.type === 'AT_TIMESTAMP') input.Timestamp = new Date(s.timestamp);
    const out = await this.kinesis.send(new GetShardIteratorCommand(input));
    return out.ShardIterator!;
  }
}

/** Every shard of a stream, open and closed. kinesalite takes StreamName (not StreamARN), and NextToken without it. */
export async function listShards(kinesis: KinesisSender, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let token: string | undefined;
  do {
    const out = await kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: streamName }));
    shards.push(...(out.Shards ?? []));
    token = out.NextToken;
  } while (token);
  return shards;
}

/** The open shards' ids. */
export async function listShardIds(kinesis: KinesisSender, streamName: string): Promise<string[]> {
  return (await listShards(kinesis, streamName))
    .filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber)
    .map((s) => s.ShardId!);
}

/**
 * Waits until a stream is ACTIVE (a new stream is CREATING first; kinesalite flips it on a later tick,
 * which a loaded machine can delay well past any fixed sleep). Bounded by time, not by a count of tries.
 */
export async function waitForStreamActive(
  kinesis: KinesisSender,
  streamName: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    if (Date.now() > deadline)
      throw new Error(`stream ${streamName} did not become ACTIVE within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An open shard's hash-key range (inclusive), as ListShards gives it. */
export interface ShardRange {
  readonly shardId: string;
  readonly start: bigint;
  readonly end: bigint;
}

/** The open shards' hash-key ranges, in hash-key order. */
export async function openShardRanges(kinesis: KinesisSender, streamName: string): Promise<ShardRange[]> {
  return (await listShards(kinesis, streamName))
    .filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber && s.HashKeyRange)
    .map((s) => ({
      shardId: s.ShardId!,
      start: BigInt(s.HashKeyRange!.StartingHashKey!),
      end: BigInt(s.HashKeyRange!.EndingHashKey!),
    }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** Kinesis's hash key of a partition key: its MD5 digest as a 128-bit unsigned integer. */
export function partitionHashKey(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

/** Index into `ranges` of the shard a partition key goes to; 0 when the ranges do not cover it (or are empty). */
export function shardIndexOf(ranges: readonly ShardRange[], partitionKey: string): number {
  if (ranges.length <= 1) return 0;
  const h = partitionHashKey(partitionKey);
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (h < ranges[mid].start) hi = mid - 1;
    else if (h > ranges[mid].end) lo = mid + 1;
    else return mid;
  }
  return 0;
}
