import type { GeneratedFleet } from './generate';

/**
 * The solar fleet's device registry: one NDJSON line per panel in the archive bucket, under
 * `registry/profile=solar/devices.ndjson`, read by Athena through the `solar_registry` Glue table.
 * The named queries join it to know each panel's site (for site-neighbour comparisons) and its rated
 * power (a hard physical limit) without carrying either in every reading: the registry costs one small
 * object per fleet, a field per reading would cost bytes on every record through Kinesis, Firehose and S3.
 *
 * `{"panelId":"SP-000001","site":"Nairobi","latitude":-1.31,"longitude":36.84,"ratedPowerW":3250}`
 */
export interface RegistryEntry {
  readonly panelId: string;
  /** The site the panel belongs to: panels of a site share the sky. */
  readonly site: string;
  readonly latitude: number;
  readonly longitude: number;
  /** DC nameplate at STC (1000 W/m², 25 °C), W. */
  readonly ratedPowerW: number;
}

// Key, prefix, table and columns are catalog facts (lib/catalog/registry-table.ts), re-exported here.
export { REGISTRY_COLUMNS, REGISTRY_KEY, REGISTRY_PREFIX, REGISTRY_TABLE } from '../catalog/registry-table';

/** The registry of a simulated solar fleet. */
export function registryEntries(fleet: Pick<GeneratedFleet, 'profile' | 'devices'>): RegistryEntry[] {
  if (fleet.profile !== 'solar') throw new Error('The device registry describes solar panels only.');
  return fleet.devices.map((d) => ({
    panelId: d.deviceId,
    site: d.site ?? 'unknown',
    latitude: Math.round(d.latitude * 1e4) / 1e4,
    longitude: Math.round(d.longitude * 1e4) / 1e4,
    ratedPowerW: d.ratedPowerW ?? 0,
  }));
}

export function registryNdjson(entries: readonly RegistryEntry[]): string {
  return entries.map((e) => `${JSON.stringify(e)}\n`).join('');
}

/** Parses and checks a registry file; a bad line is an error naming the line, not a silent skip. */
export function parseRegistry(ndjson: string): RegistryEntry[] {
  const out: RegistryEntry[] = [];
  for (const [i, line] of ndjson.split('\n').entries()) {
    if (line.trim() === '') continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch {
      throw new Error(`registry line ${i + 1}: not JSON`);
    }
    const ok =
      typeof o.panelId === 'string' &&
      o.panelId.length > 0 &&
      typeof o.site === 'string' &&
      typeof o.latitude === 'number' &&
      Math.abs(o.latitude) <= 90 &&
      typeof o.longitude === 'number' &&
      Math.abs(o.longitude) <= 180 &&
      typeof o.ratedPowerW === 'number' &&
      o.ratedPowerW > 0;
    if (!ok) throw new Error(`registry line ${i + 1}: needs panelId, site, latitude, longitude, ratedPowerW > 0`);
    out.push(o as unknown as RegistryEntry);
  }
  return out;
}
