import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { configFromContext } from '../config';
import { createStacks } from '../stacks';
import { readStack, type StackFacts } from './stack';

/**
 * The configuration the README recommends for the solar fleet, defined once: the `cdk deploy` line the
 * docs print, the stack the docs price, and the run whose counts they price it with all come from here.
 */
export const RECOMMENDED_SOLAR = {
  /** `-c` context for `cdk deploy`, each with why. */
  context: {
    /** ~33 writes/s around the clock: provisioned costs a third of on demand. */
    'iot:billingMode': 'PROVISIONED',
    /**
     * A panel reports every ~16 minutes, so each reading is a device-minute of its own: a shorter window
     * merges nothing less, and it halves the writes the flush sends at once.
     */
    'iot:tumblingWindowSeconds': '30',
    /** The most target tracking allows, which DynamoDB's burst capacity absorbs with a 30 s window (300 / 330). */
    'iot:capacityTargetPercent': '90',
    /**
     * Firehose's longest buffer: 15 times fewer archive objects (PUTs, dynamic-partitioning objects, Athena
     * GETs); the archive trails the stream by up to 15 minutes, the tables do not.
     */
    'iot:firehoseBufferSeconds': '900',
    /**
     * DynamoDB keeps three days of minutes: the dashboard's day, a panel's backlog after a long weekend
     * offline; the archive keeps every reading for Athena.
     */
    'iot:aggregatesTtlDays': '3',
    /** Three days of derived minutes: what recovery would restore, the archive recomputes (per-minute named queries). */
    'iot:aggregatesPointInTimeRecovery': 'false',
    /** The alarms stay; `npm run dashboard` shows the pipeline's health from GetMetricData. */
    'iot:cloudWatchDashboard': 'false',
  },
  /** The measured run the docs price (re-record it with the commands in `reproduce`). */
  runFile: 'docs/cost/solar-recommended-run.json',
  /** How that run was recorded. */
  reproduce: [
    'npm run local -- --fresh --tumbling-window 4',
    'npm run simulate -- --profile solar --devices 300 --interval 16m --sim-duration 12h --speed 200 --duplicates 10 --aggregate --seed 7',
    'Ctrl-C the runtime (it writes .local/metering.json)',
  ],
} as const;

/** The recommended configuration in a few words, for one-line summaries. */
export function recommendedSummary(): string {
  const c = RECOMMENDED_SOLAR.context;
  return [
    `provisioned tables at ${c['iot:capacityTargetPercent']}%`,
    `a ${c['iot:tumblingWindowSeconds']} s window`,
    `a ${c['iot:firehoseBufferSeconds']} s archive buffer`,
    `a ${c['iot:aggregatesTtlDays']}-day TTL on the minutes`,
    'no recovery of the derived minutes',
    'no CloudWatch dashboard',
  ].join(', ');
}

/** `-c key=value ...` for the command line. */
export function contextFlags(context: Readonly<Record<string, string>>): string {
  return Object.entries(context)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
}

/**
 * The stack facts of the recommended configuration: synthesized in-process from cdk.json's context plus
 * the recommended keys (no Lambda bundling: the price does not depend on the bundle), then read from the
 * cloud assembly like any `cdk.out`.
 */
export function recommendedStack(cwd: string, region: string): StackFacts {
  const base = JSON.parse(readFileSync(join(cwd, 'cdk.json'), 'utf8')).context as Record<string, unknown>;
  const outdir = mkdtempSync(join(tmpdir(), 'iot-recommended-'));
  try {
    const app = new App({
      outdir,
      context: { ...base, ...RECOMMENDED_SOLAR.context, 'aws:cdk:bundling-stacks': [] },
    });
    createStacks(
      app,
      configFromContext((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext())),
    );
    app.synth();
    return readStack(outdir, region);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
