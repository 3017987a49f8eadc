import { type Clock, systemClock } from './clock';
import { CopyScheduler } from './copy-scheduler';
import { publishRegistryFor } from './device-registry';
import { EdgeDedupe } from './edge-dedupe';
import { SimulationError } from './errors';
import { FleetClock } from './fleet-clock';
import { lastEventOffset, mergeFleets, resolveFleets } from './fleets';
import { type GeneratedRecord, planFleet } from './generate';
import { deriveSeed } from './prng';
import { type Released, RetryBug } from './retry-bug';
import { edgeGateway, openSink } from './sinks';
import { buildSummary, producedAnomalies, writeAnomaliesFile } from './summary';
import { explainKinesisError } from './target';
import { placeWindow, planPacing } from './timing';
import type { SimulationHooks, SimulationOptions, SimulationStats, SimulationSummary } from './types';

export { DEFAULT_DEVICES } from './fleets';
export type {
  ProfileSummary,
  SimulationCounts,
  SimulationHooks,
  SimulationOptions,
  SimulationPlan,
  SimulationStats,
  SimulationSummary,
} from './types';

/**
 * Runs a simulation: plans the fleets and the window, then generates in event-time order, lets the
 * retry bug's scheduler release originals and copies on the fleet clock, through the edge gateway,
 * into the sink (stream or file), and returns the summary. Stops early on `signal`, flushing what is
 * buffered. Throws SimulationError for anything the user can fix.
 */
export async function runSimulation(
  options: SimulationOptions,
  hooks: SimulationHooks = {},
): Promise<SimulationSummary> {
  const clock = options.clock ?? systemClock;
  const { specs, seed, pacing, fleets, startMs, startFrom } = planRun(options, clock);
  const simulatedStart = new Date(startMs).toISOString();
  hooks.onStart?.({ seed, seedGiven: options.seed !== undefined, simulatedStart, startFrom });

  const dedupe = options.dedupe ? new EdgeDedupe(options.dedupe === true ? {} : options.dedupe) : undefined;
  const opened = await openSink(options);
  const registry = await publishRegistryFor(fleets, options.target, options.out);
  const sink = dedupe ? edgeGateway(opened.sink, dedupe) : opened.sink;
  const signal = hooks.signal;
  const fleetClock = new FleetClock({ paced: pacing.paced, speed: pacing.speed, startMs }, clock, signal);
  const counts = { produced: 0, duplicatesInjected: 0 };
  const deliver = (r: Released<GeneratedRecord>) => {
    if (r.copy) counts.duplicatesInjected++;
    return sink.put(r.item, r.releaseMs);
  };
  const bug = new RetryBug<GeneratedRecord>({
    copies: options.duplicates ?? 0,
    delay: options.delay ?? 'immediate',
    reorderMs: options.reorderMs ?? 0,
    seed: deriveSeed(seed, 'retry-bug'),
  });
  const scheduler = new CopyScheduler(bug, fleetClock, deliver, signal);
  const producedPerFleet = fleets.map(() => 0);
  const lastEventMs = fleets.map(() => Number.NEGATIVE_INFINITY);
  const total = fleets.reduce((s, f) => s + f.expectedRecords, 0);
  const expected = pacing.openEnded ? null : Math.min(total, options.count ?? total);
  let simNow = Number.NaN;
  let phase: SimulationStats['phase'] = 'running';

  const snapshot = (): SimulationStats => {
    const s = sink.stats();
    return {
      phase,
      ...counts,
      droppedAtEdge: dedupe?.stats().dropped ?? 0,
      expected,
      sent: s.sent,
      retries: s.retries,
      throttles: s.throttles,
      failed: s.failed,
      buffered: s.buffered,
      rateLimit: s.rateLimit,
      elapsedMs: Math.round(fleetClock.elapsedMs()),
      simulatedTime: Number.isNaN(simNow) ? null : new Date(simNow).toISOString(),
    };
  };
  const progress = hooks.onProgress
    ? setInterval(() => hooks.onProgress?.(snapshot()), options.progressIntervalMs ?? 1000)
    : undefined;

  let failure: unknown;
  try {
    await produce(mergeFleets(fleets), {
      count: options.count,
      signal,
      fleetClock,
      scheduler,
      onProduced: (record, fleet) => {
        counts.produced++;
        producedPerFleet[fleet]++;
        lastEventMs[fleet] = record.eventTimeMs;
        simNow = record.eventTimeMs;
      },
    });
    phase = 'draining';
    const rest = scheduler.releaseUntil(Number.POSITIVE_INFINITY); // the last messages' copies, at their time
    if (rest) await rest;
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

  const anomaliesPerFleet = producedAnomalies(fleets, lastEventMs);
  if (options.anomaliesFile) writeAnomaliesFile(options.anomaliesFile, anomaliesPerFleet.flat());
  const final = snapshot();
  hooks.onProgress?.(final);
  const summary = buildSummary({
    head: {
      target: opened.description,
      seed,
      seedGiven: options.seed !== undefined,
      profiles: specs.map((f) => f.profile),
      speed: pacing.paced ? pacing.speed : 'max',
      simulatedStart,
      startFrom,
      anomaliesFile: options.anomaliesFile ?? null,
    },
    counts: { ...counts, droppedAtEdge: final.droppedAtEdge },
    sink: sink.stats(),
    elapsedMs: final.elapsedMs,
    simulatedNowMs: simNow,
    interrupted: signal?.aborted ?? false,
    copiesNotSent: scheduler.pending,
    dedupe,
    fleets,
    producedPerFleet,
    anomaliesPerFleet,
  });
  return { ...summary, registry };
}

/** Validates the options and plans the run: fleets, seed, pacing, and the window's start. */
function planRun(options: SimulationOptions, clock: Clock) {
  const specs = resolveFleets(options);
  if ((options.target === undefined) === (options.out === undefined)) {
    throw new SimulationError('Give exactly one of a target stream or an output file.');
  }
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const pacing = planPacing({ ...options, fleets: specs, unpacedByDefault: options.out !== undefined });
  const plans = specs.map((f) =>
    planFleet({
      ...f,
      durationMs: pacing.spanMs,
      seed,
      anomalies: options.anomalies ?? true,
      weather: options.solarWeather,
      names: f.profile === 'unicorn' ? options.names : undefined,
    }),
  );
  const { startMs, startFrom } = placeWindow({
    pacing,
    lastEventOffsetMs: lastEventOffset(plans, options.count),
    start: options.start,
    seed: options.seed,
    nowMs: clock.epochMs(),
  });
  return { specs, seed, pacing, fleets: plans.map((p) => p.at(new Date(startMs))), startMs, startFrom };
}

/**
 * The production loop: each reading when the fleet clock says it is due, after the copies due before
 * it; stops at `count` readings or on abort. The scheduler releases the reading itself (with its
 * immediate copies); later copies wait for the next reading or the drain.
 */
async function produce(
  records: Iterable<[GeneratedRecord, number]>,
  run: {
    readonly count: number | undefined;
    readonly signal: AbortSignal | undefined;
    readonly fleetClock: FleetClock;
    readonly scheduler: CopyScheduler<GeneratedRecord>;
    readonly onProduced: (record: GeneratedRecord, fleet: number) => void;
  },
): Promise<void> {
  const { fleetClock, scheduler, signal } = run;
  let produced = 0;
  for (const [record, fleet] of records) {
    if (signal?.aborted || (run.count !== undefined && produced >= run.count)) return;
    const t = record.eventTimeMs;
    const earlier = scheduler.releaseUntil(t);
    if (earlier) await earlier;
    const due = fleetClock.waitFor(t);
    if (due) await due;
    if (signal?.aborted) return;
    produced++;
    run.onProduced(record, fleet);
    scheduler.push(record, t);
    const now = scheduler.releaseUntil(t);
    if (now) await now;
  }
}
