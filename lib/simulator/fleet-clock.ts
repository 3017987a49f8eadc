import type { Clock } from './clock';

/** How simulated time maps to the wall clock. */
export interface FleetPace {
  /** false: as fast as possible, never waits. */
  readonly paced: boolean;
  /** Simulated ms per wall ms. */
  readonly speed: number;
  /** Simulated time at the run's first wall instant. */
  readonly startMs: number;
}

/**
 * The fleet clock: simulated time t is due at wall time w0 + (t - start) / speed, w0 being the moment
 * the clock was made. `waitFor` returns undefined when nothing needs waiting (every call when
 * unpaced), so the hot loop awaits only when it must.
 */
export class FleetClock {
  private readonly startedAt: number;

  constructor(
    private readonly pace: FleetPace,
    private readonly clock: Clock,
    private readonly signal?: AbortSignal,
  ) {
    this.startedAt = clock.monotonicMs();
  }

  /** Waits until simulated time `simMs` is due (or the run is stopped). */
  waitFor(simMs: number): Promise<void> | undefined {
    if (!this.pace.paced) return undefined;
    const wait = this.startedAt + (simMs - this.pace.startMs) / this.pace.speed - this.clock.monotonicMs();
    return wait > 1 ? this.clock.sleep(wait, this.signal) : undefined;
  }

  /** Wall ms since the clock was made. */
  elapsedMs(): number {
    return this.clock.monotonicMs() - this.startedAt;
  }
}
