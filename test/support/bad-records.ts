import { solarProfile, unicornProfile } from '../../lib/core/profiles';
import { panel, unicorn, workshopTime } from './records';

/**
 * The fuzz suite's bad-input cases (test/core/fuzz.test.ts: any JSON value in any field, truncations,
 * non-objects, prototype keys) as a fixed list of raw record texts, plus valid records with edge
 * values, for the tests that archive them through the embedded Firehose and compare the archive's
 * named queries with the aggregator.
 */

/** Each profile's fields, in the archive's column order (the profiles define them once). */
const UNICORN_FIELDS = unicornProfile.archiveColumns.map((c) => c.name);
const SOLAR_FIELDS = solarProfile.archiveColumns.map((c) => c.name);

/** JSON texts of values that are wrong somewhere: every JSON type, fractions, infinities, huge and tiny numbers. */
export const ANY_JSON_VALUES = [
  'null',
  'true',
  'false',
  '"abc"',
  '""',
  '"42"',
  '{}',
  '{"a":1}',
  '[]',
  '[1,2]',
  '0',
  '-0',
  '1.5',
  '-1',
  '1e400',
  '-1e400',
  '1e20',
  '2147483648',
  '9007199254740993',
  '9223372036854775807',
  '1.0000000000000002',
  '0.1',
  '"\\ud83e"',
];

/** A record's JSON text with one field's value replaced by raw JSON text (so `1.0` and `1e400` stay as written). */
export function withRawField(record: Record<string, unknown>, field: string, rawValue: string): string {
  const marker = '"__RAW__"';
  return JSON.stringify({ ...record, [field]: '__RAW__' }).replace(marker, rawValue);
}

/** Valid records with edge values: each one a distinct event the aggregator aggregates. */
export function edgeValueRecords(t0: number): string[] {
  const out: string[] = [];
  const u = (name: string, second: number, over: Record<string, unknown> = {}) =>
    unicorn(name, t0 + second * 1000, over);
  // Fractions whose float sum is not their decimal sum (0.1 + 0.2 + 0.3), ties at the sixth decimal,
  // the range's ends, negative zero, integers written as 1.0 and 1e2, more digits than a double holds.
  const distances = ['0.1', '0.2', '0.3', '29.7', '0.0000005', '0.0000015', '0.0000025', '1000000', '999999.9999995'];
  distances.forEach((d, i) => {
    out.push(withRawField(u('Edge-Distance', i), 'Distance', d));
  });
  out.push(withRawField(u('Edge-Distance', 20), 'Distance', '-0'));
  out.push(withRawField(u('Edge-Distance', 21), 'Distance', '123456.78901234567890'));
  out.push(withRawField(u('Edge-Distance', 22), 'Distance', '1e-7'));
  const points = ['-0', '-32768', '32767', '1.0', '1e2', '0'];
  points.forEach((p, i) => {
    out.push(withRawField(u('Edge-Points', i, { MagicPoints: 5 }), 'HealthPoints', p));
    out.push(withRawField(u('Edge-Points', 30 + i, { HealthPoints: 7 }), 'MagicPoints', p));
  });
  // The same instant in both layouts is one event; copies are byte-identical.
  const copy = JSON.stringify(u('Edge-Copies', 1, { Distance: 0.7 }));
  out.push(copy, copy, copy);
  out.push(JSON.stringify(u('Edge-Copies', 1, { StatusTime: new Date(t0 + 1000).toISOString() })));
  out.push(JSON.stringify(u('Edge-Layouts', 2, { StatusTime: `${workshopTime(t0 + 2000)}123456` })));
  out.push(
    JSON.stringify(
      u('Edge-Layouts', 3, { StatusTime: new Date(t0 + 3000 + 7_200_000).toISOString().replace('Z', '+0200') }),
    ),
  );
  out.push(JSON.stringify(u('Edge-Layouts', 4, { StatusTime: new Date(t0 + 4000).toISOString().replace('Z', '') })));

  const p = (id: string, second: number, seq: number, over: Record<string, unknown> = {}) =>
    panel(`Panel-${id}`, t0 + second * 1000, seq, over);
  const energies = ['0.1', '0.2', '0.3', '20.4', '0.0000005', '1000000', '999999.9999995', '-0', '1e-7'];
  energies.forEach((e, i) => {
    out.push(withRawField(p('Edge-Energy', i, i), 'energyWh', e));
  });
  const powers = ['0', '100000', '245.3', '0.0000005', '33333.333333333336', '-0'];
  powers.forEach((w, i) => {
    out.push(withRawField(p('Edge-Power', i, 100 + i, { status: i % 2 ? 'FAULT_ARC' : 'OK' }), 'acPowerW', w));
  });
  out.push(withRawField(p('Edge-Seq', 0, 0), 'seq', '9007199254740991'));
  out.push(withRawField(p('Edge-Seq', 1, 0), 'seq', '1.0'));
  out.push(withRawField(p('Edge-Seq', 2, 0), 'seq', '0'));
  const reading = JSON.stringify(p('Edge-Copies', 5, 77));
  out.push(reading, reading);
  out.push(JSON.stringify(p('Edge-Layouts', 6, 1, { ts: workshopTime(t0 + 6000) })));
  return out;
}

/** Bad records: every field × every JSON value, truncations, non-objects, key spellings, prototype keys, time. */
export function badRecordCases(t0: number): string[] {
  const out: string[] = [];
  UNICORN_FIELDS.forEach((field, f) => {
    ANY_JSON_VALUES.forEach((value, v) => {
      const name = field === 'Name' ? 'ignored' : `Bad-${field}`;
      const record = unicorn(name, t0 + 60_000 + f * 1000 + v, {});
      out.push(withRawField(record, field, value));
    });
  });
  SOLAR_FIELDS.forEach((field, f) => {
    ANY_JSON_VALUES.forEach((value, v) => {
      // A panel id a unicorn also has would share its aggregates items (they are keyed by device id only).
      if (field === 'panelId' && value.startsWith('"')) return;
      const record = panel(`Panel-Bad-${field}`, t0 + 60_000 + f * 1000, 1000 + v);
      out.push(withRawField(record, field, value));
    });
  });
  // Named ones the tests look for.
  out.push(JSON.stringify(unicorn('Bad-HealthPoints-string', t0 + 90_000, { HealthPoints: 'abc' })));
  out.push(JSON.stringify(panel('Panel-Bad-seq-object', t0 + 90_000, 0, { seq: { a: 1 } })));
  // Truncations of a valid record (invalid JSON, except the empty prefix's neighbours).
  const valid = JSON.stringify(unicorn('Truncated', t0 + 95_000));
  for (let i = 0; i < valid.length; i += 7) out.push(valid.slice(0, i) || ' ');
  // Not objects, not JSON.
  out.push('[1,2]', '42', '"text"', 'null', 'not json {', '{"Name":', '\u0000');
  // Keys the case-insensitive SerDe would read but the aggregator does not; a second spelling.
  out.push(JSON.stringify({ ...unicorn('Bad-Case', t0 + 100_000), healthpoints: 'x' }));
  out.push(JSON.stringify({ ...unicorn('Bad-Case', t0 + 101_000), DISTANCE: 5 }));
  const lower = Object.fromEntries(
    Object.entries(panel('bad-lowercase', t0 + 102_000, 5)).map(([k, v]) => [k.toLowerCase(), v]),
  );
  out.push(JSON.stringify(lower));
  // Prototype keys and unknown profiles.
  out.push(`{"__proto__":{"Distance":"x"},${JSON.stringify(unicorn('Bad-Proto', t0 + 103_000)).slice(1)}`);
  out.push(JSON.stringify({ constructor: 1, x: [1] }), '{"x":1}', '{}');
  // Valid types, invalid values: ranges, lengths, enumerations, times.
  const u = (name: string, s: number, over: Record<string, unknown>) => JSON.stringify(unicorn(name, t0 + s, over));
  out.push(
    u('Bad-Range', 110_000, { Latitude: 90.0000001 }),
    u('Bad-Range', 110_001, { Distance: -0.000001 }),
    u('Bad-Range', 110_002, { HealthPoints: 32768 }),
    u('', 110_003, {}),
    u('x'.repeat(65), 110_004, {}),
    u('Bad-Time', 0, { StatusTime: '2026-02-30 10:00:00' }),
    u('Bad-Time', 0, { StatusTime: '1999-12-31 23:59:59.999' }),
    u('Bad-Time', 0, { StatusTime: '1970-01-01 00:00:00' }),
    u('Bad-Time', 0, { StatusTime: new Date(t0 + 86_400_000).toISOString() }),
    u('Bad-Time', 0, { StatusTime: '2026-11-22 10:00:00+01:00' }),
    u('Bad-Time', 0, { StatusTime: '2026-11-22T10:00:00.1234567890Z' }),
    u('Bad-Missing', 110_005, { MagicPoints: undefined }),
    JSON.stringify(panel('Panel-Bad-Status', t0 + 110_000, 1, { status: 'ok' })),
    JSON.stringify(panel('Panel-Bad-Status', t0 + 110_000, 2, { status: 'FAULT_ARC'.repeat(4) })),
    JSON.stringify(panel('Panel-Bad-Range', t0 + 110_000, -1, {})),
    JSON.stringify(panel('Panel-Bad-Range', t0 + 110_000, 3, { panelTempC: 120.0000001 })),
  );
  // Over 8 KiB with valid fields is `too_large` for the aggregator; left out here: the archive keeps
  // no record size, so the check would count it (docs/queries.md says so).
  return out;
}
