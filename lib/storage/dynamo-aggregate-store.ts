import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchExecuteStatementCommand,
  BatchGetCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type AggregateStore,
  type CompiledProfile,
  forEachConcurrently,
  type LatestReading,
  type MinuteRef,
  type MinuteWrite,
  minuteKey,
  minuteRefKey,
  type NewestMinute,
  type StoredMinute,
  toFixed,
  watermarkOf,
} from '../core';
import { backoff } from '../shared/backoff';
import { packIds, unpackIds } from './id-codec';
import { deviceStateItem } from './table-layout';

export interface DynamoAggregateStoreProps {
  readonly client: DynamoDBDocumentClient;
  /** Per-minute aggregates: PK `Name` (device), SK `StatusTime` (minute start, ISO-8601 UTC). */
  readonly aggregatesTable: string;
  /** Latest state per device: PK `Name`. */
  readonly deviceStateTable: string;
  /** Expire aggregates this many days after their minute (TTL attribute `ExpiresAt`). @default no expiry */
  readonly aggregatesTtlDays?: number;
  /**
   * How long a device's newest item, once read, is taken from memory instead of queried again (kept up to
   * date by this store's own writes); 0 queries every time. @default NEWEST_CACHE_MS (1 hour: longer than a solar panel's ~16 minutes between readings)
   */
  readonly newestCacheMs?: number;
}

/**
 * A device's newest item seen by this container stays valid while only this container writes the device
 * (one shard, one invocation at a time). If the shard moved to another container meanwhile, the entry
 * can only be older than the table, never newer: the watermark is then lower (lateness judged more
 * leniently; the merge stays exactly once), a minute thought new fails its conditional put and is
 * re-read, and a listing rewrite may repeat. The age bound caps how long that can last.
 */
export const NEWEST_CACHE_MS = 60 * 60_000;

const BATCH_GET_LIMIT = 100;
const MAX_UNPROCESSED_ROUNDS = 8;
/** Parallel newest-item queries (a Query reads one partition; it cannot be batched). */
const QUERY_CONCURRENCY = 16;
/** Per-statement errors of a BatchExecuteStatement that say "later", not "no": those statements are sent again. */
const RETRIED_STATEMENT_ERRORS = new Set([
  'ProvisionedThroughputExceeded',
  'ThrottlingError',
  'RequestLimitExceeded',
  'InternalServerError',
  'TransactionConflict',
]);
/** Unprocessed keys or throttled statements: wait 25 ms, 50 ms, ... up to 1 s, jittered. */
const UNPROCESSED_BACKOFF = { baseMs: 25, maxMs: 1_000, jitter: 'full' } as const;

/**
 * Attributes of an aggregates item beyond the profile's metrics: bookkeeping (`Profile`, `EventIds`,
 * `Version`, `ExpiresAt`) and, on the minute that held its device's newest reading when it was written,
 * that reading: `LastEventTime` (epoch ms, the watermark), `LastEventId`, `Status`, `Reading` (the
 * profile's reading fields) and `StateAt` (the `LastEventTime` the device-state table last received).
 * A device's latest state is its newest item: Query `Name = :device`, descending, `Limit 1`.
 */
export const AGGREGATE_LATEST_ATTRIBUTES = ['LastEventTime', 'LastEventId', 'Status', 'Reading', 'StateAt'] as const;

/**
 * The flush's storage port on DynamoDB. Costs per device and flush: one newest-item Query (0.5 RRU, an
 * item under 4 KB); per device-minute that gained events, one conditional write (1 WRU per KB: a solar
 * minute with its latest reading is ~0.4 KB), new minutes 25 to a request (PartiQL INSERTs in one
 * BatchExecuteStatement), changed ones one PutItem each; per minute not newer than the device's newest item (a
 * replay, a crowded minute), one 0.5 RRU read; per device-state rewrite (status change or refresh),
 * one conditional put.
 */
export class DynamoAggregateStore implements AggregateStore {
  /** Device id -> its newest item (null: none) and when it was read from the table. */
  private readonly newest = new Map<string, { value: NewestMinute | null; readAt: number }>();
  /** Newest-item Queries sent (the cache's misses), for tests and benchmarks. */
  newestQueries = 0;

  constructor(private readonly props: DynamoAggregateStoreProps) {}

  async getMinutes(refs: readonly MinuteRef[], consistent: boolean): Promise<Map<string, StoredMinute>> {
    const keys = refs.map((r) => ({ Name: r.deviceId, StatusTime: minuteKey(r.minuteStartMs) }));
    const items = await this.batchGet(this.props.aggregatesTable, keys, consistent);
    const byKey = new Map(keys.map((k, i) => [`${k.Name}\u0000${k.StatusTime}`, refs[i]]));
    const out = new Map<string, StoredMinute>();
    for (const item of items) {
      const ref = byKey.get(`${item.Name}\u0000${item.StatusTime}`);
      if (ref) out.set(minuteRefKey(ref.deviceId, ref.minuteStartMs), itemToMinute(ref.compiled, item));
    }
    return out;
  }

  async getNewest(deviceIds: readonly string[]): Promise<Map<string, NewestMinute>> {
    const out = new Map<string, NewestMinute>();
    const maxAge = this.props.newestCacheMs ?? NEWEST_CACHE_MS;
    const now = Date.now();
    const misses: string[] = [];
    for (const deviceId of deviceIds) {
      const cached = this.newest.get(deviceId);
      if (cached === undefined || now - cached.readAt >= maxAge) misses.push(deviceId);
      else if (cached.value !== null) out.set(deviceId, cached.value);
    }
    await forEachConcurrently(misses, QUERY_CONCURRENCY, async (deviceId) => {
      this.newestQueries++;
      const result = await this.props.client.send(
        new QueryCommand({
          TableName: this.props.aggregatesTable,
          KeyConditionExpression: '#n = :d',
          ExpressionAttributeNames: { '#n': 'Name', '#s': 'Status' },
          ExpressionAttributeValues: { ':d': deviceId },
          ProjectionExpression: 'StatusTime, LastEventTime, LastEventId, #s, StateAt, Profile',
          ScanIndexForward: false,
          Limit: 1,
        }),
      );
      const item = result.Items?.[0];
      if (item === undefined) {
        if (maxAge > 0) this.newest.set(deviceId, { value: null, readAt: now });
        return;
      }
      const value: NewestMinute = {
        minuteStartMs: Date.parse(item.StatusTime as string),
        latest:
          typeof item.LastEventTime === 'number'
            ? { eventTimeMs: item.LastEventTime, eventId: item.LastEventId as number, status: item.Status as string }
            : undefined,
        stateAt: typeof item.StateAt === 'number' ? item.StateAt : undefined,
        profile: typeof item.Profile === 'string' ? item.Profile : undefined,
      };
      out.set(deviceId, value);
      if (maxAge > 0) this.newest.set(deviceId, { value, readAt: now });
    });
    return out;
  }

  /** After a successful put: the cached newest item follows what this store wrote. */
  private wrote(ref: MinuteRef, minute: StoredMinute): void {
    const cached = this.newest.get(ref.deviceId);
    if (cached === undefined) return;
    const current = cached.value;
    if (current !== null && ref.minuteStartMs < current.minuteStartMs) return;
    const value: NewestMinute =
      current !== null && ref.minuteStartMs === current.minuteStartMs && minute.latest === undefined
        ? current
        : {
            minuteStartMs: ref.minuteStartMs,
            latest: minute.latest,
            stateAt: minute.stateAt,
            profile: ref.compiled.profile.name,
          };
    this.newest.set(ref.deviceId, { value, readAt: cached.readAt });
  }

  async getWatermarks(deviceIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const [id, newest] of await this.getNewest(deviceIds)) out.set(id, watermarkOf(newest) as number);
    return out;
  }

  async putMinutes(writes: readonly MinuteWrite[]): Promise<boolean[]> {
    const landed = new Array<boolean>(writes.length).fill(false);
    const inserts: number[] = [];
    const replaces: number[] = [];
    writes.forEach((w, i) => {
      (w.minute.version === 1 ? inserts : replaces).push(i);
    });
    try {
      await Promise.all([
        this.insertMinutes(inserts.map((i) => writes[i])).then((ok) => {
          ok.forEach((v, j) => {
            landed[inserts[j]] = v;
          });
        }),
        ...replaces.map(async (i) => {
          landed[i] = await this.replaceMinute(writes[i]);
        }),
      ]);
    } catch (err) {
      // Which writes landed is unknown: the devices' newest items are read again on the retry.
      for (const w of writes) this.newest.delete(w.ref.deviceId);
      throw err;
    }
    writes.forEach((w, i) => {
      if (landed[i]) this.wrote(w.ref, w.minute);
      // Another writer (or an earlier attempt) got there: forget what we believed about the device.
      else this.newest.delete(w.ref.deviceId);
    });
    return landed;
  }

  /**
   * New minutes, all in one BatchExecuteStatement of PartiQL INSERTs: an INSERT fails with `DuplicateItem`
   * when the key exists, the same condition as `attribute_not_exists`, at the same write units as a
   * PutItem, for one request instead of 25. (BatchWriteItem takes no conditions.) Statements DynamoDB
   * throttled are sent again with backoff.
   */
  private async insertMinutes(writes: readonly MinuteWrite[]): Promise<boolean[]> {
    const landed = new Array<boolean>(writes.length).fill(false);
    let pending = writes.map((_, i) => i);
    for (let round = 0; pending.length > 0; round++) {
      if (round > MAX_UNPROCESSED_ROUNDS) {
        // Named as DynamoDB names throttling, so that callers which back off on it (the import) do here too.
        const err = new Error(
          `BatchExecuteStatement on ${this.props.aggregatesTable} kept throttling ${pending.length} writes`,
        );
        err.name = 'ProvisionedThroughputExceededException';
        throw err;
      }
      if (round > 0) await backoff(UNPROCESSED_BACKOFF, round + 1);
      const statements = pending.map((i) => insertStatement(this.props.aggregatesTable, this.minuteItem(writes[i])));
      const result = await this.props.client.send(new BatchExecuteStatementCommand({ Statements: statements }));
      const retry: number[] = [];
      pending.forEach((i, j) => {
        const error = result.Responses?.[j]?.Error;
        if (error === undefined) landed[i] = true;
        else if (error.Code === 'DuplicateItem' || error.Code === 'ConditionalCheckFailed') landed[i] = false;
        else if (RETRIED_STATEMENT_ERRORS.has(error.Code ?? '')) retry.push(i);
        else throw new Error(`INSERT into ${this.props.aggregatesTable} failed: ${error.Code}: ${error.Message}`);
      });
      pending = retry;
    }
    return landed;
  }

  /** A minute that gained events since it was stored: replaced if its version is still the one read. */
  private async replaceMinute(w: MinuteWrite): Promise<boolean> {
    try {
      await this.props.client.send(
        new PutCommand({
          TableName: this.props.aggregatesTable,
          Item: this.minuteItem(w),
          ConditionExpression: '#v = :previous',
          ExpressionAttributeNames: { '#v': 'Version' },
          ExpressionAttributeValues: { ':previous': w.minute.version - 1 },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  private minuteItem({ ref, minute, attributes }: MinuteWrite): Record<string, unknown> {
    const ttlDays = this.props.aggregatesTtlDays;
    return {
      Name: ref.deviceId,
      StatusTime: minuteKey(ref.minuteStartMs),
      Profile: ref.compiled.profile.name,
      ...attributes,
      // Sums are recovered from their attributes (exact for sums under 1e9 units); mins/maxs likewise.
      EventIds: packIds(minute.ids),
      Version: minute.version,
      ...(minute.latest
        ? {
            LastEventTime: minute.latest.eventTimeMs,
            LastEventId: minute.latest.eventId,
            Status: minute.latest.status,
            Reading: minute.latest.reading,
            StateAt: minute.stateAt,
          }
        : {}),
      ...(ttlDays ? { ExpiresAt: Math.floor(ref.minuteStartMs / 1000) + ttlDays * 86_400 } : {}),
    };
  }

  async putLatest(deviceId: string, compiled: CompiledProfile, latest: LatestReading): Promise<void> {
    try {
      await this.props.client.send(
        new PutCommand({
          TableName: this.props.deviceStateTable,
          Item: deviceStateItem({
            deviceId,
            profile: compiled.profile.name,
            status: latest.status,
            lastEventTimeMs: latest.eventTimeMs,
            lastEventId: latest.eventId,
            reading: latest.reading,
          }),
          ConditionExpression:
            'attribute_not_exists(#n) OR LastEventTime < :t OR (LastEventTime = :t AND LastEventId < :id)',
          ExpressionAttributeNames: { '#n': 'Name' },
          ExpressionAttributeValues: { ':t': latest.eventTimeMs, ':id': latest.eventId },
        }),
      );
    } catch (err) {
      // An older reading than the stored one: nothing to do.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  private async batchGet(
    table: string,
    keys: Record<string, string>[],
    consistent: boolean,
    projection?: string,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + BATCH_GET_LIMIT);
      for (let round = 0; pending && pending.length > 0; round++) {
        if (round > MAX_UNPROCESSED_ROUNDS) throw new Error(`BatchGetItem on ${table} kept returning unprocessed keys`);
        if (round > 0) await backoff(UNPROCESSED_BACKOFF, round + 1);
        const result = await this.props.client.send(
          new BatchGetCommand({
            RequestItems: {
              [table]: {
                Keys: pending,
                ConsistentRead: consistent,
                ...(projection
                  ? {
                      ProjectionExpression: projection.replace('Name', '#n'),
                      ExpressionAttributeNames: { '#n': 'Name' },
                    }
                  : {}),
              },
            },
          }),
        );
        items.push(...((result.Responses?.[table] ?? []) as Record<string, unknown>[]));
        pending = result.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
      }
    }
    return items;
  }
}

/**
 * `INSERT INTO "table" VALUE {'Name': ?, ...}` with the item's values as parameters. Names are quoted
 * (a CloudFormation table name holds dashes), quotes doubled as PartiQL escapes them.
 */
export function insertStatement(
  table: string,
  item: Record<string, unknown>,
): { Statement: string; Parameters: unknown[] } {
  const names = Object.keys(item).filter((k) => item[k] !== undefined);
  const tuple = names.map((k) => `'${k.replaceAll("'", "''")}': ?`).join(', ');
  return {
    Statement: `INSERT INTO "${table.replaceAll('"', '""')}" VALUE {${tuple}}`,
    Parameters: names.map((k) => item[k]),
  };
}

/** The item's metric attributes back into merge form (sums to fixed point). */
function itemToMinute(compiled: CompiledProfile, item: Record<string, unknown>): StoredMinute {
  const num = (name: string) => item[name] as number;
  return {
    ids: unpackIds(item.EventIds as Uint8Array),
    sums: compiled.sumNames.map((name) => toFixed(num(name))),
    mins: compiled.minNames.map(num),
    maxs: compiled.maxNames.map(num),
    version: num('Version'),
    latest:
      typeof item.LastEventTime === 'number'
        ? {
            eventTimeMs: item.LastEventTime,
            eventId: num('LastEventId'),
            status: item.Status as string,
            reading: (item.Reading ?? {}) as LatestReading['reading'],
          }
        : undefined,
    stateAt: typeof item.StateAt === 'number' ? item.StateAt : undefined,
  };
}
