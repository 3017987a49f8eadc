import {
  type Anomaly,
  type AnomalyOptions,
  type PlannedAnomaly,
  type PlannedCondition,
  planAnomalies,
  planConditions,
} from './anomalies';
import { SimulationError } from './errors';
import { deriveSeed, Rng } from './prng';
import {
  SITES,
  SOLAR_FAULT_CODES,
  SolarModel,
  type SolarParams,
  siteOf,
  solarAnomalyDetail,
  solarConditionDetail,
  solarPanelId,
  solarSetup,
} from './solar-model';
import { TimeFormatter } from './timefmt';
import { UnicornModel, type UnicornParams, unicornAnomalyDetail, unicornName, unicornSetup } from './unicorn-model';
import { SiteWeather } from './weather';

export type { Anomaly, AnomalyKind, AnomalyOptions, ConditionKind } from './anomalies';

/** Solar weather: clouds, rain and sensor noise per site (`cloudy`), or the sun alone (`clear-sky`). */
export type SolarWeather = 'cloudy' | 'clear-sky';
export const SOLAR_WEATHERS: readonly SolarWeather[] = ['cloudy', 'clear-sky'];

export type SimProfile = 'unicorn' | 'solar';
export const SIM_PROFILES: readonly SimProfile[] = ['unicorn', 'solar'];

export interface FleetOptions {
  readonly profile: SimProfile;
  readonly devices: number;
  /** Simulated start (event time of the first slot). */
  readonly start: Date;
  /** Simulated span, ms: readings have event times in [start, start + durationMs). */
  readonly durationMs: number;
  readonly seed: number;
  /** Simulated time between two readings of a device. @default 1 s (unicorn), 5 min (solar) */
  readonly intervalMs?: number;
  /** `true`: the profile's default rates; `false`: none. @default true */
  readonly anomalies?: boolean | AnomalyOptions;
  /** Device ids of the first devices (e.g. `['Bucephalus']`); the rest get generated ids. */
  readonly names?: readonly string[];
  /** Solar: the sky. @default 'cloudy' */
  readonly weather?: SolarWeather;
  /** Solar: spread the panels round-robin over the first N of the eight sites. @default 8 */
  readonly sites?: number;
}

export interface GeneratedRecord {
  readonly deviceId: string;
  readonly eventTimeMs: number;
  /** The record exactly as the device sends it. */
  readonly json: string;
}

export interface FleetDevice {
  readonly deviceId: string;
  readonly latitude: number;
  readonly longitude: number;
  /** Solar: the site the panel belongs to (it shares the site's sky). */
  readonly site?: string;
  /** Solar: DC nameplate at STC, W. */
  readonly ratedPowerW?: number;
  /** Solar: inverter AC limit, W. */
  readonly inverterRatedW?: number;
}

export interface GeneratedFleet {
  readonly profile: SimProfile;
  readonly intervalMs: number;
  readonly devices: readonly FleetDevice[];
  /** How many records `records()` yields (readings minus the gaps). */
  readonly expectedRecords: number;
  /** The fleet's readings in event-time order; each call replays the same sequence from the seed. */
  records(): Iterable<GeneratedRecord>;
  /**
   * Every injected anomaly, ordered by start; nothing else in the data is abnormal by construction.
   * A solar spike's `value` (the reported power) is filled in when `records()` generates its reading.
   */
  readonly anomalies: Anomaly[];
}

export const DEFAULT_INTERVAL_MS: Readonly<Record<SimProfile, number>> = { unicorn: 1_000, solar: 5 * 60_000 };

/** Default anomaly rates: visible in a short unicorn run, and a few a day per panel for the solar fleet. */
export const DEFAULT_ANOMALIES: Readonly<Record<SimProfile, Required<AnomalyOptions>>> = {
  unicorn: {
    spikesPerDeviceHour: 2,
    gapsPerDeviceHour: 0.5,
    faultsPerDeviceHour: 0.5,
    gapReadings: [5, 60],
    faultReadings: [10, 120],
    soilingPerDeviceDay: 0,
    stepDownsPerDeviceDay: 0,
    degradedShare: 0,
  },
  solar: {
    spikesPerDeviceHour: 0.05,
    gapsPerDeviceHour: 0.02,
    faultsPerDeviceHour: 0.02,
    gapReadings: [3, 24],
    faultReadings: [2, 12],
    soilingPerDeviceDay: 1 / 120,
    stepDownsPerDeviceDay: 1 / 730,
    degradedShare: 0.01,
  },
};

interface Model {
  readonly deviceId: string;
  step(t: number, anomaly: PlannedAnomaly | undefined, emit: boolean): string;
}

interface Device {
  readonly params: UnicornParams | SolarParams;
  readonly phaseMs: number;
  readonly slots: number;
  readonly plan: PlannedAnomaly[];
  /** Solar conditions, times as offsets from the start. */
  readonly conditions: PlannedCondition[];
}

/** A fleet planned without its start: devices, phases and anomalies depend on the seed, not on when. */
export interface FleetPlan {
  readonly profile: SimProfile;
  readonly intervalMs: number;
  readonly devices: readonly FleetDevice[];
  /** How many records the fleet yields (readings minus the gaps). */
  readonly expectedRecords: number;
  /** Offset from the start of the fleet's last reading; undefined when it has none. */
  readonly lastOffsetMs: number | undefined;
  /** The offsets from the start of the fleet's readings, in the order `records()` yields them. */
  offsets(): Iterable<number>;
  /** The fleet with its first slot at `start`. */
  at(start: Date): GeneratedFleet;
}

/** Generates a fleet's readings: `planFleet(options).at(options.start)`. */
export function generateFleet(options: FleetOptions): GeneratedFleet {
  return planFleet(options).at(options.start);
}

/**
 * Plans a fleet. Each device reads at a fixed phase within the interval, so sorting the devices by
 * phase once yields event-time order without a heap; anomalies are planned up front per device, so
 * their list is complete before the first record, and where the readings fall is known without
 * generating them (the simulator places its window on the exact last event).
 */
export function planFleet(options: Omit<FleetOptions, 'start'>): FleetPlan {
  const { profile, devices: count, durationMs, seed } = options;
  if (!SIM_PROFILES.includes(profile)) {
    throw new SimulationError(`Unknown profile "${profile}": choose one of ${SIM_PROFILES.join(', ')}.`);
  }
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS[profile];
  if (!Number.isInteger(count) || count < 1)
    throw new SimulationError(`devices must be a positive integer (got ${count}).`);
  if (!(intervalMs >= 1)) throw new SimulationError(`interval must be at least 1 ms (got ${intervalMs}).`);
  if (!(durationMs >= 0)) throw new SimulationError(`duration must not be negative (got ${durationMs}).`);
  const names = options.names ?? [];
  if (new Set(names).size !== names.length) throw new SimulationError('device names must be unique.');
  const anomalyOptions =
    options.anomalies === false
      ? {
          ...DEFAULT_ANOMALIES[profile],
          spikesPerDeviceHour: 0,
          gapsPerDeviceHour: 0,
          faultsPerDeviceHour: 0,
          soilingPerDeviceDay: 0,
          stepDownsPerDeviceDay: 0,
          degradedShare: 0,
        }
      : { ...DEFAULT_ANOMALIES[profile], ...(typeof options.anomalies === 'object' ? options.anomalies : {}) };

  const setupRng = new Rng(deriveSeed(seed, `${profile}:setup`));
  const planRng = new Rng(deriveSeed(seed, `${profile}:anomalies`));
  const conditionRng = new Rng(deriveSeed(seed, `${profile}:conditions`));
  const weather = options.weather ?? 'cloudy';
  if (!SOLAR_WEATHERS.includes(weather))
    throw new SimulationError(`Unknown weather "${weather}": choose ${SOLAR_WEATHERS.join(' or ')}.`);
  const sites = options.sites ?? SITES.length;
  if (!Number.isInteger(sites) || sites < 1 || sites > SITES.length)
    throw new SimulationError(`sites must be a whole number from 1 to ${SITES.length} (got ${sites}).`);
  const faultCodes = profile === 'solar' ? SOLAR_FAULT_CODES : ['HEALTH_DROP'];
  const devices: Device[] = [];
  let expectedRecords = 0;
  let lastOffsetMs: number | undefined;
  // Generated ids skip the given names, so `--name Bucephalus` with more unicorns never repeats a name.
  const used = new Set(names);
  let nextDefault = 0;
  const idFor = (i: number): string => {
    if (i < names.length) return names[i];
    for (;;) {
      const id = profile === 'solar' ? solarPanelId(nextDefault++) : unicornName(nextDefault++);
      if (!used.has(id)) return id;
    }
  };
  for (let i = 0; i < count; i++) {
    const params = profile === 'solar' ? solarSetup(setupRng, idFor(i), i, sites) : unicornSetup(setupRng, idFor(i));
    const phaseMs = Math.floor(setupRng.float() * intervalMs);
    const slots = durationMs > phaseMs ? Math.ceil((durationMs - phaseMs) / intervalMs) : 0;
    const plan = planAnomalies(
      planRng,
      slots,
      intervalMs,
      anomalyOptions,
      faultCodes,
      profile === 'solar' ? [2, 5] : [3, 5],
    );
    const conditions =
      profile === 'solar' && slots > 0
        ? planConditions(conditionRng, phaseMs, phaseMs + slots * intervalMs, anomalyOptions)
        : [];
    devices.push({ params, phaseMs, slots, plan, conditions });
    expectedRecords += slots;
    for (const a of plan) if (a.kind === 'gap') expectedRecords -= a.to - a.from + 1;
    const last = lastReadingSlot(slots, plan);
    if (last >= 0) lastOffsetMs = Math.max(lastOffsetMs ?? 0, last * intervalMs + phaseMs);
  }
  const order = devices.map((_, i) => i).sort((a, b) => devices[a].phaseMs - devices[b].phaseMs || a - b);

  /** A cursor over the slots in event-time order (no allocation per reading: generation is the hot loop). */
  const walk = () => {
    const next = new Int32Array(count); // per device: index of its next planned anomaly
    let k = 0;
    let o = -1;
    const cursor = {
      device: 0,
      offset: 0,
      anomaly: undefined as PlannedAnomaly | undefined,
      /** Moves to the next slot; false past the end. */
      step(): boolean {
        for (;;) {
          if (++o >= order.length) {
            o = 0;
            k++;
          }
          if (k * intervalMs >= durationMs) return false;
          const d = order[o];
          const offset = k * intervalMs + devices[d].phaseMs;
          if (offset >= durationMs) {
            o = order.length; // devices are in phase order: the rest of this round are past the end too
            continue;
          }
          const plan = devices[d].plan;
          let a: PlannedAnomaly | undefined = plan[next[d]];
          if (a !== undefined && a.to < k) a = plan[++next[d]];
          if (a !== undefined && a.from > k) a = undefined;
          cursor.device = d;
          cursor.offset = offset;
          cursor.anomaly = a;
          return true;
        }
      },
    };
    return cursor;
  };

  function at(start: Date): GeneratedFleet {
    const startMs = start.getTime();
    if (Number.isNaN(startMs)) throw new SimulationError('start is not a valid date.');
    const anomalies: { at: number; anomaly: Anomaly }[] = [];
    /** Solar spikes: their reported value is known once the reading is generated. */
    const spikeEntries = new Map<PlannedAnomaly, Anomaly>();
    /** Conditions in event time, per device. */
    const conditionsAt = devices.map((d) =>
      d.conditions.map((c) => ({ ...c, fromMs: startMs + c.fromMs, toMs: startMs + c.toMs })),
    );
    for (const [i, { params, phaseMs, slots, plan }] of devices.entries()) {
      for (const a of plan) {
        const at = startMs + a.from * intervalMs + phaseMs;
        const detail = profile === 'solar' ? solarAnomalyDetail(a) : unicornAnomalyDetail({ ...a, code: undefined });
        const anomaly: Anomaly = {
          kind: a.kind,
          deviceId: params.deviceId,
          start: new Date(at).toISOString(),
          end: new Date(startMs + a.to * intervalMs + phaseMs).toISOString(),
          ...detail,
        };
        if (profile === 'solar' && a.kind === 'spike') spikeEntries.set(a, anomaly);
        anomalies.push({ at, anomaly });
      }
      for (const c of conditionsAt[i]) {
        anomalies.push({
          at: c.fromMs,
          anomaly: {
            kind: c.kind,
            deviceId: params.deviceId,
            start: new Date(c.fromMs).toISOString(),
            end: new Date(c.kind === 'soiling' ? c.toMs : startMs + phaseMs + (slots - 1) * intervalMs).toISOString(),
            ...solarConditionDetail(c),
          },
        });
      }
    }
    anomalies.sort((a, b) => a.at - b.at || (a.anomaly.deviceId < b.anomaly.deviceId ? -1 : 1));

    function* records(): Generator<GeneratedRecord> {
      const stepRng = new Rng(deriveSeed(seed, `${profile}:steps`));
      const time = profile === 'solar' ? new TimeFormatter('T', 'Z') : new TimeFormatter(' ', '');
      // One sky per site, shared by its panels; a fresh one per replay, so every replay is the same.
      const skies = new Map<string, SiteWeather>();
      const skyOf = (p: SolarParams) => {
        let sky = skies.get(p.site);
        if (!sky) {
          sky = new SiteWeather(seed, p.site, siteOf(p));
          skies.set(p.site, sky);
        }
        return sky;
      };
      const models: Model[] = devices.map((d, i) =>
        profile === 'solar'
          ? new SolarModel(d.params as SolarParams, stepRng, intervalMs, time, {
              weather: weather === 'cloudy' ? skyOf(d.params as SolarParams) : undefined,
              conditions: conditionsAt[i],
            })
          : new UnicornModel(d.params as UnicornParams, stepRng, time),
      );
      for (const c = walk(); c.step(); ) {
        const t = startMs + c.offset;
        const a = c.anomaly;
        const model = models[c.device];
        if (a !== undefined && a.kind === 'gap') {
          model.step(t, a, false);
          continue;
        }
        const json = model.step(t, a, true);
        if (a !== undefined && a.kind === 'spike') {
          const entry = spikeEntries.get(a);
          if (entry) entry.value = (model as SolarModel).lastSpikeW;
        }
        yield { deviceId: model.deviceId, eventTimeMs: t, json };
      }
    }

    return { ...summary, records, anomalies: anomalies.map((a) => a.anomaly) };
  }

  function* offsets(): Generator<number> {
    for (const c = walk(); c.step(); ) if (c.anomaly?.kind !== 'gap') yield c.offset;
  }

  const summary = {
    profile,
    intervalMs,
    devices: devices.map((d) => {
      const base = { deviceId: d.params.deviceId, latitude: d.params.latitude, longitude: d.params.longitude };
      if (profile !== 'solar') return base;
      const p = d.params as SolarParams;
      return { ...base, site: p.site, ratedPowerW: p.ratedDcW, inverterRatedW: p.ratedAcW };
    }),
    expectedRecords,
  };
  return { ...summary, lastOffsetMs, offsets, at };
}

/** The device's last slot that is not inside a gap (-1 when it has none). */
function lastReadingSlot(slots: number, plan: readonly PlannedAnomaly[]): number {
  let last = slots - 1;
  for (let i = plan.length - 1; i >= 0 && last >= 0; i--) {
    const a = plan[i];
    if (a.kind === 'gap' && a.from <= last && last <= a.to) last = a.from - 1;
  }
  return last;
}
