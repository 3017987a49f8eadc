import { isUtf8 } from 'node:buffer';
import { detectProfile, PROFILES } from './profiles';
import type { DeviceProfile } from './profiles/types';
import { type InvalidReason, outOfRange } from './reasons';

/** Limits applied before and after parsing; both have safe defaults. */
export interface DecodeOptions {
  /** Largest accepted record, in bytes. @default 8192 (a device record is 150-300 bytes) */
  readonly maxRecordBytes?: number;
  /** How far an event time may run ahead of its arrival (device clock skew). @default 300000 (5 min) */
  readonly maxFutureSkewMs?: number;
  /**
   * Events before this time (epoch ms) are `timestamp_too_old`, whatever the profile says.
   * @default each profile's `earliestEventTimeMs`, else DEFAULT_EARLIEST_EVENT_TIME_MS
   */
  readonly earliestEventTimeMs?: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 8192;
export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;
/** 2000-01-01T00:00:00Z: no fleet of this stack has readings older; an unset clock says 1970 or year 0. */
export const DEFAULT_EARLIEST_EVENT_TIME_MS = Date.UTC(2000, 0, 1);

export interface ValidEvent {
  readonly ok: true;
  readonly profile: DeviceProfile;
  readonly record: unknown;
  readonly deviceId: string;
  readonly eventTimeMs: number;
  readonly eventId: number;
}

/**
 * A ValidEvent to fill instead of allocating one (see `decodeRange`'s `into`): the per-record loop's
 * events are read and dropped before the next record, and an object less per record is ~50 bytes less
 * for the young-generation GC to make room for.
 */
export class ReusableEvent implements ValidEvent {
  readonly ok = true;
  profile: DeviceProfile = PROFILES[0];
  record: unknown;
  deviceId = '';
  eventTimeMs = 0;
  eventId = 0;

  /** A copy to keep (the reusable one is overwritten by the next decode). */
  copy(): ValidEvent {
    const { profile, record, deviceId, eventTimeMs, eventId } = this;
    return { ok: true, profile, record, deviceId, eventTimeMs, eventId };
  }
}

export interface InvalidEvent {
  readonly ok: false;
  readonly reason: InvalidReason;
}

export type DecodedEvent = ValidEvent | InvalidEvent;

const invalid = (reason: InvalidReason): InvalidEvent => ({ ok: false, reason });
const INVALID_JSON = invalid('invalid_json');
const INVALID_UTF8 = invalid('invalid_utf8');
const TOO_LARGE = invalid('too_large');
const UNKNOWN_PROFILE = invalid('unknown_profile');
const NOT_AN_OBJECT = invalid('wrong_type:record');
const IN_FUTURE = invalid('timestamp_in_future');
const TOO_OLD = invalid('timestamp_too_old');

/** The encoded length past which base64 data cannot decode to at most `maxBytes`. */
export function maxBase64Length(maxBytes: number): number {
  return Math.ceil(maxBytes / 3) * 4 + 4;
}

/**
 * A reused buffer that base64 records are decoded into (one allocation less per record on the hot
 * path), with a 32-bit word view for fingerprints. Its bytes are valid until the next `decode`.
 */
export class ByteScratch {
  buffer: Buffer = Buffer.allocUnsafeSlow(DEFAULT_MAX_RECORD_BYTES + 16);
  private words = new Int32Array(this.buffer.buffer, 0, this.buffer.length >>> 2);

  /** Decodes base64 into the buffer; returns the byte length. */
  decode(data: string): number {
    if (data.length > this.buffer.length) {
      // Owned (not pooled) memory, so the word view starts aligned at offset 0.
      this.buffer = Buffer.allocUnsafeSlow(data.length + 16);
      this.words = new Int32Array(this.buffer.buffer, 0, this.buffer.length >>> 2);
    }
    return this.buffer.write(data, 'base64');
  }

  /**
   * Decodes base64 into the buffer at `offset`, keeping the bytes before it (growing as needed);
   * returns the byte length. Equal bytes get equal fingerprints only at equally aligned offsets: use
   * multiples of 4.
   */
  decodeAt(data: string, offset: number): number {
    if (offset + data.length > this.buffer.length) {
      const larger = Buffer.allocUnsafeSlow(Math.max(2 * this.buffer.length, offset + data.length + 16));
      this.buffer.copy(larger, 0, 0, offset);
      this.buffer = larger;
      this.words = new Int32Array(larger.buffer, 0, larger.length >>> 2);
    }
    return this.buffer.write(data, offset, this.buffer.length - offset, 'base64');
  }

  /**
   * A well-mixed 32-bit fingerprint of `buffer[start, end)` and its length: the copy cache's key.
   * The benchmark's 100,000 distinct records give 99,999 distinct values; a shared value only sends
   * a copy down the normal path. Word at a time: hashing the base64 string into a Set cost ~12% of
   * the path for records that are no copy.
   */
  fingerprint(start: number, end: number): number {
    const words = this.words;
    const bytes = this.buffer;
    let h = end - start;
    for (; start < end && (start & 3) !== 0; start++) {
      h = Math.imul(h ^ bytes[start], 0x85ebca6b);
      h ^= h >>> 13;
    }
    let i = start >>> 2;
    const whole = end >>> 2;
    for (; i < whole; i++) {
      h = Math.imul(h ^ words[i], 0x9e3779b1);
      h ^= h >>> 15;
    }
    for (let b = Math.max(start, whole << 2); b < end; b++) {
      h = Math.imul(h ^ bytes[b], 0x85ebca6b);
      h ^= h >>> 13;
    }
    return h;
  }
}

const shared = new ByteScratch();

/**
 * Base64 Kinesis data (as Lambda delivers it) → a validated event or the exact reason it is not one.
 * Never throws: every input, however malformed, maps to a result.
 */
export function decodeBase64Record(data: string, arrivalMs: number, options: DecodeOptions = {}): DecodedEvent {
  const max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  // Reject on the encoded length first so a 1 MB record is never decoded.
  if (typeof data !== 'string' || data.length > maxBase64Length(max)) return TOO_LARGE;
  const length = shared.decode(data);
  return decodeRange(shared.buffer, 0, length, arrivalMs, options);
}

/** Raw record bytes → a validated event or the reason. */
export function decodeBytes(bytes: Uint8Array, arrivalMs: number, options: DecodeOptions = {}): DecodedEvent {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeRange(buffer, 0, buffer.length, arrivalMs, options);
}

/**
 * `buffer[start, end)` (one record, or one sub-record of an aggregate) → a validated event or the reason.
 * A valid event is written `into` the given reusable one when there is one.
 */
export function decodeRange(
  buffer: Buffer,
  start: number,
  end: number,
  arrivalMs: number,
  options: DecodeOptions = {},
  into?: ReusableEvent,
): DecodedEvent {
  if (end - start > (options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES)) return TOO_LARGE;
  const text = buffer.toString('utf8', start, end);
  // Decoding replaces invalid UTF-8 with U+FFFD; only then pay for the exact check (a real U+FFFD is valid).
  if (text.indexOf('\uFFFD') >= 0 && !isUtf8(buffer.subarray(start, end))) return INVALID_UTF8;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return INVALID_JSON;
  }
  return validateParsed(parsed, arrivalMs, options, into);
}

/** A parsed JSON value → a validated event (written `into` the reusable one when given) or the reason. */
export function validateParsed(
  parsed: unknown,
  arrivalMs: number,
  options: DecodeOptions = {},
  into?: ReusableEvent,
): DecodedEvent {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return NOT_AN_OBJECT;
  const obj = parsed as Record<string, unknown>;
  const profile = detectProfile(obj);
  if (profile === undefined) return UNKNOWN_PROFILE;
  const result = profile.validate(obj);
  if (!result.ok) return invalid(result.reason);
  const record = result.record;
  const eventTimeMs = profile.eventTime(record);
  if (Number.isNaN(eventTimeMs)) return invalid(outOfRange(profile.eventTimeField));
  if (eventTimeMs > arrivalMs + (options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS)) return IN_FUTURE;
  if (eventTimeMs < (options.earliestEventTimeMs ?? profile.earliestEventTimeMs ?? DEFAULT_EARLIEST_EVENT_TIME_MS)) {
    return TOO_OLD;
  }
  const deviceId = profile.deviceId(record);
  const eventId = profile.eventId(record, eventTimeMs);
  if (into === undefined) return { ok: true, profile, record, deviceId, eventTimeMs, eventId };
  into.profile = profile;
  into.record = record;
  into.deviceId = deviceId;
  into.eventTimeMs = eventTimeMs;
  into.eventId = eventId;
  return into;
}
