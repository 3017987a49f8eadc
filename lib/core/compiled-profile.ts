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
}

const cache = new WeakMap<DeviceProfile, CompiledProfile>();

export function compileProfile(profile: DeviceProfile): CompiledProfile {
  let compiled = cache.get(profile);
  if (compiled === undefined) {
    const by = (op: string) => profile.metrics.filter((m) => m.op === op);
    compiled = {
      profile,
      sumNames: by('sum').map((m) => m.name),
      sumFns: by('sum').map((m) => m.value),
      minNames: by('min').map((m) => m.name),
      minFns: by('min').map((m) => m.value),
      maxNames: by('max').map((m) => m.name),
      maxFns: by('max').map((m) => m.value),
    };
    cache.set(profile, compiled);
  }
  return compiled;
}

/** A sum contribution in fixed point (1e-6 units): integer addition is exact in any order. */
export function toFixed(value: number): number {
  return Math.round(value * SUM_SCALE);
}

export function fromFixed(value: number): number {
  return value / SUM_SCALE;
}
