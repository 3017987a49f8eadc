import type { CompiledProfile } from './compiled-profile';
import { mergeMinute, minuteAttributes, type StoredMinute } from './minute-aggregate';
import type { EventWindow, LatestReading } from './window';

/** Identifies one device-minute in the store, with the profile that reads its attributes. */
export interface MinuteRef {
  readonly compiled: CompiledProfile;
  readonly deviceId: string;
  readonly minuteStartMs: number;
}

export const minuteRefKey = (deviceId: string, minuteStartMs: number): string => `${deviceId}\u0000${minuteStartMs}`;

/**
 * What the flush needs from storage (the DynamoDB adapter in lib/storage implements it; tests use an
 * in-memory one). Writes are conditional so that concurrent or replayed flushes never double count.
 */
export interface AggregateStore {
  /** Stored minutes by `minuteRefKey`; absent keys are minutes never written. */
  getMinutes(refs: readonly MinuteRef[], consistent: boolean): Promise<Map<string, StoredMinute>>;
  /** Devices' watermarks (the newest event time already flushed), by device id. */
  getWatermarks(deviceIds: readonly string[]): Promise<Map<string, number>>;
  /** Writes `minute` if the stored version is still `minute.version - 1`; false on a version conflict. */
  putMinute(ref: MinuteRef, minute: StoredMinute, attributes: Record<string, number>): Promise<boolean>;
  /** Stores the reading if it is newer than the stored one (else does nothing). */
  putLatest(deviceId: string, compiled: CompiledProfile, latest: LatestReading): Promise<void>;
}

export interface FlushOptions {
  /** A device-minute closes once the device's watermark passes its end by this much. @default 600000 */
  readonly allowedLatenessMs?: number;
  /** Parallel conditional writes. @default 16 */
  readonly concurrency?: number;
  /** Re-reads after a version conflict before giving up (the batch is then retried by Lambda). @default 5 */
  readonly maxConflictRetries?: number;
}

export interface FlushResult {
  /** Events newly counted in the stored aggregates. */
  readonly eventsAdded: number;
  /** Events the store already held (replays, copies that crossed a window boundary). */
  readonly duplicatesDropped: number;
  /**
   * Events of minutes that were already closed by the watermark: kept out of the aggregates. With
   * `ingestScreened` upstream, late events never reach a window, so what is counted here is a replayed
   * window whose first flush already wrote these minutes (then advanced the watermark).
   */
  readonly lateEvents: number;
  readonly aggregatesWritten: number;
  readonly devicesUpdated: number;
  readonly versionConflicts: number;
}

export const DEFAULT_ALLOWED_LATENESS_MS = 10 * 60_000;

/** A device-minute is closed when the device's watermark has passed its end by the allowed lateness. */
export function isMinuteClosed(minuteStartMs: number, watermarkMs: number | undefined, allowedLatenessMs: number) {
  return watermarkMs !== undefined && watermarkMs >= minuteStartMs + 60_000 + allowedLatenessMs;
}

/**
 * Merges a window into the store exactly once: late minutes are counted and skipped, every other
 * minute is merged with what is stored (events already there are not added again) and written only
 * when something changed; then each device's latest reading, which advances its watermark.
 * Lateness is judged against the watermark as it was before this flush, so a device that uploads a
 * backlog after being offline keeps all of it.
 */
export async function flushWindow(
  window: EventWindow,
  store: AggregateStore,
  options: FlushOptions = {},
): Promise<FlushResult> {
  const lateness = options.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS;
  const maxRetries = options.maxConflictRetries ?? 5;
  const minutes = [...window.minutes()];
  const devices = [...window.devices()];
  const watermarks = await store.getWatermarks(devices.map((d) => d.deviceId));
  const open: typeof minutes = [];
  let lateEvents = 0;
  for (const m of minutes) {
    if (isMinuteClosed(m.minuteStartMs, watermarks.get(m.deviceId), lateness)) lateEvents += m.events.ids.length;
    else open.push(m);
  }

  let eventsAdded = 0;
  let duplicatesDropped = 0;
  let aggregatesWritten = 0;
  let versionConflicts = 0;
  let pending = open;
  let stored = await store.getMinutes(pending, false);
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > maxRetries) {
      throw new Error(`gave up after ${maxRetries} version conflicts on ${pending.length} device-minutes`);
    }
    const conflicted: typeof pending = [];
    await forEachConcurrently(pending, options.concurrency ?? 16, async (m) => {
      const sumCount = m.compiled.sumNames.length;
      const result = mergeMinute(stored.get(minuteRefKey(m.deviceId, m.minuteStartMs)), m.events, sumCount);
      if (result.merged === undefined) {
        duplicatesDropped += result.duplicates;
        return;
      }
      const attributes = minuteAttributes(m.compiled, result.merged);
      if (await store.putMinute(m, result.merged, attributes)) {
        eventsAdded += result.added;
        duplicatesDropped += result.duplicates;
        aggregatesWritten++;
      } else {
        conflicted.push(m);
      }
    });
    versionConflicts += conflicted.length;
    pending = conflicted;
    if (pending.length > 0) stored = await store.getMinutes(pending, true);
  }

  await forEachConcurrently(devices, options.concurrency ?? 16, (d) =>
    store.putLatest(d.deviceId, d.compiled, d.latest),
  );
  return {
    eventsAdded,
    duplicatesDropped,
    lateEvents,
    aggregatesWritten,
    devicesUpdated: devices.length,
    versionConflicts,
  };
}

/** Runs `fn` over `items` with at most `limit` in flight (a few lines; no dependency needed for it). */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
