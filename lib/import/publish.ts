import { gzipSync } from 'node:zlib';
import {
  type AggregateStore,
  type DecodeOptions,
  decodeBytes,
  EventWindow,
  type FlushResult,
  flushWindow,
  type RawRecord,
  type RejectedRecord,
} from '../core';
import { type QuarantineTarget, writeQuarantine } from '../storage/quarantine';
import { forEachLine } from './chunks';
import type { PublishCounts } from './manifest';

/** How the stack archives raw records (the raw Glue tables' storage format). */
export type ArchiveFormat = 'parquet' | 'json';

/** Where archive objects go: one PUT per object, so an object appears whole or not at all. */
export interface ObjectSink {
  put(key: string, body: Buffer, contentType: string): Promise<void>;
}

/** Parsed records to one Parquet object (the project's Parquet writer, `lib/local/parquet.ts`). */
export interface ParquetEncoder {
  write(records: readonly Record<string, unknown>[]): Promise<Buffer>;
}

export interface PublishDeps {
  readonly importId: string;
  readonly arrivalMs: number;
  readonly decode?: DecodeOptions;
  readonly store: AggregateStore;
  readonly archive: ObjectSink;
  /** @default 'raw/' */
  readonly archivePrefix?: string;
  readonly format: ArchiveFormat;
  /** The encoder of a profile's raw table; required when `format` is parquet. */
  readonly parquet?: (profile: string) => ParquetEncoder;
  readonly quarantine: QuarantineTarget;
  /** Runs the flush; the caller wraps it in its throttling retry. @default a plain call */
  readonly flush?: (window: EventWindow) => Promise<FlushResult>;
  /** Parallel conditional writes of the flush. @default 16 */
  readonly writeConcurrency?: number;
}

/**
 * A backfill's minutes are all older than the devices' watermarks: the import merges them whatever the
 * watermark says. Safe because the merge is by event id: late or not, an event is counted once.
 */
export const IMPORT_FLUSH_LATENESS_MS = Number.POSITIVE_INFINITY;

const HOUR_MS = 3_600_000;
const MAX_UPLOADS_IN_FLIGHT = 4;

export interface DayPublish extends PublishCounts {
  readonly copiesDropped: number;
  readonly quarantined: number;
}

/** The archive object of one partition hour: a deterministic name, so a repeated publish overwrites it. */
export function archiveKey(
  prefix: string,
  profile: string,
  hourStartMs: number,
  importId: string,
  format: ArchiveFormat,
) {
  const t = new Date(hourStartMs).toISOString();
  const ext = format === 'parquet' ? 'parquet' : 'json.gz';
  return `${prefix}profile=${profile}/year=${t.slice(0, 4)}/month=${t.slice(5, 7)}/day=${t.slice(8, 10)}/hour=${t.slice(11, 13)}/import-${importId}.${ext}`;
}

/**
 * Phase 2 for one profile-day spool: drops the byte-identical copies that crossed chunk boundaries,
 * writes one archive object per event-time hour (Parquet or GZIP NDJSON, as the stack archives), and
 * merges the day's events into DynamoDB through the aggregator's own `flushWindow` and store adapter, so
 * every device-minute of the day is written once (or not at all, when the store already holds its
 * events). Rejects found only now (`rate_exceeded`) go to the quarantine. Idempotent: running it again
 * writes the same objects and adds nothing to the aggregates.
 */
export async function publishDay(spoolKey: string, spool: Buffer, deps: PublishDeps): Promise<DayPublish> {
  const [profileName, day] = spoolKey.split('/');
  const window = new EventWindow();
  const hours = new Map<number, { lines: Buffer[]; records: Record<string, unknown>[] }>();
  const seen = new Set<string>();
  const rejected: RejectedRecord[] = [];
  let copiesDropped = 0;
  let archived = 0;
  const dayStart = Date.parse(`${day}T00:00:00.000Z`);

  forEachLine(spool, (s, e) => {
    const copyKey = spool.toString('latin1', s, e);
    if (seen.has(copyKey)) {
      copiesDropped++;
      return;
    }
    seen.add(copyKey);
    const bytes = spool.subarray(s, e);
    const event = decodeBytes(bytes, deps.arrivalMs, deps.decode ?? {});
    // Spooled lines passed this exact check in phase 1; a line that does not is a spool written by another version.
    if (!event.ok)
      throw new Error(
        `spool ${spoolKey} holds a record the core rejects (${event.reason}): delete the import's state directory`,
      );
    const hour = Math.floor((event.eventTimeMs - dayStart) / HOUR_MS);
    let h = hours.get(hour);
    if (h === undefined) {
      h = { lines: [], records: [] };
      hours.set(hour, h);
    }
    h.lines.push(spool.subarray(s, e + 1));
    h.records.push(event.record as Record<string, unknown>);
    archived++;
    if (window.add(event) === 'overflow') {
      const record: RawRecord = {
        data: bytes.toString('base64'),
        arrivalMs: deps.arrivalMs,
        sequenceNumber: String(s).padStart(15, '0'),
        partitionKey: profileName,
      };
      rejected.push({ record, reason: 'rate_exceeded' });
    }
  });

  const flush =
    deps.flush ??
    ((w: EventWindow) =>
      flushWindow(w, deps.store, { allowedLatenessMs: IMPORT_FLUSH_LATENESS_MS, concurrency: deps.writeConcurrency }));
  // The merge (DynamoDB-bound) runs while the archive objects are encoded and uploaded: they are independent.
  const flushing = window.minuteCount > 0 ? flush(window) : Promise.resolve(undefined);
  flushing.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled" meanwhile

  let objects = 0;
  let archiveBytes = 0;
  const uploads: Promise<void>[] = [];
  for (const hour of [...hours.keys()].sort((a, b) => a - b)) {
    const h = hours.get(hour) as { lines: Buffer[]; records: Record<string, unknown>[] };
    const body =
      deps.format === 'parquet'
        ? await (deps.parquet as (p: string) => ParquetEncoder)(profileName).write(h.records)
        : gzipSync(Buffer.concat(h.lines), { level: 6 });
    const key = archiveKey(
      deps.archivePrefix ?? 'raw/',
      profileName,
      dayStart + hour * HOUR_MS,
      deps.importId,
      deps.format,
    );
    // Encoding is sequential (one DuckDB connection); uploads overlap it, a few at a time.
    const upload = deps.archive.put(
      key,
      body,
      deps.format === 'parquet' ? 'application/octet-stream' : 'application/x-ndjson',
    );
    upload.catch(() => {}); // settled below
    uploads.push(upload);
    if (uploads.length >= MAX_UPLOADS_IN_FLIGHT) await uploads.shift();
    objects++;
    archiveBytes += body.length;
  }
  const settled = await Promise.allSettled(uploads);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;

  const shard = `import-${deps.importId}-${profileName}-${day}`;
  if (rejected.length > 0) await writeQuarantine(deps.quarantine, shard, rejected);
  const result = await flushing;
  return {
    archived,
    objects,
    archiveBytes,
    deviceMinutesWritten: result?.aggregatesWritten ?? 0,
    eventsAlreadyStored: result?.duplicatesDropped ?? 0,
    eventsAdded: result?.eventsAdded ?? 0,
    devicesUpdated: result?.devicesUpdated ?? 0,
    copiesDropped,
    quarantined: rejected.length,
  };
}
