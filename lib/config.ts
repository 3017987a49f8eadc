import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/**
 * The app's whole configuration, in one typed place. Read from `cdk.json` context (keys `iot:<field>`)
 * at the app entry only; constructs receive plain values. Override any key on the command line:
 * `npx cdk deploy --all -c iot:parquet=true -c iot:shardCount=2`.
 */
export interface StackConfig {
  /**
   * Stage name: prefixes the stack ids (`IotTelemetry-<stage>-State`) and names the Glue database
   * (`iot_telemetry_<stage>`). Lower-case letters, digits and hyphens.
   * @default 'dev'
   */
  readonly stage: string;
  /**
   * Kinesis capacity mode. PROVISIONED bills per shard-hour (cheapest for a steady fleet);
   * ON_DEMAND scales by itself and bills per stream-hour plus per GB.
   * @default 'PROVISIONED'
   */
  readonly streamMode: 'PROVISIONED' | 'ON_DEMAND';
  /**
   * Shards when `streamMode` is PROVISIONED (ignored on demand). One shard takes 1 MB/s or 1,000 records/s.
   * @default 1
   */
  readonly shardCount: number;
  /**
   * Stream retention in hours, 24 to 8760. Beyond 24 h Kinesis bills extended retention per shard-hour.
   * @default 24
   */
  readonly retentionHours: number;
  /**
   * DynamoDB billing mode of both tables. PAY_PER_REQUEST needs no capacity planning; PROVISIONED with
   * autoscaling (the capacity ranges below) is cheaper for a steady write rate.
   * @default 'PAY_PER_REQUEST'
   */
  readonly billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  /** Autoscaling floor of read capacity units (PROVISIONED only). @default 1 */
  readonly readCapacityMin: number;
  /** Autoscaling ceiling of read capacity units (PROVISIONED only). @default 10 */
  readonly readCapacityMax: number;
  /** Autoscaling floor of write capacity units (PROVISIONED only). @default 5 */
  readonly writeCapacityMin: number;
  /** Autoscaling ceiling of write capacity units (PROVISIONED only). @default 50 */
  readonly writeCapacityMax: number;
  /**
   * Firehose buffering interval in seconds, 60 to 900 (dynamic partitioning does not allow zero buffering).
   * @default 60
   */
  readonly firehoseBufferSeconds: number;
  /**
   * Firehose buffering size in MiB, 64 to 128: dynamic partitioning requires at least 64.
   * @default 64
   */
  readonly firehoseBufferMiB: number;
  /**
   * Convert the archive to Parquet (Glue schema from the profiles). Costs Firehose's conversion fee per GB,
   * saves roughly an order of magnitude of Athena scan cost.
   * @default false
   */
  readonly parquet: boolean;
  /** Event-time lateness still aggregated into its minute, 0 to 1440 minutes. @default 10 */
  readonly allowedLatenessMinutes: number;
  /** Email subscribed to the alarm topic; none when unset or empty. @default - no subscription */
  readonly alarmEmail?: string;
  /** Expire aggregate rows this many days after their minute (DynamoDB TTL, free). @default - kept forever */
  readonly aggregatesTtlDays?: number;
  /** Records per Lambda invocation, 1 to 10000. @default 500 */
  readonly batchSize: number;
  /** Seconds the event source waits to fill a batch, 0 to 300. @default 5 */
  readonly maxBatchingWindowSeconds: number;
  /** Retries of a failing batch before it goes to the on-failure queue, 0 to 10000. @default 3 */
  readonly retryAttempts: number;
  /** Records older than this go to the on-failure queue instead of being retried, 60 to 604800 s. @default 3600 */
  readonly maxRecordAgeSeconds: number;
  /** Lambda tumbling window in seconds, 1 to 900. @default 60 */
  readonly tumblingWindowSeconds: number;
  /** Retention of every log group, one of CloudWatch Logs' allowed values (1, 3, 5, 7, 14, 30, ...). @default 30 */
  readonly logRetentionDays: number;
  /** CloudWatch namespace of the aggregator's custom metrics (POWERTOOLS_METRICS_NAMESPACE). @default 'IotTelemetry' */
  readonly metricsNamespace: string;
  /** Athena per-query scan limit in GiB, 1 to 10240: a runaway query stops there. @default 10 */
  readonly athenaScanLimitGiB: number;
}

/** The defaults, also used when a `cdk.json` lacks a key. */
export const DEFAULT_CONFIG: StackConfig = {
  stage: 'dev',
  streamMode: 'PROVISIONED',
  shardCount: 1,
  retentionHours: 24,
  billingMode: 'PAY_PER_REQUEST',
  readCapacityMin: 1,
  readCapacityMax: 10,
  writeCapacityMin: 5,
  writeCapacityMax: 50,
  firehoseBufferSeconds: 60,
  firehoseBufferMiB: 64,
  parquet: false,
  allowedLatenessMinutes: 10,
  alarmEmail: undefined,
  aggregatesTtlDays: undefined,
  batchSize: 500,
  maxBatchingWindowSeconds: 5,
  retryAttempts: 3,
  maxRecordAgeSeconds: 3600,
  tumblingWindowSeconds: 60,
  logRetentionDays: 30,
  metricsNamespace: 'IotTelemetry',
  athenaScanLimitGiB: 10,
};

/** Context key prefix: every field `f` is read from `iot:f`. */
export const CONTEXT_PREFIX = 'iot:';

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration (cdk.json context or -c overrides):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_RETENTION_VALUES = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');

/**
 * Builds and validates the config from context. `getContext` is `app.node.tryGetContext` (or a map in tests).
 * Values given with `-c` arrive as strings, so numbers and booleans are accepted in both forms.
 * Every problem is reported at once, each naming its key and what to do. Pass `contextKeys`
 * (`Object.keys(app.node.getAllContext())`) to also reject unknown `iot:` keys: a typo would otherwise
 * silently deploy the default.
 */
export function configFromContext(
  getContext: (key: string) => unknown,
  contextKeys: readonly string[] = [],
): StackConfig {
  const problems: string[] = [];
  const known = new Set(Object.keys(DEFAULT_CONFIG).map((field) => CONTEXT_PREFIX + field));
  for (const key of contextKeys) {
    if (key.startsWith(CONTEXT_PREFIX) && !known.has(key)) {
      problems.push(`${key}: unknown key; known keys are ${[...known].join(', ')}`);
    }
  }
  const read = (field: keyof StackConfig): unknown => {
    const value = getContext(CONTEXT_PREFIX + field);
    return value === null || value === '' ? undefined : value;
  };
  const fail = (field: keyof StackConfig, value: unknown, expected: string): undefined => {
    problems.push(`${CONTEXT_PREFIX}${field}: got ${JSON.stringify(value)}; ${expected}`);
    return undefined;
  };

  const int = (field: keyof StackConfig, min: number, max: number, hint = ''): number | undefined => {
    const raw = read(field);
    if (raw === undefined) return DEFAULT_CONFIG[field] as number | undefined;
    const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      return fail(field, raw, `set an integer from ${min} to ${max}${hint}`);
    }
    return n;
  };
  const bool = (field: keyof StackConfig): boolean => {
    const raw = read(field);
    if (raw === undefined) return DEFAULT_CONFIG[field] as boolean;
    if (raw === true || raw === 'true') return true;
    if (raw === false || raw === 'false') return false;
    fail(field, raw, 'set true or false');
    return false;
  };
  const oneOf = <T extends string>(field: keyof StackConfig, allowed: readonly T[]): T => {
    const raw = read(field);
    if (raw === undefined) return DEFAULT_CONFIG[field] as T;
    if (typeof raw === 'string' && (allowed as readonly string[]).includes(raw)) return raw as T;
    fail(field, raw, `set one of ${allowed.join(', ')}`);
    return allowed[0];
  };
  const text = (field: keyof StackConfig, pattern: RegExp, expected: string): string | undefined => {
    const raw = read(field);
    if (raw === undefined) return DEFAULT_CONFIG[field] as string | undefined;
    if (typeof raw === 'string' && pattern.test(raw)) return raw;
    return fail(field, raw, expected);
  };

  const config = {
    stage: text(
      'stage',
      /^[a-z][a-z0-9-]{0,19}$/,
      'set 1 to 20 lower-case letters, digits or hyphens, starting with a letter (e.g. dev, prod)',
    ),
    streamMode: oneOf('streamMode', ['PROVISIONED', 'ON_DEMAND'] as const),
    shardCount: int(
      'shardCount',
      1,
      10_000,
      ' (more than your account quota, 500 or 200 by region, needs a quota raise)',
    ),
    retentionHours: int('retentionHours', 24, 8760),
    billingMode: oneOf('billingMode', ['PAY_PER_REQUEST', 'PROVISIONED'] as const),
    readCapacityMin: int('readCapacityMin', 1, 40_000),
    readCapacityMax: int('readCapacityMax', 1, 40_000),
    writeCapacityMin: int('writeCapacityMin', 1, 40_000),
    writeCapacityMax: int('writeCapacityMax', 1, 40_000),
    firehoseBufferSeconds: int('firehoseBufferSeconds', 60, 900, ' (dynamic partitioning allows no zero buffering)'),
    firehoseBufferMiB: int('firehoseBufferMiB', 64, 128, ' (dynamic partitioning requires at least 64)'),
    parquet: bool('parquet'),
    allowedLatenessMinutes: int('allowedLatenessMinutes', 0, 1440),
    alarmEmail: text('alarmEmail', /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'set an email address, or "" for no subscription'),
    aggregatesTtlDays: int('aggregatesTtlDays', 1, 36_500, ', or "" to keep aggregates forever'),
    batchSize: int('batchSize', 1, 10_000),
    maxBatchingWindowSeconds: int('maxBatchingWindowSeconds', 0, 300),
    retryAttempts: int('retryAttempts', 0, 10_000),
    maxRecordAgeSeconds: int('maxRecordAgeSeconds', 60, 604_800),
    tumblingWindowSeconds: int('tumblingWindowSeconds', 1, 900),
    logRetentionDays: int('logRetentionDays', 1, 3653),
    metricsNamespace: text(
      'metricsNamespace',
      /^[A-Za-z0-9._/#:-]{1,255}$/,
      'set a CloudWatch namespace: letters, digits and . _ / # : - (e.g. IotTelemetry)',
    ),
    athenaScanLimitGiB: int('athenaScanLimitGiB', 1, 10_240),
  };

  if (config.logRetentionDays !== undefined && !LOG_RETENTION_VALUES.includes(config.logRetentionDays)) {
    fail('logRetentionDays', config.logRetentionDays, `set one of ${LOG_RETENTION_VALUES.join(', ')}`);
  }
  for (const unit of ['read', 'write'] as const) {
    const min = config[`${unit}CapacityMin`];
    const max = config[`${unit}CapacityMax`];
    if (min !== undefined && max !== undefined && max < min) {
      fail(`${unit}CapacityMax`, max, `set at least iot:${unit}CapacityMin (${min})`);
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return config as StackConfig;
}

/** The Glue database name: the one physical name the stacks set, see `ArchiveCatalog`. */
export function glueDatabaseName(stage: string): string {
  return `iot_telemetry_${stage.replace(/-/g, '_')}`;
}
