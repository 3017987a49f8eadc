import { gzipSync } from 'node:zlib';
import { solarProfile } from '../../lib/core/profiles';
import { generateFleet } from '../../lib/simulator/generate';

export { referenceAggregates } from '../support/reference';

/** Copies per message: the firmware's original plus 10 retries. */
export const COPIES = 11;

/** Records no import may lose or accept: each has one known reason. */
export const BAD_LINES = [
  'definitely not json',
  '{"neither":"unicorn nor panel"}',
  '{"panelId":"SP-OLD","ts":"1999-12-31T23:59:00.000Z","seq":1,"acPowerW":1,"dcVoltageV":1,"dcCurrentA":1,"energyWh":1,"panelTempC":20,"irradianceWm2":1,"status":"OK"}',
  '{"panelId":"SP-FUTURE","ts":"2099-01-01T00:00:00.000Z","seq":1,"acPowerW":1,"dcVoltageV":1,"dcCurrentA":1,"energyWh":1,"panelTempC":20,"irradianceWm2":1,"status":"OK"}',
];

/** A few days of history for both fleets, in event-time order, as device JSON lines. */
export function history(
  days = 2,
  panels = 12,
  start = new Date('2026-06-01T00:00:00.000Z'),
  unicornMinutes = 20,
): string[] {
  const solar = generateFleet({ profile: 'solar', devices: panels, start, durationMs: days * 86_400_000, seed: 11 });
  const unicorns = generateFleet({
    profile: 'unicorn',
    devices: 2,
    start,
    durationMs: unicornMinutes * 60_000,
    seed: 12,
  });
  return [...solar.records(), ...unicorns.records()].sort((a, b) => a.eventTimeMs - b.eventTimeMs).map((r) => r.json);
}

/** The retry bug: every line COPIES times, copies up to ~60 lines later (so some cross chunk boundaries). */
export function withCopies(lines: readonly string[], seed = 5): string[] {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  const slots: { at: number; json: string }[] = [];
  lines.forEach((json, i) => {
    for (let c = 0; c < COPIES; c++) slots.push({ at: i + (c === 0 ? 0 : rnd() * 60), json });
  });
  return slots.sort((a, b) => a.at - b.at).map((x) => x.json);
}

export const ndjson = (lines: readonly string[]) => Buffer.from(`${lines.join('\n')}\n`);
export const gzipped = (lines: readonly string[]) => gzipSync(ndjson(lines));

/** The solar record's fields, in the archive's column order (the profile defines them once). */
const SOLAR_FIELDS = solarProfile.archiveColumns.map((c) => c.name);

/** Solar lines as a CSV export (header, one row per reading). */
export function solarCsv(lines: readonly string[]): Buffer {
  const rows = lines.map((l) => {
    const o = JSON.parse(l) as Record<string, unknown>;
    return SOLAR_FIELDS.map((f) => String(o[f])).join(',');
  });
  return Buffer.from(`${SOLAR_FIELDS.join(',')}\n${rows.join('\n')}\n`);
}
