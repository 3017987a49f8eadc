import { SOLAR_STATUS_CODES, type SolarStatus } from '../core/profiles/records';
import type { PlannedAnomaly } from './anomalies';
import type { Rng } from './prng';
import {
  ambientTemperature,
  clearSkyIrradiance,
  cosSolarZenith,
  electrical,
  type PanelRating,
  panelTemperature,
  solarHour,
  trapezoidEnergyWh,
} from './solar-physics';
import { TimeFormatter } from './timefmt';

/** Sites of a "solar panels as a service" fleet in developing countries: latitude, longitude, mean °C. */
export const SITES = [
  { latitude: -1.29, longitude: 36.82, meanC: 19 }, // Nairobi
  { latitude: 6.52, longitude: 3.38, meanC: 27 }, // Lagos
  { latitude: 23.81, longitude: 90.41, meanC: 26 }, // Dhaka
  { latitude: -12.05, longitude: -77.04, meanC: 19 }, // Lima
  { latitude: 26.91, longitude: 75.79, meanC: 26 }, // Jaipur
  { latitude: -15.39, longitude: 28.32, meanC: 21 }, // Lusaka
  { latitude: 12.64, longitude: -8.0, meanC: 28 }, // Bamako
  { latitude: 14.6, longitude: 120.98, meanC: 28 }, // Manila
] as const;
/** The sites' names, in the order of SITES (the device registry names each panel's site). */
export const SITE_NAMES = ['Nairobi', 'Lagos', 'Dhaka', 'Lima', 'Jaipur', 'Lusaka', 'Bamako', 'Manila'] as const;

/** Fault codes drawn for injected faults: every status but OK. */
export const SOLAR_FAULT_CODES: readonly SolarStatus[] = SOLAR_STATUS_CODES.filter((s) => s !== 'OK');
/** Cloud cover changes over tens of minutes (Ornstein-Uhlenbeck time constant). */
const CLOUD_TAU_MS = 40 * 60_000;
const OVERTEMP_C = 119; // the contract's bound is 120

export interface SolarParams extends PanelRating {
  readonly deviceId: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly meanC: number;
  readonly swingC: number;
  /** Climate: how cloudy the site tends to be (shifts the cloud process). */
  readonly cloudBias: number;
  readonly firstSeq: number;
}

export function solarPanelId(index: number): string {
  return `SP-${String(index + 1).padStart(6, '0')}`;
}

export function solarSetup(rng: Rng, deviceId: string): SolarParams {
  const site = rng.pick(SITES);
  const ratedDcW = 2000 + 250 * rng.int(0, 16);
  return {
    deviceId,
    latitude: site.latitude + rng.range(-0.5, 0.5),
    longitude: site.longitude + rng.range(-0.5, 0.5),
    meanC: site.meanC + rng.range(-2, 2),
    swingC: rng.range(4, 8),
    cloudBias: rng.range(-2.5, 0.5),
    ratedDcW,
    ratedAcW: Math.round((ratedDcW * 0.92) / 100) * 100,
    vmpV: rng.range(300, 420),
    firstSeq: rng.int(0, 100_000),
  };
}

/** Spikes report AC ×3–5 of the inverter rating: no natural reading comes near (AC is clipped at the rating). */
export function solarAnomalyDetail(
  p: SolarParams,
  a: PlannedAnomaly,
): { metric?: string; value?: number; code?: string } {
  if (a.kind === 'spike') return { metric: 'acPowerW', value: spikePower(p, a.factor) };
  if (a.kind === 'fault') return { metric: 'status', code: a.code };
  return {};
}

function spikePower(p: SolarParams, factor: number): number {
  return Math.round(p.ratedAcW * factor * 10) / 10;
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * One panel's inverter readings. State: the cloud process, the sequence number, and the previous
 * reported AC power and time (energy is the trapezoid between two readings, so it matches the power).
 */
export class SolarModel {
  readonly deviceId: string;
  private readonly idJson: string;
  private cloud: number;
  private seq: number;
  private previousAcW = Number.NaN;
  private previousT = Number.NaN;
  /** Energy the meter counted while the panel was offline (a gap): reported with the next reading. */
  private unreportedWh = 0;

  constructor(
    private readonly p: SolarParams,
    private readonly rng: Rng,
    private readonly intervalMs: number,
    private readonly time: TimeFormatter = new TimeFormatter('T', 'Z'),
  ) {
    this.deviceId = p.deviceId;
    this.idJson = JSON.stringify(p.deviceId);
    this.cloud = rng.normal();
    this.seq = p.firstSeq;
  }

  /** Advances one reading slot; returns the record's JSON, or '' when the panel is offline (a gap). */
  step(t: number, anomaly: PlannedAnomaly | undefined, emit: boolean): string {
    const p = this.p;
    // Clouds: an Ornstein-Uhlenbeck process, exact discretisation, so it is smooth at any interval.
    const decay = Math.exp(-this.intervalMs / CLOUD_TAU_MS);
    this.cloud = this.cloud * decay + Math.sqrt(1 - decay * decay) * this.rng.normal();
    const cover = 1 / (1 + Math.exp(-(1.5 * this.cloud + p.cloudBias)));
    const irradiance = r1(clearSkyIrradiance(cosSolarZenith(p.latitude, p.longitude, t)) * (1 - 0.75 * cover));
    const ambient = ambientTemperature(p.meanC, p.swingC, solarHour(p.longitude, t));
    let panelTemp = panelTemperature(ambient, irradiance);
    const e = electrical(p, irradiance, panelTemp);
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
    if (anomaly !== undefined && anomaly.kind === 'spike') reportedAc = spikePower(p, anomaly.factor);
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
