import type { InvalidReason } from '../reasons';
import type { FieldCheck } from './checks';

/** How a per-minute metric folds its events. `sum` is kept in fixed point so it is exact in any order. */
export type MetricOp = 'sum' | 'min' | 'max';

export interface MetricSpec<R> {
  /** Attribute name in the aggregates table (the workshop's names for unicorns). */
  readonly name: string;
  readonly op: MetricOp;
  /** The event's contribution. Must be finite for a validated record. */
  readonly value: (record: R) => number;
}

/** A metric computed from the folded ones when an aggregate is written (e.g. a mean from a sum and the count). */
export interface DerivedMetricSpec {
  readonly name: string;
  readonly compute: (folded: Readonly<Record<string, number>>, recordCount: number) => number;
}

/** A column of the profile's raw-archive table (Glue/Athena types). */
export interface ArchiveColumn {
  /** The JSON key as devices send it; Athena lower-cases it in the table. */
  readonly name: string;
  readonly type: 'string' | 'timestamp' | 'double' | 'float' | 'int' | 'bigint' | 'boolean';
  readonly comment: string;
}

export type ValidationResult<R> =
  | { readonly ok: true; readonly record: R }
  | { readonly ok: false; readonly reason: InvalidReason };

/**
 * Everything the pipeline needs to know about one device fleet. Adding a fleet is one file that
 * exports one of these, plus its registration in `profiles/index.ts`.
 */
export interface DeviceProfile<R = unknown> {
  /** Short lower-case name: the Glue table prefix, the archive partition, the `--profile` value. */
  readonly name: string;
  readonly description: string;
  /**
   * The JSON key that names the device and marks a record as this profile's. Detection checks these
   * keys in registry order; the archive's Firehose partitions by the same rule (see `profilePartitionJq`).
   */
  readonly identityField: string;
  /**
   * Every field's check, in the order reasons are given (the event time's format is checked once, by
   * `eventTime`). `validate` runs them; the archive routing JQ and the per-minute SQL are generated from them.
   */
  readonly fields: readonly FieldCheck[];
  /** Runs `fields` (compiled once by `compileChecks`: the reasons of `validateFields`) and narrows the record's type. */
  readonly validate: (obj: Record<string, unknown>) => ValidationResult<R>;
  /** The device's identity (the DynamoDB partition key `Name`). */
  readonly deviceId: (record: R) => string;
  /** The JSON key holding the event time (named in `out_of_range:` reasons). */
  readonly eventTimeField: string;
  /** Event time in epoch milliseconds (UTC), or NaN when the field is not a valid timestamp. */
  readonly eventTime: (record: R) => number;
  /**
   * The earliest plausible event time, epoch ms: older records (a clock that was never set says 1970 or
   * year 0) are `timestamp_too_old`. The stack's configuration, when set, overrides it for every profile.
   * @default DEFAULT_EARLIEST_EVENT_TIME_MS (2000-01-01T00:00:00Z)
   */
  readonly earliestEventTimeMs?: number;
  /**
   * Devices that move (the workshop's unicorns): their device-state listing row follows every flush, so
   * a live map that reads the listing (the dashboard) sees each new position. Stationary devices (solar
   * panels, placed by the registry) are rewritten on a status change or once per
   * `iot:deviceStateRefreshMinutes`, which saves one write per reading.
   * @default false
   */
  readonly listingFollowsEveryFlush?: boolean;
  /**
   * The dedup key within one device and one minute of event time, as a safe integer.
   * Together with the device id and the minute it identifies an event: unicorns use the
   * millisecond offset of StatusTime in its minute (the workshop's Name + StatusTime),
   * panels their per-device sequence number.
   */
  readonly eventId: (record: R, eventTimeMs: number) => number;
  readonly metrics: readonly MetricSpec<R>[];
  readonly derived: readonly DerivedMetricSpec[];
  /** Derived status for the device-state table (e.g. `OK`, `LOW_HEALTH`, a fault code). */
  readonly status: (record: R) => string;
  /** The reading kept as the device's latest state: known fields only, never the raw object. */
  readonly reading: (record: R) => Record<string, string | number | boolean>;
  /** Raw-archive table columns, in the order devices send them. */
  readonly archiveColumns: readonly ArchiveColumn[];
}
