import { detectProfile } from '../../lib/core/profiles';
import { minuteKey, minuteStart } from '../../lib/core/time';

/**
 * The per-minute aggregates of the deduplicated events, computed independently of the core's merge (a
 * brute-force fold over every valid record, keyed device|minute, first copy of an event id wins; invalid
 * records are skipped): the reference the import and end-to-end tests compare the stores with.
 */
export function referenceAggregates(lines: readonly string[]): Record<string, Record<string, number>> {
  const events = new Map<string, { key: string; metrics: Record<string, [string, number]> }>();
  for (const json of lines) {
    const obj = JSON.parse(json);
    const profile = detectProfile(obj);
    if (!profile) continue;
    const result = profile.validate(obj);
    if (!result.ok) continue;
    const t = profile.eventTime(result.record);
    const key = `${profile.deviceId(result.record)}|${minuteKey(minuteStart(t))}`;
    const metrics: Record<string, [string, number]> = {};
    for (const m of profile.metrics) metrics[m.name] = [m.op, m.value(result.record)];
    const id = `${key}|${profile.eventId(result.record, t)}`;
    if (!events.has(id)) events.set(id, { key, metrics });
  }
  const out: Record<string, Record<string, number>> = {};
  for (const { key, metrics } of events.values()) {
    out[key] ??= { RecordCount: 0 };
    const row = out[key];
    row.RecordCount++;
    for (const [name, [op, v]] of Object.entries(metrics)) {
      if (row[name] === undefined) row[name] = v;
      else row[name] = op === 'sum' ? row[name] + v : op === 'min' ? Math.min(row[name], v) : Math.max(row[name], v);
    }
  }
  return out;
}
