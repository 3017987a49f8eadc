import { join } from 'node:path';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { baseClientConfig } from '../shared/aws-clients';
import { runSimulation, type SimulationSummary } from '../simulator/run';
import { logSize, readEmf } from './emf';
import { Metering, type MeteringSnapshot } from './metering';
import {
  type ArchiveCounts,
  athenaQuery,
  countArchive,
  countItems,
  listKeys,
  minuteRows,
  queueDepth,
} from './pipeline-report';
import { type LocalRuntime, type RuntimeOverrides, startRuntime } from './runtime';

/**
 * `npm start`: the whole pipeline on this machine for about a minute. Both fleets with the retry bug
 * (10 copies per message, delayed and reordered), a few invalid records, then drain and report.
 * To finish in a minute the demo shortens the tumbling window and the Firehose buffer through the
 * runtime's documented overrides (the template says 60 s for both); it says so in the summary.
 */
export const DEMO_OVERRIDES: RuntimeOverrides = {
  tumblingWindowSeconds: 10,
  firehoseBufferSeconds: 5,
  maxBatchingWindowSeconds: 1,
};

/** Records that must be quarantined, one per reason family the core reports. */
export const DEMO_INVALID_RECORDS: readonly string[] = [
  'this is not JSON',
  '{"hello":"no profile claims this record"}',
  '{"Name":"Ghost","StatusTime":"yesterday-ish","Latitude":0,"Longitude":0,"Distance":1,"HealthPoints":1,"MagicPoints":1}',
  '{"panelId":"panel-broken","ts":"2024-01-01T00:00:00Z","seq":1}',
];

export interface DemoOptions {
  readonly port?: number;
  readonly durationMs?: number;
  readonly seed?: number;
  readonly log?: (line: string) => void;
  readonly cwd?: string;
  /** Leave the stack running after the summary (and describe it in .local/stack.json); the caller stops it. */
  readonly keep?: boolean;
  /** Where the run's billable counts go; default `<cwd>/.local/metering.json`. */
  readonly meteringFile?: string;
  /** Prices the run's counts at fleet scale for the summary's last line (bin/local.ts wires lib/cost). */
  readonly priceRun?: (snapshot: MeteringSnapshot) => string;
}

export interface DemoSummary {
  readonly endpoint: string;
  readonly simulation: SimulationSummary;
  readonly invalidInjected: number;
  readonly pipeline: Record<string, number>;
  readonly invalidByReason: Record<string, number>;
  readonly aggregateRows: number;
  readonly deviceStateRows: number;
  readonly archive: ArchiveCounts;
  readonly dlqMessages: number;
  readonly sampleRows: Record<string, string | number>[];
  readonly query?:
    | { readonly sql: string; readonly rows: string[][] }
    | { readonly sql: string; readonly error: string };
  readonly drainMs: number;
  readonly overrides: RuntimeOverrides;
  /** With `keep`: the running stack. */
  readonly runtime?: LocalRuntime;
  readonly costLine?: string;
}

export const DEMO_TRAFFIC = 'npm start: 3 unicorns and 200 panels, 10 copies per message, 10 s tumbling window';

export const DEMO_SQL =
  'SELECT name, count(*) AS copies, count(DISTINCT statustime) AS distinct_events FROM unicorn_raw GROUP BY name ORDER BY name';

export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const log = options.log ?? (() => undefined);
  const runtime = await startRuntime({
    cwd: options.cwd,
    port: options.port ?? 4566,
    dataDir: null,
    stackFile: options.keep ? undefined : null,
    overrides: DEMO_OVERRIDES,
    log,
  });
  try {
    const target = runtime.target();
    log(`Embedded stack up at ${runtime.endpoint} (stream ${target.streamName}).`);
    const offsets = runtime.functions.map((f) => logSize(f.logFile));
    log('Running both fleets with the retry bug (10 copies per message, delayed and reordered)...');
    const simulation = await runSimulation(
      {
        profiles: ['unicorn', 'solar'],
        devices: { unicorn: 3, solar: 200 },
        names: ['Shadowfax', 'Bucephalus', 'Rocinante'],
        speed: 10,
        durationMs: options.durationMs ?? 40_000,
        seed: options.seed ?? 42,
        duplicates: 10,
        delay: { minMs: 0, maxMs: 20_000 },
        reorderMs: 5_000,
        target: {
          endpoint: runtime.endpoint,
          region: target.region,
          streamName: target.streamName!,
          archiveBucket: target.archiveBucket,
          source: 'demo',
        },
      },
      {},
    );
    const kinesis = new KinesisClient(baseClientConfig(target));
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: target.streamName,
        Records: DEMO_INVALID_RECORDS.map((r, i) => ({ Data: Buffer.from(r), PartitionKey: `invalid-${i}` })),
      }),
    );
    kinesis.destroy();
    log('Waiting for the pipeline to drain (windows closed, Firehose delivered)...');
    const drainMs = await runtime.drain({ timeoutMs: 180_000 });
    const metering = runtime.meteringSnapshot(DEMO_TRAFFIC);
    Metering.write(options.meteringFile ?? join(options.cwd ?? process.cwd(), '.local', 'metering.json'), metering);

    const pipeline: Record<string, number> = {};
    const invalidByReason: Record<string, number> = {};
    runtime.functions.forEach((f, i) => {
      const emf = readEmf(f.logFile, offsets[i]);
      for (const [k, v] of Object.entries(emf.totals)) pipeline[k] = (pipeline[k] ?? 0) + v;
      for (const [k, v] of Object.entries(emf.byDimension.InvalidRecords ?? {})) {
        invalidByReason[k] = (invalidByReason[k] ?? 0) + v;
      }
    });
    const keys = await listKeys(target, target.archiveBucket!);
    const unicorn = await minuteRows(target, target.aggregatesTable!, 'Shadowfax', 3);
    let query: DemoSummary['query'];
    if (runtime.router.hasService('AmazonAthena')) {
      try {
        query = { sql: DEMO_SQL, rows: await athenaQuery(target, DEMO_SQL) };
      } catch (err) {
        query = { sql: DEMO_SQL, error: (err as Error).message };
      }
    }
    return {
      endpoint: runtime.endpoint,
      simulation,
      invalidInjected: DEMO_INVALID_RECORDS.length,
      pipeline,
      invalidByReason,
      aggregateRows: await countItems(target, target.aggregatesTable!),
      deviceStateRows: await countItems(target, target.deviceStateTable!),
      archive: countArchive(keys),
      dlqMessages: runtime.info.dlqUrl ? await queueDepth(target, runtime.info.dlqUrl) : 0,
      sampleRows: unicorn,
      query,
      drainMs,
      overrides: DEMO_OVERRIDES,
      ...(options.keep ? { runtime } : {}),
      costLine: priceOrSay(options.priceRun, metering),
    };
  } catch (err) {
    await runtime.stop();
    throw err;
  } finally {
    if (!options.keep) await runtime.stop();
  }
}

export function formatDemoSummary(d: DemoSummary): string[] {
  const s = d.simulation;
  const p = (k: string) => d.pipeline[k] ?? 0;
  const lines = [
    '',
    '=== Embedded pipeline demo: summary ===',
    `Records produced (unique)      ${s.produced}`,
    `Duplicates injected            ${s.duplicatesInjected}  (retry bug: 10 copies per message)`,
    `Dropped at the edge            ${s.droppedAtEdge}`,
    `Sent to Kinesis                ${s.sent}  (+ ${d.invalidInjected} invalid records injected)`,
    `Aggregator: records in         ${p('RecordsIn')}`,
    `Dropped in the pipeline        ${p('DuplicatesDropped')}  (DuplicatesDropped)`,
    `Invalid (quarantined)          ${p('InvalidRecords')}  ${JSON.stringify(d.invalidByReason)}`,
    `Late (beyond allowed lateness) ${p('LateRecords')}`,
    `Aggregates written             ${d.aggregateRows} rows in the aggregates table (${p('AggregatesWritten')} writes), ${d.deviceStateRows} devices in the state table`,
    `Archive objects                raw ${d.archive.raw}, errors ${d.archive.errors}, quarantine ${d.archive.quarantine}`,
    `On-failure queue (DLQ)         ${d.dlqMessages} messages`,
    `Drained in                     ${(d.drainMs / 1000).toFixed(1)} s after the producers stopped`,
    '',
    'Per-minute aggregates (first rows for Shadowfax):',
    ...d.sampleRows.map((r) => `  ${JSON.stringify(r)}`),
    '',
  ];
  if (!d.query)
    lines.push('Athena over the archive: pending (the Athena/Glue services are not available in this build).');
  else if ('error' in d.query) lines.push(`Athena query failed: ${d.query.error}`, `  ${d.query.sql}`);
  else {
    lines.push(`Athena (through the endpoint): ${d.query.sql}`);
    for (const row of d.query.rows.slice(0, 12)) lines.push(`  ${row.join(' | ')}`);
  }
  const o = d.overrides;
  lines.push(
    '',
    `Demo overrides (the template keeps its values): tumbling window ${o.tumblingWindowSeconds} s instead of 60 s, ` +
      `Firehose buffer ${o.firehoseBufferSeconds} s instead of the template's interval, batching window ${o.maxBatchingWindowSeconds} s.`,
  );
  if (d.costLine) lines.push('', d.costLine);
  return lines;
}

/** The cost line, or why there is none: pricing is the summary's last word, never a reason to fail the demo. */
function priceOrSay<T>(price: ((m: T) => string) | undefined, metering: T): string | undefined {
  if (!price) return undefined;
  try {
    return price(metering);
  } catch (err) {
    return `Not priced at fleet scale: ${(err as Error).message} (npm run cost -- --from-run prices .local/metering.json).`;
  }
}
