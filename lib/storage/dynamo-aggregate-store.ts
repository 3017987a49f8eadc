import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  type AggregateStore,
  type CompiledProfile,
  type LatestReading,
  type MinuteRef,
  minuteKey,
  minuteRefKey,
  type StoredMinute,
  toFixed,
} from '../core';
import { backoff } from '../shared/backoff';
import { packIds, unpackIds } from './id-codec';

export interface DynamoAggregateStoreProps {
  readonly client: DynamoDBDocumentClient;
  /** Per-minute aggregates: PK `Name` (device), SK `StatusTime` (minute start, ISO-8601 UTC). */
  readonly aggregatesTable: string;
  /** Latest state per device: PK `Name`. */
  readonly deviceStateTable: string;
  /** Expire aggregates this many days after their minute (TTL attribute `ExpiresAt`). @default no expiry */
  readonly aggregatesTtlDays?: number;
}

const BATCH_GET_LIMIT = 100;
const MAX_UNPROCESSED_ROUNDS = 8;
/** Unprocessed keys mean the table is throttling: wait 25 ms, 50 ms, ... up to 1 s, jittered. */
const UNPROCESSED_BACKOFF = { baseMs: 25, maxMs: 1_000, jitter: 'full' } as const;

/**
 * The flush's storage port on DynamoDB. Costs, per device-minute and flush: one eventually consistent
 * read (0.5 RRU for items under 4 KB) and, only when the minute gained events, one conditional put
 * (1 WRU per KB); per device and flush, one 0.5 RRU watermark read and one conditional put.
 */
export class DynamoAggregateStore implements AggregateStore {
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

  async getWatermarks(deviceIds: readonly string[]): Promise<Map<string, number>> {
    const items = await this.batchGet(
      this.props.deviceStateTable,
      deviceIds.map((Name) => ({ Name })),
      false,
      'Name, LastEventTime',
    );
    return new Map(items.map((i) => [i.Name as string, i.LastEventTime as number]));
  }

  async putMinute(ref: MinuteRef, minute: StoredMinute, attributes: Record<string, number>): Promise<boolean> {
    const ttlDays = this.props.aggregatesTtlDays;
    const item = {
      Name: ref.deviceId,
      StatusTime: minuteKey(ref.minuteStartMs),
      Profile: ref.compiled.profile.name,
      ...attributes,
      // Sums are recovered from their attributes (exact for sums under 1e9 units); mins/maxs likewise.
      EventIds: packIds(minute.ids),
      Version: minute.version,
      ...(ttlDays ? { ExpiresAt: Math.floor(ref.minuteStartMs / 1000) + ttlDays * 86_400 } : {}),
    };
    try {
      await this.props.client.send(
        new PutCommand({
          TableName: this.props.aggregatesTable,
          Item: item,
          ConditionExpression: minute.version === 1 ? 'attribute_not_exists(#n)' : '#v = :previous',
          ExpressionAttributeNames: minute.version === 1 ? { '#n': 'Name' } : { '#v': 'Version' },
          ExpressionAttributeValues: minute.version === 1 ? undefined : { ':previous': minute.version - 1 },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async putLatest(deviceId: string, compiled: CompiledProfile, latest: LatestReading): Promise<void> {
    try {
      await this.props.client.send(
        new PutCommand({
          TableName: this.props.deviceStateTable,
          Item: {
            Name: deviceId,
            Profile: compiled.profile.name,
            Status: latest.status,
            LastEventTime: latest.eventTimeMs,
            LastEventId: latest.eventId,
            LastStatusTime: new Date(latest.eventTimeMs).toISOString(),
            Reading: latest.reading,
          },
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

/** The item's metric attributes back into merge form (sums to fixed point). */
function itemToMinute(compiled: CompiledProfile, item: Record<string, unknown>): StoredMinute {
  const num = (name: string) => item[name] as number;
  return {
    ids: unpackIds(item.EventIds as Uint8Array),
    sums: compiled.sumNames.map((name) => toFixed(num(name))),
    mins: compiled.minNames.map(num),
    maxs: compiled.maxNames.map(num),
    version: num('Version'),
  };
}
