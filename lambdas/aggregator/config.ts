import { AggregatorEnvError, parseAggregatorEnv } from '../../lib/config/aggregator-env';

/** The aggregator's settings, from the environment the CDK stack sets. Read once per container. */
export interface AggregatorConfig {
  readonly aggregatesTable: string;
  readonly deviceStateTable: string;
  readonly archiveBucket: string;
  readonly quarantinePrefix: string;
  readonly allowedLatenessMs: number;
  /** Device-state (listing) rewrite interval; 0 rewrites it on every flush. */
  readonly deviceStateRefreshMs: number;
  /** Records before this event time (epoch ms) are `timestamp_too_old`. */
  readonly earliestEventTimeMs: number;
  readonly aggregatesTtlDays?: number;
  /** Flush to DynamoDB inside a window once the carried state would exceed this (see MAX_WINDOW_STATE_BYTES). */
  readonly maxStateBytes: number;
}

/** A missing or bad variable: the cold start fails with every problem and what to do. */
export { AggregatorEnvError as ConfigError };

/** Maps the environment contract (`lib/config/aggregator-env.ts`) to the handler's units. */
export function readAggregatorConfig(env: NodeJS.ProcessEnv): AggregatorConfig {
  const vars = parseAggregatorEnv(env);
  return {
    aggregatesTable: vars.AGGREGATES_TABLE,
    deviceStateTable: vars.DEVICE_STATE_TABLE,
    archiveBucket: vars.ARCHIVE_BUCKET,
    quarantinePrefix: vars.QUARANTINE_PREFIX,
    allowedLatenessMs: vars.ALLOWED_LATENESS_MINUTES * 60_000,
    deviceStateRefreshMs: vars.DEVICE_STATE_REFRESH_MINUTES * 60_000,
    earliestEventTimeMs: vars.EARLIEST_EVENT_TIME,
    aggregatesTtlDays: vars.AGGREGATES_TTL_DAYS,
    maxStateBytes: vars.MAX_WINDOW_STATE_BYTES,
  };
}
