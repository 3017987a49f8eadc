/** Glue/Hive column type to the DuckDB type the embedded engine (and the Firehose Parquet writer) read it as. */
export function duckDbType(glueType: string): string {
  const t = glueType.trim().toLowerCase();
  const simple: Record<string, string> = {
    string: 'VARCHAR',
    varchar: 'VARCHAR',
    char: 'VARCHAR',
    int: 'INTEGER',
    integer: 'INTEGER',
    bigint: 'BIGINT',
    smallint: 'SMALLINT',
    tinyint: 'TINYINT',
    double: 'DOUBLE',
    float: 'FLOAT',
    boolean: 'BOOLEAN',
    timestamp: 'TIMESTAMP',
    date: 'DATE',
    binary: 'BLOB',
  };
  if (simple[t]) return simple[t];
  if (/^(var)?char\(\d+\)$/.test(t)) return 'VARCHAR';
  const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return `DECIMAL(${dec[1]},${dec[2]})`;
  // Nested types are read as JSON text; json_extract_scalar() works on them.
  if (/^(array|map|struct)</.test(t)) return 'JSON';
  throw new Error(`Unsupported Glue column type: ${glueType}`);
}
