import { detectProfile } from '../core/profiles';

export interface EdgeDedupeOptions {
  /** How long a key is remembered after its first sighting (arrival time, simulated). @default 10 min */
  readonly windowMs?: number;
  /** At most this many keys are kept; the oldest go first. @default 500,000 (about 60 MB) */
  readonly maxKeys?: number;
}

export interface EdgeDedupeStats {
  readonly forwarded: number;
  readonly dropped: number;
  readonly keys: number;
  readonly expiredByAge: number;
  readonly evictedBySize: number;
}

export const DEFAULT_DEDUPE_WINDOW_MS = 10 * 60_000;
export const DEFAULT_DEDUPE_MAX_KEYS = 500_000;

/**
 * The gateway in front of Kinesis that drops the firmware's identical retries before they are paid for.
 * Bounded memory: a key is kept for `windowMs` after it was first seen, and never more than `maxKeys`
 * keys (a Map in insertion order is the queue: the oldest key is the first one). What it misses, by
 * design: a copy that arrives after its key left the window (too late, or pushed out by volume), and
 * copies that went through another gateway instance. Those reach the stream, where the aggregator's
 * exact per-minute dedup catches them; the edge only saves money, it is not the correctness layer.
 */
export class EdgeDedupe {
  private readonly seen = new Map<string, number>();
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private forwarded = 0;
  private dropped = 0;
  private expiredByAge = 0;
  private evictedBySize = 0;
  private oldestMs = Number.POSITIVE_INFINITY;

  constructor(options: EdgeDedupeOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
    this.maxKeys = Math.max(1, options.maxKeys ?? DEFAULT_DEDUPE_MAX_KEYS);
  }

  /** True when the message is new and goes on; false when it is a copy seen within the window (dropped). */
  admit(key: string, nowMs: number): boolean {
    if (nowMs - this.windowMs >= this.oldestMs) this.expire(nowMs);
    if (this.seen.has(key)) {
      this.dropped++;
      return false;
    }
    this.seen.set(key, nowMs);
    if (this.seen.size === 1) this.oldestMs = nowMs;
    if (this.seen.size > this.maxKeys) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
      this.evictedBySize++;
      this.oldestMs = this.seen.values().next().value as number;
    }
    this.forwarded++;
    return true;
  }

  stats(): EdgeDedupeStats {
    return {
      forwarded: this.forwarded,
      dropped: this.dropped,
      keys: this.seen.size,
      expiredByAge: this.expiredByAge,
      evictedBySize: this.evictedBySize,
    };
  }

  private expire(nowMs: number): void {
    const limit = nowMs - this.windowMs;
    this.oldestMs = Number.POSITIVE_INFINITY;
    for (const [key, at] of this.seen) {
      if (at > limit) {
        this.oldestMs = at;
        break;
      }
      this.seen.delete(key);
      this.expiredByAge++;
    }
  }
}

/**
 * The dedup key of a payload, by its profile's identity: unicorn Name + StatusTime, panel panelId + seq
 * (the aggregator's event identity). A payload no profile recognises keys on its own bytes, so
 * identical copies still collapse.
 */
export function dedupeKey(json: string): string {
  let obj: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(json);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      obj = parsed as Record<string, unknown>;
  } catch {
    // not JSON: fall through to the payload itself
  }
  const profile = obj && detectProfile(obj);
  if (obj && profile) {
    const v = profile.validate(obj);
    if (v.ok) {
      const t = profile.eventTime(v.record);
      return `${profile.name}\u0000${profile.deviceId(v.record)}\u0000${t}\u0000${profile.eventId(v.record, t)}`;
    }
  }
  return `raw\u0000${json}`;
}
