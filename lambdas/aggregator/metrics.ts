import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { InvocationSummary } from './process';

/**
 * Publishes an invocation's figures as EMF metrics (no PutMetricData calls: they ride in the log).
 * `InvalidRecords` gets a `Reason` dimension per reason family so alarms can ignore known noise.
 */
export function recordMetrics(metrics: Metrics, summary: InvocationSummary): void {
  const { counts, flush } = summary;
  metrics.addMetric('RecordsIn', MetricUnit.Count, counts.recordsIn);
  metrics.addMetric('DuplicatesDropped', MetricUnit.Count, counts.duplicatesInWindow + (flush?.duplicatesDropped ?? 0));
  metrics.addMetric('InvalidRecords', MetricUnit.Count, counts.invalid);
  // Late records not quarantined: copies of events the aggregates hold (too_late ones are InvalidRecords).
  metrics.addMetric('LateRecords', MetricUnit.Count, counts.lateCopies + (flush?.lateEvents ?? 0));
  metrics.addMetric('AggregatesWritten', MetricUnit.Count, flush?.aggregatesWritten ?? 0);
  if (summary.stateDiscarded) metrics.addMetric('WindowStateDiscarded', MetricUnit.Count, 1);
  for (const [reason, count] of Object.entries(counts.invalidByReason)) {
    const single = metrics.singleMetric();
    single.addDimension('Reason', reason);
    single.addMetric('InvalidRecords', MetricUnit.Count, count);
  }
}
