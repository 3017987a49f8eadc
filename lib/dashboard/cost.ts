import { pricesFor } from '../cost/prices';

/** The list prices the dashboard's own bill follows (lib/cost/prices.ts, us-east-1). */
const PRICES = pricesFor('us-east-1');
export const DYNAMODB_USD_PER_MILLION_RRU = PRICES.dynamoReadUnitsMillion.usd;
export const GETMETRICDATA_USD_PER_1000_METRICS = PRICES.cloudwatchGetMetricDataThousand.usd;

/**
 * An hour of one open dashboard: a Scan of the device-state table per refresh (its read units grow
 * with the fleet: ~0.5 RRU per 4 KB) and one GetMetricData call per health refresh. Charts and
 * findings are on demand and come on top (each shows its own figure). Every open tab shares the
 * same server-side reads: the bill is per server, not per tab.
 */
export function perHourEstimate(o: {
  readonly refreshMs: number;
  readonly scanReadUnits: number;
  readonly healthMs: number;
  readonly metricsPerHealthCall: number;
}): { usd: number; text: string } {
  const scans = 3_600_000 / o.refreshMs;
  const rru = scans * o.scanReadUnits;
  const calls = 3_600_000 / o.healthMs;
  const metrics = calls * o.metricsPerHealthCall;
  const usd = (rru / 1e6) * DYNAMODB_USD_PER_MILLION_RRU + (metrics / 1000) * GETMETRICDATA_USD_PER_1000_METRICS;
  const text =
    `${Math.round(scans)} device-state scans × ${o.scanReadUnits.toFixed(1)} RRU = ${Math.round(rru).toLocaleString('en-US')} RRU` +
    (o.metricsPerHealthCall > 0
      ? `, ${Math.round(calls)} GetMetricData calls × ${o.metricsPerHealthCall} metrics = ${Math.round(metrics)} metrics`
      : ', no CloudWatch calls (embedded runtime)') +
    `, 0 GetRecords: about $${usd.toFixed(4)} per hour on AWS`;
  return { usd, text };
}

/** Read units a Scan of this many bytes of items costs, eventually consistent (when the service reports none). */
export function scanReadUnits(bytes: number): number {
  return Math.ceil(bytes / 4096) * 0.5;
}
