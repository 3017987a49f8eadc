import { createWriteStream, writeFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { baseClientConfig } from '../shared/aws-clients';
import { sleep } from '../shared/sleep';
import { dedupeKey, EdgeDedupe, type EdgeDedupeOptions, type EdgeDedupeStats } from './edge-dedupe';
import { SimulationError } from './errors';
import {
  type Anomaly,
  type AnomalyOptions,
  DEFAULT_INTERVAL_MS,
  type GeneratedFleet,
  type GeneratedRecord,
  generateFleet,
  SIM_PROFILES,
  type SimProfile,
  type SolarWeather,
} from './generate';
import { KinesisSender, type SenderStats } from './kinesis-sender';
import { deriveSeed } from './prng';
import { type DelayDistribution, RetryBug } from './retry-bug';
import { checkStream, describeTarget, explainKinesisError, type StreamTarget } from './target';
import { planTiming } from './timing';

export const DEFAULT_DEVICES: Readonly<Record<SimProfile, number>> = { unicorn: 1, solar: 100 };

export interface SimulationOptions {
  readonly profiles: readonly SimProfile[];
  /** Devices per profile (one number for every profile, or per profile). @default unicorn 1, solar 100 */
  readonly devices?: number | Partial<Record<SimProfile, number>>;
  /** Unicorn names (`--name Bucephalus`): the first unicorns get these. */
  readonly names?: readonly string[];
  /** Simulated reading interval per profile. @default unicorn 1 s, solar 5 min */
  readonly intervalMs?: Partial<Record<SimProfile, number>>;
  /** Unique records per wall second for the whole run, or 'max'. Sets the speed when given. */
  readonly rate?: number | 'max';
  /** Simulated time per wall time. @default 1 */
  readonly speed?: number;
  /** Wall-clock run time. */
  readonly durationMs?: number;
  /** Simulated span (instead of durationMs). */
  readonly simDurationMs?: number;
  /** Unique records to produce, all profiles together. */
  readonly count?: number;
  /** Simulated start. @default so that the last event time is the run's end (never in the future) */
  readonly start?: Date;
  /** @default a random seed, reported in the summary */
  readonly seed?: number;
  readonly anomalies?: boolean | AnomalyOptions;
  /** Solar sky: clouds, rain and sensor noise, or the sun alone. @default 'cloudy' */
  readonly solarWeather?: SolarWeather;
  /** The retry bug: extra identical copies of every message. @default 0 */
  readonly duplicates?: number;
  /** @default 'immediate' */
  readonly delay?: DelayDistribution;
  /** Hold each message back by up to this much (simulated ms) so messages overtake each other. @default 0 */
  readonly reorderMs?: number;
  /** Edge gateway that drops the copies before Kinesis. @default false */
  readonly dedupe?: boolean | EdgeDedupeOptions;
  /** Kinesis stream to send to (one of target or out). */
  readonly target?: StreamTarget;
  /** NDJSON output instead of Kinesis: a path, or a stream such as process.stdout. */
  readonly out?: string | Writable;
  /** Write the injected anomalies (JSON array) here at the end. */
  readonly anomaliesFile?: string;
  /** Concurrent PutRecords requests. @default 4 */
  readonly maxInFlight?: number;
  /** A Kinesis client to use instead of one built from target (tests: a wrapped handler). */
  readonly client?: Pick<KinesisClient, 'send'>;
  /** Skip the DescribeStreamSummary check. @default false */
  readonly skipStreamCheck?: boolean;
  readonly progressIntervalMs?: number;
}

/** What a run has done so far: in every progress report and in the final summary. */
export interface SimulationCounts {
  /** Unique messages generated. */
  readonly produced: number;
  readonly duplicatesInjected: number;
  readonly droppedAtEdge: number;
  /** Records accepted by Kinesis (or lines written with out). */
  readonly sent: number;
  readonly retries: number;
  readonly throttles: number;
  readonly failed: number;
  readonly elapsedMs: number;
}

export interface SimulationStats extends SimulationCounts {
  readonly phase: 'running' | 'draining' | 'flushing' | 'done';
  /** Unique records the run will produce (for "remaining"); null when open-ended. */
  readonly expected: number | null;
  readonly buffered: number;
  readonly rateLimit: number | null;
  /** Event time reached, ISO. */
  readonly simulatedTime: string | null;
}

export interface ProfileSummary {
  readonly devices: number;
  readonly intervalMs: number;
  readonly produced: number;
  readonly anomalies: number;
}

/** The run's outcome; plain JSON. */
export interface SimulationSummary extends SimulationCounts {
  readonly target: string;
  readonly seed: number;
  readonly profiles: SimProfile[];
  readonly speed: number | 'max';
  readonly simulatedStart: string;
  readonly simulatedEnd: string | null;
  /** sent per wall second. */
  readonly sendRatePerSec: number;
  readonly interrupted: boolean;
  /** Copies still scheduled when the run was interrupted (never sent). */
  readonly copiesNotSent: number;
  readonly errors: Record<string, number>;
  readonly dedupe: EdgeDedupeStats | null;
  readonly anomalies: number;
  readonly anomaliesFile: string | null;
  readonly perProfile: Partial<Record<SimProfile, ProfileSummary>>;
}

export interface SimulationHooks {
  readonly signal?: AbortSignal;
  readonly onProgress?: (stats: SimulationStats) => void;
}

interface Sink {
  put(r: GeneratedRecord): Promise<void> | undefined;
  close(): Promise<void>;
  stats(): Pick<SenderStats, 'sent' | 'retries' | 'throttles' | 'failed' | 'buffered' | 'rateLimit' | 'errors'>;
}

/** NDJSON lines, written in chunks with backpressure. */
function fileSink(out: string | Writable): Sink {
  const stream = typeof out === 'string' ? createWriteStream(out) : out;
  const own = typeof out === 'string';
  let chunk: string[] = [];
  let written = 0;
  let failure: Error | undefined;
  stream.on('error', (err: Error) => {
    failure = err;
  });
  const write = (): Promise<void> | undefined => {
    if (failure) return Promise.reject(new SimulationError(`Cannot write output: ${failure.message}`));
    if (chunk.length === 0) return undefined;
    const text = `${chunk.join('\n')}\n`;
    written += chunk.length;
    chunk = [];
    return stream.write(text) ? undefined : new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  };
  return {
    put(r) {
      chunk.push(r.json);
      return chunk.length >= 1000 ? write() : undefined;
    },
    async close() {
      await write();
      if (own)
        await new Promise<void>((resolve, reject) =>
          stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
        );
      if (failure) throw new SimulationError(`Cannot write output: ${failure.message}`);
    },
    stats: () => ({
      sent: written,
      retries: 0,
      throttles: 0,
      failed: 0,
      buffered: chunk.length,
      rateLimit: null,
      errors: {},
    }),
  };
}

function kinesisSink(sender: KinesisSender): Sink {
  return {
    put: (r) => sender.put({ partitionKey: r.deviceId, data: Buffer.from(r.json) }),
    close: () => sender.close(),
    stats: () => sender.stats(),
  };
}

/** Event-time merge of the fleets (at most a handful: a linear scan beats a heap). */
function* mergeFleets(fleets: readonly GeneratedFleet[]): Generator<[GeneratedRecord, number]> {
  const its = fleets.map((f) => f.records()[Symbol.iterator]());
  const heads = its.map((it) => it.next());
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (!h.done && (best < 0 || h.value.eventTimeMs < (heads[best].value as GeneratedRecord).eventTimeMs)) best = i;
    }
    if (best < 0) return;
    yield [heads[best].value as GeneratedRecord, best];
    heads[best] = its[best].next();
  }
}

function devicesFor(options: SimulationOptions, profile: SimProfile): number {
  const d = options.devices;
  const n = typeof d === 'number' ? d : (d?.[profile] ?? DEFAULT_DEVICES[profile]);
  if (profile === 'unicorn' && options.names && options.names.length > 0 && d === undefined)
    return options.names.length;
  return n;
}

/**
 * Runs a simulation: generates the fleets, applies the retry bug and the edge dedupe, paces by the
 * wall clock, sends (or writes), and returns the summary. Stops early on `signal`, flushing what is
 * buffered. Throws SimulationError for anything the user can fix.
 */
export async function runSimulation(
  options: SimulationOptions,
  hooks: SimulationHooks = {},
): Promise<SimulationSummary> {
  const profiles = [...new Set(options.profiles)];
  if (profiles.length === 0) throw new SimulationError('Give at least one profile (unicorn, solar).');
  for (const p of profiles) {
    if (!SIM_PROFILES.includes(p))
      throw new SimulationError(`Unknown profile "${p}": choose from ${SIM_PROFILES.join(', ')}.`);
  }
  if (options.names?.length && !profiles.includes('unicorn')) {
    throw new SimulationError('--name names unicorns: add --profile unicorn.');
  }
  if ((options.target === undefined) === (options.out === undefined)) {
    throw new SimulationError('Give exactly one of a target stream or an output file.');
  }
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const fleetsSpec = profiles.map((profile) => ({
    profile,
    devices: devicesFor(options, profile),
    intervalMs: options.intervalMs?.[profile] ?? DEFAULT_INTERVAL_MS[profile],
  }));
  for (const f of fleetsSpec) {
    if (!Number.isInteger(f.devices) || f.devices < 1) {
      throw new SimulationError(`--devices must be a positive whole number (got ${f.devices} for ${f.profile}).`);
    }
  }
  const timing = planTiming({
    fleets: fleetsSpec,
    rate: options.rate,
    speed: options.speed,
    durationMs: options.durationMs,
    simDurationMs: options.simDurationMs,
    count: options.count,
    start: options.start,
    nowMs: Date.now(),
  });
  const fleets = fleetsSpec.map((f) =>
    generateFleet({
      profile: f.profile,
      devices: f.devices,
      intervalMs: f.intervalMs,
      start: new Date(timing.startMs),
      durationMs: timing.spanMs,
      seed,
      anomalies: options.anomalies ?? true,
      weather: options.solarWeather,
      names: f.profile === 'unicorn' ? options.names : undefined,
    }),
  );
  const bug = new RetryBug<[GeneratedRecord, number]>({
    copies: options.duplicates ?? 0,
    delay: options.delay ?? 'immediate',
    reorderMs: options.reorderMs ?? 0,
    seed: deriveSeed(seed, 'retry-bug'),
  });
  const bypass = (options.duplicates ?? 0) === 0 && (options.reorderMs ?? 0) === 0;
  const dedupe = options.dedupe ? new EdgeDedupe(options.dedupe === true ? {} : options.dedupe) : undefined;

  let sink: Sink;
  let targetText: string;
  if (options.target) {
    const target = options.target;
    targetText = describeTarget(target);
    const client = options.client ?? new KinesisClient(baseClientConfig(target));
    if (!options.skipStreamCheck) await checkStream(client, target);
    sink = kinesisSink(new KinesisSender({ client, streamName: target.streamName, maxInFlight: options.maxInFlight }));
  } else {
    const out = options.out!;
    targetText = typeof out === 'string' ? `file ${out}` : 'stdout';
    sink = fileSink(out);
  }

  const started = performance.now();
  const counts = { produced: 0, duplicatesInjected: 0, droppedAtEdge: 0 };
  const perProfile = fleets.map(() => 0);
  const lastEvent = fleets.map(() => Number.NEGATIVE_INFINITY);
  const total = fleets.reduce((s, f) => s + f.expectedRecords, 0);
  const expected = timing.openEnded ? null : Math.min(total, options.count ?? total);
  let simNow = Number.NaN;
  let phase: SimulationStats['phase'] = 'running';
  const signal = hooks.signal;

  const snapshot = (): SimulationStats => {
    const s = sink.stats();
    return {
      phase,
      ...counts,
      expected,
      sent: s.sent,
      retries: s.retries,
      throttles: s.throttles,
      failed: s.failed,
      buffered: s.buffered,
      rateLimit: s.rateLimit,
      elapsedMs: Math.round(performance.now() - started),
      simulatedTime: Number.isNaN(simNow) ? null : new Date(simNow).toISOString(),
    };
  };
  const progress = hooks.onProgress
    ? setInterval(() => hooks.onProgress?.(snapshot()), options.progressIntervalMs ?? 1000)
    : undefined;

  // Wall-clock pacing: event (simulated) time t leaves at wall time started + (t - start) / speed.
  const pace = async (t: number): Promise<void> => {
    if (!timing.paced) return;
    const due = started + (t - timing.startMs) / timing.speed;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait, signal);
  };
  const emit = (item: [GeneratedRecord, number], copy: boolean, atMs: number): Promise<void> | undefined => {
    if (copy) counts.duplicatesInjected++;
    if (dedupe && !dedupe.admit(dedupeKey(item[0].json), atMs)) {
      counts.droppedAtEdge++;
      return undefined;
    }
    return sink.put(item[0]);
  };

  let failure: unknown;
  try {
    for (const item of mergeFleets(fleets)) {
      if (signal?.aborted) break;
      if (options.count !== undefined && counts.produced >= options.count) break;
      const t = item[0].eventTimeMs;
      for (let r = bug.peekReleaseMs(); r !== undefined && r <= t; r = bug.peekReleaseMs()) {
        if (timing.paced) await pace(r);
        const next = bug.pop()!;
        const p = emit(next.item, next.copy, next.releaseMs);
        if (p) await p;
      }
      if (timing.paced) {
        await pace(t);
        if (signal?.aborted) break;
      }
      counts.produced++;
      perProfile[item[1]]++;
      lastEvent[item[1]] = t;
      simNow = t;
      if (bypass) {
        const p = emit(item, false, t);
        if (p) await p;
      } else {
        bug.push(item, t);
        for (let next = bug.popDue(t); next; next = bug.popDue(t)) {
          const p = emit(next.item, next.copy, next.releaseMs);
          if (p) await p;
        }
      }
    }
    phase = 'draining';
    // The last messages' copies are still due: send them at their time, unless stopped.
    while (!signal?.aborted && bug.pending > 0) {
      const r = bug.peekReleaseMs()!;
      await pace(r);
      if (signal?.aborted) break;
      const next = bug.pop()!;
      const p = emit(next.item, next.copy, next.releaseMs);
      if (p) await p;
    }
  } catch (err) {
    failure = err;
  }
  phase = 'flushing';
  try {
    await sink.close();
  } catch (err) {
    failure ??= err;
  } finally {
    if (progress) clearInterval(progress);
  }
  phase = 'done';
  if (failure) {
    if (failure instanceof SimulationError) throw failure;
    if (options.target) throw explainKinesisError(failure, options.target);
    throw failure;
  }

  // Anomalies that the run fully produced (a --count or Ctrl-C may cut the last ones).
  const anomalies: Anomaly[] = [];
  const anomalyCounts = fleets.map((f, i) => {
    const before = anomalies.length;
    const limit = lastEvent[i] - f.intervalMs;
    for (const a of f.anomalies) if (Date.parse(a.end) <= limit) anomalies.push(a);
    return anomalies.length - before;
  });
  if (options.anomaliesFile) writeFileSync(options.anomaliesFile, `${JSON.stringify(anomalies, null, 2)}\n`);

  const s = sink.stats();
  const elapsedMs = Math.round(performance.now() - started);
  hooks.onProgress?.(snapshot());
  const perProfileSummary: Partial<Record<SimProfile, ProfileSummary>> = {};
  fleets.forEach((f, i) => {
    perProfileSummary[f.profile] = {
      devices: f.devices.length,
      intervalMs: f.intervalMs,
      produced: perProfile[i],
      anomalies: anomalyCounts[i],
    };
  });
  return {
    target: targetText,
    seed,
    profiles,
    speed: timing.paced ? timing.speed : 'max',
    simulatedStart: new Date(timing.startMs).toISOString(),
    simulatedEnd: Number.isNaN(simNow) ? null : new Date(simNow).toISOString(),
    ...counts,
    sent: s.sent,
    retries: s.retries,
    throttles: s.throttles,
    failed: s.failed,
    elapsedMs,
    sendRatePerSec: elapsedMs > 0 ? Math.round((s.sent * 1000) / elapsedMs) : s.sent,
    interrupted: signal?.aborted ?? false,
    copiesNotSent: bug.pending,
    errors: { ...s.errors },
    dedupe: dedupe ? dedupe.stats() : null,
    anomalies: anomalies.length,
    anomaliesFile: options.anomaliesFile ?? null,
    perProfile: perProfileSummary,
  };
}
