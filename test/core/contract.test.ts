import { decodeBase64Record } from '../../lib/core/decode';
import { panel, unicorn } from '../support/records';

/**
 * docs/record-contract.md's field tables, field by field, through the same decode path as the Lambda
 * (raw JSON text, so `1e400` reaches the validator as JSON.parse gives it: ±Infinity).
 */
const now = Date.UTC(2026, 10, 22, 12, 0, 0);
const base = { unicorn: unicorn('Shadowfax', now - 1000), solar: panel('SP-000001', now - 1000, 7) };

/** The record of `profile` with `field` set to `json`, a raw JSON value text (e.g. `1e400`). */
function decodeWith(profile: keyof typeof base, field: string, json: string) {
  const text = JSON.stringify({ ...base[profile], [field]: '\u0000' }).replace('"\\u0000"', json);
  return decodeBase64Record(Buffer.from(text).toString('base64'), now);
}
const reasonOf = (profile: keyof typeof base, field: string, json: string) => {
  const r = decodeWith(profile, field, json);
  return r.ok ? 'ok' : r.reason;
};

const NUMBERS: [keyof typeof base, string, number, number, boolean][] = [
  ['unicorn', 'Latitude', -90, 90, false],
  ['unicorn', 'Longitude', -180, 180, false],
  ['unicorn', 'Distance', 0, 1_000_000, false],
  ['unicorn', 'HealthPoints', -32_768, 32_767, true],
  ['unicorn', 'MagicPoints', -32_768, 32_767, true],
  ['solar', 'seq', 0, 2 ** 53 - 1, true],
  ['solar', 'acPowerW', 0, 100_000, false],
  ['solar', 'dcVoltageV', 0, 1_500, false],
  ['solar', 'dcCurrentA', 0, 100, false],
  ['solar', 'energyWh', 0, 1_000_000, false],
  ['solar', 'panelTempC', -60, 120, false],
  ['solar', 'irradianceWm2', 0, 2_000, false],
];

describe.each(NUMBERS)('%s %s: %d … %d (integer: %s)', (profile, field, min, max, integer) => {
  test('both ends are accepted, just past them is out_of_range', () => {
    expect(reasonOf(profile, field, String(min))).toBe('ok');
    expect(reasonOf(profile, field, String(max))).toBe('ok');
    const step = integer ? 1 : 0.001;
    expect(reasonOf(profile, field, String(min - step))).toBe(`out_of_range:${field}`);
    // 2^53 - 1 + 1 is exact; for the others a small step past the end.
    expect(reasonOf(profile, field, String(max + step))).toBe(`out_of_range:${field}`);
  });

  test('±1e400 (JSON.parse gives ±Infinity) is out_of_range, as the contract says', () => {
    expect(reasonOf(profile, field, '1e400')).toBe(`out_of_range:${field}`);
    expect(reasonOf(profile, field, '-1e400')).toBe(`out_of_range:${field}`);
  });

  test('a string is wrong_type; a fraction is wrong_type only for integers', () => {
    expect(reasonOf(profile, field, '"5"')).toBe(`wrong_type:${field}`);
    expect(reasonOf(profile, field, String(min + 0.5))).toBe(integer ? `wrong_type:${field}` : 'ok');
  });
});

describe.each([
  ['unicorn', 'Name'],
  ['solar', 'panelId'],
] as const)('%s %s: 1–64 characters', (profile, field) => {
  test('characters are code points: 64 emoji fit, 65 do not', () => {
    expect(reasonOf(profile, field, JSON.stringify('🦄'.repeat(40)))).toBe('ok');
    expect(reasonOf(profile, field, JSON.stringify('🦄'.repeat(64)))).toBe('ok');
    expect(reasonOf(profile, field, JSON.stringify('🦄'.repeat(65)))).toBe(`out_of_range:${field}`);
    expect(reasonOf(profile, field, JSON.stringify('é'.repeat(64)))).toBe('ok');
    expect(reasonOf(profile, field, JSON.stringify('x'.repeat(65)))).toBe(`out_of_range:${field}`);
    expect(reasonOf(profile, field, '""')).toBe(`out_of_range:${field}`);
  });

  test('a lone surrogate (only a \\u escape can make one) is not text: out_of_range', () => {
    expect(reasonOf(profile, field, '"A\\ud83eB"')).toBe(`out_of_range:${field}`);
    expect(reasonOf(profile, field, '"AB\\udd84"')).toBe(`out_of_range:${field}`);
    expect(reasonOf(profile, field, '"A\\ud83e\\udd84"')).toBe('ok');
  });

  test('a number is wrong_type, null is missing_field', () => {
    expect(reasonOf(profile, field, '7')).toBe(`wrong_type:${field}`);
    expect(reasonOf(profile, field, 'null')).toBe(`missing_field:${field}`);
  });
});

describe('timestamps and status', () => {
  test.each([
    ['unicorn', 'StatusTime', '"2026-11-22 11:59:58.123"'],
    ['unicorn', 'StatusTime', '"2026-11-22 11:59:58"'],
    ['unicorn', 'StatusTime', '"2026-11-22T11:59:58.123Z"'],
    ['unicorn', 'StatusTime', '"2026-11-22T13:59:58.123+02:00"'],
    ['solar', 'ts', '"2026-11-22T11:59:58.000Z"'],
    ['solar', 'ts', '"2026-11-22T06:59:58-05:00"'],
    ['solar', 'ts', '"2026-11-22 11:59:58.000"'],
  ] as const)('%s %s %s is accepted', (profile, field, json) => {
    expect(reasonOf(profile, field, json)).toBe('ok');
  });

  test('every status code of the contract is accepted, anything else is out_of_range', () => {
    for (const s of ['OK', 'DEGRADED', 'FAULT_GRID', 'FAULT_OVERTEMP', 'FAULT_ISOLATION', 'FAULT_ARC']) {
      expect(reasonOf('solar', 'status', JSON.stringify(s))).toBe('ok');
    }
    expect(reasonOf('solar', 'status', '"ok"')).toBe('out_of_range:status');
  });
});

test('reasons keep the table order: a fraction past the range of an integer field is wrong_type', () => {
  expect(reasonOf('unicorn', 'HealthPoints', '40000.5')).toBe('wrong_type:HealthPoints');
});
