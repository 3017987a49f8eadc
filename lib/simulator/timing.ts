import { SimulationError } from './errors';
import type { FleetSpec } from './fleets';
import { deriveSeed } from './prng';
import type { SimulationOptions, StartSource } from './types';

/** Longest simulated span of a run with no --duration/--count (it runs until stopped). */
export const OPEN_ENDED_SPAN_MS = 24 * 3_600_000;

/** The pipeline's tolerance used here for "not in the future" (it accepts up to 5 minutes ahead). */
const FUTURE_TOLERANCE_MS = 1000;

/** The run's pacing options (documented on `SimulationOptions`), with the fleets resolved. */
export interface PacingInput
  extends Pick<SimulationOptions, 'rate' | 'speed' | 'durationMs' | 'simDurationMs' | 'count'> {
  readonly fleets: readonly FleetSpec[];
  /** Writing to a file: with no rate, speed or duration, the run is unpaced (as fast as possible). */
  readonly unpacedByDefault?: boolean;
}

export interface Pacing {
  /** false: no waiting (rate 'max', or a file with no pacing option). */
  readonly paced: boolean;
  /** Simulated ms per wall ms (Infinity when unpaced). */
  readonly speed: number;
  /** Simulated span to generate, ms (room for `count` readings when that is what ends the run). */
  readonly spanMs: number;
  /** Records per wall second when paced (all profiles). */
  readonly ratePerSec: number;
  readonly openEnded: boolean;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toPrecision(4));

/**
 * Works out pacing and the simulated span from the options. A device reads once per interval of
 * simulated time, so devices, interval, speed and rate are tied: rate = speed × Σ devices / interval.
 * Give --rate or --speed (the other follows), not two that disagree.
 */
export function planPacing(input: PacingInput): Pacing {
  const perSimSecond = input.fleets.reduce((s, f) => s + (f.devices * 1000) / f.intervalMs, 0);
  const describe = input.fleets.map((f) => `${f.devices} ${f.profile} every ${fmt(f.intervalMs / 1000)} s`).join(' + ');
  if (input.count !== undefined && !(Number.isInteger(input.count) && input.count > 0)) {
    throw new SimulationError(`--count must be a positive whole number (got ${input.count}).`);
  }
  for (const [name, v] of [
    ['--duration', input.durationMs],
    ['--sim-duration', input.simDurationMs],
  ] as const) {
    if (v !== undefined && !(v > 0)) throw new SimulationError(`${name} must be positive.`);
  }
  if (input.speed !== undefined && !(input.speed > 0 && Number.isFinite(input.speed))) {
    throw new SimulationError(`--speed must be a positive number (got ${input.speed}).`);
  }
  // Room for more than `count` readings (gaps remove some); the run stops at the count.
  const longestInterval = Math.max(...input.fleets.map((f) => f.intervalMs));
  const countSpan =
    input.count !== undefined ? Math.ceil((input.count / perSimSecond) * 1000 * 1.25) + longestInterval : undefined;

  const noPacingOption = input.rate === undefined && input.speed === undefined && input.durationMs === undefined;
  if (input.rate === 'max' || (input.unpacedByDefault && noPacingOption)) {
    if (input.speed !== undefined) throw new SimulationError('--rate max sends as fast as possible: drop --speed.');
    if (input.durationMs !== undefined) {
      throw new SimulationError('--rate max has no wall-clock pace: give --sim-duration (simulated span) or --count.');
    }
    const spanMs = input.simDurationMs ?? countSpan;
    if (spanMs === undefined) {
      throw new SimulationError(
        input.rate === 'max'
          ? '--rate max needs an end: give --count or --sim-duration.'
          : '--out writes as fast as it can and needs an end: give --count or --sim-duration ' +
              '(or --rate, --speed or --duration to write in real time).',
      );
    }
    return {
      paced: false,
      speed: Number.POSITIVE_INFINITY,
      spanMs,
      ratePerSec: Number.POSITIVE_INFINITY,
      openEnded: false,
    };
  }

  let speed = input.speed ?? 1;
  if (input.rate !== undefined) {
    if (!(input.rate > 0 && Number.isFinite(input.rate))) {
      throw new SimulationError(`--rate must be a positive number of records/s or "max" (got ${input.rate}).`);
    }
    const implied = input.rate / perSimSecond;
    if (input.speed !== undefined && Math.abs(implied - input.speed) > 0.01 * input.speed) {
      throw new SimulationError(
        `Impossible rate: at --speed ${fmt(input.speed)}, ${describe} produce ${fmt(input.speed * perSimSecond)} records/s, ` +
          `not ${fmt(input.rate)}. Drop --speed (the rate sets it), or change --devices or --interval.`,
      );
    }
    speed = implied;
  }
  const spanMs = input.simDurationMs ?? (input.durationMs !== undefined ? input.durationMs * speed : countSpan);
  if (spanMs === undefined && speed > 1) {
    throw new SimulationError(
      `At ${fmt(speed)}× speed, an open-ended run would produce event times in the future: give --duration, --sim-duration or --count.`,
    );
  }
  return {
    paced: true,
    speed,
    spanMs: spanMs ?? OPEN_ENDED_SPAN_MS,
    ratePerSec: speed * perSimSecond,
    openEnded: spanMs === undefined,
  };
}

/**
 * How far the run's latest event time runs ahead of the wall clock, given the offset of its last event
 * from the start. Event e leaves at w0 + (e - start) / speed, so e - leave = start - w0 + (e - start)(1 - 1/speed):
 * at speed > 1 the last event binds, at speed <= 1 the first (offset 0); unpaced, everything leaves at w0.
 */
export function leadMs(pacing: Pick<Pacing, 'speed'>, lastEventOffsetMs: number | undefined): number {
  const last = lastEventOffsetMs ?? 0;
  return Math.max(0, last - last / pacing.speed);
}

/** Seeded runs without a start place their window in 2025, which is in the past for everyone. */
export const SEEDED_WINDOW_END_MS = Date.UTC(2026, 0, 1);
const MINUTES_PER_YEAR = 365 * 1440;

/**
 * The start of a seeded run without --start: a whole minute of 2025 drawn from the seed alone, so the
 * same command gives the same bytes whenever it runs. A window too long to end by 2026-01-01 from
 * there starts earlier, so that its last event falls on or before that date: only then does the
 * window's length (count, durations, speed, devices, interval) move the start.
 */
export function seededStartMs(seed: number, lastEventOffsetMs: number | undefined): number {
  const minute = (deriveSeed(seed, 'window-start') >>> 0) % MINUTES_PER_YEAR;
  const drawn = SEEDED_WINDOW_END_MS - (MINUTES_PER_YEAR - minute) * 60_000;
  const latest = Math.floor((SEEDED_WINDOW_END_MS - (lastEventOffsetMs ?? 0)) / 60_000) * 60_000;
  return Math.min(drawn, latest);
}

export interface WindowInput {
  readonly pacing: Pick<Pacing, 'speed'>;
  /** Offset from the start of the last event the run produces (`lastEventOffset`). */
  readonly lastEventOffsetMs: number | undefined;
  readonly start?: Date;
  /** Only a seed the user gave: it pins the start. */
  readonly seed?: number;
  readonly nowMs: number;
}

/**
 * Places the simulated window. The pipeline rejects event times in the future, so no event may be
 * ahead of the wall clock when it leaves: a given start is checked exactly against the run's last
 * event; without one, a seed pins the start (`seededStartMs`) and otherwise the window is placed to
 * end when the run ends (live data at speed 1).
 */
export function placeWindow(input: WindowInput): { startMs: number; startFrom: StartSource } {
  const lead = leadMs(input.pacing, input.lastEventOffsetMs);
  if (input.start !== undefined) {
    const startMs = input.start.getTime();
    if (Number.isNaN(startMs)) throw new SimulationError('--start is not a valid date.');
    const ahead = startMs + lead - input.nowMs;
    if (ahead > FUTURE_TOLERANCE_MS) {
      throw new SimulationError(
        `--start puts event times in the future (the pipeline rejects them): the last one would be ${fmtAhead(ahead)} ` +
          `ahead of the clock. Start at ${new Date(input.nowMs - lead).toISOString()} or earlier, or leave --start out.`,
      );
    }
    return { startMs, startFrom: 'start' };
  }
  if (input.seed !== undefined)
    return { startMs: seededStartMs(input.seed, input.lastEventOffsetMs), startFrom: 'seed' };
  return { startMs: input.nowMs - lead, startFrom: 'clock' };
}

function fmtAhead(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  return minutes < 120 ? `${minutes} min` : `${(ms / 3_600_000).toFixed(1)} h`;
}
