import { decodeBase64Record, decodeBytes, validateParsed } from '../../lib/core/decode';
import { panel, unicorn } from '../support/records';

const now = Date.UTC(2026, 10, 22, 12, 0, 0);
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('decoding valid records', () => {
  test('a record from the original workshop producer is a unicorn event at its StatusTime, as UTC', () => {
    const line =
      '{"Name":"Shadowfax","StatusTime":"2017-06-02 18:43:04.123","Latitude":40.749,"Longitude":-73.985,"Distance":29.7,"HealthPoints":150,"MagicPoints":151}';
    const decoded = decodeBase64Record(b64(line), Date.UTC(2017, 5, 2, 18, 43, 5));
    expect(decoded).toMatchObject({
      ok: true,
      deviceId: 'Shadowfax',
      eventTimeMs: Date.UTC(2017, 5, 2, 18, 43, 4, 123),
      eventId: 4123,
    });
    expect(decoded.ok && decoded.profile.name).toBe('unicorn');
  });

  test('a solar reading is identified by panel id and sequence number', () => {
    const decoded = decodeBase64Record(b64(JSON.stringify(panel('SP-000001', now - 1000, 42))), now);
    expect(decoded).toMatchObject({ ok: true, deviceId: 'SP-000001', eventId: 42 });
    expect(decoded.ok && decoded.profile.name).toBe('solar');
  });

  test('unknown extra fields are allowed (forward compatible firmware)', () => {
    expect(validateParsed({ ...unicorn('A', now), Firmware: '2.1' }, now).ok).toBe(true);
  });
});

describe('machine-readable reasons', () => {
  test.each([
    ['not json', '{"Name":', 'invalid_json'],
    ['an array', '[1,2]', 'wrong_type:record'],
    ['null', 'null', 'wrong_type:record'],
    ['a number', '42', 'wrong_type:record'],
    ['no profile fields', '{"foo":1}', 'unknown_profile'],
  ])('%s → %s', (_label, text, reason) => {
    expect(decodeBase64Record(b64(text), now)).toEqual({ ok: false, reason });
  });

  test.each([
    ['Name missing', { Name: undefined }, 'missing_field:Name'],
    ['Name null', { Name: null }, 'missing_field:Name'],
    ['Name a number', { Name: 7 }, 'wrong_type:Name'],
    ['Name empty', { Name: '' }, 'out_of_range:Name'],
    ['StatusTime missing', { StatusTime: undefined }, 'missing_field:StatusTime'],
    ['StatusTime not a time', { StatusTime: 'yesterday' }, 'out_of_range:StatusTime'],
    ['StatusTime 30 February', { StatusTime: '2026-02-30 10:00:00.000' }, 'out_of_range:StatusTime'],
    ['Latitude a string', { Latitude: '40.7' }, 'wrong_type:Latitude'],
    ['Latitude 91', { Latitude: 91 }, 'out_of_range:Latitude'],
    ['Longitude -181', { Longitude: -181 }, 'out_of_range:Longitude'],
    ['Distance negative', { Distance: -1 }, 'out_of_range:Distance'],
    ['HealthPoints fractional', { HealthPoints: 1.5 }, 'wrong_type:HealthPoints'],
    ['MagicPoints beyond SMALLINT', { MagicPoints: 40000 }, 'out_of_range:MagicPoints'],
  ])('unicorn with %s', (_label, overrides, reason) => {
    const record = { ...unicorn('Shadowfax', now - 1000), ...overrides };
    expect(validateParsed(JSON.parse(JSON.stringify(record)), now)).toEqual({ ok: false, reason });
  });

  test.each([
    ['seq fractional', { seq: 1.5 }, 'wrong_type:seq'],
    ['seq negative', { seq: -1 }, 'out_of_range:seq'],
    ['seq beyond 2^53', { seq: 2 ** 60 }, 'out_of_range:seq'],
    ['acPowerW a string', { acPowerW: '5' }, 'wrong_type:acPowerW'],
    ['panelTempC 300', { panelTempC: 300 }, 'out_of_range:panelTempC'],
    ['status unknown', { status: 'MELTED' }, 'out_of_range:status'],
    ['status a number', { status: 3 }, 'wrong_type:status'],
    ['ts with a bad zone', { ts: '2026-11-22T10:00:00+25:00' }, 'out_of_range:ts'],
  ])('panel with %s', (_label, overrides, reason) => {
    expect(validateParsed({ ...panel('SP-1', now - 1000, 1), ...overrides }, now)).toEqual({ ok: false, reason });
  });

  test('an event more than 5 minutes ahead of its arrival is timestamp_in_future', () => {
    expect(validateParsed(unicorn('A', now + 5 * 60_000 + 1), now)).toEqual({
      ok: false,
      reason: 'timestamp_in_future',
    });
    expect(validateParsed(unicorn('A', now + 5 * 60_000), now).ok).toBe(true);
  });

  test('an event before the earliest plausible time (2000-01-01 by default) is timestamp_too_old', () => {
    const old = (profile: 'unicorn' | 'solar', time: string) =>
      profile === 'unicorn' ? { ...unicorn('A', now), StatusTime: time } : { ...panel('SP-1', now, 1), ts: time };
    for (const profile of ['unicorn', 'solar'] as const) {
      // A clock that was never set: 1970, or year 0000.
      expect(validateParsed(old(profile, '1970-01-01 00:00:07.000'), now)).toEqual({
        ok: false,
        reason: 'timestamp_too_old',
      });
      expect(validateParsed(old(profile, '0000-01-01T00:00:00Z'), now)).toEqual({
        ok: false,
        reason: 'timestamp_too_old',
      });
      expect(validateParsed(old(profile, '1999-12-31T23:59:59.999Z'), now)).toEqual({
        ok: false,
        reason: 'timestamp_too_old',
      });
      expect(validateParsed(old(profile, '2000-01-01T00:00:00.000Z'), now).ok).toBe(true);
    }
  });

  test('the earliest plausible time is a parameter: the configured bound applies to every profile', () => {
    const earliestEventTimeMs = Date.UTC(2026, 0, 1);
    expect(validateParsed(unicorn('A', Date.UTC(2025, 11, 31)), now, { earliestEventTimeMs })).toEqual({
      ok: false,
      reason: 'timestamp_too_old',
    });
    expect(validateParsed(panel('SP-1', Date.UTC(2026, 0, 1), 1), now, { earliestEventTimeMs }).ok).toBe(true);
  });

  test('a huge number parses to Infinity and is out of range, not accepted', () => {
    const text = JSON.stringify(unicorn('A', now)).replace('"Distance":29.7', '"Distance":1e400');
    expect(decodeBase64Record(b64(text), now)).toEqual({ ok: false, reason: 'out_of_range:Distance' });
  });

  test('records over the size limit are too_large without being decoded', () => {
    const big = JSON.stringify({ ...unicorn('A', now), pad: 'x'.repeat(1_000_000) });
    expect(decodeBase64Record(b64(big), now)).toEqual({ ok: false, reason: 'too_large' });
    expect(decodeBytes(Buffer.from(big), now)).toEqual({ ok: false, reason: 'too_large' });
    expect(decodeBase64Record(b64(JSON.stringify(unicorn('A', now))), now, { maxRecordBytes: 50 })).toEqual({
      ok: false,
      reason: 'too_large',
    });
  });

  test('invalid UTF-8 is invalid_utf8, while a real U+FFFD in a name is fine', () => {
    const json = Buffer.from(JSON.stringify(unicorn('AB', now)));
    const broken = Buffer.from(json);
    broken[json.indexOf('AB')] = 0xff;
    expect(decodeBytes(broken, now)).toEqual({ ok: false, reason: 'invalid_utf8' });
    expect(decodeBytes(Buffer.from(JSON.stringify(unicorn('A\uFFFD', now))), now).ok).toBe(true);
  });

  test('__proto__ keys neither pollute prototypes nor change the outcome', () => {
    const text = JSON.stringify(unicorn('A', now)).replace('{', '{"__proto__":{"polluted":true},"constructor":1,');
    const decoded = decodeBase64Record(b64(text), now);
    expect(decoded.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const onlyProto = decodeBase64Record(b64('{"__proto__":{"Name":"x"}}'), now);
    expect(onlyProto).toEqual({ ok: false, reason: 'unknown_profile' });
  });
});
