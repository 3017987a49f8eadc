import type { Rng } from './prng';

/** Reading-level kinds (`spike`, `gap`, `fault`) and the solar panels' slow conditions (the trend kinds). */
export type AnomalyKind = 'spike' | 'gap' | 'fault' | ConditionKind;
/** Conditions that change a panel's output over days: what an operator's underperformance report shows. */
export type ConditionKind = 'soiling' | 'degradation' | 'step_down';
export const CONDITION_KINDS: readonly ConditionKind[] = ['soiling', 'degradation', 'step_down'];

/** An injected anomaly, as written to the anomalies file (times are event times, ISO-8601 UTC). */
export interface Anomaly {
  readonly kind: AnomalyKind;
  readonly deviceId: string;
  /**
   * Spike: the reading's time. Gap: the first missing reading's slot. Fault: the first faulty reading.
   * Soiling: when the panel starts soiling abnormally fast. Degradation: its onset. Step down: the step.
   */
  readonly start: string;
  /**
   * Spike: same as start. Gap: the last missing slot (inclusive). Fault: the last faulty reading.
   * Soiling: the cleaning that resets it. Degradation, step down: the end of the run (they persist).
   */
  readonly end: string;
  /** The field that shows it: `acPowerW`/`Distance` for spikes, `status`/`HealthPoints` for faults. */
  readonly metric?: string;
  /**
   * Spike: the reported value. Unicorn fault: the health level. Soiling: the loss (%) just before the
   * cleaning. Degradation: the loss rate (% per 30 days). Step down: the loss (%) from the step on.
   */
  value?: number;
  /** Solar spike: reported power / what the panel really produced (2-5; at night, of 5 % of the rating). */
  readonly factor?: number;
  /** Solar faults: the status code. Step down: `dead_string` or `shaded_string`. */
  readonly code?: string;
}

/** How often anomalies are injected, per device and simulated hour, and how long they last. */
export interface AnomalyOptions {
  readonly spikesPerDeviceHour?: number;
  readonly gapsPerDeviceHour?: number;
  readonly faultsPerDeviceHour?: number;
  /** Length of a gap in missing readings, [min, max]; min is at least 3. */
  readonly gapReadings?: readonly [number, number];
  /** Length of a fault in readings, [min, max]. */
  readonly faultReadings?: readonly [number, number];
  /** Solar: abnormal soiling episodes (0.6-1.5 %/day until a cleaning 12-30 days later), per panel and day. */
  readonly soilingPerDeviceDay?: number;
  /** Solar: a string lost for good (dead, or newly shaded: 15-50 % less), per panel and day. */
  readonly stepDownsPerDeviceDay?: number;
  /** Solar: share of panels that degrade fast (PID, delamination: 2-5 % per 30 days) from early in the run. */
  readonly degradedShare?: number;
}

/** One planned anomaly of one device, in reading slots (inclusive range). */
export interface PlannedAnomaly {
  readonly kind: AnomalyKind;
  readonly from: number;
  readonly to: number;
  /** Spike multiplier or fault detail drawn at planning time, so the list is known up front. */
  readonly factor: number;
  readonly code?: string;
}

/** One planned condition of one panel, in event time (ms). `rate`: per day (soiling), per 30 days (degradation). */
export interface PlannedCondition {
  readonly kind: ConditionKind;
  readonly fromMs: number;
  /** Soiling: the cleaning. Others: the end of the run. */
  readonly toMs: number;
  /** Soiling: loss per day; degradation: loss per 30 days; step down: the lost fraction. */
  readonly rate: number;
  readonly code?: string;
}

/**
 * Plans one device's anomalies over `slots` readings. Arrivals are a Poisson process (geometric gaps
 * between slots, O(anomalies) not O(readings)); anomalies never overlap and at least one normal reading
 * separates them; a gap always has a reading on both sides, so it is visible as a gap.
 */
export function planAnomalies(
  rng: Rng,
  slots: number,
  intervalMs: number,
  options: Required<AnomalyOptions>,
  faultCodes: readonly string[],
  /** Spike multipliers: unicorn Distance 3-5x of normal, solar power 2-5x of what the panel produced. */
  spikeFactor: readonly [number, number] = [3, 5],
): PlannedAnomaly[] {
  const hours = intervalMs / 3_600_000;
  const rates = [options.spikesPerDeviceHour, options.gapsPerDeviceHour, options.faultsPerDeviceHour].map((r) =>
    Math.max(0, r * hours),
  );
  const total = rates[0] + rates[1] + rates[2];
  const out: PlannedAnomaly[] = [];
  if (total <= 0) return out;
  const p = Math.min(0.5, total);
  let slot = 1; // the first reading is always normal (a baseline for spikes, a left edge for gaps)
  for (;;) {
    slot += rng.geometric(p);
    if (slot >= slots - 1) break;
    const pick = rng.float() * total;
    const kind: AnomalyKind = pick < rates[0] ? 'spike' : pick < rates[0] + rates[1] ? 'gap' : 'fault';
    const [min, max] = kind === 'gap' ? options.gapReadings : kind === 'fault' ? options.faultReadings : [1, 1];
    const length = rng.int(Math.max(kind === 'gap' ? 3 : 1, min), Math.max(min, max));
    const factor = rng.range(spikeFactor[0], spikeFactor[1]);
    const code = kind === 'fault' && faultCodes.length > 0 ? rng.pick(faultCodes) : undefined;
    const to = slot + length - 1;
    if (to >= slots - 1) break; // keep a normal reading after it (a gap needs its right edge)
    out.push({ kind, from: slot, to, factor, ...(code ? { code } : {}) });
    slot = to + 2;
  }
  return out;
}

const DAY_MS = 86_400_000;

/**
 * Plans one panel's slow conditions over [startMs, endMs): at most one step down, or one fast degradation,
 * and abnormal soiling episodes that always end with a cleaning inside the run and keep 4 days from a step;
 * a degrading panel has nothing else (each kind is then visible on its own in the daily performance ratio).
 */
export function planConditions(
  rng: Rng,
  startMs: number,
  endMs: number,
  options: Required<AnomalyOptions>,
): PlannedCondition[] {
  const out: PlannedCondition[] = [];
  const days = (endMs - startMs) / DAY_MS;
  if (days < 16) return out;
  const stepChance = 1 - Math.exp(-options.stepDownsPerDeviceDay * days);
  if (rng.float() < stepChance) {
    const dead = rng.float() < 0.5;
    const strings = rng.int(2, 5);
    out.push({
      kind: 'step_down',
      fromMs: startMs + rng.range(7, days - 7) * DAY_MS, // a week each side: the daily medians see it
      toMs: endMs,
      rate: dead ? 1 / strings : rng.range(0.15, 0.35),
      code: dead ? 'dead_string' : 'shaded_string',
    });
  }
  // A degrading panel gets neither of the others: its slope is then its own (see docs/queries.md).
  if (out.length === 0 && days >= 40 && rng.float() < options.degradedShare) {
    out.push({
      kind: 'degradation',
      fromMs: startMs + rng.range(0, 0.2 * days) * DAY_MS,
      toMs: endMs,
      rate: rng.range(0.02, 0.05),
    });
  }
  const step = out.find((c) => c.kind === 'step_down');
  const perDay = options.soilingPerDeviceDay;
  if (perDay > 0 && !out.some((c) => c.kind === 'degradation')) {
    let t = startMs + 2 * DAY_MS;
    for (;;) {
      t += (-Math.log(1 - rng.float()) / perDay) * DAY_MS;
      const lengthDays = rng.range(12, 30);
      const rate = Math.min(rng.range(0.006, 0.015), 0.25 / lengthDays);
      const to = t + lengthDays * DAY_MS;
      if (to > endMs - 4 * DAY_MS) break; // the cleaning, and a few clean days after it, inside the run
      const clashes = step !== undefined && step.fromMs > t - 4 * DAY_MS && step.fromMs < to + 4 * DAY_MS;
      if (!clashes) out.push({ kind: 'soiling', fromMs: t, toMs: to, rate });
      t = to + 5 * DAY_MS;
    }
  }
  return out.sort((a, b) => a.fromMs - b.fromMs);
}
