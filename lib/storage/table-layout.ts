import { minuteKey } from '../core/time';

/**
 * The item layout of the two DynamoDB tables, written by the aggregator's store and read by the
 * dashboard: one place to change when the layout changes.
 *
 * Aggregates: PK `Name` (device), SK `StatusTime` (minute start, ISO-8601 UTC), `Profile`, the
 * profile's metric attributes, `EventIds`, `Version`, optional `ExpiresAt`.
 * Device state: PK `Name`, `Profile`, `Status`, `LastEventTime` (epoch ms), `LastEventId`,
 * `LastStatusTime` (ISO), `Reading` (the profile's latest reading fields).
 */
export const AGGREGATE_KEY = { partition: 'Name', sort: 'StatusTime' } as const;
export const DEVICE_STATE_KEY = { partition: 'Name' } as const;

/** Attributes of an aggregates item that are bookkeeping, not metrics. */
/**
 * `LastEventTime`, `LastEventId`, `StateAt` (numbers) and `Status`, `Reading` ride on the minute that held
 * the device's newest reading (lib/storage/dynamo-aggregate-store.ts, AGGREGATE_LATEST_ATTRIBUTES): the
 * device's newest item is its exact latest state (Query descending, Limit 1).
 */
export const AGGREGATE_BOOKKEEPING = [
  'Name',
  'StatusTime',
  'Profile',
  'EventIds',
  'Version',
  'ExpiresAt',
  'LastEventTime',
  'LastEventId',
  'Status',
  'Reading',
  'StateAt',
] as const;

/** A device's latest state as stored (and as the dashboard shows it). */
export interface DeviceStateRecord {
  readonly deviceId: string;
  readonly profile: string;
  readonly status: string;
  readonly lastEventTimeMs: number;
  readonly lastEventId: number;
  readonly reading: Readonly<Record<string, string | number | boolean>>;
}

export function deviceStateItem(s: DeviceStateRecord): Record<string, unknown> {
  return {
    Name: s.deviceId,
    Profile: s.profile,
    Status: s.status,
    LastEventTime: s.lastEventTimeMs,
    LastEventId: s.lastEventId,
    LastStatusTime: new Date(s.lastEventTimeMs).toISOString(),
    Reading: s.reading,
  };
}

/** The item back into a record (numbers as the document client unmarshalls them). Undefined when not a state item. */
export function deviceStateFromItem(item: Record<string, unknown>): DeviceStateRecord | undefined {
  if (typeof item.Name !== 'string' || typeof item.LastEventTime !== 'number') return undefined;
  return {
    deviceId: item.Name,
    profile: typeof item.Profile === 'string' ? item.Profile : 'unknown',
    status: typeof item.Status === 'string' ? item.Status : '',
    lastEventTimeMs: item.LastEventTime,
    lastEventId: typeof item.LastEventId === 'number' ? item.LastEventId : 0,
    reading: (item.Reading && typeof item.Reading === 'object' ? item.Reading : {}) as DeviceStateRecord['reading'],
  };
}

/** One per-minute aggregate as read back: the minute's start and its metric attributes. */
export interface MinuteAggregateRecord {
  readonly deviceId: string;
  readonly minuteStartMs: number;
  readonly profile: string;
  readonly metrics: Readonly<Record<string, number>>;
}

export function aggregateSortKey(minuteStartMs: number): string {
  return minuteKey(minuteStartMs);
}

export function aggregateFromItem(item: Record<string, unknown>): MinuteAggregateRecord | undefined {
  if (typeof item.Name !== 'string' || typeof item.StatusTime !== 'string') return undefined;
  const metrics: Record<string, number> = {};
  const skip = new Set<string>(AGGREGATE_BOOKKEEPING);
  for (const [k, v] of Object.entries(item)) if (!skip.has(k) && typeof v === 'number') metrics[k] = v;
  return {
    deviceId: item.Name,
    minuteStartMs: Date.parse(item.StatusTime),
    profile: typeof item.Profile === 'string' ? item.Profile : 'unknown',
    metrics,
  };
}
