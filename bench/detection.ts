import { formatBytes } from '../lib/query/client';
import { type KindScore, scoreTable } from '../lib/simulator/detection-score';
import { registryEntries } from '../lib/simulator/device-registry';
import { generateFleet } from '../lib/simulator/generate';
import { DetectionHarness } from '../test/support/detection-harness';
import { type BenchReport, fmt, machineLine } from './report';

/**
 * Precision and recall of the solar named queries (spikes, gaps, underperformance) on larger cloudy fleets
 * of the simulator than the test uses, through the embedded engine on s3rver (127.0.0.1): 200 panels over
 * 3 days every 5 minutes (2 copies per message), and 120 panels over 120 days every hour (daily uploads).
 * `npx tsx bench/detection.ts`, or `npm run bench -- detection`.
 */
const DAY = 86_400_000;
const HOUR = 3_600_000;

export async function runDetectionBench(): Promise<BenchReport> {
  const harness = await DetectionHarness.start();
  const lines: string[] = [];
  const figures: Record<string, number> = {};
  const record = (prefix: string, scores: readonly KindScore[]) => {
    for (const s of scores) {
      figures[`${prefix} ${s.kind} precision`] = s.precision;
      figures[`${prefix} ${s.kind} recall`] = s.recall;
    }
  };
  try {
    const readings = generateFleet({
      profile: 'solar',
      devices: 200,
      start: new Date('2026-06-01T00:00:00Z'),
      durationMs: 3 * DAY,
      seed: 101,
      anomalies: { spikesPerDeviceHour: 0.05, gapsPerDeviceHour: 0.01, faultsPerDeviceHour: 0.01 },
    });
    const r1 = await harness.score({
      name: 'bench-readings',
      records: () => readings.records(),
      registry: registryEntries(readings),
      anomalies: readings.anomalies,
      from: '2026-06-01',
      to: '2026-06-03',
      score: 'readings',
    });
    lines.push(scoreTable(`cloudy, 200 panels on 8 sites, 3 days every 5 min: ${fmt(r1.records)} readings`, r1.scores));
    lines.push(
      `  solar-spikes scanned ${formatBytes(r1.spikeScan.bytes)} (GZIP JSON, 2 copies) in ${fmt(r1.spikeScan.ms)} ms`,
    );
    record('readings', r1.scores);

    const trends = generateFleet({
      profile: 'solar',
      devices: 120,
      start: new Date('2026-01-01T00:00:00Z'),
      durationMs: 120 * DAY,
      intervalMs: HOUR,
      seed: 202,
      anomalies: {
        spikesPerDeviceHour: 0.002,
        gapsPerDeviceHour: 0.002,
        faultsPerDeviceHour: 0.002,
        soilingPerDeviceDay: 1 / 120,
        stepDownsPerDeviceDay: 1 / 600,
        degradedShare: 0.1,
      },
    });
    const r2 = await harness.score({
      name: 'bench-trends',
      records: () => trends.records(),
      registry: registryEntries(trends),
      anomalies: trends.anomalies,
      from: '2026-01-01',
      to: '2026-04-30',
      dailyUpload: true,
      copies: 1,
      intervalMs: HOUR,
      score: 'trends',
    });
    lines.push(
      scoreTable(`cloudy, 120 panels on 8 sites, 120 days every hour: ${fmt(r2.records)} readings`, r2.scores),
    );
    lines.push(
      `  solar-underperformance scanned ${formatBytes(r2.trendScan.bytes)} in ${fmt(r2.trendScan.ms)} ms, ${r2.trendScan.rows} findings`,
    );
    record('trends', r2.scores);
  } finally {
    await harness.close();
  }
  return { title: 'Solar anomaly detection: precision and recall per kind (simulator, cloudy)', lines, figures };
}

if (require.main === module) {
  console.log(machineLine());
  runDetectionBench().then(
    (r) => {
      console.log(r.title);
      for (const l of r.lines) console.log(l);
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
