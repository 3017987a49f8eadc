import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  type AggregateStore,
  type DecodeOptions,
  type EventWindow,
  type FlushResult,
  flushWindow,
  forEachConcurrently,
} from '../core';
import { type QuarantineTarget, writeQuarantine } from '../storage/quarantine';
import { DayFold } from './day-fold';
import type { PublishCounts } from './manifest';
import type { DayArchiveWriter, HourFile } from './parquet-archive';

/** How the stack archives raw records (the raw Glue tables' storage format). */
export type ArchiveFormat = 'parquet' | 'json';

/** Where archive objects go: one PUT per object, so an object appears whole or not at all. */
export interface ObjectSink {
  put(key: string, body: Buffer, contentType: string): Promise<void>;
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
  /** Writes a day's Parquet files from its spool (DuckDB); required when `format` is parquet. */
  readonly parquet?: DayArchiveWriter;
  /** A scratch directory for the day's archive files (Parquet); removed once they are uploaded. */
  readonly workDir?: string;
  readonly quarantine: QuarantineTarget;
  /** Runs the flush; the caller wraps it in its throttling retry. @default a plain call */
  readonly flush?: (window: EventWindow) => Promise<FlushResult>;
  /** Parallel conditional writes of the flush. @default 16 */
  readonly writeConcurrency?: number;
  /** Events before this instant (a minute start: the TTL's cutoff) are archived only. @default none */
  readonly aggregatesFromMs?: number;
}

/**
 * A backfill's minutes are all older than the devices' watermarks: the import merges them whatever the
 * watermark says. Safe because the merge is by event id: late or not, an event is counted once.
 */
export const IMPORT_FLUSH_LATENESS_MS = Number.POSITIVE_INFINITY;

const HOUR_MS = 3_600_000;

/**
 * Archive PUTs in flight. Hourly objects are small (a few MB at the solar fleet's scale, ~70 KB in the
 * benchmark), so the PUT's round trip binds, not bandwidth: several overlap. Single PUTs, not multipart:
 * an hour's object stays far below the sizes where multipart pays (and a PUT is atomic by itself).
 */
const UPLOADS_IN_FLIGHT = 8;

export interface DayPublish extends PublishCounts {
  readonly copiesDropped: number;
  readonly quarantined: number;
}

const gzipAsync = promisify(gzip);

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
 * Phase 2 for one profile-day spool (`spool`: its bytes, or the fold the scan already made of them, see
 * `DayFold`; `spoolPath`: the same bytes on disk for DuckDB): one archive object per event-time hour
 * (Parquet or GZIP NDJSON, as the stack archives) and one merge of the day's events into DynamoDB
 * through the aggregator's own `flushWindow` and store adapter, so every device-minute of the day is
 * written once (or not at all, when the store already holds its events). Rejects found only now
 * (`rate_exceeded`) go to the quarantine.
 *
 * The work splits over both cores: DuckDB writes the Parquet files from the spool on its own threads
 * while JavaScript folds the same lines into the window, unless the scan did (the core's decoder and
 * merge: the one definition of a valid event and of the aggregates, which SQL would restate), and
 * merges it into the store; the uploads overlap the merge. Idempotent: running it again writes the same objects and adds nothing to the
 * aggregates.
 */
export async function publishDay(
  spoolKey: string,
  spool: Buffer | DayFold,
  deps: PublishDeps,
  spoolPath?: string,
): Promise<DayPublish> {
  const [profileName, day] = spoolKey.split('/');
  const dayStart = Date.parse(`${day}T00:00:00.000Z`);
  const outDir = deps.workDir === undefined ? undefined : `${deps.workDir}/${profileName}-${day}`;
  let parquetFiles: Promise<HourFile[]> | undefined;
  if (deps.format === 'parquet') {
    if (!deps.parquet || !spoolPath || !outDir)
      throw new Error('a Parquet publish needs a writer, the spool file and a work directory');
    mkdirSync(deps.workDir as string, { recursive: true });
    parquetFiles = deps.parquet.writeDay(profileName, spoolPath, outDir);
    parquetFiles.catch(() => {}); // awaited below
  }

  const fold =
    spool instanceof DayFold
      ? spool
      : DayFold.ofSpool(spoolKey, spool, {
          arrivalMs: deps.arrivalMs,
          decode: deps.decode,
          aggregatesFromMs: deps.aggregatesFromMs,
          keepHours: deps.format === 'json',
        });
  const { rejected, copiesDropped, archived, eventsPastTtl } = fold;

  const flush =
    deps.flush ??
    ((w: EventWindow) =>
      flushWindow(w, deps.store, { allowedLatenessMs: IMPORT_FLUSH_LATENESS_MS, concurrency: deps.writeConcurrency }));
  // The merge (DynamoDB-bound) runs while the archive objects are finished and uploaded: they are independent.
  const flushing = flushAll(fold.windows, flush);
  flushing.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled" meanwhile

  const objects: { hour: number; body: () => Promise<Buffer> }[] = parquetFiles
    ? (await parquetFiles).map((f) => ({ hour: f.hour, body: async () => readFileSync(f.path) }))
    : fold.hourObjects().map(({ hour, lines }) => ({ hour, body: () => gzipAsync(lines, { level: 6 }) }));
  let archiveBytes = 0;
  const contentType = deps.format === 'parquet' ? 'application/octet-stream' : 'application/x-ndjson';
  const upload = async (o: (typeof objects)[number]) => {
    const body = await o.body();
    const key = archiveKey(
      deps.archivePrefix ?? 'raw/',
      profileName,
      dayStart + o.hour * HOUR_MS,
      deps.importId,
      deps.format,
    );
    await deps.archive.put(key, body, contentType);
    archiveBytes += body.length;
  };
  try {
    await forEachConcurrently(objects, UPLOADS_IN_FLIGHT, upload);
  } finally {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  }

  const shard = `import-${deps.importId}-${profileName}-${day}`;
  if (rejected.length > 0) await writeQuarantine(deps.quarantine, shard, rejected);
  const result = await flushing;
  return {
    archived,
    objects: objects.length,
    archiveBytes,
    deviceMinutesWritten: result.aggregatesWritten,
    eventsAlreadyStored: result.duplicatesDropped,
    eventsAdded: result.eventsAdded,
    devicesUpdated: result.devicesUpdated,
    eventsPastTtl,
    copiesDropped,
    quarantined: rejected.length,
  };
}

/** Merges the day's windows one after the other, letting the event loop turn (uploads, DuckDB's result) between them. */
async function flushAll(
  windows: readonly EventWindow[],
  flush: (window: EventWindow) => Promise<FlushResult>,
): Promise<Pick<FlushResult, 'aggregatesWritten' | 'duplicatesDropped' | 'eventsAdded' | 'devicesUpdated'>> {
  const total = { aggregatesWritten: 0, duplicatesDropped: 0, eventsAdded: 0, devicesUpdated: 0 };
  for (const window of windows) {
    if (window.minuteCount === 0) continue;
    const r = await flush(window);
    total.aggregatesWritten += r.aggregatesWritten;
    total.duplicatesDropped += r.duplicatesDropped;
    total.eventsAdded += r.eventsAdded;
    total.devicesUpdated += r.devicesUpdated;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return total;
}
