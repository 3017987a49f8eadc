/**
 * Every `iot:` context key, defined once: its type and range (a zod schema), default, description, the
 * allowed values the docs show, and what to do about a bad value. Everything else is derived from
 * `CONFIG_KEYS`: the `StackConfig` type, `DEFAULT_CONFIG`, the synth-time validation (`configFromContext`),
 * and the configuration table in docs/deploy.md (`npm run docs:config`; a test fails when it is stale).
 *
 * Adding a key (e.g. `earliestEventTime`, or provisioned DynamoDB settings):
 * 1. Add one entry below with a builder: `integer(min, max)`, `boolean()`, `oneOf([...])` or
 *    `text(pattern, allowed, fix)`, plus `default` (or `default: undefined` for an optional key) and
 *    `description`. A rule between keys goes in `CROSS_KEY_RULES`.
 * 2. Use `config.<key>` where it matters (a stack maps it to construct props). If the Lambda needs it, add the
 *    variable to `lib/config/aggregator-env.ts` and pass it in the `Aggregator` construct.
 * 3. `npm run docs:config` rewrites the table in docs/deploy.md. cdk.json needs nothing: it holds only
 *    values that differ from the defaults.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import {
  AGGREGATES_TTL_DAYS,
  ALLOWED_LATENESS_MINUTES,
  DEVICE_STATE_REFRESH_MINUTES,
  EARLIEST_EVENT_TIME_DEFAULT,
  isEventTimestamp,
} from './aggregator-env';

/** One key's definition. `schema` receives the context value, set (absent, null and "" mean unset). */
export interface KeyDefinition<T> {
  readonly schema: z.ZodType<T>;
  /** The default; `undefined` makes the key optional (`StackConfig` field `?:`). */
  readonly default: T | undefined;
  /** What the key does, for the docs table. */
  readonly description: string;
  /** The allowed values, for the docs table. */
  readonly allowed: string;
  /** What to do about a bad value: the error reads `iot:<key>: got <value>; <fix>`. */
  readonly fix: string;
}

type ValueRule<T> = Pick<KeyDefinition<T>, 'schema' | 'allowed' | 'fix'>;

/** Values given with `-c` arrive as strings: "4" is 4, "true" is true. Nothing else is converted. */
const fromString = (convert: (raw: string) => unknown) => (raw: unknown) =>
  typeof raw === 'string' && raw.trim() !== '' ? convert(raw) : raw;

function integer(min: number, max: number, hint = ''): ValueRule<number> {
  return {
    schema: z.preprocess(fromString(Number), z.int().min(min).max(max)),
    allowed: `${min}–${max}`,
    fix: `set an integer from ${min} to ${max}${hint}`,
  };
}

function boolean(): ValueRule<boolean> {
  const bools: Record<string, boolean> = { true: true, false: false };
  return {
    schema: z.preprocess(
      fromString((raw) => bools[raw] ?? raw),
      z.boolean(),
    ),
    allowed: '`true`, `false`',
    fix: 'set true or false',
  };
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T): ValueRule<T[number]> {
  return {
    schema: z.enum(values),
    allowed: values.map((v) => `\`${v}\``).join(', '),
    fix: `set one of ${values.join(', ')}`,
  };
}

function text(pattern: RegExp, allowed: string, fix: string): ValueRule<string> {
  return { schema: z.string().regex(pattern), allowed, fix };
}

// CloudWatch Logs' retention values; INFINITE (9999) is excluded: logs must expire.
const LOG_RETENTION_DAYS = Object.values(RetentionDays).filter(
  (v): v is number => typeof v === 'number' && v !== RetentionDays.INFINITE,
);

/** Keeps each key's value type and whether it has a default (which decides `?:` in `StackConfig`). */
const key = <T, D extends NoInfer<T> | undefined>(
  definition: Omit<KeyDefinition<T>, 'default'> & { readonly default: D },
): KeyDefinition<T> & { readonly default: D } => definition;

/** The keys, in the docs table's order. Read from context as `iot:<name>`. */
export const CONFIG_KEYS = {
  stage: key({
    ...text(
      /^[a-z][a-z0-9-]{0,19}$/,
      '1–20 of `a-z`, `0-9`, `-`; starts with a letter',
      'set 1 to 20 lower-case letters, digits or hyphens, starting with a letter (e.g. dev, prod)',
    ),
    default: 'dev',
    description:
      'Stack id prefix (`IotTelemetry-<stage>-State`) and Glue database suffix (`iot_telemetry_<stage>`); deploy several stages side by side',
  }),
  streamMode: key({
    ...oneOf(['PROVISIONED', 'ON_DEMAND']),
    default: 'PROVISIONED',
    description:
      'Kinesis capacity mode: PROVISIONED bills per shard-hour (cheapest for a steady fleet); ON_DEMAND scales by itself, per stream-hour plus per GB',
  }),
  shardCount: key({
    ...integer(1, 10_000, ' (more than your account quota, 500 or 200 by region, needs a quota raise)'),
    default: 1,
    description: 'Shards in PROVISIONED mode (ignored on demand): 1 MB/s and 1,000 records/s of writes each',
  }),
  retentionHours: key({
    ...integer(24, 8760),
    default: 24,
    description: 'Stream retention; beyond 24 h Kinesis bills extended retention per shard-hour',
  }),
  billingMode: key({
    ...oneOf(['PAY_PER_REQUEST', 'PROVISIONED']),
    default: 'PAY_PER_REQUEST',
    description:
      'DynamoDB billing of both tables: PAY_PER_REQUEST needs no planning; PROVISIONED with target-tracking autoscaling (the capacity ranges below) costs about a third as much for a steady fleet (see the README: which to choose when)',
  }),
  readCapacityMin: key({
    ...integer(1, 40_000),
    default: 1,
    description:
      "Autoscaling floor of the aggregates table's read capacity units (PROVISIONED only; the device-state table's floor is 1)",
  }),
  readCapacityMax: key({
    ...integer(1, 40_000),
    default: 100,
    description:
      'Autoscaling ceiling of read capacity units of each table (PROVISIONED only); at least `iot:readCapacityMin`. The solar fleet reads ~16 RCU/s',
  }),
  writeCapacityMin: key({
    ...integer(1, 40_000),
    default: 5,
    description:
      "Autoscaling floor of the aggregates table's write capacity units (PROVISIONED only; the device-state table's floor is 1)",
  }),
  writeCapacityMax: key({
    ...integer(1, 40_000),
    default: 200,
    description:
      'Autoscaling ceiling of write capacity units of each table (PROVISIONED only); at least `iot:writeCapacityMin`. The solar fleet writes ~33 WCU/s',
  }),
  capacityTargetPercent: key({
    ...integer(20, 90),
    default: 70,
    description:
      "Target utilisation of the autoscaling (PROVISIONED only). At most 300 / (300 + iot:tumblingWindowSeconds) (83% for 60 s): the burst capacity DynamoDB keeps (300 s of unused capacity) must absorb a window's writes, which the flush sends at once",
  }),
  firehoseBufferSeconds: key({
    ...integer(60, 900, ' (dynamic partitioning allows no zero buffering)'),
    default: 60,
    description: 'Firehose buffering interval (dynamic partitioning does not allow zero buffering)',
  }),
  firehoseBufferMiB: key({
    ...integer(64, 128, ' (dynamic partitioning requires at least 64)'),
    default: 64,
    description: 'Firehose buffering size (dynamic partitioning requires at least 64)',
  }),
  parquet: key({
    ...boolean(),
    default: false,
    description:
      "Convert the archive to Parquet: Firehose's conversion fee per GB, roughly an order of magnitude less Athena scan",
  }),
  allowedLatenessMinutes: key({
    ...integer(ALLOWED_LATENESS_MINUTES.min, ALLOWED_LATENESS_MINUTES.max),
    default: ALLOWED_LATENESS_MINUTES.default,
    description: 'Event-time lateness still aggregated into its minute; later events stay only in the archive',
  }),
  deviceStateRefreshMinutes: key({
    ...integer(DEVICE_STATE_REFRESH_MINUTES.min, DEVICE_STATE_REFRESH_MINUTES.max),
    default: DEVICE_STATE_REFRESH_MINUTES.default,
    description:
      "The device-state table (the fleet-wide listing) is rewritten when a device's status changes or its reading is this much newer than the listed one; 0: on every flush (one more write per reading). The exact latest state is always the device's newest aggregates item",
  }),
  earliestEventTime: key({
    schema: z.string().refine(isEventTimestamp),
    allowed: 'an ISO-8601 timestamp with `Z` or an offset',
    fix: 'set an ISO-8601 timestamp such as 2000-01-01T00:00:00Z',
    default: EARLIEST_EVENT_TIME_DEFAULT,
    description:
      'Earliest plausible event time: older records (a device clock that was never set says 1970) are quarantined as `timestamp_too_old`',
  }),
  alarmEmail: key({
    ...text(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an email address', 'set an email address, or "" for no subscription'),
    default: undefined,
    description: 'Email subscribed to the alarm topic (confirm the subscription mail); unset or `""`: none',
  }),
  cloudWatchDashboard: key({
    ...boolean(),
    default: true,
    description:
      'Build the CloudWatch dashboard ($3 a month beyond the first three of an account); the alarms stay, and `npm run dashboard` shows the same health',
  }),
  aggregatesTtlDays: key({
    ...integer(AGGREGATES_TTL_DAYS.min, AGGREGATES_TTL_DAYS.max, ', or "" to keep aggregates forever'),
    default: undefined,
    description:
      'Expire aggregate rows this many days after their minute (DynamoDB TTL on `ExpiresAt`, free); unset: kept forever',
  }),
  aggregatesPointInTimeRecovery: key({
    ...boolean(),
    default: true,
    description:
      'Point-in-time recovery of the aggregates table ($0.20 per GB-month); false leaves recovery to the archive, whose per-minute named queries recompute the minutes',
  }),
  batchSize: key({
    ...integer(1, 10_000),
    default: 500,
    description: 'Records per aggregator invocation',
  }),
  maxBatchingWindowSeconds: key({
    ...integer(0, 300),
    default: 5,
    description: 'Seconds the event source waits to fill a batch',
  }),
  retryAttempts: key({
    ...integer(0, 10_000),
    default: 3,
    description: 'Retries of a failing batch (bisected) before its coordinates go to the failure queue',
  }),
  maxRecordAgeSeconds: key({
    ...integer(60, 604_800),
    default: 3600,
    description: 'Records older than this go to the failure queue instead of being retried',
  }),
  tumblingWindowSeconds: key({
    ...integer(1, 900),
    default: 60,
    description: 'Lambda tumbling window: the aggregator flushes to DynamoDB once per window',
  }),
  logRetentionDays: key({
    schema: z.preprocess(
      fromString(Number),
      z.int().refine((days) => LOG_RETENTION_DAYS.includes(days)),
    ),
    allowed: LOG_RETENTION_DAYS.join(', '),
    fix: `set one of ${LOG_RETENTION_DAYS.join(', ')}`,
    default: 30,
    description: 'Retention of the Lambda and Firehose log groups',
  }),
  metricsNamespace: key({
    ...text(
      /^[A-Za-z0-9._/#:-]{1,255}$/,
      '1–255 of letters, digits, `. _ / # : -`',
      'set a CloudWatch namespace: letters, digits and . _ / # : - (e.g. IotTelemetry)',
    ),
    default: 'IotTelemetry',
    description: "CloudWatch namespace of the aggregator's custom metrics (POWERTOOLS_METRICS_NAMESPACE)",
  }),
  athenaScanLimitGiB: key({
    ...integer(1, 10_240),
    default: 10,
    description: 'Athena per-query scan limit: a runaway query is cancelled there',
  }),
};

type Keys = typeof CONFIG_KEYS;
type ValueOf<K extends keyof Keys> = Keys[K] extends KeyDefinition<infer T> ? T : never;
type OptionalKey = { [K in keyof Keys]: Keys[K]['default'] extends undefined ? K : never }[keyof Keys];

/** The app's whole configuration, derived from `CONFIG_KEYS` (see each key's `description`). */
export type StackConfig = { readonly [K in Exclude<keyof Keys, OptionalKey>]: ValueOf<K> } & {
  readonly [K in OptionalKey]?: ValueOf<K>;
};
export type ConfigKey = keyof StackConfig;

/** A rule between two keys, checked once both are valid on their own. */
export interface CrossKeyRule {
  /** The key the problem is reported on. */
  readonly key: ConfigKey;
  /** `undefined` when fine, else what to do (the error reads `iot:<key>: got <value>; <problem>`). */
  problem(config: StackConfig): string | undefined;
  /** The keys `problem` reads. */
  readonly reads: readonly ConfigKey[];
}

const atLeast = (key: ConfigKey & `${string}Max`, floor: ConfigKey & `${string}Min`): CrossKeyRule => ({
  key,
  reads: [key, floor],
  problem: (config) =>
    (config[key] as number) < (config[floor] as number) ? `set at least iot:${floor} (${config[floor]})` : undefined,
});

export const CROSS_KEY_RULES: readonly CrossKeyRule[] = [
  atLeast('readCapacityMax', 'readCapacityMin'),
  atLeast('writeCapacityMax', 'writeCapacityMin'),
  {
    key: 'capacityTargetPercent',
    reads: ['capacityTargetPercent', 'tumblingWindowSeconds', 'billingMode'],
    problem: (config) => {
      const most = maxCapacityTargetPercent(config.tumblingWindowSeconds);
      return config.billingMode === 'PROVISIONED' && config.capacityTargetPercent > most
        ? `set at most ${most}: with a ${config.tumblingWindowSeconds} s tumbling window the burst capacity (300 s of unused capacity) cannot absorb a window's writes above that`
        : undefined;
    },
  },
];

/**
 * Highest autoscaling target that leaves DynamoDB's burst capacity (up to 300 s of unused capacity) able
 * to absorb one window's writes, sent at the window's end: (1 - u) * 300 >= u * window.
 */
export function maxCapacityTargetPercent(tumblingWindowSeconds: number): number {
  return Math.floor((100 * 300) / (300 + tumblingWindowSeconds));
}
