import { isUtf8 } from 'node:buffer';
import { detectProfile } from './profiles';
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

/**
 * Base64 Kinesis data (as Lambda delivers it) → a validated event or the exact reason it is not one.
 * Never throws: every input, however malformed, maps to a result.
 */
export function decodeBase64Record(data: string, arrivalMs: number, options: DecodeOptions = {}): DecodedEvent {
  const max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  // Reject on the encoded length first so a 1 MB record is never decoded.
  if (typeof data !== 'string' || data.length > Math.ceil(max / 3) * 4 + 4) return TOO_LARGE;
  // Decode into a reused buffer: one allocation less per record on the hot path.
  if (data.length > scratch.length) scratch = Buffer.allocUnsafe(data.length);
  const length = scratch.write(data, 'base64');
  return decodeUtf8(scratch, length, arrivalMs, options);
}

let scratch = Buffer.allocUnsafe(DEFAULT_MAX_RECORD_BYTES + 16);

/**
 * Base64 data → its bytes in a buffer reused across calls (valid until the next call of this module):
 * a KPL aggregate is decoded once, and its sub-records are read in place with `decodeRange`.
 */
export function base64Bytes(data: string): { readonly buffer: Buffer; readonly length: number } {
  if (data.length > scratch.length) scratch = Buffer.allocUnsafe(data.length);
  return { buffer: scratch, length: scratch.write(data, 'base64') };
}

/** Raw record bytes → a validated event or the reason. */
export function decodeBytes(bytes: Uint8Array, arrivalMs: number, options: DecodeOptions = {}): DecodedEvent {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeRange(buffer, 0, buffer.length, arrivalMs, options);
}

function decodeUtf8(buffer: Buffer, length: number, arrivalMs: number, options: DecodeOptions): DecodedEvent {
  return decodeRange(buffer, 0, length, arrivalMs, options);
}

/** `buffer[start, end)` (one record, or one sub-record of an aggregate) → a validated event or the reason. */
export function decodeRange(
  buffer: Buffer,
  start: number,
  end: number,
  arrivalMs: number,
  options: DecodeOptions = {},
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
  return validateParsed(parsed, arrivalMs, options);
}

/** A parsed JSON value → a validated event or the reason. */
export function validateParsed(parsed: unknown, arrivalMs: number, options: DecodeOptions = {}): DecodedEvent {
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
  return {
    ok: true,
    profile,
    record,
    deviceId: profile.deviceId(record),
    eventTimeMs,
    eventId: profile.eventId(record, eventTimeMs),
  };
}
