import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * The solar fleet's device registry: where each panel is and what it is rated for. Panels do not send
 * their position (the record contract has no place for it), so the fleet operator keeps a small
 * registry beside the archive: NDJSON, one panel per line, at the catalog's REGISTRY_KEY in the archive
 * bucket (lib/catalog/registry-table.ts; callers pass it, so this module stays below the catalog).
 * The simulator writes it for the panels it simulates; the dashboard reads it to place panels on the map.
 */

export interface RegistryEntry {
  readonly panelId: string;
  /** Site name (a city). */
  readonly site: string;
  readonly latitude: number;
  readonly longitude: number;
  /** The array's rated DC power, W. */
  readonly ratedPowerW: number;
}

export interface ParsedRegistry {
  readonly entries: RegistryEntry[];
  /** Lines that are not a valid entry: line number and why (the rest of the file is still used). */
  readonly rejected: { readonly line: number; readonly reason: string }[];
}

export function serializeRegistry(entries: readonly RegistryEntry[]): string {
  return entries
    .map((e) =>
      JSON.stringify({
        panelId: e.panelId,
        site: e.site,
        latitude: e.latitude,
        longitude: e.longitude,
        ratedPowerW: e.ratedPowerW,
      }),
    )
    .map((l) => `${l}\n`)
    .join('');
}

const num = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;

export function parseRegistry(text: string): ParsedRegistry {
  const entries: RegistryEntry[] = [];
  const rejected: ParsedRegistry['rejected'] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch {
      rejected.push({ line: i + 1, reason: 'invalid_json' });
      return;
    }
    const reason =
      typeof o !== 'object' || o === null
        ? 'wrong_type:record'
        : typeof o.panelId !== 'string' || o.panelId.length === 0 || o.panelId.length > 64
          ? 'out_of_range:panelId'
          : typeof o.site !== 'string' || o.site.length > 64
            ? 'out_of_range:site'
            : !num(o.latitude, -90, 90)
              ? 'out_of_range:latitude'
              : !num(o.longitude, -180, 180)
                ? 'out_of_range:longitude'
                : !num(o.ratedPowerW, 0, 1e7)
                  ? 'out_of_range:ratedPowerW'
                  : undefined;
    if (reason) rejected.push({ line: i + 1, reason });
    else entries.push(o as unknown as RegistryEntry);
  });
  return { entries, rejected };
}

/** Entries of `update` replace those with the same panelId; the others stay (panels of earlier runs). */
export function mergeRegistry(existing: readonly RegistryEntry[], update: readonly RegistryEntry[]): RegistryEntry[] {
  const byId = new Map(existing.map((e) => [e.panelId, e]));
  for (const e of update) byId.set(e.panelId, e);
  return [...byId.values()].sort((a, b) => (a.panelId < b.panelId ? -1 : a.panelId > b.panelId ? 1 : 0));
}

/** The registry in the bucket, or an empty one when there is none yet. */
export async function readRegistry(s3: Pick<S3Client, 'send'>, bucket: string, key: string): Promise<ParsedRegistry> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return parseRegistry((await out.Body?.transformToString('utf8')) ?? '');
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound') return { entries: [], rejected: [] };
    throw err;
  }
}

/** Merges `entries` into the bucket's registry (one GET, one PUT). Returns how many panels it lists. */
export async function writeRegistry(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  key: string,
  entries: readonly RegistryEntry[],
): Promise<number> {
  const merged = mergeRegistry((await readRegistry(s3, bucket, key)).entries, entries);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: serializeRegistry(merged),
      ContentType: 'application/x-ndjson',
    }),
  );
  return merged.length;
}
