import { SimulationError } from './errors';
import type { SimProfile } from './generate';
import type { SimulationOptions } from './run';

/** Longest simulated span of a run with no --duration/--count (it runs until stopped). */
export const OPEN_ENDED_SPAN_MS = 24 * 3_600_000;

/** The run's pacing options (documented on `SimulationOptions`), with the fleets resolved. */
export interface TimingInput
  extends Pick<SimulationOptions, 'rate' | 'speed' | 'durationMs' | 'simDurationMs' | 'count' | 'start'> {
  /** Devices and reading interval (simulated) of each profile in the run. */
  readonly fleets: readonly { readonly profile: SimProfile; readonly devices: number; readonly intervalMs: number }[];
  readonly nowMs: number;
}

export interface Timing {
  /** false with rate 'max': no waiting. */
  readonly paced: boolean;
  /** Simulated ms per wall ms (paced runs). */
  readonly speed: number;
  readonly startMs: number;
  /** Simulated span, ms. */
  readonly spanMs: number;
  /** Records per wall second when paced (all profiles). */
  readonly ratePerSec: number;
  readonly openEnded: boolean;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toPrecision(4));

/**
 * Works out pacing and the simulated window from the options. A device reads once per interval of
 * simulated time, so devices, interval, speed and rate are tied: rate = speed × Σ devices / interval.
 * Give --rate or --speed (the other follows), not two that disagree. The simulated window ends by the
 * time the run ends, so no event time is ever in the future (the pipeline rejects those).
 */
export function planTiming(input: TimingInput): Timing {
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

  if (input.rate === 'max') {
    if (input.speed !== undefined) throw new SimulationError('--rate max sends as fast as possible: drop --speed.');
    if (input.durationMs !== undefined) {
      throw new SimulationError('--rate max has no wall-clock pace: give --sim-duration (simulated span) or --count.');
    }
    const spanMs = input.simDurationMs ?? countSpan;
    if (spanMs === undefined) throw new SimulationError('--rate max needs an end: give --count or --sim-duration.');
    const startMs = input.start?.getTime() ?? input.nowMs - spanMs;
    assertNotFuture(startMs + spanMs, input.nowMs);
    return {
      paced: false,
      speed: Number.POSITIVE_INFINITY,
      startMs,
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
  let spanMs = input.simDurationMs ?? (input.durationMs !== undefined ? input.durationMs * speed : countSpan);
  const openEnded = spanMs === undefined;
  if (openEnded) {
    if (speed > 1) {
      throw new SimulationError(
        `At ${fmt(speed)}× speed, an open-ended run would produce event times in the future: give --duration, --sim-duration or --count.`,
      );
    }
    spanMs = OPEN_ENDED_SPAN_MS;
  }
  const span = spanMs as number;
  // Event e leaves at wall w0 + (e - start) / speed; e <= that for every e in the window when
  // start <= w0 - span × (1 - 1/speed). At speed 1 that is live data (start = now).
  const lag = speed > 1 ? span * (1 - 1 / speed) : 0;
  const startMs = input.start?.getTime() ?? input.nowMs - lag;
  // The last event leaves at now + span / speed; at speed <= 1 the earliest event binds instead.
  assertNotFuture(Math.max(startMs, startMs + span - span / speed), input.nowMs);
  return {
    paced: true,
    speed,
    startMs,
    spanMs: span,
    ratePerSec: speed * perSimSecond,
    openEnded,
  };
}

function assertNotFuture(latestEventAtReleaseMs: number, nowMs: number): void {
  if (Number.isNaN(latestEventAtReleaseMs)) throw new SimulationError('--start is not a valid date.');
  if (latestEventAtReleaseMs > nowMs + 1000) {
    throw new SimulationError(
      '--start puts event times in the future (the pipeline rejects them): choose an earlier start, or leave it out.',
    );
  }
}
