import { SimulationError } from './errors';
import { Rng } from './prng';

/**
 * When the firmware's retries go out after the original: `immediate` (back to back), `seconds`
 * (1–30 s later), `minutes` (1–10 min later), or any uniform range. Delays are in simulated time,
 * like event times: at `--speed 60` a 2-minute retry arrives 2 wall-clock seconds later.
 */
export type DelayDistribution =
  | 'immediate'
  | 'seconds'
  | 'minutes'
  | { readonly minMs: number; readonly maxMs: number };

const PRESETS = {
  immediate: { minMs: 0, maxMs: 0 },
  seconds: { minMs: 1_000, maxMs: 30_000 },
  minutes: { minMs: 60_000, maxMs: 600_000 },
} as const;

export function delayRange(d: DelayDistribution): { readonly minMs: number; readonly maxMs: number } {
  return typeof d === 'string' ? PRESETS[d] : d;
}

/** Parses `500ms`, `30s`, `5m`, `2h`, `1d` or a bare number of milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new SimulationError(`"${text}" is not a duration: use e.g. 500ms, 30s, 5m, 2h, 1d.`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return Math.round(Number(m[1]) * unit);
}

/** `immediate`, `seconds`, `minutes`, or `MIN-MAX` durations such as `2s-45s`. */
export function parseDelay(text: string): DelayDistribution {
  if (text === 'immediate' || text === 'seconds' || text === 'minutes') return text;
  const parts = text.split('-');
  if (parts.length === 2) {
    const minMs = parseDuration(parts[0]);
    const maxMs = parseDuration(parts[1]);
    if (minMs <= maxMs) return { minMs, maxMs };
  }
  throw new SimulationError(`--delay "${text}": use immediate, seconds, minutes, or a range such as 2s-45s.`);
}

export interface RetryBugOptions {
  /** Extra identical copies of every message (the solar firmware sends 10). */
  readonly copies: number;
  readonly delay: DelayDistribution;
  /**
   * Reordering: every message, original or copy, is also held back by a uniform 0..reorderMs, so
   * messages overtake each other (a device's retries and later readings interleave). 0 keeps order.
   */
  readonly reorderMs?: number;
  readonly seed: number;
}

export interface Released<T> {
  readonly item: T;
  /** Simulated time at which it leaves the device. */
  readonly releaseMs: number;
  /** True for an injected copy, false for the original message. */
  readonly copy: boolean;
}

/**
 * The firmware's retry bug as a scheduler: each pushed message is released once as itself and
 * `copies` more times later, identical. A binary min-heap on (release time, push order) keeps the
 * release order deterministic; it holds every copy not yet due, so its size is about
 * rate × copies × mean delay (10 k msg/s × 10 copies × 5 min ≈ 30 M entries: keep minute delays for modest rates).
 */
export class RetryBug<T> {
  private readonly heap: Released<T>[] = [];
  private readonly order: number[] = [];
  private counter = 0;
  private readonly rng: Rng;
  private readonly minMs: number;
  private readonly spanMs: number;
  private readonly reorderMs: number;

  constructor(private readonly options: RetryBugOptions) {
    if (!Number.isInteger(options.copies) || options.copies < 0) {
      throw new SimulationError(`--duplicates must be a whole number >= 0 (got ${options.copies}).`);
    }
    const { minMs, maxMs } = delayRange(options.delay);
    this.minMs = minMs;
    this.spanMs = maxMs - minMs;
    this.reorderMs = Math.max(0, options.reorderMs ?? 0);
    this.rng = new Rng(options.seed);
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Schedules a message produced at `atMs` (simulated) and its copies. */
  push(item: T, atMs: number): void {
    this.insert({ item, releaseMs: atMs + this.jitter(), copy: false });
    for (let i = 0; i < this.options.copies; i++) {
      const delay = this.minMs + Math.round(this.spanMs * this.rng.float());
      this.insert({ item, releaseMs: atMs + delay + this.jitter(), copy: true });
    }
  }

  /** Release time of the next message, or undefined when none is pending. */
  peekReleaseMs(): number | undefined {
    return this.heap.length > 0 ? this.heap[0].releaseMs : undefined;
  }

  /** Removes and returns the next message if it is due at `nowMs`. */
  popDue(nowMs: number): Released<T> | undefined {
    if (this.heap.length === 0 || this.heap[0].releaseMs > nowMs) return undefined;
    return this.pop();
  }

  /** Removes and returns the next message whatever its time. */
  pop(): Released<T> | undefined {
    const heap = this.heap;
    const order = this.order;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const lastItem = heap.pop()!;
    const lastOrder = order.pop()!;
    if (heap.length > 0) {
      // Sift the last element down from the root.
      let i = 0;
      const n = heap.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && this.less(r, l) ? r : l;
        if (
          !(
            heap[c].releaseMs < lastItem.releaseMs ||
            (heap[c].releaseMs === lastItem.releaseMs && order[c] < lastOrder)
          )
        )
          break;
        heap[i] = heap[c];
        order[i] = order[c];
        i = c;
      }
      heap[i] = lastItem;
      order[i] = lastOrder;
    }
    return top;
  }

  private jitter(): number {
    return this.reorderMs > 0 ? Math.round(this.reorderMs * this.rng.float()) : 0;
  }

  private less(a: number, b: number): boolean {
    const ha = this.heap[a].releaseMs;
    const hb = this.heap[b].releaseMs;
    return ha < hb || (ha === hb && this.order[a] < this.order[b]);
  }

  private insert(r: Released<T>): void {
    const heap = this.heap;
    const order = this.order;
    const seq = this.counter++;
    let i = heap.length;
    heap.push(r);
    order.push(seq);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!(r.releaseMs < heap[p].releaseMs || (r.releaseMs === heap[p].releaseMs && seq < order[p]))) break;
      heap[i] = heap[p];
      order[i] = order[p];
      i = p;
    }
    heap[i] = r;
    order[i] = seq;
  }
}
