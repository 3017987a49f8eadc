import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { baseClientConfig } from '../shared/aws-clients';
import { sleep } from '../shared/sleep';
import { generateFleet } from '../simulator/generate';
import { compare, referenceOf } from './pipeline-reference';
import { readPipeline } from './pipeline-view';
import { type LocalRuntime, type RuntimeOptions, startRuntime } from './runtime';

/**
 * The fault-injection soak: both fleets with 10 copies of every message and a trickle of malformed
 * records go through the embedded runtime (loopback only, AWS limits on) for N minutes while faults
 * are injected on a schedule; then the outcome is checked against the soak's own reference (every
 * distinct reading aggregated exactly once, the latest state right, every raw record archived, every
 * bad record quarantined, the failure queue empty). Bounded: it stops by itself.
 */
export interface SoakOptions {
  readonly minutes: number;
  /** Project root with cdk.out; default cwd. */
  readonly cwd?: string;
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

export type FaultKind =
  | 'kill kinesis'
  | 'kill dynamodb'
  | 'kill s3'
  | 'kill idle lambda'
  | 'kill busy lambda'
  | 'lambda timeout'
  | 'throttling burst'
  | 'restart runtime';

export const FAULT_SCHEDULE: readonly FaultKind[] = [
  'kill dynamodb',
  'kill idle lambda',
  'throttling burst',
  'kill kinesis',
  'kill busy lambda',
  'lambda timeout',
  'kill s3',
  'restart runtime',
];

export interface FaultOutcome {
  readonly fault: FaultKind;
  readonly atSeconds: number;
  readonly injected: boolean;
  readonly recovered: boolean;
  readonly recoveryMs: number;
  readonly note?: string;
}

export interface SoakReport {
  readonly minutes: number;
  readonly recordsSent: number;
  readonly uniqueReadings: number;
  readonly malformedSent: number;
  readonly throttledRecords: number;
  readonly faults: readonly FaultOutcome[];
  readonly peakRssMiB: number;
  readonly problems: readonly string[];
  readonly failureQueueDepth: number;
  readonly drainMs: number;
  readonly verdict: 'PASS' | 'FAIL';
}

const COPIES = 10;
const MALFORMED_EVERY = 500;
const MALFORMED = [
  'not json at all',
  '{"Name":"Ghost","StatusTime":"never"}',
  '{"neither":"unicorn nor panel"}',
  '[1,2,3]',
  '{"panelId":"SP-X","seq":"NaN"}',
];
const RECOVERY_LIMIT_MS = 60_000;

/** Every reading once, sorted by event time, then copies spread over the next ~40 records (delays, reordering). */
function workload(minutes: number, seed: number): { records: string[]; unique: number } {
  const spanMs = minutes * 4 * 60_000;
  const start = new Date(Math.floor((Date.now() - spanMs - 5 * 60_000) / 60_000) * 60_000);
  const unicorns = generateFleet({ profile: 'unicorn', devices: 3, start, durationMs: spanMs, seed, anomalies: false });
  const panels = generateFleet({
    profile: 'solar',
    devices: 40,
    start,
    durationMs: spanMs,
    seed: seed + 1,
    anomalies: false,
  });
  const unique = [...unicorns.records(), ...panels.records()].sort((a, b) => a.eventTimeMs - b.eventTimeMs);
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  const slots: { at: number; json: string }[] = [];
  unique.forEach((r, i) => {
    for (let c = 0; c <= COPIES; c++) slots.push({ at: i + (c === 0 ? 0 : rnd() * 40), json: r.json });
  });
  const records = slots.sort((a, b) => a.at - b.at).map((x) => x.json);
  for (let i = MALFORMED_EVERY, k = 0; i < records.length; i += MALFORMED_EVERY, k++) {
    records.splice(i, 0, `${MALFORMED[k % MALFORMED.length]}${k >= MALFORMED.length ? ` #${k}` : ''}`);
  }
  return { records, unique: unique.length };
}

function partitionKey(json: string): string {
  try {
    const o = JSON.parse(json);
    return String(o.Name ?? o.panelId ?? 'malformed');
  } catch {
    return 'malformed';
  }
}

/** Resident set size of a process in bytes (Linux /proc), 0 when it is gone. */
function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const dataDir = mkdtempSync(join(tmpdir(), 'iot-soak-'));
  const hangFile = join(dataDir, 'hang-next-invocation');
  const base: RuntimeOptions = {
    cwd: options.cwd,
    dataDir,
    port: 0,
    stackFile: null,
    analytics: false,
    lambdaEnv: { LOCAL_FAULT_HANG_FILE: hangFile },
    overrides: {
      tumblingWindowSeconds: 3,
      firehoseBufferSeconds: 1,
      maxBatchingWindowSeconds: 0.5,
      pollIntervalMs: 200,
      lambdaTimeoutSeconds: 8,
    },
  };
  const { records, unique } = workload(options.minutes, options.seed ?? 11);
  const malformedSent = records.filter((r) => partitionKey(r) === 'malformed').length;
  let runtime: LocalRuntime = await startRuntime(base);
  const port = runtime.router.port;
  let kinesis = new KinesisClient(baseClientConfig(runtime.target()));
  let restarting: Promise<void> | undefined;
  let peakRss = 0;
  const sampler = setInterval(() => {
    const pids = [
      process.pid,
      runtime.supervision.emulators.kinesis.pid,
      runtime.supervision.emulators.dynamodb.pid,
      runtime.supervision.emulators.s3.pid,
      ...runtime.functions.flatMap((f) => f.environments.map((e) => e.pid)),
    ];
    peakRss = Math.max(
      peakRss,
      pids.reduce<number>((n, p) => n + rssOf(p), 0),
    );
  }, 500);

  let sent = 0;
  let throttled = 0;
  /** Sends until every record is accepted (throttled and failed records again, after a pause). */
  async function send(batch: readonly string[]): Promise<void> {
    let pending = [...batch];
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (restarting) await restarting;
      try {
        const out = await kinesis.send(
          new PutRecordsCommand({
            StreamName: runtime.info.streamName,
            Records: pending.map((json) => ({ Data: Buffer.from(json), PartitionKey: partitionKey(json) })),
          }),
        );
        const failed = pending.filter((_, i) => out.Records?.[i]?.ErrorCode);
        throttled += (out.Records ?? []).filter((r) => r.ErrorCode === 'ProvisionedThroughputExceededException').length;
        sent += pending.length - failed.length;
        pending = failed;
      } catch {
        // the endpoint restarting or an emulator between a kill and its restart: send again
      }
      if (pending.length > 0) await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 4)));
    }
  }

  const durationMs = options.minutes * 60_000;
  const started = Date.now();
  const producer = (async () => {
    const tick = 250;
    const perTick = Math.ceil(records.length / (durationMs / tick));
    for (let i = 0; i < records.length; i += perTick) {
      const due = started + (i / perTick) * tick;
      if (due > Date.now()) await sleep(due - Date.now());
      const chunk = records.slice(i, i + perTick);
      for (let j = 0; j < chunk.length; j += 500) await send(chunk.slice(j, j + 500));
    }
  })();

  const faults: FaultOutcome[] = [];
  const waitFor = async (ok: () => boolean | Promise<boolean>, limitMs = RECOVERY_LIMIT_MS): Promise<boolean> => {
    const until = Date.now() + limitMs;
    while (Date.now() < until) {
      if (await ok()) return true;
      await sleep(20);
    }
    return false;
  };
  const lambdaProgress = () =>
    runtime.mappings.reduce((n, m) => n + m.stats.invocations - m.stats.failedInvocations, 0);

  async function inject(fault: FaultKind): Promise<Omit<FaultOutcome, 'fault' | 'atSeconds'>> {
    const t0 = Date.now();
    const done = (recovered: boolean, note?: string) => ({
      injected: true,
      recovered,
      recoveryMs: Date.now() - t0,
      note,
    });
    if (fault.startsWith('kill ') && !fault.endsWith('lambda')) {
      const kind = fault.slice(5) as 'kinesis' | 'dynamodb' | 's3';
      const pid = runtime.supervision.emulators[kind].pid!;
      const before = runtime.supervision.supervisor.health()[kind].restarts;
      process.kill(pid, 'SIGKILL');
      const h = () => runtime.supervision.supervisor.health()[kind];
      return done(await waitFor(() => h().state === 'running' && h().restarts > before));
    }
    if (fault === 'kill idle lambda' || fault === 'kill busy lambda') {
      const busy = fault === 'kill busy lambda';
      const host = runtime.functions[0];
      let env: { pid: number | undefined } | undefined;
      await waitFor(() => {
        env = host.environments.find((e) => e.busy === busy && e.pid);
        return env !== undefined;
      }, 20_000);
      if (!env)
        return { injected: false, recovered: true, recoveryMs: 0, note: `no ${busy ? 'busy' : 'idle'} environment` };
      const progress = lambdaProgress();
      process.kill(env.pid!, 'SIGKILL');
      return done(await waitFor(() => lambdaProgress() > progress));
    }
    if (fault === 'lambda timeout') {
      const timeouts = runtime.functions[0].crashes;
      writeFileSync(hangFile, 'hang');
      const hit = await waitFor(() => runtime.functions[0].crashes > timeouts, 30_000);
      const progress = lambdaProgress();
      return done(hit && (await waitFor(() => lambdaProgress() > progress)), hit ? undefined : 'no invocation hung');
    }
    if (fault === 'throttling burst') {
      // 3,000 extra copies of readings already sent, at once: past the shard's 1,000 records/s.
      const copies = records.slice(0, 3000);
      const before = throttled;
      await Promise.all([0, 500, 1000, 1500, 2000, 2500].map((o) => send(copies.slice(o, o + 500))));
      return done(true, `${throttled - before} records throttled and sent again`);
    }
    // restart runtime: a clean stop and a start on the same data directory and port
    let release: () => void = () => undefined;
    restarting = new Promise((r) => {
      release = r;
    });
    await runtime.stop();
    kinesis.destroy();
    runtime = await startRuntime({ ...base, port });
    kinesis = new KinesisClient(baseClientConfig(runtime.target()));
    restarting = undefined;
    release();
    return done(true);
  }

  try {
    const gap = durationMs / (FAULT_SCHEDULE.length + 1);
    for (const [i, fault] of FAULT_SCHEDULE.entries()) {
      const at = started + gap * (i + 1);
      if (at > Date.now()) await sleep(at - Date.now());
      const atSeconds = Math.round((Date.now() - started) / 1000);
      log(`[soak ${atSeconds}s] injecting: ${fault}`);
      let outcome: Omit<FaultOutcome, 'fault' | 'atSeconds'>;
      try {
        outcome = await inject(fault);
      } catch (err) {
        outcome = { injected: true, recovered: false, recoveryMs: 0, note: (err as Error).message };
      }
      faults.push({ fault, atSeconds, ...outcome });
      log(
        `[soak] ${fault}: ${outcome.recovered ? 'recovered' : 'NOT recovered'} in ${outcome.recoveryMs} ms${outcome.note ? ` (${outcome.note})` : ''}`,
      );
    }
    await producer;
    log(`[soak] ${sent} records sent; draining`);
    const drainMs = await runtime.drain({ timeoutMs: 180_000 });
    const ref = referenceOf(records);
    const view = await readPipeline(runtime.target());
    const problems = compare(view, ref);
    const dlq = runtime.plan.mappings[0]?.onFailureQueue;
    const failureQueueDepth = dlq ? runtime.sqs.depth(dlq) : 0;
    if (failureQueueDepth > 0) problems.push(`${failureQueueDepth} batches in the failure queue`);
    if (runtime.supervision.supervisor.status() !== 'running')
      problems.push(`runtime is ${runtime.supervision.supervisor.status()}`);
    for (const f of faults) if (!f.recovered) problems.push(`${f.fault} not recovered${f.note ? `: ${f.note}` : ''}`);
    return {
      minutes: options.minutes,
      recordsSent: sent,
      uniqueReadings: unique,
      malformedSent,
      throttledRecords: throttled,
      faults,
      peakRssMiB: Math.round(peakRss / 1024 / 1024),
      problems,
      failureQueueDepth,
      drainMs,
      verdict: problems.length === 0 ? 'PASS' : 'FAIL',
    };
  } finally {
    clearInterval(sampler);
    kinesis.destroy();
    await runtime.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function formatSoakReport(r: SoakReport): string[] {
  return [
    `Soak: ${r.minutes} min, verdict ${r.verdict}`,
    `records sent: ${r.recordsSent} (${r.uniqueReadings} unique readings x ${COPIES + 1}, ${r.malformedSent} malformed); throttled and resent: ${r.throttledRecords}`,
    `faults injected: ${r.faults.filter((f) => f.injected).length}, survived: ${r.faults.filter((f) => f.recovered).length}`,
    ...r.faults.map(
      (f) =>
        `  ${f.atSeconds}s ${f.fault}: ${f.injected ? (f.recovered ? `recovered in ${f.recoveryMs} ms` : 'NOT recovered') : 'not injected'}${f.note ? ` (${f.note})` : ''}`,
    ),
    `peak RSS (runtime + emulators + Lambda environments): ${r.peakRssMiB} MiB; drain ${r.drainMs} ms; failure queue ${r.failureQueueDepth}`,
    ...(r.problems.length ? ['problems:', ...r.problems.slice(0, 20).map((p) => `  ${p}`)] : []),
  ];
}
