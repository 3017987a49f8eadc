/**
 * Renders DuckDB result values the way Athena returns them in GetQueryResults (`VarCharValue` strings)
 * and names their types the way Athena's ColumnInfo does, so scripts written against Athena read the
 * embedded engine's results unchanged.
 */
export function toAthenaType(duckType: string): string {
  const t = duckType.toUpperCase();
  if (t.endsWith('[]')) return 'array';
  if (t.startsWith('DECIMAL')) return 'decimal';
  if (t.startsWith('STRUCT')) return 'row';
  if (t.startsWith('MAP')) return 'map';
  const map: Record<string, string> = {
    VARCHAR: 'varchar',
    BIGINT: 'bigint',
    HUGEINT: 'bigint',
    UBIGINT: 'bigint',
    INTEGER: 'integer',
    UINTEGER: 'bigint',
    SMALLINT: 'smallint',
    USMALLINT: 'integer',
    TINYINT: 'tinyint',
    UTINYINT: 'smallint',
    DOUBLE: 'double',
    FLOAT: 'real',
    BOOLEAN: 'boolean',
    DATE: 'date',
    TIMESTAMP: 'timestamp',
    TIMESTAMP_MS: 'timestamp',
    TIMESTAMP_S: 'timestamp',
    TIMESTAMP_NS: 'timestamp',
    'TIMESTAMP WITH TIME ZONE': 'timestamp with time zone',
    TIME: 'time',
    INTERVAL: 'interval day to second',
    BLOB: 'varbinary',
    JSON: 'json',
    UUID: 'uuid',
    '"NULL"': 'unknown',
    NULL: 'unknown',
  };
  return map[t] ?? 'varchar';
}

/** One value as Athena prints it: doubles like Java (`3.0`, `1.0E7`), timestamps with milliseconds. */
export function formatValue(v: unknown, athenaType: string): string | null {
  if (v === null || v === undefined) return null;
  const s = String(v);
  switch (athenaType) {
    case 'double':
    case 'real':
      return javaDouble(Number(s));
    case 'timestamp':
      return timestampMillis(s);
    case 'timestamp with time zone':
      return `${timestampMillis(s.replace(/[+-]\d\d(:?\d\d)?$/, ''))} UTC`;
    default:
      return s;
  }
}

/** Java's Double.toString, which Athena uses: `3.0`, `0.001`, `1.0E-4`, `1.2345678E7`, `NaN`, `Infinity`. */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa, exp] = x.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exp)}`;
}

/** `2020-01-01 10:00:00.5` or `...00.123456` → `2020-01-01 10:00:00.500` / `...00.123`. */
function timestampMillis(s: string): string {
  const m = /^(\d{4,}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.(\d+))?$/.exec(s.trim());
  if (!m) return s;
  return `${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}`;
}
