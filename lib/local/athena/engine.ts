import { mkdirSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { type GlueTableDef, storageFormat } from '../../catalog';
import { forEachConcurrently } from '../../core/flush';
import { type ClientTarget, s3ClientConfig } from '../../shared/aws-clients';
import { ArchiveReader, type PartitionValues } from './archive-reader';
import { duckDbType } from './duckdb-types';
import { formatValue, toAthenaType } from './result-values';
import { isPunct, isWord, quoteString, SqlSyntaxError, skipWs, skipWsBack, type Token, tokenize } from './sql-tokens';
import { findTableRefs, refuseStringRelations, type TableRef } from './table-refs';
import { DUCKDB_SESSION_SETTINGS, translateTrinoToDuckDb, UnsupportedSqlError } from './trino-to-duckdb';

export interface EngineOptions {
  /** Where the archive is: the embedded runtime, LocalStack, or AWS. */
  readonly s3: ClientTarget;
  readonly tables: readonly GlueTableDef[];
  /** Local copies of archive objects, keyed by ETag. */
  readonly cacheDir: string;
  /** DuckDB worker threads (default 2: the machines this runs on are small and shared). */
  readonly threads?: number;
}

export interface ResultColumn {
  readonly name: string;
  /** Athena type name: varchar, bigint, double, timestamp, ... */
  readonly type: string;
}

export interface QueryOutput {
  readonly columns: readonly ResultColumn[];
  /** Values as Athena renders them in GetQueryResults (`VarCharValue`); null for SQL NULL. */
  readonly rows: readonly (readonly (string | null)[])[];
  /** Sum of the sizes of the archive objects the query read, after partition pruning. */
  readonly dataScannedInBytes: number;
  readonly engineExecutionTimeInMillis: number;
  /** The archive objects read, for diagnostics and tests. */
  readonly objectsRead: number;
}

/** A failed query; `message` starts with an Athena/Trino error name such as `SYNTAX_ERROR:`. */
export class QueryFailure extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(`${errorType}: ${message}`);
  }
}

export class QueryCancelled extends Error {}

const DOWNLOAD_CONCURRENCY = 8;

/**
 * The instance-wide DuckDB settings, applied once and then locked: Trino's semantics (UTC, integer
 * division, NULLS LAST), and a sandbox. Queries arrive over an unauthenticated loopback API, so DuckDB may
 * read only the local copy of the archive (`cacheDir`): no other file (`FROM '/etc/passwd'`, globs,
 * `read_text`), no `COPY TO`/`ATTACH`/`INSTALL`, no extension loading, and no `SET` to undo any of it —
 * whatever the translator lets through.
 */
export function sandboxSettings(cacheDir: string): string[] {
  const dirs = [...new Set([resolve(cacheDir), realpathSync(cacheDir)])].map((d) => `${d}/`);
  return [
    ...DUCKDB_SESSION_SETTINGS.map((s) => s.replace(/^SET /, 'SET GLOBAL ')),
    'SET GLOBAL autoinstall_known_extensions = false',
    'SET GLOBAL autoload_known_extensions = false',
    `SET GLOBAL allowed_directories = [${dirs.map(quoteString).join(', ')}]`,
    `SET GLOBAL temp_directory = ${quoteString(join(dirs[0], '.duckdb-tmp'))}`,
    'SET GLOBAL enable_external_access = false',
    'SET GLOBAL lock_configuration = true',
  ];
}

/**
 * The embedded Athena: DuckDB over a local, ETag-keyed copy of the archive, with Glue tables exposed as
 * views and partition projection turned into pruning of the S3 listing.
 */
export class AnalyticsEngine {
  private readonly reader: ArchiveReader;
  private readonly s3: S3Client;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly options: EngineOptions,
  ) {
    this.s3 = new S3Client(s3ClientConfig(options.s3));
    this.reader = new ArchiveReader(this.s3, options.cacheDir);
  }

  static async create(given: EngineOptions): Promise<AnalyticsEngine> {
    // Absolute, so every path DuckDB is given lies under the one directory it may read.
    const options = { ...given, cacheDir: resolve(given.cacheDir) };
    for (const t of options.tables) storageFormat(t); // fail at start on an unreadable table
    mkdirSync(options.cacheDir, { recursive: true });
    const instance = await DuckDBInstance.create(':memory:', { threads: String(options.threads ?? 2) });
    const setup = await instance.connect();
    try {
      for (const s of sandboxSettings(options.cacheDir)) await setup.run(s);
    } finally {
      setup.closeSync();
    }
    return new AnalyticsEngine(instance, options);
  }

  databases(): string[] {
    return [...new Set(this.options.tables.map((t) => t.databaseName))].sort();
  }

  tables(database?: string): GlueTableDef[] {
    return this.options.tables.filter((t) => database === undefined || t.databaseName === database);
  }

  table(database: string | undefined, name: string): GlueTableDef | undefined {
    return this.options.tables.find(
      (t) => t.tableName === name && (database === undefined || t.databaseName === database),
    );
  }

  async execute(sql: string, opts: { database?: string; signal?: AbortSignal } = {}): Promise<QueryOutput> {
    const started = Date.now();
    const conn = await this.instance.connect();
    const onAbort = () => conn.interrupt();
    opts.signal?.addEventListener('abort', onAbort);
    try {
      const meta = this.metadataQuery(sql, opts.database);
      if (meta)
        return { ...meta, dataScannedInBytes: 0, engineExecutionTimeInMillis: Date.now() - started, objectsRead: 0 };
      const { duckSql, scanned, objects } = await this.prepare(conn, sql, opts.database, opts.signal);
      if (opts.signal?.aborted) throw new QueryCancelled('Query cancelled');
      const result = await conn.runAndReadAll(duckSql);
      const types = result.columnTypes();
      const columns = result.columnNames().map((name, i) => ({ name, type: toAthenaType(String(types[i])) }));
      const rows = result.getRows().map((row) => row.map((v, i) => formatValue(v, columns[i].type)));
      return {
        columns,
        rows,
        dataScannedInBytes: scanned,
        engineExecutionTimeInMillis: Date.now() - started,
        objectsRead: objects,
      };
    } catch (err) {
      if (opts.signal?.aborted) throw new QueryCancelled('Query cancelled');
      throw toQueryFailure(err);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      conn.closeSync();
    }
  }

  async close(): Promise<void> {
    this.instance.closeSync();
    this.s3.destroy();
  }

  /** Rewrites table references to per-query views over the pruned, cached objects; returns DuckDB SQL. */
  private async prepare(
    conn: DuckDBConnection,
    sql: string,
    database: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ duckSql: string; scanned: number; objects: number }> {
    const { tokens, refs } = findTableRefs(sql, (db, name) => this.table(db ?? database, name) !== undefined);
    refuseStringRelations(sql, tokens);
    let scanned = 0;
    let objects = 0;
    const parquet: { files: string[]; columns: string[] }[] = [];
    const pieces: string[] = [];
    let cursor = 0;
    for (const [k, ref] of refs.entries()) {
      const table = this.table(ref.database ?? database, ref.table);
      if (!table) {
        const db = ref.database ?? database ?? 'default';
        throw new QueryFailure('TABLE_NOT_FOUND', `Table 'awsdatacatalog.${db}.${ref.table}' does not exist`);
      }
      const listed = await this.reader.listObjects(table, (known, candidates) =>
        this.filterPartitions(conn, table, ref, known, candidates),
      );
      if (signal?.aborted) throw new QueryCancelled('Query cancelled');
      const files: string[] = new Array(listed.length);
      await forEachConcurrently([...listed.keys()], DOWNLOAD_CONCURRENCY, async (i) => {
        files[i] = await this.reader.localCopy(table, listed[i]);
      });
      if (storageFormat(table) === 'parquet') parquet.push({ files, columns: table.columns.map((c) => c.name) });
      else scanned += listed.reduce((sum, o) => sum + o.size, 0);
      objects += listed.length;
      const view = `__t${k}`;
      await conn.run(`CREATE OR REPLACE TEMP VIEW ${view} AS ${scanSql(table, files)}`);
      for (let i = cursor; i < ref.start; i++) pieces.push(tokens[i].text);
      pieces.push(ref.alias ? view : `${view} AS "${ref.table}"`);
      cursor = ref.end;
    }
    for (let i = cursor; i < tokens.length; i++) pieces.push(tokens[i].text);
    const duckSql = translateTrinoToDuckDb(pieces.join(''));
    if (parquet.length > 0) {
      // Columnar scans are billed for the column chunks read: ask DuckDB's plan which columns that is.
      const planned = await plannedParquetColumns(conn, duckSql);
      const fallback = referencedColumns(tokens);
      for (const p of parquet) {
        const used = planned ?? fallback;
        const columns = used === 'all' ? 'all' : new Set(p.columns.filter((c) => used.has(c)));
        scanned += await parquetScannedBytes(conn, p.files, columns);
      }
    }
    return { duckSql, scanned, objects };
  }

  /** Evaluates the ref's partition conjuncts on candidate partition values, in DuckDB, with Trino semantics. */
  private async filterPartitions(
    conn: DuckDBConnection,
    table: GlueTableDef,
    ref: TableRef,
    known: readonly string[],
    candidates: PartitionValues[],
  ): Promise<PartitionValues[]> {
    const partitionCols = new Set(table.partitionKeys.map((k) => k.name));
    const usable = ref.partitionConjuncts.filter((c) =>
      c.columns.every((col) => partitionCols.has(col) && known.includes(col)),
    );
    if (usable.length === 0 || candidates.length === 0) return candidates;
    const literal = (v: number | string) => (typeof v === 'number' ? String(v) : quoteString(v));
    let remaining = candidates;
    // Each conjunct alone: one that cannot be evaluated here just does not prune (the WHERE still applies).
    for (const c of usable) {
      let where: string;
      try {
        where = translateTrinoToDuckDb(`SELECT __i FROM __partitions WHERE ${c.sql}`);
      } catch {
        continue;
      }
      const rows = remaining.map((r, i) => `(${[i, ...known.map((k) => r[k])].map(literal).join(', ')})`).join(', ');
      const columns = ['__i', ...known].map((k) => `"${k}"`).join(', ');
      try {
        const res = await conn.runAndReadAll(`WITH __partitions(${columns}) AS (VALUES ${rows}) ${where}`);
        const keep = new Set(res.getRowsJS().map((r) => Number(r[0])));
        remaining = remaining.filter((_, i) => keep.has(i));
      } catch {
        // not prunable here
      }
      if (remaining.length === 0) break;
    }
    return remaining;
  }

  /** SHOW TABLES / SHOW DATABASES / DESCRIBE, answered from the catalog like Athena's DDL queries. */
  private metadataQuery(sql: string, database: string | undefined): Pick<QueryOutput, 'columns' | 'rows'> | undefined {
    let tokens: ReturnType<typeof tokenize>;
    try {
      tokens = tokenize(sql).filter((t) => t.kind !== 'ws' && t.kind !== 'comment' && !isPunct(t, ';'));
    } catch {
      return undefined;
    }
    const words = tokens.map((t) => t.value);
    const col = (name: string) => [{ name, type: 'varchar' }];
    if (isWord(tokens[0], 'show') && isWord(tokens[1], 'databases', 'schemas')) {
      return { columns: col('database_name'), rows: this.databases().map((d) => [d]) };
    }
    if (isWord(tokens[0], 'show') && isWord(tokens[1], 'tables')) {
      const db = isWord(tokens[2], 'in', 'from') ? words[3] : database;
      return { columns: col('tab_name'), rows: this.tables(db).map((t) => [t.tableName]) };
    }
    if (isWord(tokens[0], 'describe') || (isWord(tokens[0], 'show') && isWord(tokens[1], 'columns'))) {
      const start = isWord(tokens[0], 'describe') ? 1 : 3;
      const name = words.slice(start).filter((w) => w !== '.');
      const table = this.table(name.length > 1 ? name[name.length - 2] : database, name[name.length - 1] ?? '');
      if (!table) throw new QueryFailure('TABLE_NOT_FOUND', `Table ${name.join('.')} does not exist`);
      return {
        columns: [
          { name: 'col_name', type: 'varchar' },
          { name: 'data_type', type: 'varchar' },
          { name: 'comment', type: 'varchar' },
        ],
        rows: [...table.columns, ...table.partitionKeys].map((c) => [
          c.name,
          c.type,
          table.partitionKeys.includes(c) ? 'Partition Key' : (c.comment ?? ''),
        ]),
      };
    }
    if (tokens[0] && isWord(tokens[0], 'create', 'drop', 'alter', 'insert', 'msck', 'unload', 'delete', 'update')) {
      throw new UnsupportedSqlError(
        `The ${tokens[0].text.toUpperCase()} statement is not supported by the embedded engine: tables come from the stack's Glue definitions`,
      );
    }
    return undefined;
  }
}

/** The SELECT a per-query view runs: typed columns from the cached files, plus the partition columns. */
export function scanSql(table: GlueTableDef, files: readonly string[]): string {
  const cols = table.columns.map((c) => ({ name: c.name, type: duckDbType(c.type) }));
  const parts = table.partitionKeys.map((c) => ({ name: c.name, type: duckDbType(c.type) }));
  const all = [...cols, ...parts];
  if (files.length === 0) {
    return `SELECT ${all.map((c) => `CAST(NULL AS ${c.type}) AS "${c.name}"`).join(', ')} WHERE false`;
  }
  const list = `[${files.map(quoteString).join(', ')}]`;
  const hive =
    parts.length === 0
      ? ''
      : `, hive_partitioning = true, hive_types = {${parts.map((p) => `${quoteString(p.name)}: '${p.type}'`).join(', ')}}`;
  if (storageFormat(table) === 'parquet') {
    const select = [
      ...cols.map((c) => `CAST("${c.name}" AS ${c.type}) AS "${c.name}"`),
      ...parts.map((p) => `"${p.name}"`),
    ];
    return `SELECT ${select.join(', ')} FROM read_parquet(${list}, union_by_name = true${hive})`;
  }
  const struct = `{${cols.map((c) => `${quoteString(c.name)}: ${quoteString(c.type)}`).join(', ')}}`;
  return `SELECT ${all.map((c) => `"${c.name}"`).join(', ')} FROM read_json(${list}, format = 'newline_delimited', columns = ${struct}${hive})`;
}

/**
 * Identifiers the query mentions, or 'all' when it selects `*`: a Parquet scan reads only those
 * columns' chunks, which is what Athena bills for columnar data.
 */
function referencedColumns(tokens: readonly Token[]): Set<string> | 'all' {
  const names = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'ident' || t.kind === 'qident') names.add(t.value);
    if (t.kind === 'op' && t.text === '*') {
      const prev = tokens[skipWsBack(tokens, i - 1)];
      const next = tokens[skipWs(tokens, i + 1)];
      const countStar = isPunct(prev, '(') && isPunct(next, ')');
      const isMultiply =
        prev && (prev.kind === 'number' || prev.kind === 'ident' || prev.kind === 'qident' || isPunct(prev, ')'));
      if (!countStar && !(isMultiply && !isPunct(prev, '.') && !isWord(prev, 'select', 'distinct'))) return 'all';
    }
  }
  return names;
}

/** Columns the Parquet scans of DuckDB's optimized plan read (projections and filters), or undefined. */
async function plannedParquetColumns(conn: DuckDBConnection, duckSql: string): Promise<Set<string> | undefined> {
  try {
    const res = await conn.runAndReadAll(`EXPLAIN (FORMAT json) ${duckSql}`);
    const plans = res.getRowsJS().map((r) => JSON.parse(String(r[1])));
    const out = new Set<string>();
    const walk = (node: { name?: string; children?: unknown[]; extra_info?: Record<string, unknown> }) => {
      if (/PARQUET/i.test(node.name ?? '') || /parquet/i.test(String(node.extra_info?.Function ?? ''))) {
        for (const key of ['Projections', 'Filters']) {
          const v = node.extra_info?.[key];
          const text = Array.isArray(v) ? v.join(' ') : String(v ?? '');
          for (const w of text.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) out.add(w.toLowerCase());
        }
      }
      for (const c of node.children ?? []) walk(c as typeof node);
    };
    for (const p of plans) for (const n of Array.isArray(p) ? p : [p]) walk(n);
    return out;
  } catch {
    return undefined;
  }
}

/** Bytes of the Parquet column chunks a query reads (compressed, as stored). */
async function parquetScannedBytes(
  conn: DuckDBConnection,
  files: readonly string[],
  columns: Set<string> | 'all',
): Promise<number> {
  if (files.length === 0) return 0;
  const res = await conn.runAndReadAll(
    `SELECT lower(path_in_schema) AS col, sum(total_compressed_size) AS bytes FROM parquet_metadata([${files.map(quoteString).join(', ')}]) GROUP BY 1`,
  );
  let total = 0;
  for (const [col, bytes] of res.getRowsJS()) {
    if (columns === 'all' || columns.has(String(col))) total += Number(bytes);
  }
  return total;
}

function toQueryFailure(err: unknown): Error {
  if (err instanceof QueryFailure || err instanceof QueryCancelled) return err;
  const message = (err as Error)?.message ?? String(err);
  if (err instanceof UnsupportedSqlError) return new QueryFailure('NOT_SUPPORTED', message);
  if (err instanceof SqlSyntaxError) return new QueryFailure('SYNTAX_ERROR', message);
  if (message.startsWith('HIVE_BAD_DATA'))
    return new QueryFailure('HIVE_BAD_DATA', message.replace(/^HIVE_BAD_DATA:\s*/, ''));
  if (/^(Parser|Binder|Catalog) Error/.test(message)) return new QueryFailure('SYNTAX_ERROR', message);
  if (/^(Conversion|Invalid Input|Out of Range) Error/.test(message))
    return new QueryFailure('INVALID_FUNCTION_ARGUMENT', message);
  if (/Interrupted/i.test(message)) return new QueryCancelled('Query cancelled');
  return new QueryFailure('GENERIC_INTERNAL_ERROR', message);
}
