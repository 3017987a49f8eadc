import {
  type AggregateStore,
  isNewerReading,
  type LatestReading,
  MINUTE_WRITE_BATCH,
  type MinuteRef,
  type MinuteWrite,
  minuteAttributes,
  minuteRefKey,
  type NewestMinute,
  type StoredMinute,
  watermarkOf,
} from '../../lib/core';

/** An in-memory AggregateStore with DynamoDB's conditional-write semantics, for logic tests without network. */
export class MemoryStore implements AggregateStore {
  readonly minutes = new Map<string, { ref: MinuteRef; minute: StoredMinute; attributes: Record<string, number> }>();
  /** The device-state table (the fleet-wide listing). */
  readonly deviceState = new Map<string, LatestReading>();
  /** Minute writes (the aggregates table). */
  writes = 0;
  /** Device-state writes. */
  stateWrites = 0;
  /** Device id -> its newest minute's ref and minute: a Query per device on DynamoDB, O(1) here too. */
  private readonly newestByDevice = new Map<string, { ref: MinuteRef; minute: StoredMinute }>();
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

  async getNewest(deviceIds: readonly string[]): Promise<Map<string, NewestMinute>> {
    return this.newestSync(new Set(deviceIds));
  }

  async getWatermarks(deviceIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const [id, newest] of this.newestSync(new Set(deviceIds))) out.set(id, watermarkOf(newest) as number);
    return out;
  }

  /**
   * Each device's latest state as the aggregates table gives it (its newest item's reading), with
   * `eventTimeMs` the watermark.
   */
  get latest(): Map<string, Partial<LatestReading> & { eventTimeMs: number }> {
    const ids = new Set(this.newestByDevice.keys());
    const out = new Map<string, Partial<LatestReading> & { eventTimeMs: number }>();
    for (const [id, newest] of this.newestSync(ids)) {
      out.set(id, { ...newest.latest, eventTimeMs: watermarkOf(newest) as number });
    }
    return out;
  }

  async putMinutes(writes: readonly MinuteWrite[]): Promise<boolean[]> {
    // DynamoDB refuses larger batches; holding the flush to the limit here catches a change that forgets it.
    if (writes.length > MINUTE_WRITE_BATCH) throw new Error(`${writes.length} writes in one batch`);
    return writes.map((w) => this.putMinute(w.ref, w.minute, w.attributes));
  }

  private putMinute(ref: MinuteRef, minute: StoredMinute, attributes: Record<string, number>): boolean {
    if (this.interfere(ref)) return false;
    const key = minuteRefKey(ref.deviceId, ref.minuteStartMs);
    const current = this.minutes.get(key)?.minute.version ?? 0;
    if (current !== minute.version - 1) return false;
    this.writes++;
    this.minutes.set(key, { ref, minute, attributes });
    const newest = this.newestByDevice.get(ref.deviceId);
    if (newest === undefined || newest.ref.minuteStartMs <= ref.minuteStartMs) {
      this.newestByDevice.set(ref.deviceId, { ref, minute });
    }
    return true;
  }

  async putLatest(deviceId: string, _compiled: unknown, latest: LatestReading): Promise<void> {
    this.stateWrites++;
    if (isNewerReading(latest, this.deviceState.get(deviceId))) this.deviceState.set(deviceId, latest);
  }

  /** Aggregates as `device|minuteISO → attributes`, for comparisons. */
  snapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const { ref, minute } of this.minutes.values()) {
      out[`${ref.deviceId}|${new Date(ref.minuteStartMs).toISOString()}`] = minuteAttributes(ref.compiled, minute);
    }
    return out;
  }

  private newestSync(ids: Set<string>): Map<string, NewestMinute> {
    const out = new Map<string, NewestMinute>();
    for (const id of ids) {
      const newest = this.newestByDevice.get(id);
      if (newest === undefined) continue;
      out.set(id, {
        minuteStartMs: newest.ref.minuteStartMs,
        latest: newest.minute.latest,
        stateAt: newest.minute.stateAt,
        profile: newest.ref.compiled.profile.name,
      });
    }
    return out;
  }
}
