import { detectProfile } from '../core/profiles';
import { minuteKey, minuteStart } from '../core/time';
import type { PipelineView } from './pipeline-view';

/**
 * An independent reference for what the pipeline must end with, computed from the records sent
 * (copies and bad records included) without the aggregator's code path: per device-minute the count
 * and metrics of the distinct events, per device the newest event time, and the records that must be
 * quarantined. `compare` lists every difference (empty = exact). Used by the end-to-end tests and the soak.
 */
export interface PipelineReference {
  /** `device|minute` -> RecordCount and each metric. */
  readonly aggregates: Record<string, Record<string, number>>;
  /** Device -> newest event time (ms). */
  readonly latest: Record<string, number>;
  readonly distinctEvents: number;
  /** Sent records that are not a valid reading (each must be in the quarantine or Firehose's errors). */
  readonly invalid: readonly string[];
}

export function referenceOf(records: Iterable<string>): PipelineReference {
  const events = new Map<string, { key: string; metrics: Record<string, [string, number]> }>();
  const latest: Record<string, number> = {};
  const invalid = new Set<string>();
  for (const json of records) {
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(json);
    } catch {
      invalid.add(json);
      continue;
    }
    const profile = obj && typeof obj === 'object' ? detectProfile(obj) : undefined;
    const result = profile?.validate(obj);
    if (!profile || !result?.ok) {
      invalid.add(json);
      continue;
    }
    const t = profile.eventTime(result.record);
    const device = profile.deviceId(result.record);
    const key = `${device}|${minuteKey(minuteStart(t))}`;
    const metrics: Record<string, [string, number]> = {};
    for (const m of profile.metrics) metrics[m.name] = [m.op, m.value(result.record)];
    events.set(`${key}|${profile.eventId(result.record, t)}`, { key, metrics });
    latest[device] = Math.max(latest[device] ?? 0, t);
  }
  const aggregates: Record<string, Record<string, number>> = {};
  for (const { key, metrics } of events.values()) {
    aggregates[key] ??= { RecordCount: 0 };
    const row = aggregates[key];
    row.RecordCount++;
    for (const [name, [op, v]] of Object.entries(metrics)) {
      if (row[name] === undefined) row[name] = v;
      else row[name] = op === 'sum' ? row[name] + v : op === 'min' ? Math.min(row[name], v) : Math.max(row[name], v);
    }
  }
  return { aggregates, latest, distinctEvents: events.size, invalid: [...invalid] };
}

/** Every way the pipeline's outcome differs from the reference, as lines a person can read. */
export function compare(view: PipelineView, ref: PipelineReference): string[] {
  const problems: string[] = [];
  for (const [key, row] of Object.entries(ref.aggregates)) {
    const got = view.aggregates[key];
    if (!got) {
      problems.push(`aggregate ${key} missing`);
      continue;
    }
    if (got.RecordCount !== row.RecordCount) {
      problems.push(`aggregate ${key}: RecordCount ${got.RecordCount}, expected ${row.RecordCount}`);
    }
    for (const [name, v] of Object.entries(row)) {
      // internal sums (e.g. SumPowerW) may be stored under another attribute
      if (got[name] !== undefined && Math.abs(got[name] - v) > 0.01) {
        problems.push(`aggregate ${key}: ${name} ${got[name]}, expected ${v}`);
      }
    }
  }
  for (const key of Object.keys(view.aggregates))
    if (!ref.aggregates[key]) problems.push(`unexpected aggregate ${key}`);
  for (const [device, t] of Object.entries(ref.latest)) {
    if (view.latest[device] !== t) problems.push(`device ${device}: latest ${view.latest[device]}, expected ${t}`);
  }
  if (view.distinctArchivedEvents !== ref.distinctEvents) {
    problems.push(`archive holds ${view.distinctArchivedEvents} distinct events, expected ${ref.distinctEvents}`);
  }
  const quarantined = new Map(view.quarantine.map((q) => [q.data, q.reason]));
  for (const bad of ref.invalid) {
    const reason = quarantined.get(bad);
    if (!reason) problems.push(`bad record not quarantined: ${bad.slice(0, 80)}`);
  }
  return problems;
}
