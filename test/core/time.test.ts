import { minuteKey, minuteStart, parseTimestamp } from '../../lib/core/time';

describe('parseTimestamp', () => {
  test.each([
    ['2017-06-02 18:43:04.123', Date.UTC(2017, 5, 2, 18, 43, 4, 123)],
    ['2017-06-02 18:43:04', Date.UTC(2017, 5, 2, 18, 43, 4)],
    ['2017-06-02T18:43:04.123Z', Date.UTC(2017, 5, 2, 18, 43, 4, 123)],
    ['2017-06-02T18:43:04Z', Date.UTC(2017, 5, 2, 18, 43, 4)],
    ['2017-06-02T20:43:04.123+02:00', Date.UTC(2017, 5, 2, 18, 43, 4, 123)],
    ['2017-06-02T13:13:04.5-0530', Date.UTC(2017, 5, 2, 18, 43, 4, 500)],
    ['2017-06-02T18:43:04.123456789Z', Date.UTC(2017, 5, 2, 18, 43, 4, 123)],
    ['2024-02-29 00:00:00.000', Date.UTC(2024, 1, 29)],
    ['1969-12-31T23:59:59.999Z', -1],
  ])('reads %s as UTC epoch ms', (input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });

  test('reads the workshop layout as UTC, the same instant as its ISO-with-zone twin', () => {
    expect(parseTimestamp('2017-06-02 18:43:04.123')).toBe(parseTimestamp('2017-06-02T18:43:04.123Z'));
  });

  test.each([
    '',
    '2017-06-02',
    '2017-06-02 18:43',
    '2017-02-30 00:00:00',
    '2023-02-29T00:00:00Z',
    '2017-13-02 18:43:04',
    '2017-06-02 24:00:00',
    '2017-06-02 18:60:04',
    '2017-06-02 18:43:60',
    '2017-06-02 18:43:04.',
    '2017-06-02 18:43:04.123+02:00',
    '2017-06-02T18:43:04.123+2:00',
    '2017-06-02T18:43:04.123Zjunk',
    '2017/06/02 18:43:04',
    'x017-06-02 18:43:04',
    '2017-06-02 1a:43:04',
    '2017-06-02T18:43:04.1234567890Z',
  ])('rejects %p', (input) => {
    expect(parseTimestamp(input)).toBeNaN();
  });

  test('agrees with Date.parse on ISO strings across a wide range', () => {
    for (let ms = Date.UTC(1999, 0, 1); ms < Date.UTC(2101, 0, 1); ms += 86_400_000 * 37 + 3_723_456) {
      const iso = new Date(ms).toISOString();
      expect(parseTimestamp(iso)).toBe(ms);
    }
  });
});

describe('minutes', () => {
  test('minuteStart floors to the minute, before 1970 too', () => {
    expect(minuteStart(Date.UTC(2017, 5, 2, 18, 43, 59, 999))).toBe(Date.UTC(2017, 5, 2, 18, 43));
    expect(minuteStart(-1)).toBe(-60_000);
    expect(minuteStart(Date.UTC(2017, 5, 2, 18, 43))).toBe(Date.UTC(2017, 5, 2, 18, 43));
    expect(minuteStart(59_999.999999)).toBe(0);
    expect(minuteStart(-0.5)).toBe(-60_000);
  });

  test('minuteKey is ISO-8601 UTC and sorts as time does', () => {
    expect(minuteKey(Date.UTC(2017, 5, 2, 18, 43))).toBe('2017-06-02T18:43:00.000Z');
    expect(minuteKey(Date.UTC(2017, 5, 2, 9, 5)) < minuteKey(Date.UTC(2017, 5, 2, 18, 43))).toBe(true);
  });
});
