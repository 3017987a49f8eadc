import { SUM_SCALE } from './profiles/checks';
import type { DeviceProfile } from './profiles/types';

/**
 * A profile's metrics split by fold operation, once, so the per-record loop calls plain arrays of
 * functions instead of switching on each metric's op.
 */
export interface CompiledProfile {
  readonly profile: DeviceProfile;
  readonly sumNames: readonly string[];
  readonly sumFns: readonly ((r: unknown) => number)[];
  readonly minNames: readonly string[];
  readonly minFns: readonly ((r: unknown) => number)[];
  readonly maxNames: readonly string[];
  readonly maxFns: readonly ((r: unknown) => number)[];
  /** `minFns.length + maxFns.length`: where a minute's events start in its array (see `fold`). */
  readonly extremaCount: number;
  /**
   * Folds one event into a minute's array: lowers the mins (`minute[0, minFns.length)`), raises the
   * maxs (the `maxFns.length` after them) and pushes its fixed-point sum contributions (after its id).
   * The same as looping over the three lists, compiled (see `compileFold`).
   */
  readonly fold: (r: unknown, minute: number[]) => void;
}

const cache = new WeakMap<DeviceProfile, CompiledProfile>();

export function compileProfile(profile: DeviceProfile): CompiledProfile {
  let compiled = cache.get(profile);
  if (compiled === undefined) {
    const by = (op: string) => profile.metrics.filter((m) => m.op === op);
    const sumFns = by('sum').map((m) => m.value);
    const minFns = by('min').map((m) => m.value);
    const maxFns = by('max').map((m) => m.value);
    compiled = {
      profile,
      sumNames: by('sum').map((m) => m.name),
      sumFns,
      minNames: by('min').map((m) => m.name),
      minFns,
      maxNames: by('max').map((m) => m.name),
      maxFns,
      extremaCount: minFns.length + maxFns.length,
      fold: compileFold(sumFns, minFns, maxFns),
    };
    cache.set(profile, compiled);
  }
  return compiled;
}

type MetricFn = (r: unknown) => number;

/**
 * The fold as straight-line code with one call site per metric. A loop over the metric functions calls
 * five or more closures from one site, which V8 leaves megamorphic and never inlines; here each site
 * sees one function and inlines it. The source names only array indices, never data.
 */
function compileFold(
  sumFns: readonly MetricFn[],
  minFns: readonly MetricFn[],
  maxFns: readonly MetricFn[],
): CompiledProfile['fold'] {
  const lines = [
    ...minFns.map((_, j) => `{ const v = n${j}(r); if (v < minute[${j}]) minute[${j}] = v; }`),
    ...maxFns.map((_, j) => {
      const k = minFns.length + j;
      return `{ const v = x${j}(r); if (v > minute[${k}]) minute[${k}] = v; }`;
    }),
    ...sumFns.map((_, j) => `minute.push(Math.round(s${j}(r) * ${SUM_SCALE}));`),
  ];
  const params = [...sumFns.map((_, j) => `s${j}`), ...minFns.map((_, j) => `n${j}`), ...maxFns.map((_, j) => `x${j}`)];
  const factory = new Function(...params, `return function fold(r, minute) {\n${lines.join('\n')}\n};`);
  return factory(...sumFns, ...minFns, ...maxFns);
}

/** A sum contribution in fixed point (1e-6 units): integer addition is exact in any order. */
export function toFixed(value: number): number {
  return Math.round(value * SUM_SCALE);
}

export function fromFixed(value: number): number {
  return value / SUM_SCALE;
}
