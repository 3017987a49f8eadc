/**
 * The aggregator Lambda's environment contract: every variable the `Aggregator` construct sets and the
 * handler reads, defined once. The construct builds its `environment` with `aggregatorEnvironment` (typed by
 * this schema, validated at synth); the handler parses `process.env` with `parseAggregatorEnv` at cold start.
 *
 * This module is bundled into the Lambda, so it imports no CDK and uses `zod/mini`: the same validation as
 * `zod` at ~13 KB minified instead of ~450 KB (the whole handler bundle is ~55 KB).
 *
 * Adding a variable: add it to `AGGREGATOR_ENV` below; TypeScript then asks the construct for its value
 * (`aggregatorEnvironment`'s argument type) and the handler gets it typed from `parseAggregatorEnv`.
 */
import * as z from 'zod/mini';
import { DEFAULT_EARLIEST_EVENT_TIME_MS } from '../core/decode';
import { parseTimestamp } from '../core/time';

/** Event-time lateness still aggregated into its minute; also bounds the `iot:allowedLatenessMinutes` key. */
export const ALLOWED_LATENESS_MINUTES = { min: 0, max: 24 * 60, default: 10 } as const;
/** Device-state (listing) refresh interval in minutes; also bounds the `iot:deviceStateRefreshMinutes` key. */
export const DEVICE_STATE_REFRESH_MINUTES = { min: 0, max: 7 * 24 * 60, default: 360 } as const;
/** Expiry of aggregate rows in days; also bounds the `iot:aggregatesTtlDays` key. */
export const AGGREGATES_TTL_DAYS = { min: 1, max: 36_500 } as const;
/** Records before this event time are `timestamp_too_old`; also the default of the `iot:earliestEventTime` key. */
export const EARLIEST_EVENT_TIME_DEFAULT = new Date(DEFAULT_EARLIEST_EVENT_TIME_MS).toISOString();
/** A timestamp as the record contract accepts them (the core's parser), e.g. `2000-01-01T00:00:00Z`. */
export const isEventTimestamp = (raw: string) => !Number.isNaN(parseTimestamp(raw));
/** The only prefix of the archive bucket the aggregator writes (its grant is scoped to it). */
export const QUARANTINE_PREFIX = 'quarantine/';

const numberBetween = (range: { readonly min: number; readonly max: number }) =>
  z.pipe(
    z.string().check(
      z.refine(
        (raw) => {
          const value = Number(raw);
          return raw.trim() !== '' && Number.isFinite(value) && value >= range.min && value <= range.max;
        },
        { error: `is not a number between ${range.min} and ${range.max}` },
      ),
    ),
    z.transform(Number),
  );
const required = () => z.string().check(z.minLength(1));

/** Variable name -> its parsed value. Unset (or empty) optional variables take their default. */
export const AGGREGATOR_ENV = z.object({
  AGGREGATES_TABLE: required(),
  DEVICE_STATE_TABLE: required(),
  ARCHIVE_BUCKET: required(),
  QUARANTINE_PREFIX: z._default(required(), QUARANTINE_PREFIX),
  ALLOWED_LATENESS_MINUTES: z._default(numberBetween(ALLOWED_LATENESS_MINUTES), ALLOWED_LATENESS_MINUTES.default),
  /** Earliest plausible event time, as epoch ms for the core (`DecodeOptions.earliestEventTimeMs`). */
  EARLIEST_EVENT_TIME: z._default(
    z.pipe(
      z
        .string()
        .check(z.refine(isEventTimestamp, { error: 'is not an ISO-8601 timestamp (e.g. 2000-01-01T00:00:00Z)' })),
      z.transform(parseTimestamp),
    ),
    DEFAULT_EARLIEST_EVENT_TIME_MS,
  ),
  DEVICE_STATE_REFRESH_MINUTES: z._default(
    numberBetween(DEVICE_STATE_REFRESH_MINUTES),
    DEVICE_STATE_REFRESH_MINUTES.default,
  ),
  /** Unset: aggregate rows never expire. */
  AGGREGATES_TTL_DAYS: z.optional(numberBetween(AGGREGATES_TTL_DAYS)),
  /**
   * Flush inside a window once the carried state would exceed this, well under Lambda's 1 MB per-shard state
   * limit, so Lambda never ends a window early with state in flight. Not set by the stack; a test knob.
   */
  MAX_WINDOW_STATE_BYTES: z._default(numberBetween({ min: 1_000, max: 900_000 }), 600_000),
  /** Read by Powertools itself; required so a function deployed without the stack fails loudly. */
  POWERTOOLS_SERVICE_NAME: required(),
  POWERTOOLS_METRICS_NAMESPACE: required(),
});

/** What the construct passes: every variable as the string Lambda stores. */
export type AggregatorEnvironment = z.input<typeof AGGREGATOR_ENV>;
/** What the handler gets: numbers parsed, defaults applied. */
export type AggregatorEnv = z.output<typeof AGGREGATOR_ENV>;

export class AggregatorEnvError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'AggregatorEnvError';
  }
}

/**
 * Parses the contract's variables out of `env` (other variables are ignored; empty counts as unset).
 * Throws an `AggregatorEnvError` listing every problem at once, each saying what to do.
 */
export function parseAggregatorEnv(env: Readonly<Record<string, string | undefined>>): AggregatorEnv {
  const vars: Record<string, string> = {};
  for (const name of Object.keys(AGGREGATOR_ENV.shape)) {
    const value = env[name];
    if (value !== undefined && value !== '') vars[name] = value;
  }
  const parsed = AGGREGATOR_ENV.safeParse(vars);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    return vars[name] === undefined
      ? `${name} is not set: deploy the function with the CDK stack, which sets it`
      : `${name}=${vars[name]} ${issue.message}`;
  });
  throw new AggregatorEnvError([...new Set(problems)]);
}

/**
 * The `environment` of the aggregator function: the given variables, checked against the contract at synth
 * (unresolved tokens such as table names pass as the non-empty strings they are), unset ones left out.
 */
export function aggregatorEnvironment(vars: AggregatorEnvironment): Record<string, string> {
  const set = Object.fromEntries(Object.entries(vars).filter((entry): entry is [string, string] => !!entry[1]));
  parseAggregatorEnv(set);
  return set;
}
