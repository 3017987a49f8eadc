import type * as Xoroshiro from 'pure-rand/lib/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/lib/types/RandomGenerator';

// pure-rand 8 publishes its generators only through package.json "exports" subpaths, which the repo's
// `moduleResolution: node` does not read: the types come from the file path, the code from Node's resolver.
const { xoroshiro128plus } = require('pure-rand/generator/xoroshiro128plus') as typeof Xoroshiro;

const TWO_POW_MINUS_32 = 2 ** -32;

/** 32-bit avalanche (murmur3 fmix32): turns nearby seeds into unrelated ones. */
export function mix32(h: number): number {
  let x = h | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x | 0;
}

/** A seed for a named sub-stream of `seed` (FNV-1a of the label, mixed with the seed). */
export function deriveSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ mix32(seed);
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return mix32(h);
}

/**
 * Seeded xoroshiro128+ (pure-rand) with the few draws the simulator needs. Same seed, same sequence,
 * on every platform: everything random in the simulator comes from one of these.
 */
export class Rng {
  private readonly g: RandomGenerator;

  constructor(seed: number) {
    this.g = xoroshiro128plus(mix32(seed));
    // The generator's first outputs from a raw seed are weakly mixed; skip them.
    for (let i = 0; i < 16; i++) this.g.next();
  }

  /** Uniform in [0, 1), 32 bits of randomness (plenty for telemetry, and cheaper than 53). */
  float(): number {
    return (this.g.next() >>> 0) * TWO_POW_MINUS_32;
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.float();
  }

  /** Uniform integer in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor((max - min + 1) * this.float());
  }

  /** Standard normal (Box-Muller; one of the pair is dropped to keep the state simple). */
  normal(): number {
    const u = 1 - this.float(); // (0, 1]: log stays finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** Number of failures before the first success of a Bernoulli(p) trial (0 <= p < 1). */
  geometric(p: number): number {
    if (p <= 0) return Number.POSITIVE_INFINITY;
    return Math.floor(Math.log(1 - this.float()) / Math.log(1 - p));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(items.length * this.float())];
  }
}
