import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '../shared/aws-clients';
import {
  mergeRegistry,
  parseRegistry,
  REGISTRY_KEY,
  type RegistryEntry,
  serializeRegistry,
  writeRegistry,
} from '../shared/device-registry';
import type { GeneratedFleet } from './generate';
import { SITE_NAMES, SITES } from './solar-model';
import type { StreamTarget } from './target';

/**
 * The registry entries of a simulated solar fleet: each panel's position and rating as the model placed
 * it (lib/simulator/solar-model.ts), and the site it was placed around (the nearest site: panels sit
 * within ±0.5° of theirs, and the sites are thousands of kilometres apart).
 */
export function registryEntries(fleet: GeneratedFleet): RegistryEntry[] {
  if (fleet.profile !== 'solar') return [];
  return fleet.devices.map((d) => ({
    panelId: d.deviceId,
    site: nearestSite(d.latitude, d.longitude),
    latitude: Math.round(d.latitude * 1e5) / 1e5,
    longitude: Math.round(d.longitude * 1e5) / 1e5,
    ratedPowerW: d.ratedPowerW ?? 0,
  }));
}

function nearestSite(latitude: number, longitude: number): string {
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  SITES.forEach((s, i) => {
    const d = (s.latitude - latitude) ** 2 + (s.longitude - longitude) ** 2;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  return SITE_NAMES[best];
}

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

/** Writes (merges) the fleets' solar panels into the registry; returns the panel count written, 0 for none. */
export async function publishRegistry(
  fleets: readonly GeneratedFleet[],
  destination: RegistryDestination | undefined,
): Promise<number> {
  const entries = fleets.flatMap(registryEntries);
  if (entries.length === 0 || destination === undefined) return 0;
  if (destination.kind === 'file') {
    const existing = existsSync(destination.path) ? parseRegistry(readFileSync(destination.path, 'utf8')).entries : [];
    const merged = mergeRegistry(existing, entries);
    writeFileSync(destination.path, serializeRegistry(merged));
    return entries.length;
  }
  const s3 = new S3Client(s3ClientConfig(destination));
  try {
    await writeRegistry(s3, destination.bucket, entries);
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
  fleets: readonly GeneratedFleet[],
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
