import {
  type AggregateStore,
  type LatestReading,
  type MinuteWrite,
  minuteRefKey,
  type NewestMinute,
  type StoredMinute,
  watermarkOf,
} from '../lib/core';

/**
 * The import benchmark's stand-in for DynamoDB when it measures files → archive: the conditional-write
 * semantics on keys (a minute is written once; a second write is a version conflict) and each device's
 * newest item, without keeping what every minute holds. The test suite's MemoryStore keeps it all, and
 * a year of history (millions of device-minutes) then made the run bound by the garbage collector
 * walking that heap rather than by the import. Only for an import into an empty store, as the benchmark
 * does: it never has a stored minute to return, so a replay would conflict until the merge gives up.
 */
export class WrittenKeysStore implements AggregateStore {
  private readonly written = new Set<string>();
  private readonly newest = new Map<string, NewestMinute>();
  /** Minute writes that landed, and device-state writes. */
  writes = 0;
  stateWrites = 0;

  async getMinutes(): Promise<Map<string, StoredMinute>> {
    return new Map();
  }

  async getNewest(deviceIds: readonly string[]): Promise<Map<string, NewestMinute>> {
    const out = new Map<string, NewestMinute>();
    for (const id of deviceIds) {
      const n = this.newest.get(id);
      if (n) out.set(id, n);
    }
    return out;
  }

  async getWatermarks(deviceIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const [id, n] of await this.getNewest(deviceIds)) out.set(id, watermarkOf(n) as number);
    return out;
  }

  async putMinutes(writes: readonly MinuteWrite[]): Promise<boolean[]> {
    return writes.map(({ ref, minute }) => {
      const key = minuteRefKey(ref.deviceId, ref.minuteStartMs);
      if (minute.version !== 1 || this.written.has(key)) return false;
      this.written.add(key);
      this.writes++;
      const current = this.newest.get(ref.deviceId);
      if (current === undefined || current.minuteStartMs <= ref.minuteStartMs) {
        this.newest.set(ref.deviceId, {
          minuteStartMs: ref.minuteStartMs,
          latest: minute.latest,
          stateAt: minute.stateAt,
          profile: ref.compiled.profile.name,
        });
      }
      return true;
    });
  }

  async putLatest(_deviceId: string, _compiled: unknown, _latest: LatestReading): Promise<void> {
    this.stateWrites++;
  }
}
