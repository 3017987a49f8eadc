import type { Rng } from './prng';

export type AnomalyKind = 'spike' | 'gap' | 'fault';

/** An injected anomaly, as written to the anomalies file (times are event times, ISO-8601 UTC). */
export interface Anomaly {
  readonly kind: AnomalyKind;
  readonly deviceId: string;
  /** Spike: the reading's time. Gap: the first missing reading's slot. Fault: the first faulty reading. */
  readonly start: string;
  /** Spike: same as start. Gap: the last missing slot (inclusive). Fault: the last faulty reading. */
  readonly end: string;
  /** The field that shows it: `acPowerW`/`Distance` for spikes, `status`/`HealthPoints` for faults. */
  readonly metric?: string;
  /** The reported value (the spiked reading, the health level during a fault). */
  readonly value?: number;
  /** Solar faults: the status code the panel reports during the fault. */
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
}

/** One planned anomaly of one device, in reading slots (inclusive range). */
export interface PlannedAnomaly {
  readonly kind: AnomalyKind;
  readonly from: number;
  readonly to: number;
  /** Spike multiplier (3 to 5) or fault detail drawn at planning time, so the list is known up front. */
  readonly factor: number;
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
    const factor = rng.range(3, 5);
    const code = kind === 'fault' && faultCodes.length > 0 ? rng.pick(faultCodes) : undefined;
    const to = slot + length - 1;
    if (to >= slots - 1) break; // keep a normal reading after it (a gap needs its right edge)
    out.push({ kind, from: slot, to, factor, ...(code ? { code } : {}) });
    slot = to + 2;
  }
  return out;
}
