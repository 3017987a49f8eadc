import { compileProfile } from './compiled-profile';
import {
  ByteScratch,
  DEFAULT_MAX_FUTURE_SKEW_MS,
  DEFAULT_MAX_RECORD_BYTES,
  type DecodeOptions,
  decodeRange,
  maxBase64Length,
  ReusableEvent,
  type ValidEvent,
} from './decode';
import {
  type AggregateStore,
  DEFAULT_ALLOWED_LATENESS_MS,
  isMinuteClosed,
  type MinuteRef,
  minuteRefKey,
} from './flush';
import { AggregateReader, isAggregateBase64, KINESIS_MAX_RECORD_BYTES } from './kpl';
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
  /**
   * Set on a user record taken out of a KPL aggregate: its index there (Kinesis's sub-sequence number).
   * `data` is then the user record's bytes, `partitionKey` its own from the aggregate's table.
   */
  readonly subSequenceNumber?: number;
}

export interface RejectedRecord {
  readonly record: RawRecord;
  readonly reason: InvalidReason;
}

export interface IngestCounts {
  /** Readings in: plain records, the user records of KPL aggregates, and 1 per damaged aggregate. */
  recordsIn: number;
  /** Kinesis records that were KPL aggregates (damaged ones included). */
  aggregatesIn: number;
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
  return {
    recordsIn: 0,
    aggregatesIn: 0,
    added: 0,
    duplicatesInWindow: 0,
    invalid: 0,
    invalidByReason: {},
    lateCopies: 0,
  };
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
  const rejected = ingest(records, window, counts, options, {
    mayBeLate: (event, arrivalMs) => minuteStart(event.eventTimeMs) + horizon <= arrivalMs,
    hold: (event, record, index, fingerprint) => held.push({ event, record, index, fingerprint }),
  });
  if (held.length === 0) return rejected.map((r) => r.rejected);

  const watermarks = await store.getWatermarks([...new Set(held.map((h) => h.event.deviceId))]);
  const closed: Held[] = [];
  for (const h of held) {
    const { deviceId, eventTimeMs } = h.event;
    if (isMinuteClosed(minuteStart(eventTimeMs), watermarks.get(deviceId), lateness)) closed.push(h);
    else if (addOrReject(h.event, h.record, h.index, window, counts, rejected) && h.fingerprint !== undefined) {
      window.rememberPayload(h.fingerprint, h.record.data);
    }
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
  /** A plain record's fingerprint, to remember it as a known copy once it is in (none for user records). */
  readonly fingerprint: number | undefined;
}

interface IndexedReject {
  readonly rejected: RejectedRecord;
  readonly index: number;
}

/** Events the caller screens before they may enter the window (see `ingestScreened`). */
interface Screen {
  /** True when the event must be held back: called for every valid event, so no allocation. */
  mayBeLate(event: ValidEvent, arrivalMs: number): boolean;
  hold(event: ValidEvent, record: RawRecord, index: number, fingerprint: number | undefined): void;
}

/** The ingest loop's reused decode buffer and aggregate reader: records are decoded one at a time, synchronously. */
const scratch = new ByteScratch();
const aggregate = new AggregateReader();
/** The loop's decoded event: `Screen.hold` keeps a copy, nothing else keeps it past its record. */
const event = new ReusableEvent();

/**
 * Position of a user record in the batch for ordering the quarantine: a sub-record sorts within its
 * aggregate (an aggregate of 1 MiB holds fewer than 2^18 user records).
 */
const SUB_RECORD_SPAN = 2 ** 18;

/** Plain records per pass of the loop (see `ingest`): ~40 KB of decoded bytes, kept in the cache between passes. */
const CHUNK = 256;

/** Marks a record of the chunk that the copy cache is not asked about (an aggregate, a record too large). */
const NOT_PLAIN = -1;

/** `Chunk.twins` bits: an earlier record of the chunk has the same fingerprint; a later one has. */
const EARLIER_TWIN = 1;
const LATER_TWIN = 2;

/**
 * The chunk's plain records, decoded side by side into one buffer (each at a multiple of 4 bytes, so
 * that equal bytes get equal fingerprints), with what the passes learn about each. Reused.
 */
class Chunk {
  readonly bytes = new ByteScratch();
  readonly start = new Int32Array(CHUNK);
  readonly end = new Int32Array(CHUNK);
  readonly fingerprint = new Int32Array(CHUNK);
  /** Readings the copy cache knows the bytes for (0: no copy), or NOT_PLAIN. */
  readonly known = new Int32Array(CHUNK);
  /** EARLIER_TWIN and LATER_TWIN bits. */
  readonly twins = new Uint8Array(CHUNK);
  /** 1 when the record's bytes are to be remembered as a known copy in pass 3. */
  readonly accepted = new Uint8Array(CHUNK);
  /** Fingerprint → last record of the chunk with it so far: open addressing, a slot holds the record + 1. */
  private readonly lastByFingerprint = new Int32Array(4 * CHUNK);

  /** Sets `twins` for the chunk's plain records. */
  findTwins(count: number): void {
    const slots = this.lastByFingerprint;
    const mask = slots.length - 1;
    slots.fill(0);
    this.twins.fill(0, 0, count);
    for (let k = 0; k < count; k++) {
      if (this.known[k] === NOT_PLAIN) continue;
      const fingerprint = this.fingerprint[k];
      for (let i = fingerprint & mask; ; i = (i + 1) & mask) {
        const slot = slots[i];
        if (slot === 0 || this.fingerprint[slot - 1] === fingerprint) {
          if (slot !== 0) {
            this.twins[slot - 1] |= LATER_TWIN;
            this.twins[k] |= EARLIER_TWIN;
          }
          slots[i] = k + 1;
          break;
        }
      }
    }
  }
}

const chunk = new Chunk();

/**
 * The per-record loop, in chunks of three passes; `screen` may keep valid events out of the window for
 * the caller to decide on. The copy cache is a table of up to 250,000 payloads, far larger than the CPU
 * caches, and a record that is no copy costs one probe and one insert into it, each a cache miss. One
 * record at a time, every miss stalled the parse behind it (~20% of the path on records without
 * copies); in a loop that only probes (pass 1) or only inserts (pass 3), the misses of many records
 * overlap. Pass 2 does the per-record work in record order. The cache answers as it would one record at
 * a time: only a record with a twin (the same fingerprint) earlier in the chunk could get another
 * answer, so it asks again in pass 2, and a record with a twin later in the chunk is remembered at once.
 */
function ingest(
  records: readonly RawRecord[],
  window: EventWindow,
  counts: IngestCounts,
  options: DecodeOptions,
  screen?: Screen,
): IndexedReject[] {
  const rejected: IndexedReject[] = [];
  const maxPlain = maxBase64Length(options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
  const { bytes, start, end, fingerprint, known, twins, accepted } = chunk;
  for (let first = 0; first < records.length; first += CHUNK) {
    const count = Math.min(CHUNK, records.length - first);
    // Pass 1: decode and fingerprint the plain records, then ask the copy cache about all of them.
    let offset = 0;
    for (let k = 0; k < count; k++) {
      const data = records[first + k].data;
      accepted[k] = 0;
      if (typeof data !== 'string' || data.length > maxPlain || isAggregateBase64(data)) {
        known[k] = NOT_PLAIN;
        continue;
      }
      known[k] = 0;
      const length = bytes.decodeAt(data, offset);
      start[k] = offset;
      end[k] = offset + length;
      fingerprint[k] = bytes.fingerprint(offset, offset + length);
      offset = (offset + length + 3) & ~3;
    }
    for (let k = 0; k < count; k++) {
      if (known[k] !== NOT_PLAIN) known[k] = window.knownPayload(fingerprint[k], records[first + k].data);
    }
    chunk.findTwins(count);
    // Pass 2: every record in order.
    for (let k = 0; k < count; k++) {
      const index = first + k;
      const record = records[index];
      const data = record.data;
      const position = index * SUB_RECORD_SPAN;
      if (known[k] === NOT_PLAIN && typeof data === 'string' && isAggregateBase64(data)) {
        ingestAggregate(record, position, window, counts, options, rejected, screen);
        continue;
      }
      counts.recordsIn++;
      // Rejected on the encoded length first, so a 1 MB record is never decoded.
      if (known[k] === NOT_PLAIN) {
        reject(record, position, 'too_large', counts, rejected);
        continue;
      }
      if (twins[k] & EARLIER_TWIN) known[k] = window.knownPayload(fingerprint[k], data);
      if (known[k] > 0) {
        counts.duplicatesInWindow++;
        continue;
      }
      const decoded = decodeRange(bytes.buffer, start[k], end[k], record.arrivalMs, options, event);
      if (!decoded.ok) reject(record, position, decoded.reason, counts, rejected);
      else if (screen?.mayBeLate(decoded, record.arrivalMs)) {
        screen.hold(event.copy(), record, position, fingerprint[k]);
      } else if (addOrReject(decoded, record, position, window, counts, rejected)) {
        if (twins[k] & LATER_TWIN) window.rememberPayload(fingerprint[k], data);
        else accepted[k] = 1;
      }
    }
    // Pass 3: remember the other accepted bytes as known copies.
    for (let k = 0; k < count; k++) {
      if (accepted[k] === 1) window.rememberPayload(fingerprint[k], records[first + k].data);
    }
  }
  return rejected;
}

/**
 * One KPL aggregate: decoded once, MD5 checked, its user records validated in place. A damaged
 * aggregate is one `bad_aggregate` reject (its bytes quarantined whole, nothing of it counted: its
 * readings cannot be trusted); a bad user record is quarantined alone, under its own partition key and
 * sub-sequence number, and the other readings count. The aggregate is remembered as a known copy (a
 * retried PutRecords repeats it byte for byte) only when every reading of it entered the window.
 */
function ingestAggregate(
  record: RawRecord,
  position: number,
  window: EventWindow,
  counts: IngestCounts,
  options: DecodeOptions,
  rejected: IndexedReject[],
  screen: Screen | undefined,
): void {
  counts.aggregatesIn++;
  const data = record.data;
  if (data.length > maxBase64Length(KINESIS_MAX_RECORD_BYTES)) {
    counts.recordsIn++;
    reject(record, position, 'too_large', counts, rejected);
    return;
  }
  const length = scratch.decode(data);
  const buffer = scratch.buffer;
  // The MD5 trailer and the length identify an aggregate: no need to hash its 25 KB.
  const fingerprint = Math.imul(scratch.fingerprint(Math.max(0, length - 16), length) ^ length, 0x9e3779b1);
  const known = window.knownPayload(fingerprint, data);
  if (known > 0) {
    counts.recordsIn += known;
    counts.duplicatesInWindow += known;
    return;
  }
  const view = aggregate;
  if (view.read(buffer, 0, length) !== undefined) {
    counts.recordsIn++;
    reject(record, position, 'bad_aggregate', counts, rejected);
    return;
  }
  const { count, dataStart, dataEnd } = view;
  counts.recordsIn += count;
  let whole = true;
  for (let i = 0; i < count; i++) {
    const decoded = decodeRange(buffer, dataStart[i], dataEnd[i], record.arrivalMs, options, event);
    if (!decoded.ok) {
      reject(userRecord(record, view, i), position + i, decoded.reason, counts, rejected);
      whole = false;
    } else if (screen?.mayBeLate(decoded, record.arrivalMs)) {
      screen.hold(event.copy(), userRecord(record, view, i), position + i, undefined);
      whole = false;
    } else {
      const outcome = window.add(decoded);
      if (outcome === 'overflow') {
        reject(userRecord(record, view, i), position + i, 'rate_exceeded', counts, rejected);
        whole = false;
      } else if (outcome === 'added') counts.added++;
      else counts.duplicatesInWindow++;
    }
  }
  if (whole) window.rememberPayload(fingerprint, data, count);
}

/**
 * A user record of an aggregate as a record of its own, for the quarantine or the lateness screen
 * (only built for those): its bytes copied out of the reused decode buffer.
 */
function userRecord(parent: RawRecord, view: AggregateReader, i: number): RawRecord {
  const bytes = view.buffer.subarray(view.dataStart[i], view.dataEnd[i]);
  return {
    data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    arrivalMs: parent.arrivalMs,
    sequenceNumber: parent.sequenceNumber,
    partitionKey: view.partitionKey(i),
    subSequenceNumber: i,
  };
}

/** Arguments spread rather than an object: this runs once per record, on the hot path. */
function addOrReject(
  event: ValidEvent,
  record: RawRecord,
  index: number,
  window: EventWindow,
  counts: IngestCounts,
  rejected: IndexedReject[],
): boolean {
  const outcome = window.add(event);
  if (outcome === 'overflow') {
    reject(record, index, 'rate_exceeded', counts, rejected);
    return false;
  }
  if (outcome === 'added') counts.added++;
  else counts.duplicatesInWindow++;
  return true;
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
