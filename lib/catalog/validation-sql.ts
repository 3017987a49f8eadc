import { DEFAULT_EARLIEST_EVENT_TIME_MS, DEFAULT_MAX_FUTURE_SKEW_MS } from '../core/decode';
import type { DeviceProfile, FieldCheck } from '../core/profiles';
import { SUM_SCALE } from '../core/profiles/checks';

/**
 * The aggregator's validation and fixed-point sums as Trino SQL, generated from the profiles' field
 * checks (`DeviceProfile.fields`), so the consistency check (`*-per-minute`) rejects what the aggregator
 * rejects and adds what it adds, to the last digit. The typed tables hold only records whose fields read
 * as their columns' types (Firehose's routing, `lib/core/profiles/routing.ts`): a fraction in an integer
 * column never reaches them, so the checks here are presence, ranges, lengths, enumerations and time.
 */

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
const column = (c: FieldCheck) => c.field.toLowerCase();

function fieldSql(c: FieldCheck): string {
  const col = column(c);
  if (c.kind === 'string') {
    // length() counts code points in Trino and DuckDB, as checkString does.
    const len = `length(${col}) BETWEEN 1 AND ${c.maxLength}`;
    return c.values ? `${len} AND ${col} IN (${c.values.map(quote).join(', ')})` : len;
  }
  return `${col} BETWEEN ${c.min} AND ${c.max}`;
}

/** Every field check of the profile, as one SQL condition (NULL, i.e. missing, fails it). */
export function fieldChecksSql(profile: Pick<DeviceProfile, 'fields'>): string {
  return profile.fields.map(fieldSql).join('\n      AND ');
}

/**
 * `parseTimestamp` (lib/core/time.ts) in SQL: the workshop layout or ISO-8601, 1–9 fraction digits, `Z`
 * with either separator, `±HH[:]MM` after a `T` only; a date that does not exist (`2026-02-30`) is NULL
 * (TRY); no zone reads as UTC (Athena's session zone).
 */
export function eventTimeSql(col: string): string {
  const layout = String.raw`^\d{4}-\d\d-\d\d( \d\d:\d\d:\d\d(\.\d{1,9})?Z?|T\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?)$`;
  return `CASE WHEN regexp_like(${col}, '${layout}') THEN TRY(from_iso8601_timestamp(replace(${col}, ' ', 'T'))) END`;
}

/** Firehose buffers at most 900 s: a record's arrival hour partition is at most that much before its arrival. */
const MAX_BUFFER_SECONDS = 900;

/**
 * The time checks: `timestamp_too_old` exactly (the default earliest time; a stack configured otherwise
 * with `iot:earliestEventTime` differs), and `timestamp_in_future` where the arrival hour proves it (the
 * archive keeps the arrival hour, not the instant: an event time up to 20 minutes beyond the bound that
 * proves it is counted here and may have been rejected there).
 */
export function eventTimeChecksSql(): string {
  const earliest = new Date(DEFAULT_EARLIEST_EVENT_TIME_MS).toISOString().replace('T', ' ').replace('Z', ' UTC');
  const hourStart = `to_unixtime(date_parse(CAST(((CAST(year AS bigint) * 100 + month) * 100 + day) * 100 + hour AS varchar), '%Y%m%d%H'))`;
  const bound = 3600 + MAX_BUFFER_SECONDS + DEFAULT_MAX_FUTURE_SKEW_MS / 1000;
  return `event_time >= TIMESTAMP '${earliest}'\n      AND to_unixtime(event_time) <= ${hourStart} + ${bound}`;
}

/**
 * One event's contribution to a `sum` metric in fixed point, exactly as `toFixed` computes it:
 * `Math.round(v * 1e6)`, ties toward +∞ (`x - floor(x)` is exact in binary floating point, so this is
 * exact where `round()`, ties away from zero, and `floor(x + 0.5)` are not).
 */
export function fixedPointSql(expr: string): string {
  const x = `(${expr}) * ${SUM_SCALE}`;
  return `CAST(floor(${x}) + IF(${x} - floor(${x}) >= 0.5, 1, 0) AS bigint)`;
}

/** 1 / SUM_SCALE as a decimal literal (`0.000001`). */
const UNIT = `0.${'1'.padStart(Math.log10(SUM_SCALE), '0')}`;

/** A `sum` metric as the aggregates table holds it: the sum of fixed-point contributions, as an exact decimal. */
export function exactSumSql(expr: string): string {
  // decimal(38,0) × decimal(p,6) is decimal(38,6) in Trino and DuckDB: exact (a division would not be in DuckDB).
  return `CAST(sum(${fixedPointSql(expr)}) AS decimal(38, 0)) * ${UNIT}`;
}

/** `fromFixed(sum) / count` in double arithmetic, as the aggregator's derived means do. */
export function fixedMeanSql(expr: string): string {
  return `CAST(sum(${fixedPointSql(expr)}) AS double) / ${SUM_SCALE} / count(*)`;
}
