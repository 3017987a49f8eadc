import type { Anomaly } from './anomalies';

/**
 * Precision and recall of the named queries' findings against the exact list of injected anomalies,
 * per kind. Pure: the harness (test/support/detection-harness.ts) runs the queries and hands the rows here.
 */
export interface KindScore {
  readonly kind: string;
  /** Injected anomalies of this kind. */
  readonly injected: number;
  /** Findings of this kind the query reported. */
  readonly reported: number;
  /** Injected anomalies at least one finding matched. */
  readonly found: number;
  /** Findings that matched an injected anomaly. */
  readonly correct: number;
  /** correct / reported (1 when nothing was reported). */
  readonly precision: number;
  /** found / injected (1 when nothing was injected). */
  readonly recall: number;
}

export interface SpikeFinding {
  readonly device: string;
  readonly eventTimeMs: number;
  readonly reason: string;
}

export interface TrendFinding {
  readonly device: string;
  readonly kind: string;
  /** Local solar days, YYYY-MM-DD: the last judged day before the change and the first after it. */
  readonly startDay: string;
  readonly endDay: string;
}

export interface GapFinding {
  readonly device: string;
  readonly fromMs: number;
  /** Infinity when the device had not come back. */
  readonly untilMs: number;
}

function score(kind: string, injected: number, reported: number, found: number, correct: number): KindScore {
  return {
    kind,
    injected,
    reported,
    found,
    correct,
    precision: reported === 0 ? 1 : correct / reported,
    recall: injected === 0 ? 1 : found / injected,
  };
}

/**
 * Spikes, overall and per band of the multiplier (`spike 2-3x`, `spike 3-5x`): a finding is correct when an
 * injected spike is at that device and instant. A finding of any spike counts against precision overall;
 * the bands split recall (precision per band is the overall one: a false finding has no multiplier).
 */
export function scoreSpikes(anomalies: readonly Anomaly[], findings: readonly SpikeFinding[]): KindScore[] {
  const spikes = anomalies.filter((a) => a.kind === 'spike');
  const at = new Set(findings.map((f) => `${f.device}|${f.eventTimeMs}`));
  const truth = new Set(spikes.map((a) => `${a.deviceId}|${Date.parse(a.start)}`));
  const correct = findings.filter((f) => truth.has(`${f.device}|${f.eventTimeMs}`)).length;
  const precision = findings.length === 0 ? 1 : correct / findings.length;
  const band = (name: string, keep: (factor: number) => boolean): KindScore => {
    const inBand = spikes.filter((a) => keep(a.factor ?? 3));
    const found = inBand.filter((a) => at.has(`${a.deviceId}|${Date.parse(a.start)}`)).length;
    return { ...score(name, inBand.length, findings.length, found, correct), precision };
  };
  return [band('spike', () => true), band('spike 2-3x', (f) => f < 3), band('spike 3-5x', (f) => f >= 3)];
}

/**
 * Trend kinds (`soiling`, `step_down`, `degradation`): a soiling finding matches an injected episode whose
 * cleaning falls between the finding's start and end days (give or take `toleranceDays`), a step down one
 * whose step does, a degradation finding any injected degradation of the panel. `localDay` turns an instant into the panel's solar day.
 */
export function scoreTrends(
  anomalies: readonly Anomaly[],
  findings: readonly TrendFinding[],
  localDay: (deviceId: string, epochMs: number) => string,
  toleranceDays = 2,
): KindScore[] {
  const dayMs = (d: string) => Date.parse(`${d}T00:00:00Z`);
  const out: KindScore[] = [];
  for (const kind of ['soiling', 'step_down', 'degradation'] as const) {
    const truth = anomalies.filter((a) => a.kind === kind);
    const reported = findings.filter((f) => f.kind === kind);
    const matches = (a: Anomaly, f: TrendFinding) => {
      if (a.deviceId !== f.device) return false;
      if (kind === 'degradation') return true;
      const when = localDay(a.deviceId, Date.parse(kind === 'soiling' ? a.end : a.start));
      const tolerance = toleranceDays * 86_400_000;
      return dayMs(when) >= dayMs(f.startDay) - tolerance && dayMs(when) <= dayMs(f.endDay) + tolerance;
    };
    const found = truth.filter((a) => reported.some((f) => matches(a, f))).length;
    const correct = reported.filter((f) => truth.some((a) => matches(a, f))).length;
    out.push(score(kind, truth.length, reported.length, found, correct));
  }
  return out;
}

/** Gaps: a finding matches when it spans the injected outage (last reading before it, first after it). */
export function scoreGaps(anomalies: readonly Anomaly[], findings: readonly GapFinding[]): KindScore {
  const gaps = anomalies.filter((a) => a.kind === 'gap');
  const matches = (a: Anomaly, f: GapFinding) =>
    a.deviceId === f.device && f.fromMs < Date.parse(a.start) && f.untilMs > Date.parse(a.end);
  const found = gaps.filter((a) => findings.some((f) => matches(a, f))).length;
  const correct = findings.filter((f) => gaps.some((a) => matches(a, f))).length;
  return score('gap', gaps.length, findings.length, found, correct);
}

/** A fixed-width table of scores for benchmark and test output. */
export function scoreTable(title: string, scores: readonly KindScore[]): string {
  const pct = (x: number) => x.toFixed(3);
  const rows = scores.map(
    (s) =>
      `  ${s.kind.padEnd(12)} injected ${String(s.injected).padStart(5)}  reported ${String(s.reported).padStart(5)}  precision ${pct(s.precision)}  recall ${pct(s.recall)}`,
  );
  return [title, ...rows].join('\n');
}
