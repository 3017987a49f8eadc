import type { FleetClock } from './fleet-clock';
import type { Released, RetryBug } from './retry-bug';

/**
 * Releases what the retry bug scheduled (originals, copies, reordered messages), each at its release
 * time on the fleet clock, in (release time, order) order. The run calls `releaseUntil(t)` before a
 * reading at t (the copies due earlier go first), after scheduling it (the reading itself and its
 * immediate copies), and with Infinity at the end (the last messages' copies). It stops releasing
 * once `signal` aborts: what is left is `pending` (copies never sent).
 */
export class CopyScheduler<T> {
  constructor(
    private readonly bug: RetryBug<T>,
    private readonly clock: FleetClock,
    private readonly deliver: (released: Released<T>) => Promise<void> | undefined,
    private readonly signal?: AbortSignal,
  ) {}

  /** Schedules a message produced at `atMs` (simulated) and its copies. */
  push(item: T, atMs: number): void {
    this.bug.push(item, atMs);
  }

  /** Messages scheduled and not released yet. */
  get pending(): number {
    return this.bug.pending;
  }

  /**
   * Releases every message due at or before `limitMs`, waiting for each one's time. Synchronous (returns
   * undefined) until something has to be awaited: the common case of an unpaced run costs no promise.
   */
  releaseUntil(limitMs: number): Promise<void> | undefined {
    for (;;) {
      const due = this.bug.peekReleaseMs();
      if (due === undefined || due > limitMs || this.signal?.aborted) return undefined;
      const wait = this.clock.waitFor(due);
      if (wait) return this.releaseAfter(wait, limitMs);
      const sent = this.deliver(this.bug.pop()!);
      if (sent) return this.releaseAfter(sent, limitMs);
    }
  }

  private async releaseAfter(pending: Promise<void>, limitMs: number): Promise<void> {
    await pending;
    for (;;) {
      const due = this.bug.peekReleaseMs();
      if (due === undefined || due > limitMs || this.signal?.aborted) return;
      const wait = this.clock.waitFor(due);
      if (wait) {
        await wait;
        if (this.signal?.aborted) return;
      }
      const sent = this.deliver(this.bug.pop()!);
      if (sent) await sent;
    }
  }
}
