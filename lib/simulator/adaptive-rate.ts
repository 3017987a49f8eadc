/**
 * The producer's speed limit when Kinesis pushes back. Starts unlimited; each throttled response cuts
 * the limit to 70 % of what was getting through (multiplicative decrease, at most once per 200 ms so
 * the responses of one burst count once); each clean response raises it by 2 % + 10 records/s
 * (additive increase) until it is well above the measured rate, when it is lifted again. A token
 * bucket turns the limit into waits. Pure: the caller passes the clock.
 */
export class AdaptiveRate {
  private limitPerSec = Number.POSITIVE_INFINITY;
  private tokens = 0;
  private refilledAt = 0;
  private lastCutAt = Number.NEGATIVE_INFINITY;
  private windowStart = Number.NaN;
  private windowCount = 0;
  private measuredPerSec = Number.NaN;
  private cutCount = 0;

  constructor(
    private readonly minPerSec = 10,
    /** Largest request the bucket must let through in one go. */
    private readonly burst = 500,
  ) {}

  /** Records per second now allowed; Infinity when unthrottled. */
  get limit(): number {
    return this.limitPerSec;
  }

  /** How many times a throttled response lowered the limit (a limit can be lifted again before anyone looks). */
  get cuts(): number {
    return this.cutCount;
  }

  /** The accepted records per second seen over the last full second (NaN before the first). */
  get measured(): number {
    return this.measuredPerSec;
  }

  /** Milliseconds to wait before sending `n` records; 0 means send now (and the tokens are taken). */
  acquire(n: number, nowMs: number): number {
    if (this.limitPerSec === Number.POSITIVE_INFINITY) return 0;
    const capacity = Math.max(this.burst, this.limitPerSec * 0.2);
    this.tokens = Math.min(capacity, this.tokens + ((nowMs - this.refilledAt) * this.limitPerSec) / 1000);
    this.refilledAt = nowMs;
    const need = Math.min(n, capacity);
    if (this.tokens >= need) {
      this.tokens -= need;
      return 0;
    }
    return Math.ceil(((need - this.tokens) * 1000) / this.limitPerSec);
  }

  /** Reports a response: how many records were accepted and how many were throttled. */
  onResult(accepted: number, throttled: number, nowMs: number): void {
    this.measure(accepted, nowMs);
    if (throttled > 0) {
      if (nowMs - this.lastCutAt < 200) return;
      this.lastCutAt = nowMs;
      const base =
        this.limitPerSec !== Number.POSITIVE_INFINITY
          ? this.limitPerSec
          : Number.isNaN(this.measuredPerSec)
            ? 1000 // one shard's write limit: a safe first guess
            : this.measuredPerSec;
      this.limitPerSec = Math.max(this.minPerSec, base * 0.7);
      this.cutCount++;
      this.tokens = 0;
      this.refilledAt = nowMs;
      return;
    }
    if (this.limitPerSec === Number.POSITIVE_INFINITY) return;
    this.limitPerSec += this.limitPerSec * 0.02 + 10;
    if (!Number.isNaN(this.measuredPerSec) && this.limitPerSec > 4 * Math.max(this.measuredPerSec, this.minPerSec)) {
      this.limitPerSec = Number.POSITIVE_INFINITY;
    }
  }

  private measure(accepted: number, nowMs: number): void {
    if (Number.isNaN(this.windowStart)) this.windowStart = nowMs;
    this.windowCount += accepted;
    const elapsed = nowMs - this.windowStart;
    if (elapsed >= 1000) {
      this.measuredPerSec = (this.windowCount * 1000) / elapsed;
      this.windowStart = nowMs;
      this.windowCount = 0;
    }
  }
}
