import { SOLAR_STATUS_CODES, type SolarStatus } from '../core/profiles/records';
import type { PlannedAnomaly, PlannedCondition } from './anomalies';
import type { Rng } from './prng';
import {
  ambientTemperature,
  clearSkyIrradiance,
  cosSolarZenith,
  electrical,
  INVERTER_WAKE_WM2,
  type PanelRating,
  panelTemperature,
  solarHour,
  trapezoidEnergyWh,
} from './solar-physics';
import { TimeFormatter } from './timefmt';
import { CLEAR_SKY, type WeatherSource } from './weather';

/**
 * Sites of a "solar panels as a service" fleet in developing countries: latitude, longitude, mean °C, and
 * the climate that drives the site's clouds and rain (see weather.ts).
 */
export const SITES = [
  { name: 'Nairobi', latitude: -1.29, longitude: 36.82, meanC: 19, cloudiness: 0.5, rainPerOvercastHour: 0.08 },
  { name: 'Lagos', latitude: 6.52, longitude: 3.38, meanC: 27, cloudiness: 0.75, rainPerOvercastHour: 0.15 },
  { name: 'Dhaka', latitude: 23.81, longitude: 90.41, meanC: 26, cloudiness: 0.7, rainPerOvercastHour: 0.15 },
  { name: 'Lima', latitude: -12.05, longitude: -77.04, meanC: 19, cloudiness: 0.8, rainPerOvercastHour: 0.005 },
  { name: 'Jaipur', latitude: 26.91, longitude: 75.79, meanC: 26, cloudiness: 0.2, rainPerOvercastHour: 0.05 },
  { name: 'Lusaka', latitude: -15.39, longitude: 28.32, meanC: 21, cloudiness: 0.4, rainPerOvercastHour: 0.1 },
  { name: 'Bamako', latitude: 12.64, longitude: -8.0, meanC: 28, cloudiness: 0.25, rainPerOvercastHour: 0.06 },
  { name: 'Manila', latitude: 14.6, longitude: 120.98, meanC: 28, cloudiness: 0.65, rainPerOvercastHour: 0.12 },
] as const;
export type SolarSite = (typeof SITES)[number];
/** The sites' names, in the order of SITES (the device registry names each panel's site). */
export const SITE_NAMES: readonly string[] = SITES.map((s) => s.name);

/** Fault codes drawn for injected faults: every status but OK. */
export const SOLAR_FAULT_CODES: readonly SolarStatus[] = SOLAR_STATUS_CODES.filter((s) => s !== 'OK');
const OVERTEMP_C = 119; // the contract's bound is 120
const DAY_MS = 86_400_000;
/** A spike at night or at dawn reports at least factor x this share of the inverter rating. */
const SPIKE_FLOOR_SHARE = 0.05;
/** Sensor noise (1 sigma): the irradiance sensor 1.5 % + 1 W/m² when lit; the inverter's power meter 0.8 %. */
const IRRADIANCE_NOISE = 0.015;
const POWER_NOISE = 0.008;

export interface SolarParams extends PanelRating {
  readonly deviceId: string;
  readonly site: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly meanC: number;
  readonly swingC: number;
  readonly firstSeq: number;
  /** Clouds drift over a site: this panel sees the site's sky this much earlier or later. */
  readonly skyLagMs: number;
  /** Ordinary dust: loss per day, washed off by rain or the routine cleaning. */
  readonly soilingPerDay: number;
  /** Days between two routine cleanings. */
  readonly cleaningEveryDays: number;
  /** Normal ageing: loss per year (0.3-0.8 %). */
  readonly ageingPerYear: number;
}

export function solarPanelId(index: number): string {
  return `SP-${String(index + 1).padStart(6, '0')}`;
}

/**
 * One panel's fixed parameters. Panels are spread round-robin over the first `siteCount` sites (within
 * ~5 km of the site's centre, so they share its sky); DC/AC ratios of 1.0-1.3 make the inverter clip
 * on bright days, as real oversized arrays do.
 */
export function solarSetup(rng: Rng, deviceId: string, index = 0, siteCount: number = SITES.length): SolarParams {
  const site = SITES[index % Math.max(1, Math.min(SITES.length, siteCount))];
  const ratedDcW = 2000 + 250 * rng.int(0, 16);
  return {
    deviceId,
    site: site.name,
    latitude: site.latitude + rng.range(-0.05, 0.05),
    longitude: site.longitude + rng.range(-0.05, 0.05),
    meanC: site.meanC + rng.range(-2, 2),
    swingC: rng.range(4, 8),
    ratedDcW,
    ratedAcW: Math.round(ratedDcW / rng.range(1.0, 1.3) / 100) * 100,
    vmpV: rng.range(300, 420),
    firstSeq: rng.int(0, 100_000),
    skyLagMs: Math.round(rng.range(-8, 8)) * 60_000,
    soilingPerDay: rng.range(0.00005, 0.0003),
    cleaningEveryDays: rng.range(20, 45),
    ageingPerYear: rng.range(0.003, 0.008),
  };
}

export function siteOf(p: Pick<SolarParams, 'site'>): SolarSite {
  return SITES.find((s) => s.name === p.site) ?? SITES[0];
}

/** What the anomalies file says about a reading-level anomaly, known when it is planned. */
export function solarAnomalyDetail(a: PlannedAnomaly): { metric?: string; factor?: number; code?: string } {
  if (a.kind === 'spike') return { metric: 'acPowerW', factor: Math.round(a.factor * 100) / 100 };
  if (a.kind === 'fault') return { metric: 'status', code: a.code };
  return {};
}

/** What the anomalies file says about a condition: its size (see `Anomaly.value`). */
export function solarConditionDetail(c: PlannedCondition): { metric: string; value: number; code?: string } {
  const pct = (x: number) => Math.round(x * 1000) / 10;
  if (c.kind === 'soiling') return { metric: 'performanceRatio', value: pct((c.rate * (c.toMs - c.fromMs)) / DAY_MS) };
  if (c.kind === 'degradation') return { metric: 'performanceRatio', value: pct(c.rate) };
  return { metric: 'performanceRatio', value: pct(c.rate), ...(c.code ? { code: c.code } : {}) };
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

export interface SolarModelOptions {
  /** The site's sky; clear sky (the sun alone) when absent. */
  readonly weather?: WeatherSource;
  /** Sensor noise on irradiance and power. @default true with weather, false in clear sky */
  readonly noise?: boolean;
  /** The panel's slow conditions (soiling episodes, fast degradation, a lost string). */
  readonly conditions?: readonly PlannedCondition[];
}

/**
 * One panel's inverter readings. State: the sequence number, the dust on the glass, and the previous
 * reported AC power and time (energy is the trapezoid between two readings, so it matches the power).
 * The irradiance is the plane-of-array reference cell's, kept clean: soiling, ageing and a lost string
 * lower the power, not the irradiance, which is how an operator sees them (a falling performance ratio).
 */
export class SolarModel {
  readonly deviceId: string;
  /** The reported power of the last spike this model emitted (for the anomalies file). */
  lastSpikeW = Number.NaN;
  private readonly idJson: string;
  private seq: number;
  private previousAcW = Number.NaN;
  private previousT = Number.NaN;
  /** Energy the meter counted while the panel was offline (a gap): reported with the next reading. */
  private unreportedWh = 0;
  private readonly weather: WeatherSource;
  private readonly noise: boolean;
  private readonly conditions: readonly PlannedCondition[];
  private dust = 0;
  private lastDustT = Number.NaN;
  private rainsSeen = Number.NaN;
  private nextCleaningMs = Number.NaN;
  private startMs = Number.NaN;

  constructor(
    private readonly p: SolarParams,
    private readonly rng: Rng,
    private readonly intervalMs: number,
    private readonly time: TimeFormatter = new TimeFormatter('T', 'Z'),
    options: SolarModelOptions = {},
  ) {
    this.deviceId = p.deviceId;
    this.idJson = JSON.stringify(p.deviceId);
    this.seq = p.firstSeq;
    this.weather = options.weather ?? CLEAR_SKY;
    this.noise = options.noise ?? options.weather !== undefined;
    this.conditions = options.conditions ?? [];
  }

  /** The fraction of the clean, new array's DC power the panel delivers at t (dust, ageing, conditions). */
  private healthAt(t: number): number {
    const p = this.p;
    if (Number.isNaN(this.lastDustT)) {
      this.lastDustT = t;
      this.startMs = t;
      this.rainsSeen = this.weather.rainsUntil(t);
      this.dust = this.rng.range(0, p.soilingPerDay * p.cleaningEveryDays);
      this.nextCleaningMs = t + this.rng.range(0, p.cleaningEveryDays) * DAY_MS;
    }
    const rains = this.weather.rainsUntil(t);
    // Rain, the routine cleaning, or the cleaning that ends an abnormal soiling episode wash the dust off.
    const episodeCleaned = this.conditions.some((c) => c.kind === 'soiling' && c.toMs > this.lastDustT && c.toMs <= t);
    if (rains !== this.rainsSeen || t >= this.nextCleaningMs || episodeCleaned) {
      this.dust = 0;
      this.rainsSeen = rains;
      if (t >= this.nextCleaningMs) this.nextCleaningMs = t + p.cleaningEveryDays * DAY_MS;
    } else this.dust += (p.soilingPerDay * (t - this.lastDustT)) / DAY_MS;
    this.lastDustT = t;
    let health = (1 - Math.min(0.2, this.dust)) * (1 - (p.ageingPerYear * (t - this.startMs)) / (365 * DAY_MS));
    for (const c of this.conditions) {
      if (t < c.fromMs) continue;
      if (c.kind === 'soiling') {
        if (t < c.toMs) health *= 1 - (c.rate * (t - c.fromMs)) / DAY_MS;
      } else if (c.kind === 'degradation') health *= 1 - (c.rate * (t - c.fromMs)) / (30 * DAY_MS);
      else health *= 1 - c.rate;
    }
    return health;
  }

  /** Advances one reading slot; returns the record's JSON, or '' when the panel is offline (a gap). */
  step(t: number, anomaly: PlannedAnomaly | undefined, emit: boolean): string {
    const p = this.p;
    const clear = clearSkyIrradiance(cosSolarZenith(p.latitude, p.longitude, t));
    const trueIrradiance = clear * this.weather.clearSkyIndex(t + p.skyLagMs);
    const ambient = ambientTemperature(p.meanC, p.swingC, solarHour(p.longitude, t));
    let panelTemp = panelTemperature(ambient, trueIrradiance);
    const health = this.healthAt(t);
    const lit = trueIrradiance >= INVERTER_WAKE_WM2;
    const irradianceNoise = this.noise && lit ? 1 + IRRADIANCE_NOISE * this.rng.normal() : 1;
    const irradianceOffset = this.noise && lit ? this.rng.normal() : 0;
    const powerNoise = this.noise ? 1 + POWER_NOISE * this.rng.normal() : 1;
    const irradiance = r1(Math.max(0, trueIrradiance * irradianceNoise + irradianceOffset));
    // Losses scale the light the cells convert; the meter's noise scales what it measures.
    const e = lit ? electrical(p, trueIrradiance * health * powerNoise, panelTemp) : electrical(p, 0, panelTemp);
    let ac = e.acPowerW;
    let voltage = e.dcVoltageV;
    let current = e.dcCurrentA;
    let status: SolarStatus = 'OK';
    let reportedAc: number | undefined;
    if (anomaly !== undefined && anomaly.kind === 'fault') {
      status = (anomaly.code as SolarStatus | undefined) ?? 'DEGRADED';
      if (status === 'DEGRADED') ac *= 0.5;
      else if (status === 'FAULT_OVERTEMP') {
        panelTemp = Math.min(OVERTEMP_C, panelTemp + 30);
        ac *= 0.3;
      } else {
        // Grid, isolation, arc: the inverter stops; the string shows its open-circuit voltage if lit.
        ac = 0;
        current = 0;
        voltage = status === 'FAULT_ARC' || irradiance < 10 ? 0 : p.vmpV * 1.2;
      }
    }
    ac = r1(ac);
    if (!emit) {
      // Offline (a gap): the inverter still produces and its meter still counts; nothing is sent.
      if (!Number.isNaN(this.previousT))
        this.unreportedWh += trapezoidEnergyWh(this.previousAcW, ac, t - this.previousT);
      this.previousAcW = ac;
      this.previousT = t;
      return '';
    }
    // A spike is a bad power reading: the energy counter (and the next trapezoid) keep the true power.
    if (anomaly !== undefined && anomaly.kind === 'spike') {
      reportedAc = r1(anomaly.factor * Math.max(ac, SPIKE_FLOOR_SHARE * p.ratedAcW));
      this.lastSpikeW = reportedAc;
    }
    const first = Number.isNaN(this.previousT);
    const energy = r3(
      this.unreportedWh +
        trapezoidEnergyWh(first ? ac : this.previousAcW, ac, first ? this.intervalMs : t - this.previousT),
    );
    this.unreportedWh = 0;
    this.previousAcW = ac;
    this.previousT = t;
    const seq = this.seq++;
    return `{"panelId":${this.idJson},"ts":"${this.time.format(t)}","seq":${seq},"acPowerW":${reportedAc ?? ac},"dcVoltageV":${r1(voltage)},"dcCurrentA":${r3(current)},"energyWh":${energy},"panelTempC":${r1(panelTemp)},"irradianceWm2":${irradiance},"status":"${status}"}`;
  }
}
