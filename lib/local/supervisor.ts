/**
 * Watches the runtime's child processes (emulators; Lambda environments report their crashes here
 * too): a child that dies is restarted on the same data directory with exponential backoff, and each
 * component's real state is what `GET /_local/health` reports. A component that keeps dying
 * (`maxRestarts` within `windowMs`) is marked `failed` and the runtime is stopped cleanly with one
 * line saying what failed, instead of limping on with a dead service behind the endpoint.
 */
export type ComponentState = 'starting' | 'running' | 'restarting' | 'failed';

export interface ComponentHealth {
  readonly state: ComponentState;
  /** Restarts since the runtime started. */
  readonly restarts: number;
  /** Why it last went down (or failed). */
  readonly reason?: string;
  readonly pid?: number;
  readonly since: string;
}

export interface RestartPolicy {
  /** Give up after this many restarts within `windowMs`. @default 5 */
  readonly maxRestarts: number;
  /** @default 60_000 */
  readonly windowMs: number;
  /** First backoff; doubles per consecutive restart. @default 200 */
  readonly initialBackoffMs: number;
  /** @default 5_000 */
  readonly maxBackoffMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxRestarts: 5,
  windowMs: 60_000,
  initialBackoffMs: 200,
  maxBackoffMs: 5_000,
};

/** A started child: `exited` resolves with why it ended (never rejects). */
export interface SupervisedChild {
  readonly pid?: number;
  readonly exited: Promise<string>;
}

export interface SuperviseHooks<T> {
  /** The child is up (first start or a restart). */
  readonly onUp: (child: T) => void;
  /** The child died; it is about to be restarted (or the component failed). */
  readonly onDown: (reason: string) => void;
}

export class Supervisor {
  private readonly components = new Map<string, ComponentHealth>();
  private readonly restartTimes = new Map<string, number[]>();
  private stopped = false;

  constructor(
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
    /** Called once with one line when a component failed for good. */
    private readonly onGiveUp: (line: string) => void = () => undefined,
  ) {}

  /** Each component's state, for `GET /_local/health`. */
  health(): Record<string, ComponentHealth> {
    return Object.fromEntries(this.components);
  }

  /** Overall: `failed` if any failed, `restarting`/`starting` if any is, else `running`. */
  status(): ComponentState {
    const states = new Set([...this.components.values()].map((c) => c.state));
    for (const s of ['failed', 'restarting', 'starting'] as const) if (states.has(s)) return s;
    return 'running';
  }

  set(name: string, state: ComponentState, extra: { reason?: string; pid?: number; restarted?: boolean } = {}): void {
    const prev = this.components.get(name);
    this.components.set(name, {
      state,
      restarts: (prev?.restarts ?? 0) + (extra.restarted ? 1 : 0),
      reason: extra.reason ?? prev?.reason,
      pid: extra.pid ?? (state === 'running' ? prev?.pid : undefined),
      since: new Date().toISOString(),
    });
  }

  /** No more restarts: the runtime is stopping and children exit on purpose. */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Starts a child and keeps it alive. The first start's failure is thrown (bad configuration fails at
   * start); later deaths are restarted in the background.
   */
  async supervise<T extends SupervisedChild>(
    name: string,
    start: () => Promise<T>,
    hooks: SuperviseHooks<T>,
  ): Promise<T> {
    this.set(name, 'starting');
    const first = await start();
    this.up(name, first, hooks);
    void this.watch(name, first, start, hooks);
    return first;
  }

  private up<T extends SupervisedChild>(name: string, child: T, hooks: SuperviseHooks<T>): void {
    this.set(name, 'running', { pid: child.pid });
    hooks.onUp(child);
  }

  private async watch<T extends SupervisedChild>(
    name: string,
    first: T,
    start: () => Promise<T>,
    hooks: SuperviseHooks<T>,
  ): Promise<void> {
    let child = first;
    let consecutive = 0;
    for (;;) {
      const reason = await child.exited;
      if (this.stopped) return;
      hooks.onDown(reason);
      for (;;) {
        const now = Date.now();
        const recent = (this.restartTimes.get(name) ?? []).filter((t) => now - t < this.policy.windowMs);
        if (recent.length >= this.policy.maxRestarts) {
          this.set(name, 'failed', { reason });
          this.onGiveUp(
            `${name} failed: died ${recent.length + 1} times within ${this.policy.windowMs / 1000} s (last: ${reason}); stopping the embedded runtime.`,
          );
          return;
        }
        recent.push(now);
        this.restartTimes.set(name, recent);
        this.set(name, 'restarting', { reason, restarted: true });
        const backoff = Math.min(this.policy.maxBackoffMs, this.policy.initialBackoffMs * 2 ** consecutive);
        consecutive++;
        await new Promise((r) => setTimeout(r, backoff));
        if (this.stopped) return;
        try {
          child = await start();
          this.up(name, child, hooks);
          consecutive = 0;
          break;
        } catch (err) {
          if (this.stopped) return;
          this.set(name, 'restarting', { reason: `restart failed: ${(err as Error).message}` });
        }
      }
    }
  }
}
