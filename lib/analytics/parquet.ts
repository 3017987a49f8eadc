import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { normalizeJsonLines } from './archive-reader';
import { duckDbType, type GlueTableDef } from './catalog';
import { quoteString } from './sql-tokens';

/**
 * NDJSON records to a Parquet object with the table's columns and types, as Firehose's record format
 * conversion writes them (Snappy by default, or GZIP; lower-case column names). Used by the benchmark and tests to compare
 * what Athena reads from the same records in each format.
 */
export async function ndjsonToParquet(
  ndjson: string | Buffer,
  table: GlueTableDef,
  compression: 'snappy' | 'gzip' | 'uncompressed' = 'snappy',
): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'athena-parquet-'));
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await instance.connect();
  try {
    const src = join(dir, 'in.json');
    const out = join(dir, 'out.parquet');
    writeFileSync(src, normalizeJsonLines(Buffer.isBuffer(ndjson) ? ndjson : Buffer.from(ndjson), false, 'input'));
    const columns = `{${table.columns.map((c) => `${quoteString(c.name)}: ${quoteString(duckDbType(c.type))}`).join(', ')}}`;
    await conn.run(
      `COPY (SELECT * FROM read_json(${quoteString(src)}, format = 'newline_delimited', columns = ${columns})) TO ${quoteString(out)} (FORMAT parquet, COMPRESSION ${compression})`,
    );
    return readFileSync(out);
  } finally {
    conn.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}
