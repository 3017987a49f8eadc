import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { type GlueTableDef, parseS3Location, storageFormat } from '../../catalog';
import type { PartitionDef } from './catalog-store';

/** A partition's values, by partition column name. */
export type PartitionValues = Record<string, number | string>;

export interface ArchiveObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly partition: PartitionValues;
}

/**
 * Keeps only the candidate partitions a query allows, given the partition columns known so far
 * (listing goes one path level at a time: year, then month, ...).
 */
export type PartitionFilter = (known: readonly string[], candidates: PartitionValues[]) => Promise<PartitionValues[]>;

/**
 * Reads a Glue table's objects through the S3 API: lists the partitions a query needs (as Athena's
 * partition projection computes them from `storage.location.template`) and keeps a local copy of each
 * object, keyed by its ETag, for DuckDB to read. Why a copy: DuckDB's httpfs extension cannot be
 * installed offline, and a cache makes the second query over the same day free, as results reuse does.
 */
export class ArchiveReader {
  constructor(
    private readonly s3: S3Client,
    private readonly cacheDir: string,
  ) {}

  /**
   * The objects of the partitions `filter` keeps. Like Athena's partition projection, candidate values come
   * from the `projection.<key>.*` ranges and only the kept prefixes are listed; where a level is not
   * constrained at all (no predicate on it), listing below the prefixes found so far is cheaper than
   * enumerating every projected value, so the rest is discovered from one recursive listing.
   */
  async listObjects(
    table: GlueTableDef,
    filter: PartitionFilter,
    registered?: readonly PartitionDef[],
  ): Promise<ArchiveObject[]> {
    const { bucket } = parseS3Location(table.location);
    if (registered !== undefined) return this.listRegistered(table, filter, registered);
    const segments = templateSegments(table);
    let frontier: { prefix: string; values: PartitionValues }[] = [{ prefix: '', values: {} }];
    const known: string[] = [];
    for (const [index, seg] of segments.entries()) {
      if (seg.variable === undefined) {
        frontier = frontier.map((f) => ({ prefix: `${f.prefix}${seg.literal}/`, values: f.values }));
        continue;
      }
      const projected = projectedValues(table, seg.variable);
      if (projected === undefined) return this.discover(table, bucket, frontier, segments.slice(index), known, filter);
      const next = frontier.flatMap((f) =>
        projected.map((v) => ({
          prefix: `${f.prefix}${seg.before}${v.text}${seg.after}/`,
          values: { ...f.values, [seg.variable!]: v.value },
        })),
      );
      const allowed = await filter(
        [...known, seg.variable],
        next.map((n) => n.values),
      );
      if (allowed.length === next.length && next.length > 1) {
        return this.discover(table, bucket, frontier, segments.slice(index), known, filter);
      }
      known.push(seg.variable);
      const keep = new Set(allowed.map((v) => JSON.stringify(v)));
      frontier = next.filter((n) => keep.has(JSON.stringify(n.values)));
    }
    const out: ArchiveObject[] = [];
    for (const f of frontier) {
      for (const o of await this.listAll(bucket, f.prefix)) out.push({ ...o, bucket, partition: f.values });
    }
    return out;
  }

  /**
   * A partitioned table without projection reads the partitions registered in the catalog (ALTER TABLE ADD
   * PARTITION, MSCK REPAIR, CTAS, Glue CreatePartition) and nothing else, as Athena does.
   */
  private async listRegistered(
    table: GlueTableDef,
    filter: PartitionFilter,
    registered: readonly PartitionDef[],
  ): Promise<ArchiveObject[]> {
    const keys = table.partitionKeys.map((k) => k.name);
    const candidates = registered.map((p) => {
      const values: PartitionValues = {};
      for (const [i, k] of keys.entries()) {
        const raw = p.values[i];
        values[k] = isIntType(table, k) && /^-?\d+$/.test(raw) ? Number.parseInt(raw, 10) : raw;
      }
      return { values, location: p.location };
    });
    const allowed = new Set(
      (
        await filter(
          keys,
          candidates.map((c) => c.values),
        )
      ).map((v) => JSON.stringify(v)),
    );
    const out: ArchiveObject[] = [];
    for (const c of candidates) {
      if (!allowed.has(JSON.stringify(c.values))) continue;
      const { bucket, prefix } = parseS3Location(c.location);
      for (const o of await this.listAll(bucket, prefix)) out.push({ ...o, bucket, partition: c.values });
    }
    return out;
  }

  /** Lists everything below each frontier prefix and reads the remaining partition values from the keys. */
  private async discover(
    table: GlueTableDef,
    bucket: string,
    frontier: { prefix: string; values: PartitionValues }[],
    rest: readonly Segment[],
    known: readonly string[],
    filter: PartitionFilter,
  ): Promise<ArchiveObject[]> {
    const groups = new Map<
      string,
      { values: PartitionValues; objects: Omit<ArchiveObject, 'bucket' | 'partition'>[] }
    >();
    for (const f of frontier) {
      for (const o of await this.listAll(bucket, f.prefix)) {
        const parts = o.key.slice(f.prefix.length).split('/');
        if (parts.length <= rest.length) continue; // the object must sit below the last template segment
        const values: PartitionValues = { ...f.values };
        let ok = true;
        for (const [i, seg] of rest.entries()) {
          const part = parts[i];
          if (seg.variable === undefined) {
            ok = part === seg.literal;
          } else {
            const raw =
              part.startsWith(seg.before) && part.endsWith(seg.after)
                ? part.slice(seg.before.length, part.length - seg.after.length)
                : undefined;
            const int = isIntType(table, seg.variable);
            ok = raw !== undefined && (!int || /^-?\d+$/.test(raw));
            if (ok) values[seg.variable] = int ? Number.parseInt(raw!, 10) : raw!;
          }
          if (!ok) break;
        }
        if (!ok) continue;
        const id = JSON.stringify(values);
        const g = groups.get(id) ?? { values, objects: [] };
        g.objects.push(o);
        groups.set(id, g);
      }
    }
    const all = [...known, ...rest.filter((s) => s.variable !== undefined).map((s) => s.variable!)];
    const allowed = await filter(
      all,
      [...groups.values()].map((g) => g.values),
    );
    const keep = new Set(allowed.map((v) => JSON.stringify(v)));
    return [...groups.entries()]
      .filter(([id]) => keep.has(id))
      .flatMap(([, g]) => g.objects.map((o) => ({ ...o, bucket, partition: g.values })));
  }

  /** Local path of the object's cached copy (downloading it if needed). JSON is stored as lower-cased NDJSON. */
  async localCopy(table: GlueTableDef, obj: ArchiveObject): Promise<string> {
    const format = storageFormat(table);
    const hive = table.partitionKeys.map((k) => `${k.name}=${encodeURIComponent(String(obj.partition[k.name]))}`);
    const id = createHash('sha1').update(`${obj.bucket}/${obj.key}`).digest('hex').slice(0, 20);
    const etag = obj.etag.replace(/[^A-Za-z0-9-]/g, '');
    const path = join(
      this.cacheDir,
      'tables',
      `${table.databaseName}.${table.tableName}`,
      ...hive,
      `${id}-${etag}.${format === 'json' ? 'json' : 'parquet'}`,
    );
    if (existsSync(path)) return path;
    const res = await this.s3.send(new GetObjectCommand({ Bucket: obj.bucket, Key: obj.key }));
    const body = Buffer.from(await res.Body!.transformToByteArray());
    const content =
      format === 'json'
        ? normalizeJsonLines(
            body,
            table.serdeParameters?.['ignore.malformed.json'] === 'true',
            `s3://${obj.bucket}/${obj.key}`,
          )
        : body;
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, content);
    await rename(tmp, path);
    return path;
  }

  private async listAll(bucket: string, prefix: string): Promise<Omit<ArchiveObject, 'bucket' | 'partition'>[]> {
    const out: Omit<ArchiveObject, 'bucket' | 'partition'>[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const res = await this.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, StartAfter: startAfter }),
      );
      for (const c of res.Contents ?? []) {
        const name = c.Key!.slice(c.Key!.lastIndexOf('/') + 1);
        // Athena skips "directory" markers and files whose names start with _ or . (e.g. _SUCCESS).
        if (c.Key!.endsWith('/') || name.startsWith('_') || name.startsWith('.')) continue;
        out.push({ key: c.Key!, size: c.Size ?? 0, etag: c.ETag ?? '' });
      }
      if (!res.IsTruncated || !res.Contents?.length) break;
      startAfter = res.Contents[res.Contents.length - 1].Key;
    }
    return out;
  }
}

/** The values partition projection allows for a key, or undefined when they cannot be enumerated. */
function projectedValues(table: GlueTableDef, key: string): { value: number | string; text: string }[] | undefined {
  const p = table.parameters ?? {};
  if (p['projection.enabled'] !== 'true') return undefined;
  const type = p[`projection.${key}.type`];
  if (type === 'integer') {
    const [lo, hi] = (p[`projection.${key}.range`] ?? '').split(',').map((x) => Number.parseInt(x.trim(), 10));
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo || hi - lo > 100_000) return undefined;
    const digits = Number.parseInt(p[`projection.${key}.digits`] ?? '0', 10) || 0;
    return Array.from({ length: hi - lo + 1 }, (_, i) => ({
      value: lo + i,
      text: String(lo + i).padStart(digits, '0'),
    }));
  }
  if (type === 'enum') {
    return (p[`projection.${key}.values`] ?? '').split(',').map((v) => ({ value: v.trim(), text: v.trim() }));
  }
  return undefined;
}

function isIntType(table: GlueTableDef, key: string): boolean {
  const type = table.partitionKeys.find((k) => k.name === key)?.type.toLowerCase() ?? 'string';
  return ['int', 'integer', 'bigint', 'smallint', 'tinyint'].includes(type);
}

interface Segment {
  readonly literal?: string;
  readonly variable?: string;
  readonly before: string;
  readonly after: string;
}

/** The location template as path segments below the bucket; each holds at most one `${key}`. */
export function templateSegments(table: GlueTableDef): Segment[] {
  const { bucket } = parseS3Location(table.location);
  const template =
    table.parameters?.['projection.enabled'] === 'true' && table.parameters['storage.location.template']
      ? table.parameters['storage.location.template']
      : `${table.location.replace(/\/?$/, '/')}${table.partitionKeys.map((k) => `${k.name}=\${${k.name}}`).join('/')}`;
  const m = /^s3a?:\/\/([^/]+)\/(.*)$/.exec(template);
  if (!m || m[1] !== bucket) throw new Error(`Table ${table.tableName}: bad storage.location.template ${template}`);
  return m[2]
    .split('/')
    .filter((s) => s !== '')
    .map((seg) => {
      const vars = [...seg.matchAll(/\$\{([^}]+)\}/g)];
      if (vars.length === 0) return { literal: seg, before: '', after: '' };
      if (vars.length > 1) throw new Error(`Table ${table.tableName}: one partition key per path segment is supported`);
      const v = vars[0];
      return { variable: v[1].toLowerCase(), before: seg.slice(0, v.index), after: seg.slice(v.index! + v[0].length) };
    });
}

/**
 * NDJSON (optionally gzip, possibly several gzip members) to NDJSON with lower-cased top-level keys:
 * the OpenX JSON SerDe matches keys case-insensitively, DuckDB's read_json does not.
 */
export function normalizeJsonLines(body: Buffer, ignoreMalformed: boolean, source: string): string {
  const text = (body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body).toString('utf8');
  const out: string[] = [];
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    const trimmed = line.trim();
    if (trimmed === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(trimmed);
    } catch {
      obj = undefined;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      if (ignoreMalformed) {
        out.push('{}');
        continue;
      }
      throw new Error(
        `HIVE_BAD_DATA: Error parsing line ${lineNo} of ${source}: not a JSON object. Set the SerDe property ignore.malformed.json=true to read it as NULLs.`,
      );
    }
    const lower: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      const key = k.toLowerCase();
      if (!(key in lower)) lower[key] = v;
    }
    out.push(JSON.stringify(lower));
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
