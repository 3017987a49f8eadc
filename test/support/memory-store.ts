import {
  type AggregateStore,
  type LatestReading,
  type MinuteRef,
  minuteAttributes,
  minuteRefKey,
  type StoredMinute,
} from '../../lib/core';

/** An in-memory AggregateStore with DynamoDB's conditional-write semantics, for logic tests without network. */
export class MemoryStore implements AggregateStore {
  readonly minutes = new Map<string, { ref: MinuteRef; minute: StoredMinute; attributes: Record<string, number> }>();
  readonly latest = new Map<string, LatestReading>();
  writes = 0;
  /** Called before each put; return true to make it fail as a version conflict would (another writer won). */
  interfere: (ref: MinuteRef) => boolean = () => false;

  async getMinutes(refs: readonly MinuteRef[]): Promise<Map<string, StoredMinute>> {
    const out = new Map<string, StoredMinute>();
    for (const r of refs) {
      const key = minuteRefKey(r.deviceId, r.minuteStartMs);
      const found = this.minutes.get(key);
      if (found) out.set(key, found.minute);
    }
    return out;
  }

  async getWatermarks(deviceIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const id of deviceIds) {
      const l = this.latest.get(id);
      if (l) out.set(id, l.eventTimeMs);
    }
    return out;
  }

  async putMinute(ref: MinuteRef, minute: StoredMinute, attributes: Record<string, number>): Promise<boolean> {
    if (this.interfere(ref)) return false;
    const key = minuteRefKey(ref.deviceId, ref.minuteStartMs);
    const current = this.minutes.get(key)?.minute.version ?? 0;
    if (current !== minute.version - 1) return false;
    this.writes++;
    this.minutes.set(key, { ref, minute, attributes });
    return true;
  }

  async putLatest(deviceId: string, _compiled: unknown, latest: LatestReading): Promise<void> {
    const current = this.latest.get(deviceId);
    if (
      current === undefined ||
      current.eventTimeMs < latest.eventTimeMs ||
      (current.eventTimeMs === latest.eventTimeMs && current.eventId < latest.eventId)
    ) {
      this.latest.set(deviceId, latest);
    }
  }

  /** Aggregates as `device|minuteISO → attributes`, for comparisons. */
  snapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const { ref, minute } of this.minutes.values()) {
      out[`${ref.deviceId}|${new Date(ref.minuteStartMs).toISOString()}`] = minuteAttributes(ref.compiled, minute);
    }
    return out;
  }
}
