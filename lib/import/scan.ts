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
import { forEachLine } from './chunks';
import { LineSet } from './copies';
import { type CsvLayout, csvRowToJson, parseCsvRows } from './csv';
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

/** A chunk sent to a scan worker: its bytes are `bytes[0, length)`, transferred (and sent back in the result). */
export interface ScanJob {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly start: number;
  /** NDJSON only: a CSV layout holds the profile's functions, which cannot cross threads. */
  readonly ctx: Omit<ScanContext, 'csv'>;
}

export interface ScanResult extends ChunkScan {
  readonly id: number;
  /** Each spool's new lines, in chunk order. */
  readonly spools: readonly (readonly [string, Uint8Array])[];
  readonly bytes: Uint8Array;
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
 * reasons); a byte-identical copy of a line already seen in the chunk is dropped before it is parsed;
 * valid lines go to their profile's spool for their event-time day; the rest come back for the
 * quarantine. Aggregation waits for phase 2, when a day's events are all known, so that each
 * device-minute is written once.
 */
export function scanChunk(chunk: Buffer, chunkStart: number, ctx: ScanContext, sink: SpoolSink): ChunkScan {
  const counts: ScanCounts = {
    records: 0,
    bytes: chunk.length,
    copiesDropped: 0,
    invalid: 0,
    invalidByReason: {},
    quarantineObjects: 0,
  };
  const rejected: RejectedRecord[] = [];
  // Spool keys by profile, then day: a chunk mixes fleets within a day.
  const days = new Map<string, Map<number, string>>();
  const options = ctx.decode ?? {};

  const reject = (data: string, offset: number, reason: InvalidReason) => {
    counts.invalid++;
    counts.invalidByReason[reason] = (counts.invalidByReason[reason] ?? 0) + 1;
    const record: RawRecord = {
      data,
      arrivalMs: ctx.arrivalMs,
      sequenceNumber: String(offset).padStart(15, '0'),
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

  if (ctx.csv === undefined) {
    const seen = new LineSet(chunk);
    forEachLine(chunk, (s, e) => {
      counts.records++;
      const fp = seen.fingerprint(s, e);
      if (seen.has(fp, s, e)) {
        counts.copiesDropped++;
        return;
      }
      const decoded = decodeRange(chunk, s, e, ctx.arrivalMs, options);
      if (!decoded.ok) {
        reject(chunk.toString('base64', s, e), chunkStart + s, decoded.reason);
        return;
      }

      seen.add(fp, s, e);
      accept(decoded, chunk, s, e);
    });
    return { rejected, counts };
  }

  const layout = ctx.csv;
  const seen = new Set<string>();
  const text = chunk.toString('utf8');
  let offset = chunkStart;
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
      reject(Buffer.from(rawLine).toString('base64'), at, wrongType('csv_row'));
      continue;
    }
    const json = Buffer.from(csvRowToJson(layout, row));
    const decoded = decodeBytes(json, ctx.arrivalMs, options);
    if (!decoded.ok) {
      reject(Buffer.from(rawLine).toString('base64'), at, decoded.reason);
      continue;
    }
    seen.add(rawLine);
    accept(decoded, json, 0, json.length);
  }
  return { rejected, counts };
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
