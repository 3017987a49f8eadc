import {
  type DecodeOptions,
  decodeBytes,
  decodeRange,
  type InvalidReason,
  type RawRecord,
  type RejectedRecord,
  type ValidEvent,
  wrongType,
} from '../core';
import { type CsvLayout, csvRowToJson, parseCsvRows } from './csv';
import { indexLines, type LineIndex } from './line-index';
import type { ScanCounts } from './manifest';

/**
 * Receives a valid record for the spool (and archive day) it belongs to, `<profile>/<yyyy-mm-dd>` of
 * its event time: `src[start, end)` is the record's bytes (no newline), `hour` its event-time hour
 * (the spool line's prefix: lib/import/spool-lines.ts) and `event` what the core decoded from it.
 * The bytes are valid only during the call: a sink copies what it keeps.
 */
export type SpoolSink = (key: string, hour: number, src: Buffer, start: number, end: number, event: ValidEvent) => void;

const HOUR_MS = 3_600_000;

export interface ChunkScan {
  readonly rejected: RejectedRecord[];
  readonly counts: ScanCounts;
}

/** A chunk sent to a scan worker: its bytes are `bytes[0, length)`, shared memory (`ScanPool.buffer`). */
export interface ScanJob {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly length: number;
}

/** A worker's answer: the chunk's line index (lib/import/line-index.ts). */
export interface IndexResult {
  readonly id: number;
  readonly index: LineIndex;
}

export interface ScanContext {
  /** The arrival time every imported record gets: the import's start. */
  readonly arrivalMs: number;
  /** Names the quarantine lines' `partitionKey`: the file the record came from. */
  readonly source: string;
  readonly decode?: DecodeOptions;
  /** Set for CSV files: the header's layout. */
  readonly csv?: CsvLayout;
}

const DAY_MS = 86_400_000;

/**
 * Phase 1 for one chunk: every line is validated by the core (`decodeBytes`, the live path's decoder and
 * reasons); a byte-identical copy of a line already seen in the chunk is dropped before it is parsed
 * (a copy of an invalid line is rejected again, as itself); valid lines go to their profile's spool for
 * their event-time day; the rest come back for the quarantine. Aggregation waits for phase 2, when a
 * day's events are all known, so that each device-minute is written once.
 */
export function scanChunk(chunk: Buffer, chunkStart: number, ctx: ScanContext, sink: SpoolSink): ChunkScan {
  return ctx.csv === undefined
    ? scanIndexed(chunk, chunkStart, indexLines(chunk), ctx, sink)
    : scanCsv(chunk, chunkStart, ctx, ctx.csv, sink);
}

/**
 * `scanChunk` of an NDJSON chunk whose lines are already indexed (`indexLines`, by a scan worker or just
 * now): the distinct lines are decoded in chunk order, the copies only counted, unless what they copy
 * was rejected. The rejects come back in chunk order either way.
 */
export function scanIndexed(
  chunk: Buffer,
  chunkStart: number,
  index: LineIndex,
  ctx: ScanContext,
  sink: SpoolSink,
): ChunkScan {
  const scan = chunkScanner(chunk.length, chunkStart, ctx, sink);
  const { lines, lineCount, copies, copyCount } = index;
  const options = ctx.decode ?? {};
  scan.counts.records = lineCount + copyCount;
  /** Rejected distinct lines by start: their copies are rejected too. */
  let rejectedAt: Map<number, { end: number; reason: InvalidReason }> | undefined;
  for (let i = 0; i < lineCount; i++) {
    const s = lines[2 * i];
    const e = lines[2 * i + 1];
    const decoded = decodeRange(chunk, s, e, ctx.arrivalMs, options);
    if (!decoded.ok) {
      scan.reject(chunk.toString('base64', s, e), s, decoded.reason);
      rejectedAt ??= new Map();
      rejectedAt.set(s, { end: e, reason: decoded.reason });
      continue;
    }
    scan.accept(decoded, chunk, s, e);
  }
  let copiesRejected = false;
  for (let j = 0; j < copyCount; j++) {
    const first = rejectedAt?.get(copies[2 * j]);
    if (first === undefined) {
      scan.counts.copiesDropped++;
      continue;
    }
    const s = copies[2 * j + 1];
    scan.reject(chunk.toString('base64', s, s + first.end - copies[2 * j]), s, first.reason);
    copiesRejected = true;
  }
  // Sequence numbers are zero-padded offsets: in chunk order as strings.
  if (copiesRejected) scan.rejected.sort((a, b) => (a.record.sequenceNumber < b.record.sequenceNumber ? -1 : 1));
  return { rejected: scan.rejected, counts: scan.counts };
}

function scanCsv(chunk: Buffer, chunkStart: number, ctx: ScanContext, layout: CsvLayout, sink: SpoolSink): ChunkScan {
  const scan = chunkScanner(chunk.length, chunkStart, ctx, sink);
  const { counts } = scan;
  const options = ctx.decode ?? {};
  const seen = new Set<string>();
  const text = chunk.toString('utf8');
  let offset = 0;
  for (const { row, raw } of parseCsvRows(text)) {
    const at = offset;
    offset += Buffer.byteLength(raw);
    if (raw.trim() === '') continue;
    counts.records++;
    const rawLine = raw.replace(/\r?\n$/, '');
    if (seen.has(rawLine)) {
      counts.copiesDropped++;
      continue;
    }
    if (row === undefined) {
      scan.reject(Buffer.from(rawLine).toString('base64'), at, wrongType('csv_row'));
      continue;
    }
    const json = Buffer.from(csvRowToJson(layout, row));
    const decoded = decodeBytes(json, ctx.arrivalMs, options);
    if (!decoded.ok) {
      scan.reject(Buffer.from(rawLine).toString('base64'), at, decoded.reason);
      continue;
    }
    seen.add(rawLine);
    scan.accept(decoded, json, 0, json.length);
  }
  return { rejected: scan.rejected, counts };
}

/** A chunk's counts and rejects, and the two ways a record leaves the scan. */
function chunkScanner(bytes: number, chunkStart: number, ctx: ScanContext, sink: SpoolSink) {
  const counts: ScanCounts = {
    records: 0,
    bytes,
    copiesDropped: 0,
    invalid: 0,
    invalidByReason: {},
    quarantineObjects: 0,
  };
  const rejected: RejectedRecord[] = [];
  // Spool keys by profile, then day: a chunk mixes fleets within a day.
  const days = new Map<string, Map<number, string>>();
  /** `offset`: in the chunk. */
  const reject = (data: string, offset: number, reason: InvalidReason) => {
    counts.invalid++;
    counts.invalidByReason[reason] = (counts.invalidByReason[reason] ?? 0) + 1;
    const record: RawRecord = {
      data,
      arrivalMs: ctx.arrivalMs,
      sequenceNumber: String(chunkStart + offset).padStart(15, '0'),
      partitionKey: ctx.source,
    };
    rejected.push({ record, reason });
  };
  const accept = (event: ValidEvent, src: Buffer, start: number, end: number) => {
    const day = Math.floor(event.eventTimeMs / DAY_MS);
    let byDay = days.get(event.profile.name);
    if (byDay === undefined) {
      byDay = new Map();
      days.set(event.profile.name, byDay);
    }
    let key = byDay.get(day);
    if (key === undefined) {
      key = `${event.profile.name}/${new Date(day * DAY_MS).toISOString().slice(0, 10)}`;
      byDay.set(day, key);
    }
    sink(key, Math.floor((event.eventTimeMs - day * DAY_MS) / HOUR_MS), src, start, end, event);
  };
  return { counts, rejected, reject, accept };
}

export function addScanCounts(total: ScanCounts, add: ScanCounts): ScanCounts {
  const invalidByReason = { ...total.invalidByReason };
  for (const [k, v] of Object.entries(add.invalidByReason)) invalidByReason[k] = (invalidByReason[k] ?? 0) + v;
  return {
    records: total.records + add.records,
    bytes: total.bytes + add.bytes,
    copiesDropped: total.copiesDropped + add.copiesDropped,
    invalid: total.invalid + add.invalid,
    invalidByReason,
    quarantineObjects: total.quarantineObjects + add.quarantineObjects,
  };
}
