import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { SqlSyntaxError } from '../../../lib/local/athena/sql-tokens';
import {
  DUCKDB_SESSION_SETTINGS,
  jodaFormat,
  mysqlFormat,
  translateTrinoToDuckDb,
  UnsupportedSqlError,
} from '../../../lib/local/athena/trino-to-duckdb';

// Each case is Trino SQL with the value Trino returns for it; the translation must give the same value in DuckDB.
let instance: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  conn = await instance.connect();
  for (const s of DUCKDB_SESSION_SETTINGS) await conn.run(s);
});

afterAll(() => {
  conn.closeSync();
  instance.closeSync();
});

/** Runs translated Trino SQL; returns rows as strings (DuckDB's rendering) for exact comparison. */
async function run(trino: string): Promise<{ names: string[]; rows: (string | null)[][] }> {
  const r = await conn.runAndReadAll(translateTrinoToDuckDb(trino));
  return { names: r.columnNames(), rows: r.getRows().map((row) => row.map((v) => (v === null ? null : String(v)))) };
}

const value = async (expr: string, from = '') => (await run(`SELECT ${expr} AS v ${from}`)).rows[0][0];

describe('Trino constructs with the same meaning in DuckDB', () => {
  test.each([
    // timestamp literals, with and without a zone
    ["to_unixtime(TIMESTAMP '2026-11-20 10:00:00')", '1795168800'],
    ["to_unixtime(TIMESTAMP '2026-11-20 10:00:00 UTC')", '1795168800'],
    ["to_unixtime(TIMESTAMP '2026-11-20 12:00:00 +02:00')", '1795168800'],
    // date_trunc on timestamps with a zone
    ["to_unixtime(date_trunc('minute', from_iso8601_timestamp('2026-11-20T10:05:59.999Z')))", '1795169100'],
    ["to_unixtime(date_trunc('hour', TIMESTAMP '2026-11-20 10:59:00'))", '1795168800'],
    // from_iso8601_timestamp with Z, an offset, and no zone (session zone UTC)
    ["to_unixtime(from_iso8601_timestamp('2026-11-20T12:00:00+02:00'))", '1795168800'],
    ["to_unixtime(from_iso8601_timestamp('2026-11-20T10:00:00'))", '1795168800'],
    ["to_unixtime(from_iso8601_timestamp('2026-11-20T10:00:00.500Z'))", '1795168800.5'],
    ["CAST(from_iso8601_date('2026-11-20') AS varchar)", '2026-11-20'],
    // date_parse with MySQL formats (the workshop's StatusTime), parse_datetime with Joda patterns
    ["to_unixtime(date_parse('2026-11-20 10:00:00.250', '%Y-%m-%d %H:%i:%s.%f'))", '1795168800.25'],
    ["to_unixtime(date_parse('20/11/2026 10:00', '%d/%m/%Y %H:%i'))", '1795168800'],
    ["to_unixtime(parse_datetime('2026-11-20T12:00:00.000+0200', 'yyyy-MM-dd''T''HH:mm:ss.SSSZ'))", '1795168800'],
    ["date_format(TIMESTAMP '2026-11-20 10:05:00', '%Y%m%d%H')", '2026112010'],
    ["format_datetime(TIMESTAMP '2026-11-20 10:05:07', 'yyyy-MM-dd HH:mm:ss')", '2026-11-20 10:05:07'],
    ["to_iso8601(TIMESTAMP '2026-11-20 10:05:00 UTC')", '2026-11-20T10:05:00.000Z'],
    // date_diff counts whole units elapsed (DuckDB's date_diff would say 1 here)
    ["date_diff('hour', TIMESTAMP '2026-11-20 10:59:00', TIMESTAMP '2026-11-20 11:01:00')", '0'],
    ["date_diff('second', TIMESTAMP '2026-11-20 10:00:00', TIMESTAMP '2026-11-20 10:01:30')", '90'],
    ["date_diff('day', TIMESTAMP '2026-11-20 12:00:00', TIMESTAMP '2026-11-18 13:00:00')", '-1'],
    // date_add
    ["to_unixtime(date_add('minute', 90, TIMESTAMP '2026-11-20 10:00:00'))", '1795174200'],
    ["to_unixtime(date_add('day', -1, TIMESTAMP '2026-11-20 10:00:00'))", '1795082400'],
    ["CAST(date_add('quarter', 1, TIMESTAMP '2026-11-20 00:00:00') AS varchar)", '2027-02-20 00:00:00'],
    ["to_unixtime(TIMESTAMP '2026-11-20 10:00:00' + INTERVAL '2' HOUR)", '1795176000'],
    // from_unixtime / to_unixtime
    ['to_unixtime(from_unixtime(1795168800.5))', '1795168800.5'],
    // current_timestamp exists and is recent
    ["current_timestamp > TIMESTAMP '2020-01-01 00:00:00 UTC'", 'true'],
    // CAST and TRY_CAST forms
    ["CAST('42' AS integer)", '42'],
    ['CAST(2.5 AS bigint)', '3'],
    ["TRY_CAST('x' AS integer)", null],
    ["CAST(CAST('2026-11-20 10:00:00' AS timestamp) AS varchar)", '2026-11-20 10:00:00'],
    ["to_unixtime(CAST('2026-11-20 10:00:00 UTC' AS timestamp(3) with time zone))", '1795168800'],
    ["CAST('1.25' AS decimal(10, 2))", '1.25'],
    ["CAST('3.5' AS real)", '3.5'],
    ['CAST(1 AS varchar(10))', '1'],
    // Trino integer division truncates
    ['7 / 2', '3'],
    ['-7 / 2', '-3'],
    ['7.0 / 2', '3.5'],
    // NULL-propagating functions DuckDB does not propagate by default
    ['greatest(1, NULL)', null],
    ['least(3, 2)', '2'],
    ["concat('a', NULL)", null],
    ["concat('a', 'b', 'c')", 'abc'],
    ["regexp_extract('abc', 'x')", null],
    ["regexp_extract('SP-000123', '\\d+')", '000123'],
    ["regexp_replace('a-b-c', '-', '')", 'abc'],
    ["regexp_replace('ab', '(a)(b)', '$2$1')", 'ba'],
    ["regexp_like('SP-1', '^SP-')", 'true'],
    ['if(1 > 2, 1, 2)', '2'],
    ['if(1 > 2, 1)', null],
    ["day_of_week(DATE '2026-11-22')", '7'],
    ["day_of_year(DATE '2026-02-01')", '32'],
    ["millisecond(TIMESTAMP '2026-11-20 10:00:03.250')", '250'],
    ["EXTRACT(HOUR FROM TIMESTAMP '2026-11-20 10:00:03')", '10'],
    ["EXTRACT(DOW FROM DATE '2026-11-22')", '7'],
    ["year(TIMESTAMP '2026-11-20 10:00:00')", '2026'],
    ['log(2, 8)', '3'],
    ["replace('a.b', '.')", 'ab'],
    ['json_extract_scalar(\'{"a": {"b": 7}}\', \'$.a.b\')', '7'],
    ['cardinality(ARRAY[1, 2, 3])', '3'],
    ['"Lower"', null],
  ])('%s', async (expr, expected) => {
    if (expr === '"Lower"') {
      // double-quoted identifiers are case-insensitive in Trino
      expect((await run('SELECT "Lower" FROM (SELECT 1 AS lower) t')).rows[0][0]).toBe('1');
      return;
    }
    expect(await value(expr)).toBe(expected);
  });

  test('aggregates: approx_percentile (exact here), approx_distinct, max_by/min_by (NULL x kept), count_if, arbitrary', async () => {
    const from = 'FROM (VALUES (1, 10.0, NULL), (2, 30.0, 5), (3, 20.0, 7), (4, 40.0, 8)) AS t(k, v, x)';
    expect(await value('approx_percentile(v, 0.5)', from)).toBe('20.0');
    expect(await value('approx_distinct(k)', from)).toBe('4');
    expect(await value('max_by(k, v)', from)).toBe('4');
    expect(await value('min_by(x, v)', from)).toBeNull(); // Trino keeps the NULL x of the minimum
    expect(await value('count_if(v > 15)', from)).toBe('3');
    expect(await value('arbitrary(k) BETWEEN 1 AND 4', from)).toBe('true');
    expect(await value('stddev_samp(k) > 1', from)).toBe('true');
  });

  test('ROW_NUMBER() OVER and window aggregates with frames', async () => {
    const r = await run(`SELECT k, ROW_NUMBER() OVER (PARTITION BY g ORDER BY k DESC) AS rn,
        approx_percentile(k, 0.5) OVER (PARTITION BY g ORDER BY k ROWS BETWEEN 2 PRECEDING AND 1 PRECEDING) AS med,
        lag(k) OVER (PARTITION BY g ORDER BY k) AS prev
      FROM (VALUES (1, 'a'), (2, 'a'), (3, 'a'), (4, 'b')) AS t(k, g) ORDER BY k`);
    expect(r.rows).toEqual([
      ['1', '3', null, null],
      ['2', '2', '1', '1'],
      ['3', '1', '1', '2'],
      ['4', '1', null, null],
    ]);
  });

  test('unnamed expressions are named _colN by position, as Athena does; names are lower-cased', async () => {
    const r = await run('SELECT 1, 2 AS Two, k, count(*) FROM (VALUES (1)) AS t(k) GROUP BY k');
    expect(r.names).toEqual(['_col0', 'two', 'k', '_col3']);
  });

  test('CTEs with column lists, subqueries and a trailing semicolon', async () => {
    const r = await run('WITH c (a, b) AS (SELECT 1, 2) SELECT a + b AS s FROM c;');
    expect(r.rows).toEqual([['3']]);
  });

  test("AT TIME ZONE 'UTC' is a no-op in the UTC engine", async () => {
    expect(await value("to_unixtime(TIMESTAMP '2026-11-20 10:00:00 UTC' AT TIME ZONE 'UTC')")).toBe('1795168800');
  });

  test('format translations', () => {
    expect(mysqlFormat('%Y-%m-%d %H:%i:%s.%f')).toBe('%Y-%m-%d %H:%M:%S.%f');
    expect(mysqlFormat('%T %p')).toBe('%H:%M:%S %p');
    expect(jodaFormat("yyyy-MM-dd'T'HH:mm:ss.SSSZ")).toBe('%Y-%m-%dT%H:%M:%S.%g%z');
  });
});

describe('constructs outside the subset fail with a message naming them', () => {
  test.each([
    [
      'SELECT x FROM t CROSS JOIN UNNEST(a) WITH ORDINALITY AS u(x, n)',
      /UNNEST \.\.\. WITH ORDINALITY is not supported/,
    ],
    ['SELECT transform(a, x -> x + 1) FROM t', /function transform\(\)|lambda/],
    ['SELECT histogram(x) FROM t', /The function histogram\(\) is not supported by the embedded engine/],
    ['SELECT approx_percentile(x, w, 0.5) FROM t', /approx_percentile\(\) with weights/],
    ["SELECT x AT TIME ZONE 'America/New_York' FROM t", /AT TIME ZONE other than 'UTC'/],
    ["SELECT date_format(x, '%U') FROM t", /date format specifier %U/],
    ['SELECT date_diff(u, a, b) FROM t', /needs the unit as a string literal/],
    ['SELECT CAST(x AS map(varchar, integer)) FROM t', /The type MAP/],
    ['SELECT * FROM t TABLESAMPLE BERNOULLI (10)', /TABLESAMPLE/],
    ['SELECT ROW(1, 2)', /ROW constructor/],
    ['SELECT "$path" FROM t', /hidden column "\$path"/],
    ['SELECT ? FROM t', /execution parameter/],
    ['CREATE TABLE x AS SELECT 1', /CREATE statement/],
    ['SELECT 1; SELECT 2', /Only one SQL statement/],
    ["SELECT from_unixtime(x, 'Europe/Paris') FROM t", /from_unixtime\(\) with a time zone/],
  ])('%s', (sql, message) => {
    expect(() => translateTrinoToDuckDb(sql)).toThrow(UnsupportedSqlError);
    expect(() => translateTrinoToDuckDb(sql)).toThrow(message);
  });

  test.each([
    ["SELECT 'unterminated", /Unterminated string literal/],
    ['SELECT x::int FROM t', /'::' is not Trino syntax/],
    ['SELECT {{from}}', /Unfilled placeholder/],
    ["SELECT date_trunc('fortnight', x) FROM t", /not a valid unit/],
    ['', /empty/],
  ])('syntax: %s', (sql, message) => {
    expect(() => translateTrinoToDuckDb(sql)).toThrow(SqlSyntaxError);
    expect(() => translateTrinoToDuckDb(sql)).toThrow(message);
  });
});

describe('string literals as relations (DuckDB would read them as files)', () => {
  test.each([
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM ( '/etc/passwd' )",
    "SELECT * FROM t JOIN '**/package.json' p ON true",
    "SELECT * FROM t, 'x.csv'",
    "SELECT * FROM (SELECT * FROM 'x.parquet')",
  ])('%s is a syntax error, as in Athena', (sql) => {
    expect(() => translateTrinoToDuckDb(sql)).toThrow(/^line 1:\d+: mismatched input '/);
  });

  test.each([
    "SELECT extract(year FROM timestamp '2026-11-20 00:00:00')",
    "SELECT trim(BOTH 'x' FROM 'xabcx')",
    "SELECT substring('abcdef' FROM 2 FOR 3)",
    "SELECT * FROM t WHERE name IN ('a', 'b')",
    "SELECT 'a', 'b' FROM t",
  ])('a string elsewhere is still a string: %s', (sql) => {
    expect(() => translateTrinoToDuckDb(sql)).not.toThrow(/mismatched input/);
  });
});
