import type { PlannedAnomaly } from './anomalies';
import type { Rng } from './prng';
import { TimeFormatter } from './timefmt';

/** The workshop's map: unicorns roam around Midtown Manhattan. */
const MAP_CENTER = { latitude: 40.7484, longitude: -73.9857 };
const MAP_HALF_SIZE_DEG = 0.08;
const METERS_PER_DEG_LAT = 111_320;
/** Natural health and magic stay in this band (mean-reverting walk); only a fault goes below it. */
const POINTS_MIN = 60;
const POINTS_MAX = 240;
/** A unicorn covers about 30 per one-second tick. */
export const UNICORN_BASE_DISTANCE = 30;

export const UNICORN_NAMES = [
  'Shadowfax',
  'Bucephalus',
  'Rocinante',
  'Pegasus',
  'Marengo',
  'Copenhagen',
  'Comanche',
  'Incitatus',
  'Sleipnir',
  'Brigadier',
  'Arion',
  'Xanthos',
] as const;

export interface UnicornParams {
  readonly deviceId: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly heading: number;
  readonly health: number;
  readonly magic: number;
}

/** Default names: the workshop's unicorns, then numbered ones (`Shadowfax-2`), all within VARCHAR(16). */
export function unicornName(index: number): string {
  const base = UNICORN_NAMES[index % UNICORN_NAMES.length];
  const round = Math.floor(index / UNICORN_NAMES.length);
  return round === 0 ? base : `${base}-${round + 1}`;
}

export function unicornSetup(rng: Rng, deviceId: string): UnicornParams {
  return {
    deviceId,
    latitude: MAP_CENTER.latitude + rng.range(-0.03, 0.03),
    longitude: MAP_CENTER.longitude + rng.range(-0.03, 0.03),
    heading: rng.range(0, 2 * Math.PI),
    health: rng.int(145, 155),
    magic: rng.int(145, 155),
  };
}

/** Spikes report Distance ×3–5 of the usual 30 (a GPS jump); faults drop HealthPoints to 5–40. */
export function unicornAnomalyDetail(a: PlannedAnomaly): { metric?: string; value?: number } {
  if (a.kind === 'spike') return { metric: 'Distance', value: spikeDistance(a.factor) };
  if (a.kind === 'fault') return { metric: 'HealthPoints', value: faultHealth(a.factor) };
  return {};
}

function spikeDistance(factor: number): number {
  return Math.round(UNICORN_BASE_DISTANCE * factor * 100) / 100;
}

function faultHealth(factor: number): number {
  return Math.round(5 + ((factor - 3) / 2) * 35);
}

/** Health/magic drift: ±1 per tick, pulled back toward 150 so the walk stays in its band. */
function walk(rng: Rng, v: number): number {
  const pull = (150 - v) * 0.002;
  const r = rng.float();
  const next = r < 0.3 + pull ? v + 1 : r > 0.7 + pull ? v - 1 : v;
  return Math.max(POINTS_MIN, Math.min(POINTS_MAX, next));
}

/**
 * One unicorn's readings, the workshop producer's JSON field for field. Built with a template string:
 * JSON.stringify of an object per record is several times slower (bench/simulator.ts).
 */
export class UnicornModel {
  readonly deviceId: string;
  private readonly nameJson: string;
  private latitude: number;
  private longitude: number;
  private heading: number;
  private health: number;
  private magic: number;
  private readonly metersPerDegLon: number;

  constructor(
    p: UnicornParams,
    private readonly rng: Rng,
    private readonly time: TimeFormatter = new TimeFormatter(' ', ''),
  ) {
    this.deviceId = p.deviceId;
    this.nameJson = JSON.stringify(p.deviceId);
    this.latitude = p.latitude;
    this.longitude = p.longitude;
    this.heading = p.heading;
    this.health = p.health;
    this.magic = p.magic;
    this.metersPerDegLon = METERS_PER_DEG_LAT * Math.cos(MAP_CENTER.latitude * (Math.PI / 180));
  }

  /** Advances one tick; returns the record's JSON, or '' when the unicorn is silent (a gap). */
  step(t: number, anomaly: PlannedAnomaly | undefined, emit: boolean): string {
    const rng = this.rng;
    const distance = Math.round((29 + 2 * rng.float()) * 100) / 100;
    this.heading += (rng.float() - 0.5) * 0.6;
    let lat = this.latitude + (distance * Math.cos(this.heading)) / METERS_PER_DEG_LAT;
    let lon = this.longitude + (distance * Math.sin(this.heading)) / this.metersPerDegLon;
    if (
      Math.abs(lat - MAP_CENTER.latitude) > MAP_HALF_SIZE_DEG ||
      Math.abs(lon - MAP_CENTER.longitude) > MAP_HALF_SIZE_DEG
    ) {
      this.heading += Math.PI; // turn back at the edge of the map
      lat = this.latitude;
      lon = this.longitude;
    }
    this.latitude = lat;
    this.longitude = lon;
    this.health = walk(rng, this.health);
    this.magic = walk(rng, this.magic);
    if (!emit) return '';
    let reportedDistance = distance;
    let health = this.health;
    if (anomaly !== undefined) {
      if (anomaly.kind === 'spike') reportedDistance = spikeDistance(anomaly.factor);
      else if (anomaly.kind === 'fault') health = faultHealth(anomaly.factor);
    }
    return `{"Name":${this.nameJson},"StatusTime":"${this.time.format(t)}","Latitude":${Math.round(lat * 1e6) / 1e6},"Longitude":${Math.round(lon * 1e6) / 1e6},"Distance":${reportedDistance},"HealthPoints":${health},"MagicPoints":${this.magic}}`;
  }
}
