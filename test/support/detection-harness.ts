import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { fillParams, findNamedQuery } from '../../lib/catalog';
import { AnalyticsEngine, type QueryOutput } from '../../lib/local/athena/engine';
import type { Anomaly } from '../../lib/simulator/anomalies';
import {
  type KindScore,
  scoreGaps,
  scoreSpikes,
  scoreTrends,
  type TrendFinding,
} from '../../lib/simulator/detection-score';
import { REGISTRY_KEY, type RegistryEntry, registryNdjson } from '../../lib/simulator/device-registry';
import { catalogTables, putArchive, type S3Fixture, startS3 } from '../local/athena/fixtures';

/**
 * Runs the solar named queries over a simulated fleet through the real engine (s3rver on 127.0.0.1, the
 * embedded Athena's DuckDB engine, the same code `npm run query --engine local` uses) and scores the
 * findings against the fleet's exact anomaly list. Used by test/catalog/detection.test.ts and bench/detection.ts.
 */
export interface Scenario {
  /** Also the bucket name: lower-case letters, digits and dashes. */
  readonly name: string;
  readonly records: () => Iterable<{ readonly deviceId: string; readonly eventTimeMs: number; readonly json: string }>;
  readonly registry: readonly RegistryEntry[];
  readonly anomalies: readonly Anomaly[];
  /** Event-time range of the queries (days, inclusive). */
  readonly from: string;
  readonly to: string;
  /** Identical copies of each message in the archive (the retry bug). @default 2 */
  readonly copies?: number;
  /**
   * Panels upload their day's log once, just before midnight UTC (one archive object per day instead of
   * per hour: keeps long scenarios quick to load). @default false: each reading arrives 2 s after its time
   */
  readonly dailyUpload?: boolean;
  /** Time between two readings of a panel: a silence of 1.5 intervals is a gap. @default 5 min */
  readonly intervalMs?: number;
  /** Which findings to score. @default both */
  readonly score?: 'readings' | 'trends' | 'both';
}

export interface ScenarioResult {
  readonly scores: KindScore[];
  /** Bytes the spike and underperformance queries scanned, and their engine time. */
  readonly spikeScan: { bytes: number; ms: number; rows: number };
  readonly trendScan: { bytes: number; ms: number; rows: number };
  readonly records: number;
  readonly trendFindings: TrendFinding[];
  /** Wall-clock ms per step: load (generate + upload), spikes, gaps, trends. */
  readonly timings: Record<string, number>;
}

const DB = 'iot';
const utc = (s: string) => Date.parse(s.replace(' UTC', 'Z').replace(' ', 'T'));

export class DetectionHarness {
  private constructor(
    private readonly s3f: S3Fixture,
    private readonly cacheDir: string,
  ) {}

  static async start(): Promise<DetectionHarness> {
    return new DetectionHarness(await startS3([]), mkdtempSync(join(tmpdir(), 'detection-cache-')));
  }

  async close(): Promise<void> {
    await this.s3f.close();
    rmSync(this.cacheDir, { recursive: true, force: true });
  }

  /** Loads the scenario into its own bucket, runs spikes, gaps and underperformance, and scores them. */
  async score(s: Scenario): Promise<ScenarioResult> {
    await this.s3f.s3.send(new CreateBucketCommand({ Bucket: s.name }));
    const copies = s.copies ?? 2;
    const timings: Record<string, number> = {};
    let mark = Date.now();
    const lap = (name: string) => {
      timings[name] = Date.now() - mark;
      mark = Date.now();
    };
    let records = 0;
    const lines: { arrivalMs: number; json: string }[] = [];
    for (const r of s.records()) {
      records++;
      const arrivalMs = s.dailyUpload
        ? Math.floor(r.eventTimeMs / 86_400_000) * 86_400_000 + 86_390_000
        : r.eventTimeMs + 2000;
      for (let c = 0; c < copies; c++) lines.push({ arrivalMs: arrivalMs + c * 1000, json: r.json });
    }
    await putArchive(this.s3f.s3, s.name, 'solar', lines);
    await this.s3f.s3.send(
      new PutObjectCommand({ Bucket: s.name, Key: REGISTRY_KEY, Body: registryNdjson(s.registry) }),
    );
    lap('load');
    const engine = await AnalyticsEngine.create({
      s3: this.s3f.target,
      tables: catalogTables(s.name, DB),
      cacheDir: join(this.cacheDir, s.name),
    });
    try {
      const range = { from: s.from, to: s.to, slack_hours: '2' };
      const run = (name: string, extra: Record<string, string> = {}): Promise<QueryOutput> => {
        const q = findNamedQuery(name);
        return engine.execute(fillParams(q.sql, q.params, { ...range, ...extra }), { database: DB });
      };
      const which = s.score ?? 'both';
      const none = { columns: [], rows: [], dataScannedInBytes: 0, engineExecutionTimeInMillis: 0, objectsRead: 0 };
      const spikes = which === 'trends' ? none : await run('solar-spikes');
      lap('spikes');
      const col = (r: QueryOutput, name: string) => r.columns.findIndex((c) => c.name === name);
      const spikeFindings = spikes.rows.map((x) => ({
        device: x[col(spikes, 'device')]!,
        eventTimeMs: utc(x[col(spikes, 'event_time')]!),
        reason: x[col(spikes, 'reason')]!,
      }));
      const gaps =
        which === 'trends'
          ? none
          : await run('solar-gaps', {
              max_silence_seconds: String(Math.round((1.5 * (s.intervalMs ?? 300_000)) / 1000)),
            });
      const gapFindings = gaps.rows.map((x) => ({
        device: x[0]!,
        fromMs: utc(x[1]!),
        untilMs: x[2] === null ? Number.POSITIVE_INFINITY : utc(x[2]),
      }));
      lap('gaps');
      const trends = which === 'readings' ? none : await run('solar-underperformance');
      lap('trends');
      const trendFindings = trends.rows.map((x) => ({
        device: x[col(trends, 'device')]!,
        kind: x[col(trends, 'kind')]!,
        startDay: x[col(trends, 'start_day')]!,
        endDay: x[col(trends, 'end_day')]!,
      }));
      const longitude = new Map(s.registry.map((e) => [e.panelId, e.longitude]));
      const localDay = (device: string, ms: number) =>
        new Date(ms + (longitude.get(device) ?? 0) * 240_000).toISOString().slice(0, 10);
      return {
        scores: [
          ...(which === 'trends'
            ? []
            : [...scoreSpikes(s.anomalies, spikeFindings), scoreGaps(s.anomalies, gapFindings)]),
          ...(which === 'readings' ? [] : scoreTrends(s.anomalies, trendFindings, localDay)),
        ],
        spikeScan: {
          bytes: spikes.dataScannedInBytes,
          ms: spikes.engineExecutionTimeInMillis,
          rows: spikes.rows.length,
        },
        trendScan: {
          bytes: trends.dataScannedInBytes,
          ms: trends.engineExecutionTimeInMillis,
          rows: trends.rows.length,
        },
        records,
        trendFindings,
        timings,
      };
    } finally {
      await engine.close();
    }
  }
}
