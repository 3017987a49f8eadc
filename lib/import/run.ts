import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  type AggregateStore,
  type DecodeOptions,
  type EventWindow,
  type FlushResult,
  forEachConcurrently,
  minuteStart,
} from '../core';
import { type QuarantineTarget, writeQuarantine } from '../storage/quarantine';
import { alternatingBuffers, chunkFile, chunkLines } from './chunks';
import { type CsvLayout, csvLayout } from './csv';
import { type DayFoldOptions, ScanFolds } from './day-fold';
import { ImportError } from './errors';
import { type InputFile, openInput, resolveInputs, sniffInput } from './inputs';
import {
  emptyPublish,
  emptyScan,
  ImportState,
  MANIFEST_VERSION,
  type Manifest,
  type PublishCounts,
  type ScanCounts,
} from './manifest';
import type { DayArchiveWriter } from './parquet-archive';
import { type ArchiveFormat, type ObjectSink, publishDay } from './publish';
import { addScanCounts, type ChunkScan, type IndexResult, type SpoolSink, scanChunk, scanIndexed } from './scan';
import { ScanPool } from './scan-pool';

export interface ImportOptions {
  /** Files, directories or globs; local paths or `s3://` URLs. */
  readonly inputs: readonly string[];
  /** The archive bucket's client (also reads `s3://` inputs). */
  readonly s3: S3Client;
  readonly bucket: string;
  readonly format: ArchiveFormat;
  /** Writes a profile-day's Parquet files (DuckDB, the raw tables' columns); required for parquet. */
  readonly parquet?: DayArchiveWriter;
  /** The aggregator's store adapter (DynamoDB), or any `AggregateStore`. */
  readonly store: AggregateStore;
  /**
   * The aggregates table's TTL (`iot:aggregatesTtlDays`): minutes already past it are archived and not
   * written to DynamoDB (the store stamps the others' expiry). @default kept forever: every minute is written
   */
  readonly aggregatesTtlDays?: number;
  /** Where archive objects go. @default PutObject into `bucket` */
  readonly archive?: ObjectSink;
  /** Wraps each day's flush (the CLI adds the throttling retry). @default flushWindow as is */
  readonly flush?: (window: EventWindow) => Promise<FlushResult>;
  /** @default `.import/<import id>` under the working directory */
  readonly stateDir?: string;
  /** Decompressed bytes per chunk, the unit of progress kept in the manifest. @default 64 MiB */
  readonly chunkBytes?: number;
  /**
   * Worker threads that find the distinct lines of NDJSON chunks and the copies of them (the scan's byte
   * work, nine of ten lines being copies of a retry bug) while the import's own thread validates the
   * distinct lines of the chunk before, folds and commits them; 0: the import's own thread does all of
   * it (CSV always is). @default 1: two cores, and the core's decoder still runs once per distinct line.
   */
  readonly scanThreads?: number;
  readonly decode?: DecodeOptions;
  /**
   * Spool bytes of days folded into their aggregates windows while they are scanned (so the publish
   * does not parse them again); days past it are folded from their spools at publish.
   * @default an eighth of the heap limit, at most 256 MiB (see ScanFolds)
   */
  readonly scanFoldBytes?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** Bad input the import got past (a truncated gzip): one clear line each. */
  readonly warn?: (line: string) => void;
  readonly onProgress?: (p: ImportProgress) => void;
  /** Stops after the current chunk or partition; the manifest is then consistent and the same command resumes. */
  readonly signal?: AbortSignal;
}

export interface ImportProgress {
  readonly phase: 'scan' | 'publish';
  readonly filesDone: number;
  readonly files: number;
  /** Raw records read (copies and invalid ones included). */
  readonly records: number;
  /** Input bytes read (as stored: compressed for gzip), and their total. */
  readonly inputBytes: number;
  readonly totalInputBytes: number;
  readonly partitionsDone: number;
  readonly partitions: number;
}

export interface ImportSummary {
  readonly importId: string;
  readonly stateDir: string;
  readonly resumed: boolean;
  /** False when stopped by the signal before the end; the same command continues. */
  readonly complete: boolean;
  readonly files: number;
  readonly filesWithErrors: { url: string; error: string }[];
  readonly scan: ScanCounts;
  readonly publish: PublishCounts;
  readonly partitions: number;
  /** The profile-days written (`solar/2026-06-01`). */
  readonly days: readonly string[];
  readonly elapsedMs: number;
  /** This run's time in the scan (files to spools and quarantine) and in the publish (archive and aggregates). */
  readonly scanMs: number;
  readonly publishMs: number;
}

const DEFAULT_CHUNK_BYTES = 64 << 20;
/** Profile-days published at once (each holds its spool in memory). */
const DAYS_IN_FLIGHT = 2;

/** The import's identity: its inputs (names and sizes) and where they go. Same command, same id, same state. */
export function importIdOf(files: readonly InputFile[], bucket: string): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ bucket, files: files.map((f) => [f.url, f.size]) }));
  return h.digest('hex').slice(0, 12);
}

/**
 * Imports exported history into the archive, the quarantine and the aggregates, resumably:
 * 1. inputs are listed and checked against their names (a refusal writes nothing);
 * 2. scan: each file is cut into chunks; each chunk is validated, stripped of copies, its rejects
 *    quarantined and its valid records appended to per-profile, per-day spools, and then the manifest
 *    records the chunk as done (atomically, with the spools' new lengths);
 * 3. publish: each day's spool becomes one archive object per hour and one merge into the aggregates.
 * A kill at any point leaves a manifest that names what is done; the next run cuts the spools back to
 * it and continues. Every external write (quarantine and archive objects with deterministic keys, the
 * idempotent merge) can be repeated without changing the result.
 */
export async function runImport(options: ImportOptions): Promise<ImportSummary> {
  const now = options.now ?? Date.now;
  const t0 = now();
  const s3 = () => options.s3;
  const files = await resolveInputs(options.inputs, s3);
  const layouts = new Map<string, CsvLayout>();
  for (const f of files) {
    const head = await sniffInput(f, s3);
    if (f.kind === 'csv') {
      const firstLine = head.toString('utf8').split(/\r?\n/)[0];
      if (firstLine.trim() === '') throw new ImportError(`${f.url}: empty CSV (no header line).`);
      layouts.set(f.url, csvLayout(f.url, firstLine));
    }
  }
  const importId = importIdOf(files, options.bucket);
  const stateDir = resolve(options.stateDir ?? join('.import', importId));
  const state = ImportState.open(stateDir, () => freshManifest(importId, files, now()));
  const m0 = state.manifest;
  if (m0.importId !== importId) {
    throw new ImportError(
      `${stateDir} belongs to another import (${m0.importId}): the inputs or the bucket changed. ` +
        'Use another --state-dir, or delete this one to start over.',
    );
  }
  const resumed = state.resumed;
  const arrivalMs = m0.startedAtMs;
  const quarantine: QuarantineTarget = { client: options.s3, bucket: options.bucket };
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const totalInputBytes = files.reduce((n, f) => n + f.size, 0);
  let inputBytesBase = files.reduce((n, f) => n + (state.manifest.files[f.url]?.finished ? f.size : 0), 0);
  let inputBytesLive = 0;
  const progress = (phase: ImportProgress['phase']): ImportProgress => {
    const m = state.manifest;
    const spools = Object.keys(m.spools).length;
    return {
      phase,
      filesDone: files.filter((f) => m.files[f.url]?.finished).length,
      files: files.length,
      records: m.scan.records,
      inputBytes: inputBytesBase + inputBytesLive,
      totalInputBytes,
      partitionsDone: m.published.length,
      partitions: spools,
    };
  };
  const stopped = () => options.signal?.aborted === true;
  // One cutoff for the whole run, so that a day folded during the scan and one folded at publish agree.
  const aggregatesFromMs =
    options.aggregatesTtlDays === undefined ? undefined : ttlCutoff(now(), options.aggregatesTtlDays);
  const foldOptions: DayFoldOptions = {
    arrivalMs,
    decode: options.decode,
    aggregatesFromMs,
    keepHours: options.format === 'json',
  };
  // Days whose spools this run writes from their first byte are folded as they are scanned.
  const folds = new ScanFolds(foldOptions, (key) => (state.manifest.spools[key] ?? 0) > 0, options.scanFoldBytes);
  const scanThreads = options.scanThreads ?? 1;
  let pool: ScanPool | undefined;
  const startPool = () => (scanThreads > 0 ? ScanPool.start(scanThreads) : undefined);

  // Phase 1: scan.
  try {
    for (const file of files) {
      if (stopped()) break;
      const done = state.manifest.files[file.url];
      if (done.finished) continue;
      inputBytesLive = file.gzip ? 0 : done.doneBytes;
      const layout = layouts.get(file.url);
      if (layout === undefined && pool === undefined) pool = startPool();
      const workers = layout === undefined ? pool : undefined;
      const onBytes = (n: number) => {
        inputBytesLive += n;
      };
      const source = file.url.replace(/^.*\//, '');
      // A local uncompressed file is read straight into the chunks (into the workers' buffers, when they scan).
      const direct = !file.gzip && !file.url.startsWith('s3://');
      const stream = direct ? undefined : await openInput(file, done.doneBytes, s3, onBytes);
      const { chunks, error } = stream
        ? chunkLines(stream, done.doneBytes, chunkBytes)
        : chunkFile(
            file.url,
            done.doneBytes,
            chunkBytes,
            workers ? (n) => workers.buffer(n) : alternatingBuffers(),
            onBytes,
          );
      const fileIndex = files.indexOf(file);
      /** Appends a chunk's result to the spools, quarantines its rejects and commits it: always in chunk order. */
      const commitChunk = async (chunkStart: number, chunkLength: number, result: ChunkScan) => {
        // A folded day's lines are held by its fold (the spool's image in memory): they are written from it.
        folds.drain((key, lines) => state.appendLines(key, lines));
        const lengths = state.flushSpools();
        if (result.rejected.length > 0) {
          await writeQuarantine(quarantine, `import-${importId}-f${fileIndex}`, result.rejected);
          result.counts.quarantineObjects = 1;
        }
        result.counts.bytes = chunkLength;
        const end = chunkStart + chunkLength;
        state.commit((m) => ({
          ...m,
          files: { ...m.files, [file.url]: { doneBytes: end, finished: false } },
          spools: lengths,
          scan: addScanCounts(m.scan, result.counts),
        }));
        folds.trim();
        options.onProgress?.(progress('scan'));
      };
      const ctx = { arrivalMs, source, decode: options.decode, csv: layout };
      const sink: SpoolSink = (key, hour, src, s, e, event) => {
        const fold = folds.fold(key);
        if (fold) fold.addDecoded(hour, src, s, e, event);
        else state.append(key, hour, src, s, e);
      };
      // Chunks being indexed by the workers, oldest first; each is validated and committed once it and all before it are done.
      const inFlight: { start: number; bytes: Buffer; result: Promise<IndexResult> }[] = [];
      const commitOldest = async () => {
        const job = inFlight.shift() as (typeof inFlight)[number];
        const { index } = await job.result;
        const result = scanIndexed(job.bytes, job.start, index, ctx, sink);
        workers?.recycle(job.bytes);
        await commitChunk(job.start, job.bytes.length, result);
      };
      for await (const chunk of chunks) {
        if (workers) {
          let bytes = chunk.bytes;
          if (stream) {
            // The stream reader reuses the chunk's bytes after this turn: the worker gets a copy.
            bytes = workers.buffer(chunk.bytes.length).subarray(0, chunk.bytes.length);
            bytes.set(chunk.bytes);
          }
          const result = workers.index({ bytes, length: bytes.length });
          result.catch(() => {}); // awaited in order by commitOldest
          inFlight.push({ start: chunk.start, bytes, result });
          // One chunk more than workers: the import thread validates, folds and commits one while every worker indexes another.
          if (inFlight.length > workers.size) await commitOldest();
          if (stopped()) break;
          continue;
        }
        let bytes = chunk.bytes;
        let start = chunk.start;
        if (layout && start === 0) {
          const nl = bytes.indexOf(0x0a);
          const skip = nl < 0 ? bytes.length : nl + 1;
          bytes = bytes.subarray(skip);
          start = skip;
        }
        const result = scanChunk(bytes, start, ctx, sink);
        await commitChunk(chunk.start, chunk.bytes.length, result);
        if (stopped()) break;
      }
      while (inFlight.length > 0) await commitOldest();
      if (stopped()) {
        stream?.destroy();
        break;
      }
      const failure = error();
      if (failure) {
        const message = readErrorMessage(file, failure);
        options.warn?.(message);
        state.commit((m) => ({
          ...m,
          files: { ...m.files, [file.url]: { ...m.files[file.url], finished: true, error: message } },
        }));
      } else {
        state.commit((m) => ({ ...m, files: { ...m.files, [file.url]: { ...m.files[file.url], finished: true } } }));
      }
      inputBytesBase += file.size;
      inputBytesLive = 0;
      options.onProgress?.(progress('scan'));
    }
  } finally {
    await pool?.close();
  }
  state.closeSpools();

  const scanMs = now() - t0;
  // Phase 2: publish, once every file is scanned (a day's records can come from any file).
  const scanned = files.every((f) => state.manifest.files[f.url].finished);
  if (scanned) {
    const spools = state.manifest.spools;
    // Days folded during the scan first: their memory is given back soonest.
    const folded = (key: string) => (folds.has(key, spools[key]) ? 0 : 1);
    const days = Object.keys(spools)
      .sort()
      .sort((a, b) => folded(a) - folded(b))
      .filter((key) => !state.manifest.published.includes(key));
    // Two days at a time: one day's merge and uploads (I/O) overlap the next day's decode and DuckDB work.
    await forEachConcurrently(days, DAYS_IN_FLIGHT, async (key) => {
      if (stopped()) return;
      const day = await publishDay(
        key,
        folds.take(key, spools[key]) ?? state.readSpool(key),
        {
          importId,
          arrivalMs,
          decode: options.decode,
          store: options.store,
          aggregatesFromMs,
          archive: options.archive ?? s3Sink(options.s3, options.bucket),
          format: options.format,
          parquet: options.parquet,
          workDir: join(stateDir, 'out'),
          quarantine,
          flush: options.flush,
        },
        state.spoolPath(key),
      );
      state.commit((m) => ({
        ...m,
        published: [...m.published, key],
        publish: addPublish(m.publish, day),
        scan: {
          ...m.scan,
          copiesDropped: m.scan.copiesDropped + day.copiesDropped,
          invalid: m.scan.invalid + day.quarantined,
          invalidByReason:
            day.quarantined > 0
              ? {
                  ...m.scan.invalidByReason,
                  rate_exceeded: (m.scan.invalidByReason.rate_exceeded ?? 0) + day.quarantined,
                }
              : m.scan.invalidByReason,
          quarantineObjects: m.scan.quarantineObjects + (day.quarantined > 0 ? 1 : 0),
        },
      }));
      options.onProgress?.(progress('publish'));
    });
  }
  const m = state.manifest;
  const complete = scanned && Object.keys(m.spools).every((k) => m.published.includes(k));
  return {
    importId,
    stateDir,
    resumed,
    complete,
    files: files.length,
    filesWithErrors: files.flatMap((f) =>
      m.files[f.url].error ? [{ url: f.url, error: m.files[f.url].error as string }] : [],
    ),
    scan: m.scan,
    publish: m.publish,
    partitions: Object.keys(m.spools).length,
    days: Object.keys(m.spools).sort(),
    elapsedMs: now() - t0,
    scanMs,
    publishMs: now() - t0 - scanMs,
  };
}

function freshManifest(importId: string, files: readonly InputFile[], startedAtMs: number): Manifest {
  return {
    version: MANIFEST_VERSION,
    importId,
    startedAtMs,
    inputs: files,
    files: Object.fromEntries(files.map((f) => [f.url, { doneBytes: 0, finished: false }])),
    spools: {},
    published: [],
    scan: emptyScan(),
    publish: emptyPublish(),
  };
}

/** The first minute a table with this TTL still keeps at `nowMs`: older minutes' items have expired. */
export function ttlCutoff(nowMs: number, ttlDays: number): number {
  return minuteStart(nowMs - ttlDays * 86_400_000);
}

function addPublish(a: PublishCounts, b: PublishCounts): PublishCounts {
  return {
    archived: a.archived + b.archived,
    objects: a.objects + b.objects,
    archiveBytes: a.archiveBytes + b.archiveBytes,
    deviceMinutesWritten: a.deviceMinutesWritten + b.deviceMinutesWritten,
    eventsAlreadyStored: a.eventsAlreadyStored + b.eventsAlreadyStored,
    eventsAdded: a.eventsAdded + b.eventsAdded,
    devicesUpdated: a.devicesUpdated + b.devicesUpdated,
    eventsPastTtl: (a.eventsPastTtl ?? 0) + (b.eventsPastTtl ?? 0),
  };
}

function readErrorMessage(file: InputFile, err: Error): string {
  const truncated = /unexpected end of file/i.test(err.message);
  const what = truncated ? 'truncated gzip' : `read error (${err.message})`;
  return (
    `${file.url}: ${what}: the records before the break were imported, the rest of the file is missing; ` +
    're-export the file and import it again (already imported records are not counted twice).'
  );
}

function s3Sink(client: S3Client, bucket: string): ObjectSink {
  return {
    put: async (key, body, contentType) => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    },
  };
}
