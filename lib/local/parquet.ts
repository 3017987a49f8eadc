import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { GlueColumn } from '../catalog';
import { duckDbType } from './athena/duckdb-types';
import type { ParquetCompression } from './stack-plan';

/**
 * Firehose record format conversion (JSON -> Parquet) with DuckDB: the records go through NDJSON into
 * a Parquet file whose columns are the Glue table's, like Firehose's OpenX JSON deserializer (keys
 * matched case-insensitively, missing keys null, values cast to the column type or null). The one Parquet
 * writer: the embedded Firehose, the benchmark and the tests all use it.
 */

const quoteIdentifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * A JSON value's text (`expr`, VARCHAR) as the Parquet column `column` (named in lower case), the way
 * Firehose's OpenX deserializer converts it: cast to the column's type, or null when it does not cast.
 * The one definition of that conversion; the history import's archive writer uses it too.
 */
export function castToColumn(expr: string, column: Pick<GlueColumn, 'name' | 'type'>): string {
  return `TRY_CAST(${expr} AS ${duckDbType(column.type)}) AS ${quoteIdentifier(column.name.toLowerCase())}`;
}

export class ParquetWriter {
  private connection?: Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }>;
  private readonly dir = mkdtempSync(join(tmpdir(), 'local-parquet-'));
  private n = 0;

  constructor(
    private readonly columns: readonly Pick<GlueColumn, 'name' | 'type'>[],
    private readonly compression: ParquetCompression = 'SNAPPY',
  ) {}

  /** Converts parsed records to one Parquet file's bytes, pages compressed as the template's ParquetSerDe says. */
  async write(records: readonly Record<string, unknown>[]): Promise<Buffer> {
    this.connection ??= DuckDBInstance.create(':memory:').then(async (instance) => ({
      instance,
      conn: await instance.connect(),
    }));
    const { conn } = await this.connection;
    const id = ++this.n;
    const input = join(this.dir, `in-${id}.ndjson`);
    const output = join(this.dir, `out-${id}.parquet`);
    const lowered = records.map((r) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) o[k.toLowerCase()] = v;
      return JSON.stringify(o);
    });
    writeFileSync(input, `${lowered.join('\n')}\n`);
    const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
    const cols = this.columns.map((c) => `${q(c.name.toLowerCase())}: 'VARCHAR'`).join(', ');
    const select = this.columns.map((c) => castToColumn(quoteIdentifier(c.name.toLowerCase()), c)).join(', ');
    try {
      await conn.run(
        `COPY (SELECT ${select} FROM read_json(${q(input)}, format='newline_delimited', columns={${cols}})) ` +
          `TO ${q(output)} (FORMAT parquet, COMPRESSION ${this.compression.toLowerCase()})`,
      );
      return readFileSync(output);
    } finally {
      rmSync(input, { force: true });
      rmSync(output, { force: true });
    }
  }

  async close(): Promise<void> {
    const c = await this.connection;
    c?.conn.closeSync();
    c?.instance.closeSync();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
