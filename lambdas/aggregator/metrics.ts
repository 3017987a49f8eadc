import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { InvocationSummary } from './process';

/**
 * Publishes an invocation's figures as EMF metrics (no PutMetricData calls: they ride in the log).
 * `InvalidRecords` gets a `Reason` dimension per reason family so alarms can ignore known noise.
 *
 * CloudWatch bills a custom metric series ($0.30 a month) prorated by the hours it receives data, so
 * every count but `RecordsIn` (the heartbeat) is sent only when it is not zero: a clean fleet behind the
 * edge dedupe pays for `RecordsIn` and `AggregatesWritten` only (2 series), and the sparse ones for the
 * hours they happen in. Alarms on them treat missing data as not breaching.
 */
export function recordMetrics(metrics: Metrics, summary: InvocationSummary): void {
  const { counts, flush } = summary;
  const sparse = (name: string, value: number) => {
    if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
  };
  metrics.addMetric('RecordsIn', MetricUnit.Count, counts.recordsIn);
  sparse('DuplicatesDropped', counts.duplicatesInWindow + (flush?.duplicatesDropped ?? 0));
  sparse('InvalidRecords', counts.invalid);
  // Late records not quarantined: copies of events the aggregates hold (too_late ones are InvalidRecords).
  sparse('LateRecords', counts.lateCopies + (flush?.lateEvents ?? 0));
  sparse('AggregatesWritten', flush?.aggregatesWritten ?? 0);
  sparse('WindowStateDiscarded', summary.stateDiscarded ? 1 : 0);
  for (const [reason, count] of Object.entries(counts.invalidByReason)) {
    const single = metrics.singleMetric();
    single.addDimension('Reason', reason);
    single.addMetric('InvalidRecords', MetricUnit.Count, count);
  }
}
