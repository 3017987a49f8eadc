import { type DecodeOptions, decodeBase64Record } from './decode';
import { type InvalidReason, reasonFamily } from './reasons';
import type { EventWindow } from './window';

/** One raw record as a stream delivers it (the fields of a Lambda Kinesis event record we use). */
export interface RawRecord {
  /** Base64 payload. */
  readonly data: string;
  readonly arrivalMs: number;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
}

export interface RejectedRecord {
  readonly record: RawRecord;
  readonly reason: InvalidReason;
}

export interface IngestCounts {
  recordsIn: number;
  added: number;
  /** Copies dropped inside the window (same device, minute and event id). */
  duplicatesInWindow: number;
  invalid: number;
  /** Invalid records by reason family (`missing_field`, `invalid_json`, ...): low-cardinality metric dimensions. */
  invalidByReason: Record<string, number>;
}

export function emptyCounts(): IngestCounts {
  return { recordsIn: 0, added: 0, duplicatesInWindow: 0, invalid: 0, invalidByReason: {} };
}

/**
 * Decodes, validates and adds a batch to the window. Bad records come back with their reason for the
 * quarantine; they never throw and never stop the batch.
 */
export function ingestBatch(
  records: readonly RawRecord[],
  window: EventWindow,
  counts: IngestCounts,
  options: DecodeOptions = {},
): RejectedRecord[] {
  const rejected: RejectedRecord[] = [];
  for (const record of records) {
    counts.recordsIn++;
    if (window.isKnownPayload(record.data)) {
      counts.duplicatesInWindow++;
      continue;
    }
    const decoded = decodeBase64Record(record.data, record.arrivalMs, options);
    let reason: InvalidReason | undefined;
    if (decoded.ok) {
      const outcome = window.add(decoded);
      if (outcome === 'added') counts.added++;
      else if (outcome === 'duplicate') counts.duplicatesInWindow++;
      else reason = 'rate_exceeded';
      if (reason === undefined) window.rememberPayload(record.data);
    } else {
      reason = decoded.reason;
    }
    if (reason !== undefined) {
      counts.invalid++;
      const family = reasonFamily(reason);
      counts.invalidByReason[family] = (counts.invalidByReason[family] ?? 0) + 1;
      rejected.push({ record, reason });
    }
  }
  return rejected;
}
