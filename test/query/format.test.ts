import { javaDouble } from '../../lib/local/athena/result-values';
import { formatRows, toCsv, toObjects } from '../../lib/query/format';

const columns = [
  { name: 'device', type: 'varchar' },
  { name: 'n', type: 'bigint' },
  { name: 'mean', type: 'double' },
  { name: 'ok', type: 'boolean' },
];
const rows = [
  ['SP-1', '12', '3.5', 'true'],
  ['a "quoted", name', '9007199254740993', null, 'false'],
];

describe('output formats', () => {
  test('table: aligned, numbers right-aligned, NULL shown, row count', () => {
    expect(formatRows('table', columns, rows)).toBe(
      [
        'device           | n                | mean | ok',
        '-----------------+------------------+------+------',
        'SP-1             |               12 |  3.5 | true',
        'a "quoted", name | 9007199254740993 | NULL | false',
        '(2 rows)',
        '',
      ].join('\n'),
    );
  });

  test('CSV: RFC 4180 quoting, NULL as an empty field; Athena-style quote-all for result files', () => {
    expect(formatRows('csv', columns, rows)).toBe(
      'device,n,mean,ok\nSP-1,12,3.5,true\n"a ""quoted"", name",9007199254740993,,false\n',
    );
    expect(toCsv(['a'], [['x'], [null]], true)).toBe('"a"\n"x"\n\n');
  });

  test('JSON: numbers and booleans typed, big integers kept exact as strings', () => {
    expect(toObjects(columns, rows)).toEqual([
      { device: 'SP-1', n: 12, mean: 3.5, ok: true },
      { device: 'a "quoted", name', n: '9007199254740993', mean: null, ok: false },
    ]);
  });

  test('doubles print like Athena (Java)', () => {
    expect([3, 0.5, 1e7, 1.5e-4, 12345678.9, -2, Number.NaN].map(javaDouble)).toEqual([
      '3.0',
      '0.5',
      '1.0E7',
      '1.5E-4',
      '1.23456789E7',
      '-2.0',
      'NaN',
    ]);
  });
});
