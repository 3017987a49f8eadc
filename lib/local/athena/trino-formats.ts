import { quoteString, SqlSyntaxError } from './sql-tokens';
import { unsupported } from './unsupported-sql';

// Trino types and date/time formats, written the DuckDB way (split from trino-to-duckdb.ts for size).

/** Trino type names (as written in CAST) to DuckDB's. */
export function castType(trino: string): string {
  const s = trino
    .replace(/\s*([(,])\s*/g, '$1')
    .replace(/\s*\)/g, ')')
    .trim();
  const simple: Record<string, string> = {
    varchar: 'VARCHAR',
    string: 'VARCHAR',
    char: 'VARCHAR',
    bigint: 'BIGINT',
    integer: 'INTEGER',
    int: 'INTEGER',
    smallint: 'SMALLINT',
    tinyint: 'TINYINT',
    double: 'DOUBLE',
    'double precision': 'DOUBLE',
    real: 'FLOAT',
    float: 'FLOAT',
    boolean: 'BOOLEAN',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
    'timestamp with time zone': 'TIMESTAMPTZ',
    varbinary: 'BLOB',
    json: 'JSON',
    decimal: 'DECIMAL(38,0)',
  };
  if (simple[s]) return simple[s];
  let m = /^(varchar|char)\(\d+\)$/.exec(s);
  if (m) return 'VARCHAR';
  m = /^timestamp\(\d\)( with time zone)?$/.exec(s);
  if (m) return m[1] ? 'TIMESTAMPTZ' : 'TIMESTAMP';
  m = /^decimal\((\d+)(?:,(\d+))?\)$/.exec(s);
  if (m) return `DECIMAL(${m[1]},${m[2] ?? 0})`;
  m = /^array\((.+)\)$/.exec(s);
  if (m) return `${castType(m[1])}[]`;
  return unsupported(`The type ${trino.toUpperCase()}`);
}

export function timestampLiteral(value: string): string {
  const v = value.trim().replace(/\s+([+-]\d{2}(:?\d{2})?)$/, '$1');
  // Trino writes a zone after a space (`2020-01-01 10:00:00 UTC`, `... +02:00`); DuckDB parses both forms.
  const zoned = /(\s[A-Za-z][A-Za-z_/+-]*|[+-]\d{2}(:?\d{2})?|Z)$/.test(v) && !/^\d{4}-\d{2}-\d{2}$/.test(v);
  return `${zoned ? 'TIMESTAMPTZ' : 'TIMESTAMP'} ${quoteString(v)}`;
}

/** MySQL-style formats (date_parse, date_format) to strftime/strptime. */
export function mysqlFormat(f: string): string {
  const map: Record<string, string> = {
    a: '%a',
    b: '%b',
    c: '%-m',
    d: '%d',
    e: '%-d',
    f: '%f',
    H: '%H',
    h: '%I',
    I: '%I',
    i: '%M',
    j: '%j',
    k: '%-H',
    l: '%-I',
    M: '%B',
    m: '%m',
    p: '%p',
    r: '%I:%M:%S %p',
    S: '%S',
    s: '%S',
    T: '%H:%M:%S',
    v: '%V',
    W: '%A',
    Y: '%Y',
    y: '%y',
    '%': '%%',
  };
  let out = '';
  for (let i = 0; i < f.length; i++) {
    if (f[i] !== '%') {
      out += f[i];
      continue;
    }
    const spec = f[++i];
    const m = spec === undefined ? undefined : map[spec];
    if (!m) unsupported(`The date format specifier %${spec ?? ''}`);
    out += m;
  }
  return out;
}

/** Joda-Time patterns (parse_datetime, format_datetime) to strftime/strptime. */
export function jodaFormat(f: string): string {
  const map: Record<string, string> = {
    yyyy: '%Y',
    YYYY: '%Y',
    yy: '%y',
    MMMM: '%B',
    MMM: '%b',
    MM: '%m',
    M: '%-m',
    dd: '%d',
    d: '%-d',
    HH: '%H',
    H: '%-H',
    hh: '%I',
    h: '%-I',
    mm: '%M',
    m: '%-M',
    ss: '%S',
    s: '%-S',
    SSS: '%g',
    SSSSSS: '%f',
    a: '%p',
    EEEE: '%A',
    EEE: '%a',
    E: '%a',
    DDD: '%j',
    Z: '%z',
    ZZ: '%z',
    z: '%Z',
  };
  let out = '';
  let i = 0;
  while (i < f.length) {
    const c = f[i];
    if (c === "'") {
      const end = f.indexOf("'", i + 1);
      if (end < 0) throw new SqlSyntaxError(`Unterminated quote in the date pattern ${f}`);
      out += end === i + 1 ? "'" : f.slice(i + 1, end).replace(/%/g, '%%');
      i = end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (f[j] === c) j++;
      const run = f.slice(i, j);
      const m = map[run];
      if (!m) unsupported(`The date pattern letters '${run}'`);
      out += m;
      i = j;
    } else {
      out += c === '%' ? '%%' : c;
      i++;
    }
  }
  return out;
}
