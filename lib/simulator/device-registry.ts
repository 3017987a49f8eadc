import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { REGISTRY_KEY } from '../catalog/registry-table';
import { s3ClientConfig } from '../shared/aws-clients';
import {
  mergeRegistry,
  parseRegistry as parseRegistryLines,
  type RegistryEntry,
  serializeRegistry,
  writeRegistry,
} from '../shared/device-registry';
import type { GeneratedFleet } from './generate';
import type { StreamTarget } from './target';

// Key, prefix, table and columns are catalog facts (lib/catalog/registry-table.ts), re-exported here.
export { REGISTRY_COLUMNS, REGISTRY_KEY, REGISTRY_PREFIX, REGISTRY_TABLE } from '../catalog/registry-table';
/**
 * The solar fleet's device registry: one NDJSON line per panel in the archive bucket, under
 * `registry/profile=solar/devices.ndjson`, read by Athena through the `solar_registry` Glue table.
 * The named queries join it to know each panel's site (for site-neighbour comparisons) and its rated
 * power (a hard physical limit) without carrying either in every reading: the registry costs one small
 * object per fleet, a field per reading would cost bytes on every record through Kinesis, Firehose and S3.
 *
 * `{"panelId":"SP-000001","site":"Nairobi","latitude":-1.31,"longitude":36.84,"ratedPowerW":3250}`
 */
export type { RegistryEntry } from '../shared/device-registry';

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

// ---- Written by a simulator run (the dashboard places panels from it) ----

/** `data.ndjson` -> `data.devices.ndjson`: the registry written beside an `--out` file. */
export function registryFileFor(outPath: string): string {
  return outPath.endsWith('.ndjson')
    ? `${outPath.slice(0, -'.ndjson'.length)}.devices.ndjson`
    : `${outPath}.devices.ndjson`;
}

/** Where a run's registry goes: the archive bucket of the target stack, or a file beside the output. */
export type RegistryDestination =
  | { readonly kind: 'bucket'; readonly bucket: string; readonly endpoint?: string; readonly region: string }
  | { readonly kind: 'file'; readonly path: string };

/** Writes (merges by panelId) the fleets' solar panels into the registry; returns the panels written, 0 for none. */
export async function publishRegistry(
  fleets: readonly Pick<GeneratedFleet, 'profile' | 'devices'>[],
  destination: RegistryDestination | undefined,
): Promise<number> {
  const entries: RegistryEntry[] = fleets.filter((f) => f.profile === 'solar').flatMap(registryEntries);
  if (entries.length === 0 || destination === undefined) return 0;
  if (destination.kind === 'file') {
    const existing = existsSync(destination.path)
      ? parseRegistryLines(readFileSync(destination.path, 'utf8')).entries
      : [];
    writeFileSync(destination.path, serializeRegistry(mergeRegistry(existing, entries)));
    return entries.length;
  }
  const s3 = new S3Client(s3ClientConfig(destination));
  try {
    await writeRegistry(s3, destination.bucket, REGISTRY_KEY, entries);
    return entries.length;
  } finally {
    s3.destroy();
  }
}

/** The stack's archive bucket when sending to a stack that names one; a file beside a named `--out` file. */
export function registryDestination(target: StreamTarget | undefined, out: unknown): RegistryDestination | undefined {
  if (target?.archiveBucket) {
    return { kind: 'bucket', bucket: target.archiveBucket, endpoint: target.endpoint, region: target.region };
  }
  if (typeof out === 'string') return { kind: 'file', path: registryFileFor(out) };
  return undefined;
}

/** A run's registry step for its summary: what was written where, or why not (never fails the run). */
export async function publishRegistryFor(
  fleets: readonly Pick<GeneratedFleet, 'profile' | 'devices'>[],
  target: StreamTarget | undefined,
  out: unknown,
): Promise<string | null> {
  const destination = registryDestination(target, out);
  if (!destination || !fleets.some((f) => f.profile === 'solar')) return null;
  const where = destination.kind === 'file' ? destination.path : `s3://${destination.bucket}/${REGISTRY_KEY}`;
  try {
    const n = await publishRegistry(fleets, destination);
    return `${n} panels in ${where}`;
  } catch (err) {
    return `not written to ${where}: ${(err as Error).message}`;
  }
}
