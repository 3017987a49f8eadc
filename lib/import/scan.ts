import {
  type DecodeOptions,
  decodeBytes,
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
 * its event time: the spool line is `hour` (SPOOL_HOUR_BYTES ASCII digits of the event-time hour,
 * so the archive writer partitions by hour without parsing timestamps again) then the record's bytes
 * and a newline.
 */
export type SpoolSink = (key: string, hour: Buffer, line: Buffer) => void;

/** A spool line starts with the event-time hour, `00`..`23`. */
export const SPOOL_HOUR_BYTES = 2;
const HOUR_PREFIXES = Array.from({ length: 24 }, (_, h) => Buffer.from(String(h).padStart(SPOOL_HOUR_BYTES, '0')));
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

const NEWLINE = Buffer.from('\n');

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
  const accept = (event: ValidEvent, line: Buffer) => {
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
    sink(key, HOUR_PREFIXES[Math.floor((event.eventTimeMs - day * DAY_MS) / HOUR_MS)], line);
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
      const bytes = chunk.subarray(s, e);
      const decoded = decodeBytes(bytes, ctx.arrivalMs, options);
      if (!decoded.ok) {
        reject(bytes.toString('base64'), chunkStart + s, decoded.reason);
        return;
      }

      seen.add(fp, s, e);
      // The line and its newline are adjacent in the chunk unless it ended in \r\n or at EOF.
      accept(decoded, chunk[e] === 0x0a ? chunk.subarray(s, e + 1) : Buffer.concat([bytes, NEWLINE]));
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
    const json = Buffer.from(`${csvRowToJson(layout, row)}\n`);
    const decoded = decodeBytes(json.subarray(0, json.length - 1), ctx.arrivalMs, options);
    if (!decoded.ok) {
      reject(Buffer.from(rawLine).toString('base64'), at, decoded.reason);
      continue;
    }
    seen.add(rawLine);
    accept(decoded, json);
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
