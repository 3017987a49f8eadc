import type { CompiledProfile } from './compiled-profile';
import { type MergeResult, mergeMinute, minuteAttributes, type StoredMinute } from './minute-aggregate';
import { minuteStart } from './time';
import type { EventWindow, LatestReading, WindowDevice, WindowMinute } from './window';

/** Identifies one device-minute in the store, with the profile that reads its attributes. */
export interface MinuteRef {
  readonly compiled: CompiledProfile;
  readonly deviceId: string;
  readonly minuteStartMs: number;
}

export const minuteRefKey = (deviceId: string, minuteStartMs: number): string => `${deviceId}\u0000${minuteStartMs}`;

/**
 * The newest per-minute item of a device, as far as the flush needs it: the watermark (its newest event
 * time) and what the device-state table last received (`stateAt`, and the status of that newest reading).
 */
export interface NewestMinute {
  readonly minuteStartMs: number;
  /** Absent on an item no flush marked as its device's newest (only after a flush that failed midway). */
  readonly latest?: Pick<LatestReading, 'eventTimeMs' | 'eventId' | 'status'>;
  readonly stateAt?: number;
  /** The profile whose readings the item holds (`Profile`); absent on items written before it was stored. */
  readonly profile?: string;
}

/** The watermark a newest item gives: its newest event time, or (unmarked) its minute's start, a lower bound. */
export const watermarkOf = (newest: NewestMinute | undefined): number | undefined =>
  newest === undefined ? undefined : (newest.latest?.eventTimeMs ?? newest.minuteStartMs);

/** One device-minute write: `minute` replaces the stored version `minute.version - 1` (no item when 1). */
export interface MinuteWrite {
  readonly ref: MinuteRef;
  readonly minute: StoredMinute;
  readonly attributes: Record<string, number>;
}

/** Most minute writes the flush hands the store at once: DynamoDB's BatchExecuteStatement limit. */
export const MINUTE_WRITE_BATCH = 25;

/**
 * What the flush needs from storage (the DynamoDB adapter in lib/storage implements it; tests use an
 * in-memory one). Writes are conditional so that concurrent or replayed flushes never double count.
 */
export interface AggregateStore {
  /** Stored minutes by `minuteRefKey`; absent keys are minutes never written. */
  getMinutes(refs: readonly MinuteRef[], consistent: boolean): Promise<Map<string, StoredMinute>>;
  /** Each device's newest stored minute (absent: the device has none), by device id. */
  getNewest(deviceIds: readonly string[]): Promise<Map<string, NewestMinute>>;
  /** Devices' watermarks (the newest event time already flushed: `watermarkOf(getNewest(...))`), by device id. */
  getWatermarks(deviceIds: readonly string[]): Promise<Map<string, number>>;
  /**
   * Writes each minute if its stored version is still `minute.version - 1` (up to MINUTE_WRITE_BATCH, of
   * distinct device-minutes); per write in order, false on a version conflict. Each write stands alone:
   * some may land and others conflict.
   */
  putMinutes(writes: readonly MinuteWrite[]): Promise<boolean[]>;
  /** Stores the reading in the device-state table if it is newer than the stored one (else does nothing). */
  putLatest(deviceId: string, compiled: CompiledProfile, latest: LatestReading): Promise<void>;
}

export interface FlushOptions {
  /** A device-minute closes once the device's watermark passes its end by this much. @default 600000 */
  readonly allowedLatenessMs?: number;
  /**
   * The device-state table (the fleet-wide listing) is rewritten when a device's status changes, or when
   * its newest reading is this much newer than the one the table holds; 0 rewrites it on every flush.
   * @default DEFAULT_DEVICE_STATE_REFRESH_MS (6 hours)
   */
  readonly deviceStateRefreshMs?: number;
  /** Parallel store requests: device-state writes, and batches of minute writes (a quarter as many). @default 16 */
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
  /** Devices with readings in the window. */
  readonly devicesUpdated: number;
  /** Device-state rows rewritten (status changed, refresh interval passed, or a new device). */
  readonly deviceStatesWritten: number;
  readonly versionConflicts: number;
  /**
   * Devices left out of this flush because their id belongs to another profile (another fleet's device of
   * the same name): one profile's minutes cannot be merged into the other's items, and the two would
   * share keys in one request. Their events stay in the raw archive; the caller reports them.
   */
  readonly profileConflicts: readonly ProfileConflict[];
}

export interface ProfileConflict {
  readonly deviceId: string;
  /** The profile of the events left out. */
  readonly profile: string;
  /** The profile the device id belongs to: its stored newest item's, else the first seen in the window. */
  readonly heldBy: string;
  readonly events: number;
}

export const DEFAULT_ALLOWED_LATENESS_MS = 10 * 60_000;
export const DEFAULT_DEVICE_STATE_REFRESH_MS = 6 * 3_600_000;

/** A device-minute is closed when the device's watermark has passed its end by the allowed lateness. */
export function isMinuteClosed(minuteStartMs: number, watermarkMs: number | undefined, allowedLatenessMs: number) {
  return watermarkMs !== undefined && watermarkMs >= minuteStartMs + 60_000 + allowedLatenessMs;
}

type Reading = Pick<LatestReading, 'eventTimeMs' | 'eventId'>;
/** Readings are ordered by event time, then event id (the same order the window keeps). */
export const isNewerReading = (a: Reading, b: Reading | undefined): boolean =>
  b === undefined || a.eventTimeMs > b.eventTimeMs || (a.eventTimeMs === b.eventTimeMs && a.eventId > b.eventId);

/**
 * Merges a window into the store exactly once: late minutes are counted and skipped, every other
 * minute is merged with what is stored (events already there are not added again) and written only
 * when something changed. The minute holding a device's newest reading of the window also carries that
 * reading (when it is newer than the one it holds), so the device's newest item is its latest state and
 * its watermark: one write per device-minute, the latest state included. The device-state table (the
 * cheap fleet-wide listing) is rewritten only when the status changes or `deviceStateRefreshMs` passed.
 *
 * Reads: one newest-item read per device; stored minutes only for minutes not newer than that item (a
 * real-time reading's minute is new, so it reads nothing more). Lateness is judged against the watermark
 * as it was before this flush, so a device that uploads a backlog after being offline keeps all of it.
 */
export async function flushWindow(
  window: EventWindow,
  store: AggregateStore,
  options: FlushOptions = {},
): Promise<FlushResult> {
  const lateness = options.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS;
  const refreshMs = options.deviceStateRefreshMs ?? DEFAULT_DEVICE_STATE_REFRESH_MS;
  const concurrency = options.concurrency ?? FLUSH_CONCURRENCY;
  const maxRetries = options.maxConflictRetries ?? 5;
  const windowDevices = [...window.devices()];
  const newest = await store.getNewest([...new Set(windowDevices.map((d) => d.deviceId))]);
  const { devices, minutes, conflicts } = oneProfilePerDevice(windowDevices, [...window.minutes()], newest);
  const open: typeof minutes = [];
  let lateEvents = 0;
  for (const m of minutes) {
    if (isMinuteClosed(m.minuteStartMs, watermarkOf(newest.get(m.deviceId)), lateness)) {
      lateEvents += m.events.ids.length;
    } else {
      open.push(m);
    }
  }

  // Which devices' listing rows to rewrite, and the mark their newest item then carries.
  const marks = new Map<string, { latest: LatestReading; stateAt: number | undefined }>();
  const stateWrites: WindowDevice[] = [];
  for (const d of devices) {
    const stored = newest.get(d.deviceId);
    if (!isNewerReading(d.latest, stored?.latest)) continue; // the stored newest reading is newer: it decided
    const due =
      stored?.latest === undefined ||
      stored.stateAt === undefined ||
      stored.latest.status !== d.latest.status ||
      d.compiled.profile.listingFollowsEveryFlush === true ||
      d.latest.eventTimeMs - stored.stateAt >= refreshMs;
    if (due) stateWrites.push(d);
    marks.set(d.deviceId, { latest: d.latest, stateAt: due ? d.latest.eventTimeMs : stored?.stateAt });
  }
  // The listing first: a retry after a failed minute write decides again from the unchanged newest item.
  await forEachConcurrently(stateWrites, concurrency, (d) => store.putLatest(d.deviceId, d.compiled, d.latest));

  const withLatest = (m: WindowMinute, merged: StoredMinute): StoredMinute => {
    const mark = marks.get(m.deviceId);
    if (mark === undefined || minuteStart(mark.latest.eventTimeMs) !== m.minuteStartMs) return merged;
    if (!isNewerReading(mark.latest, merged.latest)) return merged;
    return { ...merged, latest: mark.latest, stateAt: mark.stateAt };
  };

  let eventsAdded = 0;
  let duplicatesDropped = 0;
  let aggregatesWritten = 0;
  let versionConflicts = 0;
  let pending = open;
  // Minutes newer than the device's newest item do not exist yet (a replay that wrote one a moment ago
  // fails the conditional put, and the conflict path reads it).
  const mayExist = open.filter((m) => {
    const n = newest.get(m.deviceId);
    return n !== undefined && m.minuteStartMs <= n.minuteStartMs;
  });
  let stored = mayExist.length > 0 ? await store.getMinutes(mayExist, false) : new Map<string, StoredMinute>();
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > maxRetries) {
      throw new Error(`gave up after ${maxRetries} version conflicts on ${pending.length} device-minutes`);
    }
    const conflicted: typeof pending = [];
    const writes: { m: WindowMinute; result: MergeResult; write: MinuteWrite }[] = [];
    for (const m of pending) {
      const sumCount = m.compiled.sumNames.length;
      const result = mergeMinute(stored.get(minuteRefKey(m.deviceId, m.minuteStartMs)), m.events, sumCount);
      if (result.merged === undefined) {
        duplicatesDropped += result.duplicates;
        continue;
      }
      const merged = withLatest(m, result.merged);
      writes.push({ m, result, write: { ref: m, minute: merged, attributes: minuteAttributes(m.compiled, merged) } });
    }
    const batches: (typeof writes)[] = [];
    for (let i = 0; i < writes.length; i += MINUTE_WRITE_BATCH) batches.push(writes.slice(i, i + MINUTE_WRITE_BATCH));
    await forEachConcurrently(batches, minuteBatchesInFlight(concurrency), async (batch) => {
      const landed = await store.putMinutes(batch.map((w) => w.write));
      batch.forEach(({ m, result }, i) => {
        if (landed[i]) {
          eventsAdded += result.added;
          duplicatesDropped += result.duplicates;
          aggregatesWritten++;
        } else {
          conflicted.push(m);
        }
      });
    });
    versionConflicts += conflicted.length;
    pending = conflicted;
    if (pending.length > 0) stored = await store.getMinutes(pending, true);
  }

  return {
    eventsAdded,
    duplicatesDropped,
    lateEvents,
    aggregatesWritten,
    devicesUpdated: devices.length,
    deviceStatesWritten: stateWrites.length,
    versionConflicts,
    profileConflicts: conflicts,
  };
}

/**
 * A device id names one device: the profile of its stored newest item holds it, or else the first
 * profile the window saw it under. The other profile's devices and minutes are set aside, so that
 * neither profile reads the other's attributes and no request names one key twice.
 */
function oneProfilePerDevice(
  devices: WindowDevice[],
  minutes: WindowMinute[],
  newest: ReadonlyMap<string, NewestMinute>,
): { devices: WindowDevice[]; minutes: WindowMinute[]; conflicts: ProfileConflict[] } {
  const holder = new Map<string, string>();
  for (const d of devices) {
    if (!holder.has(d.deviceId)) holder.set(d.deviceId, newest.get(d.deviceId)?.profile ?? d.compiled.profile.name);
  }
  const holds = (x: { deviceId: string; compiled: CompiledProfile }) =>
    holder.get(x.deviceId) === x.compiled.profile.name;
  if (devices.every(holds)) return { devices, minutes, conflicts: [] };
  const conflicts = new Map<string, ProfileConflict>();
  for (const m of minutes) {
    if (holds(m)) continue;
    const key = `${m.deviceId}\u0000${m.compiled.profile.name}`;
    const seen = conflicts.get(key);
    conflicts.set(key, {
      deviceId: m.deviceId,
      profile: m.compiled.profile.name,
      heldBy: holder.get(m.deviceId) as string,
      events: (seen?.events ?? 0) + m.events.ids.length,
    });
  }
  return { devices: devices.filter(holds), minutes: minutes.filter(holds), conflicts: [...conflicts.values()] };
}

/** Store requests a flush keeps in flight (the cost model counts the waits on DynamoDB with it). */
export const FLUSH_CONCURRENCY = 16;

/**
 * Batches of minute writes a flush keeps in flight for `concurrency` requests: a request carries up to
 * MINUTE_WRITE_BATCH writes, so half as many (8 x 25 for 16). Fewer left the DynamoDB endpoint idle
 * between answers: the embedded one took 13% more writes a second at 8 than at 4, none more at 16, and
 * on AWS each batch waits a round trip, so the flush (the Lambda's billed duration) is shorter too.
 */
export const minuteBatchesInFlight = (concurrency: number): number => Math.max(1, Math.ceil(concurrency / 2));

/**
 * Runs `fn` over `items` with at most `limit` in flight (a few lines; no dependency needed for it). After
 * a failure no new item starts; the first failure is thrown once the ones in flight have settled, so no
 * write is still running when the caller hears of it.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
