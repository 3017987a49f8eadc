import { createDecipheriv, createHash } from 'node:crypto';
import type { Refusal } from './request-guard';

// Plain CommonJS, shared with the dynalite process that runs these statements (see emulator-process.js).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parseInsert } = require('./partiql-batch') as {
  parseInsert(statement: unknown, parameters: unknown): { table?: string; item?: unknown; error?: string };
};

/**
 * AWS's throughput limits, enforced at the endpoint because the emulators have none (kinesalite and
 * dynalite accept any rate), so the solar fleet's copies hit the per-shard write limit here before
 * they do on AWS. Figures (Kinesis and DynamoDB developer guides, /work/shared/PRICES.md):
 * - Kinesis, per shard: 1,000 records/s and 1 MiB/s written; 5 GetRecords calls/s and 2 MiB/s read.
 *   An on-demand stream runs as one local shard with its documented initial write capacity
 *   (4,000 records/s, 4 MiB/s) and twice that to read.
 * - PutRecords answers each record over the limit with ProvisionedThroughputExceededException (the
 *   others are written); PutRecord and GetRecords are refused whole with that error (SDKs retry it).
 * - DynamoDB tables the template provisions: reads and writes past their capacity units are refused
 *   with ProvisionedThroughputExceededException, after the up to 300 s of unused capacity DynamoDB
 *   keeps as burst. Costs are estimated from the request: 1 WCU per started KB of item JSON, 1 RCU per
 *   item read (0.5 eventually consistent), Query/Scan charged by the response's bytes per 4 KB.
 *   On-demand tables are not limited (their documented limits are far above what dynalite serves).
 * Off with `--no-limits` (benchmarks measure the emulators, not AWS's quotas).
 */
export interface ShardRange {
  readonly shardId: string;
  readonly startingHashKey: bigint;
  readonly endingHashKey: bigint;
}

export interface LimitedStream {
  readonly name: string;
  readonly arn?: string;
  readonly onDemand: boolean;
  readonly shards: readonly ShardRange[];
}

export interface LimitedTable {
  readonly name: string;
  readonly readCapacityUnits: number;
  readonly writeCapacityUnits: number;
}

export const KINESIS_SHARD_LIMITS = {
  writeRecordsPerSecond: 1_000,
  writeBytesPerSecond: 1024 * 1024,
  readCallsPerSecond: 5,
  readBytesPerSecond: 2 * 1024 * 1024,
  /** An on-demand stream's initial capacity, in provisioned shards' worth. */
  onDemandShards: 4,
} as const;

/** DynamoDB keeps up to 300 s of unused read and write capacity for bursts. */
export const DYNAMODB_BURST_SECONDS = 300;

/** What the router does with one request to an emulator. */
export type LimitDecision =
  | { readonly kind: 'forward'; readonly onResponse?: (body: Buffer) => void }
  | { readonly kind: 'refuse'; readonly refusal: Refusal }
  | { readonly kind: 'respond'; readonly body: unknown }
  | { readonly kind: 'partial'; readonly body: Buffer; readonly merge: (upstream: Buffer) => Buffer };

export interface UpstreamLimiter {
  admit(service: string, operation: string, body: Buffer): LimitDecision;
  /** Throttled so far, by `service.operation` (the soak and the demo report them). */
  readonly throttled: Readonly<Record<string, number>>;
}

/** A bucket refilled at `rate` per second up to `capacity`; `take` may overdraw when `allowDebt`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly rate: number,
    readonly capacity: number = rate,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
  }

  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes `n` if there are that many; false (and nothing taken) otherwise. */
  take(n: number): boolean {
    this.refill();
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Charges `n` even past zero (read bytes known only after the response). */
  charge(n: number): void {
    this.refill();
    this.tokens -= n;
  }
}

interface ShardBuckets {
  readonly range: ShardRange;
  readonly writeRecords: TokenBucket;
  readonly writeBytes: TokenBucket;
  readonly readCalls: TokenBucket;
  readonly readBytes: TokenBucket;
}

interface TableBuckets {
  readonly read: TokenBucket;
  readonly write: TokenBucket;
}

const THROUGHPUT_EXCEEDED = 'ProvisionedThroughputExceededException';

export class AwsLimits implements UpstreamLimiter {
  readonly throttled: Record<string, number> = {};
  private readonly streams = new Map<string, ShardBuckets[]>();
  private readonly tables = new Map<string, TableBuckets>();

  constructor(streams: readonly LimitedStream[], tables: readonly LimitedTable[], now: () => number = Date.now) {
    const L = KINESIS_SHARD_LIMITS;
    for (const s of streams) {
      const k = s.onDemand ? L.onDemandShards : 1;
      const shards = s.shards.map((range) => ({
        range,
        writeRecords: new TokenBucket(L.writeRecordsPerSecond * k, L.writeRecordsPerSecond * k, now),
        writeBytes: new TokenBucket(L.writeBytesPerSecond * k, L.writeBytesPerSecond * k, now),
        readCalls: new TokenBucket(L.readCallsPerSecond * k, L.readCallsPerSecond * k, now),
        readBytes: new TokenBucket(L.readBytesPerSecond * k, L.readBytesPerSecond * k, now),
      }));
      this.streams.set(s.name, shards);
      if (s.arn) this.streams.set(s.arn, shards);
    }
    for (const t of tables) {
      this.tables.set(t.name, {
        read: new TokenBucket(t.readCapacityUnits, t.readCapacityUnits * DYNAMODB_BURST_SECONDS, now),
        write: new TokenBucket(t.writeCapacityUnits, t.writeCapacityUnits * DYNAMODB_BURST_SECONDS, now),
      });
    }
  }

  admit(service: string, operation: string, body: Buffer): LimitDecision {
    if (service === 'kinesis') return this.kinesis(operation, body);
    if (service === 'dynamodb' && this.tables.size > 0) return this.dynamodb(operation, body);
    return { kind: 'forward' };
  }

  private count(what: string, n = 1): void {
    this.throttled[what] = (this.throttled[what] ?? 0) + n;
  }

  private kinesis(operation: string, body: Buffer): LimitDecision {
    if (operation === 'PutRecords') return this.putRecords(body);
    if (operation === 'PutRecord') {
      const input = parse(body) as { StreamName?: string; StreamARN?: string } & RecordInput;
      const shards = this.streams.get(input.StreamName ?? input.StreamARN ?? '');
      const shard = shards && shardFor(shards, input);
      if (!shard || this.admitWrite(shard, input)) return { kind: 'forward' };
      this.count('kinesis.PutRecord');
      return refuse(
        THROUGHPUT_EXCEEDED,
        `Rate exceeded for shard ${shard.range.shardId} in stream ${input.StreamName}.`,
      );
    }
    if (operation === 'GetRecords') {
      const input = parse(body) as { ShardIterator?: string };
      const at = iteratorShard(input.ShardIterator ?? '');
      const shard = at && this.streams.get(at.stream)?.find((s) => s.range.shardId === at.shardId);
      if (!shard) return { kind: 'forward' };
      if (shard.readBytes.available() <= 0 || !shard.readCalls.take(1)) {
        this.count('kinesis.GetRecords');
        return refuse(THROUGHPUT_EXCEEDED, `Rate exceeded for shard ${at.shardId} in stream ${at.stream}.`);
      }
      // The records' bytes, roughly: base64 inflates by 4/3; the JSON around them is small.
      return { kind: 'forward', onResponse: (out) => shard.readBytes.charge(Math.floor((out.length * 3) / 4)) };
    }
    return { kind: 'forward' };
  }

  private admitWrite(shard: ShardBuckets, record: RecordInput): boolean {
    const bytes = recordBytes(record);
    if (shard.writeRecords.available() < 1 || shard.writeBytes.available() < bytes) return false;
    shard.writeRecords.take(1);
    shard.writeBytes.take(bytes);
    return true;
  }

  private putRecords(body: Buffer): LimitDecision {
    const input = parse(body) as { StreamName?: string; StreamARN?: string; Records?: RecordInput[] };
    const shards = this.streams.get(input.StreamName ?? input.StreamARN ?? '');
    if (!shards || !Array.isArray(input.Records)) return { kind: 'forward' };
    const throttled: number[] = [];
    input.Records.forEach((record, i) => {
      const shard = shardFor(shards, record);
      if (shard && !this.admitWrite(shard, record)) throttled.push(i);
    });
    if (throttled.length === 0) return { kind: 'forward' };
    this.count('kinesis.PutRecords.records', throttled.length);
    const failure = (i: number) => ({
      ErrorCode: THROUGHPUT_EXCEEDED,
      ErrorMessage: `Rate exceeded for shard ${shardFor(shards, input.Records![i])?.range.shardId} in stream ${input.StreamName}.`,
    });
    if (throttled.length === input.Records.length) {
      return { kind: 'respond', body: { FailedRecordCount: throttled.length, Records: throttled.map(failure) } };
    }
    const skip = new Set(throttled);
    const kept = input.Records.filter((_, i) => !skip.has(i));
    return {
      kind: 'partial',
      body: Buffer.from(JSON.stringify({ ...input, Records: kept })),
      merge: (upstream) => {
        const out = parse(upstream) as { FailedRecordCount?: number; Records?: unknown[] };
        if (!Array.isArray(out.Records)) return upstream; // an error from kinesalite: pass it on
        const merged: unknown[] = [];
        let next = 0;
        for (let i = 0; i < input.Records!.length; i++) merged.push(skip.has(i) ? failure(i) : out.Records[next++]);
        return Buffer.from(
          JSON.stringify({
            ...out,
            FailedRecordCount: (out.FailedRecordCount ?? 0) + throttled.length,
            Records: merged,
          }),
        );
      },
    };
  }

  private dynamodb(operation: string, body: Buffer): LimitDecision {
    const input = parse(body) as DynamoInput;
    const charges = dynamoCharges(operation, input);
    for (const [table, { read, write }] of charges) {
      const buckets = this.tables.get(table);
      if (!buckets) continue;
      if ((read > 0 && buckets.read.available() < read) || (write > 0 && buckets.write.available() < write)) {
        this.count(`dynamodb.${operation}`);
        return refuse(
          THROUGHPUT_EXCEEDED,
          `The level of configured provisioned throughput for the table ${table} was exceeded. Consider increasing your provisioning level with the UpdateTable API.`,
        );
      }
    }
    for (const [table, { read, write }] of charges) {
      const buckets = this.tables.get(table);
      if (!buckets) continue;
      buckets.read.charge(read);
      buckets.write.charge(write);
    }
    if (operation === 'Query' || operation === 'Scan') {
      const buckets = this.tables.get(input.TableName ?? '');
      if (buckets) return { kind: 'forward', onResponse: (out) => buckets.read.charge(Math.ceil(out.length / 4096)) };
    }
    return { kind: 'forward' };
  }
}

interface RecordInput {
  readonly Data?: string;
  readonly PartitionKey?: string;
  readonly ExplicitHashKey?: string;
}

interface DynamoInput {
  readonly TableName?: string;
  readonly Item?: unknown;
  readonly ConsistentRead?: boolean;
  readonly RequestItems?: Record<string, unknown[] | { Keys?: unknown[]; ConsistentRead?: boolean }>;
  readonly Statements?: readonly { readonly Statement?: string; readonly Parameters?: unknown }[];
}

/** Capacity units each table is charged by one request, estimated from the request alone. */
function dynamoCharges(operation: string, input: DynamoInput): Map<string, { read: number; write: number }> {
  const out = new Map<string, { read: number; write: number }>();
  const add = (table: string, read: number, write: number) => {
    const c = out.get(table) ?? { read: 0, write: 0 };
    out.set(table, { read: c.read + read, write: c.write + write });
  };
  const wcu = (item: unknown) => Math.max(1, Math.ceil(JSON.stringify(item ?? {}).length / 1024));
  const rcu = (consistent?: boolean) => (consistent ? 1 : 0.5);
  const table = input.TableName ?? '';
  if (operation === 'PutItem') add(table, 0, wcu(input.Item));
  else if (operation === 'UpdateItem' || operation === 'DeleteItem') add(table, 0, 1);
  else if (operation === 'GetItem' || operation === 'Query' || operation === 'Scan')
    add(table, rcu(input.ConsistentRead), 0);
  else if (operation === 'BatchWriteItem') {
    for (const [t, requests] of Object.entries(input.RequestItems ?? {})) {
      for (const r of requests as { PutRequest?: { Item?: unknown } }[]) add(t, 0, wcu(r.PutRequest?.Item));
    }
  } else if (operation === 'BatchExecuteStatement') {
    // The statements the local DynamoDB runs (lib/local/partiql-batch.js); the others it refuses.
    for (const s of input.Statements ?? []) {
      const insert = parseInsert(s.Statement, s.Parameters);
      if (insert.table !== undefined) add(insert.table, 0, wcu(insert.item));
    }
  } else if (operation === 'BatchGetItem') {
    for (const [t, spec] of Object.entries(input.RequestItems ?? {})) {
      const s = spec as { Keys?: unknown[]; ConsistentRead?: boolean };
      add(t, (s.Keys?.length ?? 0) * rcu(s.ConsistentRead), 0);
    }
  }
  return out;
}

function refuse(code: string, message: string): LimitDecision {
  return { kind: 'refuse', refusal: { status: 400, code, message } };
}

function parse(body: Buffer): Record<string, unknown> {
  try {
    const v = JSON.parse(body.toString('utf8'));
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

/** A record's size as Kinesis counts it: the data blob plus the partition key. */
function recordBytes(r: RecordInput): number {
  return Buffer.byteLength(r.Data ?? '', 'base64') + Buffer.byteLength(r.PartitionKey ?? '');
}

/** The shard a record goes to: MD5 of the partition key as a 128-bit integer, or the explicit hash key. */
export function shardFor<T extends { range: ShardRange }>(shards: readonly T[], r: RecordInput): T | undefined {
  const hash =
    r.ExplicitHashKey !== undefined
      ? BigInt(r.ExplicitHashKey)
      : BigInt(
          `0x${createHash('md5')
            .update(r.PartitionKey ?? '')
            .digest('hex')}`,
        );
  return shards.find((s) => hash >= s.range.startingHashKey && hash <= s.range.endingHashKey);
}

// kinesalite's shard iterators are AES-256-CBC with the key and IV it publishes (kinesalite/db); the
// plain text is `time/stream/shardId/sequence/padding`. Reading it is how GetRecords is tied to a shard.
let iteratorCipher: { key: Buffer; iv: Buffer } | undefined;

export function iteratorShard(iterator: string): { stream: string; shardId: string } | undefined {
  try {
    iteratorCipher ??= (() => {
      const db = require('kinesalite/db') as { ITERATOR_PWD_KEY: Buffer; ITERATOR_PWD_IV: Buffer };
      return { key: db.ITERATOR_PWD_KEY, iv: db.ITERATOR_PWD_IV };
    })();
    const raw = Buffer.from(iterator, 'base64').subarray(8);
    const decipher = createDecipheriv('aes-256-cbc', iteratorCipher.key, iteratorCipher.iv);
    const text = Buffer.concat([decipher.update(raw), decipher.final()]).toString('utf8');
    const [, stream, shardId] = text.split('/');
    return stream && shardId ? { stream, shardId } : undefined;
  } catch {
    return undefined;
  }
}
