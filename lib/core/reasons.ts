/**
 * Machine-readable reasons a record is rejected. They end up in metrics (`InvalidRecords` by reason),
 * in the quarantine objects and in logs, so they are stable strings, never free text.
 * Field-specific reasons carry the field name after a colon: `missing_field:StatusTime`.
 */
export type InvalidReason =
  | 'invalid_utf8'
  | 'invalid_json'
  | 'too_large'
  | 'unknown_profile'
  | 'timestamp_in_future'
  | 'timestamp_too_old'
  | 'too_late'
  | 'rate_exceeded'
  /** A KPL aggregate whose MD5 or protobuf is damaged: the whole Kinesis record is quarantined. */
  | 'bad_aggregate'
  /** The device id belongs to a device of another profile (two fleets naming a device alike): left out of the aggregates. */
  | 'device_profile_conflict'
  | `missing_field:${string}`
  | `wrong_type:${string}`
  | `out_of_range:${string}`;

export const missingField = (field: string): InvalidReason => `missing_field:${field}`;
export const wrongType = (field: string): InvalidReason => `wrong_type:${field}`;
export const outOfRange = (field: string): InvalidReason => `out_of_range:${field}`;

/** The reason's family, without the field: what metrics use as a low-cardinality dimension. */
export function reasonFamily(reason: InvalidReason): string {
  const colon = reason.indexOf(':');
  return colon < 0 ? reason : reason.slice(0, colon);
}
