import { writeFileSync } from 'node:fs';
import type { EdgeDedupe } from './edge-dedupe';
import type { Anomaly, GeneratedFleet } from './generate';
import type { AggregationStats, SinkStats } from './sinks';
import type { ProfileSummary, SimulationCounts, SimulationSummary } from './types';

/**
 * The anomalies the run fully produced, per fleet (a --count or Ctrl-C may cut the last ones):
 * those that ended at least one reading before the fleet's last event.
 */
export function producedAnomalies(fleets: readonly GeneratedFleet[], lastEventMs: readonly number[]): Anomaly[][] {
  return fleets.map((f, i) => {
    const limit = lastEventMs[i] - f.intervalMs;
    return f.anomalies.filter((a) => Date.parse(a.end) <= limit);
  });
}

export function writeAnomaliesFile(path: string, anomalies: readonly Anomaly[]): void {
  writeFileSync(path, `${JSON.stringify(anomalies, null, 2)}\n`);
}

export interface SummaryInput {
  readonly head: Pick<
    SimulationSummary,
    'target' | 'seed' | 'seedGiven' | 'profiles' | 'speed' | 'simulatedStart' | 'startFrom' | 'anomaliesFile'
  >;
  readonly counts: Pick<SimulationCounts, 'produced' | 'duplicatesInjected' | 'droppedAtEdge'>;
  readonly sink: SinkStats;
  readonly elapsedMs: number;
  /** Event time reached (NaN when nothing was produced). */
  readonly simulatedNowMs: number;
  readonly interrupted: boolean;
  readonly copiesNotSent: number;
  readonly dedupe: EdgeDedupe | undefined;
  readonly aggregation: AggregationStats | null;
  readonly fleets: readonly GeneratedFleet[];
  readonly producedPerFleet: readonly number[];
  readonly anomaliesPerFleet: readonly Anomaly[][];
}

/** The run's outcome as plain JSON. */
export function buildSummary(input: SummaryInput): SimulationSummary {
  const { sink, elapsedMs } = input;
  const perProfile: Partial<Record<string, ProfileSummary>> = {};
  input.fleets.forEach((f, i) => {
    perProfile[f.profile] = {
      devices: f.devices.length,
      intervalMs: f.intervalMs,
      produced: input.producedPerFleet[i],
      anomalies: input.anomaliesPerFleet[i].length,
    };
  });
  return {
    ...input.head,
    simulatedEnd: Number.isNaN(input.simulatedNowMs) ? null : new Date(input.simulatedNowMs).toISOString(),
    ...input.counts,
    sent: sink.sent,
    retries: sink.retries,
    throttles: sink.throttles,
    failed: sink.failed,
    elapsedMs,
    sendRatePerSec: elapsedMs > 0 ? Math.round((sink.sent * 1000) / elapsedMs) : sink.sent,
    interrupted: input.interrupted,
    copiesNotSent: input.copiesNotSent,
    errors: { ...sink.errors },
    dedupe: input.dedupe ? input.dedupe.stats() : null,
    aggregation: input.aggregation,
    anomalies: input.anomaliesPerFleet.reduce((s, a) => s + a.length, 0),
    perProfile,
  };
}
