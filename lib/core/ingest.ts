import { compileProfile } from './compiled-profile';
import { DEFAULT_MAX_FUTURE_SKEW_MS, type DecodeOptions, decodeBase64Record, type ValidEvent } from './decode';
import {
  type AggregateStore,
  DEFAULT_ALLOWED_LATENESS_MS,
  isMinuteClosed,
  type MinuteRef,
  minuteRefKey,
} from './flush';
import { type InvalidReason, reasonFamily } from './reasons';
import { minuteStart } from './time';
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
  /** Rejected records (quarantined), `too_late` included. */
  invalid: number;
  /** Invalid records by reason family (`missing_field`, `invalid_json`, ...): low-cardinality metric dimensions. */
  invalidByReason: Record<string, number>;
  /** Records of closed minutes whose event the aggregates already hold: copies, counted and not quarantined. */
  lateCopies: number;
}

export function emptyCounts(): IngestCounts {
  return { recordsIn: 0, added: 0, duplicatesInWindow: 0, invalid: 0, invalidByReason: {}, lateCopies: 0 };
}

/**
 * Decodes, validates and adds a batch to the window. Bad records come back with their reason for the
 * quarantine; they never throw and never stop the batch. No lateness screening: see `ingestScreened`.
 */
export function ingestBatch(
  records: readonly RawRecord[],
  window: EventWindow,
  counts: IngestCounts,
  options: DecodeOptions = {},
): RejectedRecord[] {
  return ingest(records, window, counts, options).map((r) => r.rejected);
}

/** What the lateness screen reads: the watermarks, and the minutes of late events to tell copies from the rest. */
export type LatenessStore = Pick<AggregateStore, 'getWatermarks' | 'getMinutes'>;

export interface IngestOptions extends DecodeOptions {
  /** As the flush's (a device-minute closes once the watermark passes its end by this). @default 600000 */
  readonly allowedLatenessMs?: number;
}

/**
 * Slack on the approximate arrival time, which Kinesis does not promise to be monotonic: an event within
 * this of the lateness bound is screened too (it costs a watermark read, never a wrong verdict).
 */
const ARRIVAL_SLACK_MS = 60_000;

/**
 * `ingestBatch`, plus the lateness verdict while the raw records are still at hand, so that a late record
 * whose event the aggregates do not hold is quarantined as `too_late` (a copy of a counted event is only
 * counted, in `lateCopies`). Late events never enter the window. The verdict is the flush's: the
 * device's watermark (unchanged within a window: only a flush moves it, and a flush starts a new window)
 * against the minute's end plus the allowed lateness.
 *
 * Cost: only events that could be late are screened. A watermark is a flushed event's time, never more
 * than its arrival plus the future skew, so an event whose minute ends later than `arrival + skew -
 * lateness` cannot be late: real-time traffic reads nothing more. Per batch that carries older events
 * (a backlog, a straggler): one 0.5 RRU watermark read per such device; per device-minute found closed,
 * one 1 RRU consistent read (a replayed window may have written it a moment ago).
 */
export async function ingestScreened(
  records: readonly RawRecord[],
  window: EventWindow,
  counts: IngestCounts,
  store: LatenessStore,
  options: IngestOptions = {},
): Promise<RejectedRecord[]> {
  const lateness = options.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS;
  const horizon = lateness + 60_000 - (options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS) - ARRIVAL_SLACK_MS;
  const held: Held[] = [];
  const rejected = ingest(records, window, counts, options, (event, record, index) => {
    if (minuteStart(event.eventTimeMs) + horizon > record.arrivalMs) return false;
    held.push({ event, record, index });
    return true;
  });
  if (held.length === 0) return rejected.map((r) => r.rejected);

  const watermarks = await store.getWatermarks([...new Set(held.map((h) => h.event.deviceId))]);
  const closed: Held[] = [];
  for (const h of held) {
    const { deviceId, eventTimeMs } = h.event;
    if (isMinuteClosed(minuteStart(eventTimeMs), watermarks.get(deviceId), lateness)) closed.push(h);
    else addOrReject(h.event, h.record, h.index, window, counts, rejected);
  }
  if (closed.length > 0) {
    const refs = new Map<string, MinuteRef>();
    for (const { event } of closed) {
      const minuteStartMs = minuteStart(event.eventTimeMs);
      const ref = { compiled: compileProfile(event.profile), deviceId: event.deviceId, minuteStartMs };
      refs.set(minuteRefKey(event.deviceId, minuteStartMs), ref);
    }
    const stored = await store.getMinutes([...refs.values()], true);
    for (const h of closed) {
      const minute = stored.get(minuteRefKey(h.event.deviceId, minuteStart(h.event.eventTimeMs)));
      if (minute?.ids.includes(h.event.eventId)) counts.lateCopies++;
      else reject(h.record, h.index, 'too_late', counts, rejected);
    }
  }
  // Back in record order: the quarantine object is named by its first and last sequence numbers.
  return rejected.sort((a, b) => a.index - b.index).map((r) => r.rejected);
}

interface Held {
  readonly event: ValidEvent;
  readonly record: RawRecord;
  readonly index: number;
}

interface IndexedReject {
  readonly rejected: RejectedRecord;
  readonly index: number;
}

/** The per-record loop; `hold` may keep a valid event out of the window for the caller to decide on. */
function ingest(
  records: readonly RawRecord[],
  window: EventWindow,
  counts: IngestCounts,
  options: DecodeOptions,
  hold?: (event: ValidEvent, record: RawRecord, index: number) => boolean,
): IndexedReject[] {
  const rejected: IndexedReject[] = [];
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    counts.recordsIn++;
    if (window.isKnownPayload(record.data)) {
      counts.duplicatesInWindow++;
      continue;
    }
    const decoded = decodeBase64Record(record.data, record.arrivalMs, options);
    if (!decoded.ok) reject(record, index, decoded.reason, counts, rejected);
    else if (!hold?.(decoded, record, index)) addOrReject(decoded, record, index, window, counts, rejected);
  }
  return rejected;
}

/** Arguments spread rather than an object: this runs once per record, on the hot path. */
function addOrReject(
  event: ValidEvent,
  record: RawRecord,
  index: number,
  window: EventWindow,
  counts: IngestCounts,
  rejected: IndexedReject[],
): void {
  const outcome = window.add(event);
  if (outcome === 'overflow') {
    reject(record, index, 'rate_exceeded', counts, rejected);
    return;
  }
  if (outcome === 'added') counts.added++;
  else counts.duplicatesInWindow++;
  window.rememberPayload(record.data);
}

function reject(
  record: RawRecord,
  index: number,
  reason: InvalidReason,
  counts: IngestCounts,
  rejected: IndexedReject[],
): void {
  counts.invalid++;
  const family = reasonFamily(reason);
  counts.invalidByReason[family] = (counts.invalidByReason[family] ?? 0) + 1;
  rejected.push({ rejected: { record, reason }, index });
}
