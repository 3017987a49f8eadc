import { SimulationError } from './errors';
import {
  DEFAULT_INTERVAL_MS,
  type FleetPlan,
  type GeneratedFleet,
  type GeneratedRecord,
  SIM_PROFILES,
  type SimProfile,
} from './generate';
import type { SimulationOptions } from './types';

export const DEFAULT_DEVICES: Readonly<Record<SimProfile, number>> = { unicorn: 1, solar: 100 };

/** One profile of a run: how many devices and how often they read (simulated). */
export interface FleetSpec {
  readonly profile: SimProfile;
  readonly devices: number;
  readonly intervalMs: number;
}

/** The run's fleets from its options, validated (every problem the user can fix is a SimulationError). */
export function resolveFleets(
  options: Pick<SimulationOptions, 'profiles' | 'devices' | 'names' | 'intervalMs'>,
): FleetSpec[] {
  const profiles = [...new Set(options.profiles)];
  if (profiles.length === 0) throw new SimulationError('Give at least one profile (unicorn, solar).');
  for (const p of profiles) {
    if (!SIM_PROFILES.includes(p))
      throw new SimulationError(`Unknown profile "${p}": choose from ${SIM_PROFILES.join(', ')}.`);
  }
  if (options.names?.length && !profiles.includes('unicorn')) {
    throw new SimulationError('--name names unicorns: add --profile unicorn.');
  }
  return profiles.map((profile) => {
    const d = options.devices;
    const named = profile === 'unicorn' && d === undefined && options.names && options.names.length > 0;
    const devices = named
      ? options.names!.length
      : typeof d === 'number'
        ? d
        : (d?.[profile] ?? DEFAULT_DEVICES[profile]);
    if (!Number.isInteger(devices) || devices < 1) {
      throw new SimulationError(`--devices must be a positive whole number (got ${devices} for ${profile}).`);
    }
    return { profile, devices, intervalMs: options.intervalMs?.[profile] ?? DEFAULT_INTERVAL_MS[profile] };
  });
}

/** Event-time merge of the fleets' records, with the index of each record's fleet (ties: the earlier fleet). */
export function* mergeFleets(fleets: readonly GeneratedFleet[]): Generator<[GeneratedRecord, number]> {
  yield* mergeByKey(
    fleets.map((f) => f.records()),
    (r) => r.eventTimeMs,
  );
}

/**
 * Offset from the start of the last reading the run produces: the `count`-th of the merged fleets, or
 * the last of all (undefined when there is none). Exact, gaps included, without generating a record.
 */
export function lastEventOffset(plans: readonly FleetPlan[], count?: number): number | undefined {
  const total = plans.reduce((s, p) => s + p.expectedRecords, 0);
  if (count === undefined || count >= total) {
    const lasts = plans.map((p) => p.lastOffsetMs).filter((o): o is number => o !== undefined);
    return lasts.length > 0 ? Math.max(...lasts) : undefined;
  }
  let n = 0;
  for (const [offset] of mergeByKey(
    plans.map((p) => p.offsets()),
    (o) => o,
  )) {
    if (++n === count) return offset;
  }
  return undefined;
}

/** Merge of a handful of sorted sequences (a linear scan over the heads beats a heap for so few). */
function* mergeByKey<T>(sources: readonly Iterable<T>[], key: (item: T) => number): Generator<[T, number]> {
  const its = sources.map((s) => s[Symbol.iterator]());
  const heads = its.map((it) => it.next());
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (!h.done && (best < 0 || key(h.value) < key(heads[best].value as T))) best = i;
    }
    if (best < 0) return;
    yield [heads[best].value as T, best];
    heads[best] = its[best].next();
  }
}
