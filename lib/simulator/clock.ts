import { sleep } from '../shared/sleep';

/**
 * The wall clock the simulator paces against. One seam, so that tests run paced runs in virtual time
 * and can assert that an unpaced run never sleeps.
 */
export interface Clock {
  /** Epoch ms (places the simulated window relative to now). */
  epochMs(): number;
  /** Monotonic ms (pacing and elapsed time). */
  monotonicMs(): number;
  /** Waits `ms`, or less when `signal` aborts (resolves either way). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  epochMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  sleep,
};
