import { Metrics } from '@aws-lambda-powertools/metrics';
import { recordMetrics } from '../../lambdas/aggregator/metrics';
import { emptyCounts } from '../../lib/core';

/** The metric names of the EMF document the invocation would publish (the per-Reason ones go separately). */
function emitted(summary: Parameters<typeof recordMetrics>[1]): string[] {
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'svc' });
  const single = jest.spyOn(metrics, 'singleMetric');
  recordMetrics(metrics, summary);
  const doc = metrics.serializeMetrics() as unknown as {
    _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
  };
  const names = doc._aws.CloudWatchMetrics[0].Metrics.map((m) => m.Name).sort();
  return single.mock.calls.length > 0 ? [...names, `+${single.mock.calls.length} by Reason`] : names;
}

const flush = {
  eventsAdded: 5,
  duplicatesDropped: 0,
  lateEvents: 0,
  aggregatesWritten: 5,
  devicesUpdated: 5,
  deviceStatesWritten: 1,
  versionConflicts: 0,
  profileConflicts: [],
};

describe('custom metric series (each billed by the hours it has data)', () => {
  test('a clean invocation sends RecordsIn only; a clean flush adds AggregatesWritten', () => {
    expect(emitted({ counts: { ...emptyCounts(), recordsIn: 5, added: 5 }, stateDiscarded: false })).toEqual([
      'RecordsIn',
    ]);
    expect(emitted({ counts: { ...emptyCounts(), recordsIn: 5, added: 5 }, flush, stateDiscarded: false })).toEqual([
      'AggregatesWritten',
      'RecordsIn',
    ]);
  });

  test('the sparse counts appear when they happen, invalid records also by reason family', () => {
    const counts = {
      ...emptyCounts(),
      recordsIn: 9,
      duplicatesInWindow: 3,
      invalid: 2,
      invalidByReason: { invalid_json: 1, too_late: 1 },
      lateCopies: 1,
    };
    expect(emitted({ counts, flush, stateDiscarded: true })).toEqual([
      'AggregatesWritten',
      'DuplicatesDropped',
      'InvalidRecords',
      'LateRecords',
      'RecordsIn',
      'WindowStateDiscarded',
      '+2 by Reason',
    ]);
  });
});
