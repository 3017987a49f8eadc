import { type CompiledProfile, fromFixed } from './compiled-profile';

/** A device's newest reading as the window saw it: its order (time, id), status and reading fields. */
export interface LatestReading {
  readonly eventTimeMs: number;
  readonly eventId: number;
  readonly status: string;
  readonly reading: Record<string, string | number | boolean>;
}

/**
 * One device-minute as stored: the ids of the events it already contains (the dedup keys within the
 * minute), the fixed-point totals of its `sum` metrics and its min/max values. Knowing the ids makes
 * every merge idempotent: an event already inside is never added twice, whatever replays or copies arrive.
 * Bound: ids grow with distinct events per device-minute, capped by `maxEventsPerMinute` (default 1,200,
 * 20 per second); a unicorn minute holds 60, a solar minute 1 — see docs/architecture.md for item sizes.
 */
export interface StoredMinute {
  /** Sorted ascending. */
  readonly ids: readonly number[];
  readonly sums: readonly number[];
  readonly mins: readonly number[];
  readonly maxs: readonly number[];
  /** Optimistic-concurrency version of the stored item; 0 when the item does not exist yet. */
  readonly version: number;
  /**
   * The newest reading this minute holds, when a flush saw it as its device's newest: the device's newest
   * minute item therefore carries the device's latest state and its watermark (see flush.ts).
   */
  readonly latest?: LatestReading;
  /** Event time of the reading last copied to the device-state table, as known when this item was written. */
  readonly stateAt?: number;
}

/** A device-minute's deduplicated events as gathered in a window (the in-flight side of a merge). */
export interface MinuteEvents {
  readonly ids: readonly number[];
  /** `ids.length × sumCount` fixed-point contributions, event by event. */
  readonly sums: readonly number[];
  readonly mins: readonly number[];
  readonly maxs: readonly number[];
}

export interface MergeResult {
  /** The merged minute, or undefined when every event was already stored (nothing to write). */
  readonly merged?: StoredMinute;
  readonly added: number;
  readonly duplicates: number;
}

/** Adds the events `stored` does not already contain. Idempotent, commutative over event sets. */
export function mergeMinute(stored: StoredMinute | undefined, events: MinuteEvents, sumCount: number): MergeResult {
  const known = stored === undefined ? undefined : new Set(stored.ids);
  const sums = stored === undefined ? new Array<number>(sumCount).fill(0) : stored.sums.slice();
  const newIds: number[] = [];
  for (let i = 0; i < events.ids.length; i++) {
    const id = events.ids[i];
    if (known?.has(id)) continue;
    newIds.push(id);
    for (let j = 0; j < sumCount; j++) sums[j] += events.sums[i * sumCount + j];
  }
  const duplicates = events.ids.length - newIds.length;
  if (newIds.length === 0) return { added: 0, duplicates };
  const ids = stored === undefined ? newIds.sort(ascending) : mergeSorted(stored.ids, newIds.sort(ascending));
  return {
    merged: {
      ids,
      sums,
      mins: stored === undefined ? events.mins.slice() : pairwise(stored.mins, events.mins, Math.min),
      maxs: stored === undefined ? events.maxs.slice() : pairwise(stored.maxs, events.maxs, Math.max),
      version: (stored?.version ?? 0) + 1,
      latest: stored?.latest,
      stateAt: stored?.stateAt,
    },
    added: newIds.length,
    duplicates,
  };
}

/** The aggregates-table attributes of a minute: the profile's metric names, `RecordCount`, derived metrics. */
export function minuteAttributes(compiled: CompiledProfile, minute: StoredMinute): Record<string, number> {
  const out: Record<string, number> = { RecordCount: minute.ids.length };
  compiled.sumNames.forEach((name, i) => {
    out[name] = fromFixed(minute.sums[i]);
  });
  compiled.minNames.forEach((name, i) => {
    out[name] = minute.mins[i];
  });
  compiled.maxNames.forEach((name, i) => {
    out[name] = minute.maxs[i];
  });
  for (const d of compiled.profile.derived) out[d.name] = d.compute(out, minute.ids.length);
  return out;
}

const ascending = (a: number, b: number) => a - b;

function pairwise(a: readonly number[], b: readonly number[], pick: (x: number, y: number) => number): number[] {
  return a.map((x, i) => pick(x, b[i]));
}

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i] <= b[j] ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}
