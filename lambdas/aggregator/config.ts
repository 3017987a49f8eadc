/** The aggregator's settings, from the environment the CDK stack sets. Read once per container. */
export interface AggregatorConfig {
  readonly aggregatesTable: string;
  readonly deviceStateTable: string;
  readonly archiveBucket: string;
  readonly quarantinePrefix: string;
  readonly allowedLatenessMs: number;
  readonly aggregatesTtlDays?: number;
  /**
   * Flush to DynamoDB inside a window once the carried state would exceed this, well under Lambda's
   * 1 MB per-shard state limit, so the window is never ended early by Lambda with state in flight.
   */
  readonly maxStateBytes: number;
}

export class ConfigError extends Error {}

export function readAggregatorConfig(env: NodeJS.ProcessEnv): AggregatorConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new ConfigError(`${name} is not set: deploy the function with the CDK stack, which sets it`);
    return value;
  };
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new ConfigError(`${name}=${raw} is not a number between ${min} and ${max}`);
    }
    return value;
  };
  const ttl = number('AGGREGATES_TTL_DAYS', 0, 0, 36_500);
  return {
    aggregatesTable: required('AGGREGATES_TABLE'),
    deviceStateTable: required('DEVICE_STATE_TABLE'),
    archiveBucket: required('ARCHIVE_BUCKET'),
    quarantinePrefix: env.QUARANTINE_PREFIX || 'quarantine/',
    allowedLatenessMs: number('ALLOWED_LATENESS_MINUTES', 10, 0, 24 * 60) * 60_000,
    aggregatesTtlDays: ttl > 0 ? ttl : undefined,
    maxStateBytes: number('MAX_WINDOW_STATE_BYTES', 600_000, 1_000, 900_000),
  };
}
