import { randomUUID } from 'node:crypto';
import { mkdirSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { type GlueTableDef, storageFormat } from '../../catalog';
import { forEachConcurrently } from '../../core/flush';
import { type ClientTarget, s3ClientConfig } from '../../shared/aws-clients';
import { ArchiveReader, type PartitionValues } from './archive-reader';
import { CatalogStore } from './catalog-store';
import { DdlFailure, executeDdl, type SelectResult } from './ddl-executor';
import { parseStatement, type Statement } from './ddl-parser';
import { duckDbType } from './duckdb-types';
import { formatValue, toAthenaType } from './result-values';
import { isPunct, isWord, quoteString, SqlSyntaxError, skipWs, skipWsBack, type Token, tokenize } from './sql-tokens';
import { findTableRefs, refuseStringRelations, type TableRef } from './table-refs';
import { DUCKDB_SESSION_SETTINGS, translateTrinoToDuckDb, UnsupportedSqlError } from './trino-to-duckdb';

export interface EngineOptions {
  /** Where the archive is: the embedded runtime, LocalStack, or AWS. */
  readonly s3: ClientTarget;
  /** The catalog's starting tables (the template's), when no `catalog` is given. */
  readonly tables?: readonly GlueTableDef[];
  /** The mutable catalog DDL changes (the embedded runtime's, persisted); default: one in memory over `tables`. */
  readonly catalog?: CatalogStore;
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
  /** Rows a CTAS or INSERT INTO wrote (Athena's UpdateCount). */
  readonly updateCount?: number;
  /** DuckDB's names of the column types (precise decimals), for CTAS and views. */
  readonly duckTypes?: readonly string[];
}

export interface ExecuteOptions {
  /** Database of the query execution context. */
  readonly database?: string;
  readonly signal?: AbortSignal;
  /** Prepared statements are kept per workgroup, as Athena does. @default primary */
  readonly workgroup?: string;
  /** `ExecutionParameters`: SQL literals bound to the `?` of the query (or of `EXECUTE ... ` without USING). */
  readonly parameters?: readonly string[];
  /** The workgroup's results location `s3://bucket/prefix/` (CTAS without external_location writes below it). */
  readonly resultsLocation?: string;
  /** Names CTAS/INSERT objects and a CTAS's default location, as Athena uses the query id. */
  readonly queryId?: string;
}

/** Hidden columns Athena adds to every table, and the names they travel under through DuckDB. */
const HIDDEN_COLUMNS: Readonly<Record<string, string>> = { $path: '__athena_path', $file_size: '__athena_file_size' };
const INFORMATION_SCHEMA = 'information_schema';

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
  readonly catalog: CatalogStore;

  private constructor(
    private readonly instance: DuckDBInstance,
    options: EngineOptions,
  ) {
    this.s3 = new S3Client(s3ClientConfig(options.s3));
    this.reader = new ArchiveReader(this.s3, options.cacheDir);
    this.catalog = options.catalog ?? new CatalogStore(options.tables ?? []);
  }

  static async create(given: EngineOptions): Promise<AnalyticsEngine> {
    // Absolute, so every path DuckDB is given lies under the one directory it may read.
    const options = { ...given, cacheDir: resolve(given.cacheDir) };
    for (const t of options.tables ?? []) storageFormat(t); // fail at start on an unreadable template table
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
    return this.catalog.databases();
  }

  tables(database?: string): GlueTableDef[] {
    return this.catalog.tables(database);
  }

  table(database: string | undefined, name: string): GlueTableDef | undefined {
    if (database !== undefined) return this.catalog.table(database, name);
    return this.catalog.tables().find((t) => t.tableName === name);
  }

  async execute(sql: string, opts: ExecuteOptions = {}): Promise<QueryOutput> {
    const started = Date.now();
    const conn = await this.instance.connect();
    const onAbort = () => conn.interrupt();
    opts.signal?.addEventListener('abort', onAbort);
    const done = (out: Pick<QueryOutput, 'columns' | 'rows'> & Partial<QueryOutput>): QueryOutput => ({
      dataScannedInBytes: 0,
      objectsRead: 0,
      ...out,
      engineExecutionTimeInMillis: Date.now() - started,
    });
    try {
      const database = opts.database ?? this.catalog.tables()[0]?.databaseName ?? 'default';
      const workgroup = opts.workgroup ?? 'primary';
      let text = sql;
      let st = parseStatement(text);
      if (st?.kind === 'prepare') {
        tokenize(st.sql); // a statement that does not even tokenize is refused now, as Athena's PREPARE parses it
        this.catalog.putPrepared({ workgroup, name: st.name, sql: st.sql });
        return done({ columns: [], rows: [] });
      }
      if (st?.kind === 'deallocate') {
        if (!this.catalog.deletePrepared(workgroup, st.name))
          throw new QueryFailure('NOT_FOUND', `Prepared statement not found: ${st.name}`);
        return done({ columns: [], rows: [] });
      }
      if (st?.kind === 'execute') {
        const prepared = this.catalog.prepared(workgroup, st.name);
        if (!prepared) throw new QueryFailure('NOT_FOUND', `Prepared statement not found: ${st.name}`);
        text = bindParameters(prepared.sql, st.using.length > 0 ? st.using : (opts.parameters ?? []));
        st = parseStatement(text);
      } else if (opts.parameters !== undefined || hasParameterMarker(text)) {
        text = bindParameters(text, opts.parameters ?? []);
        st = parseStatement(text);
      }
      if (st?.kind === 'explain') return done(await this.explain(conn, st, database, opts.signal));
      if (st) {
        const out = await executeDdl(st, {
          catalog: this.catalog,
          s3: this.s3,
          database,
          queryId: opts.queryId ?? randomUUID(),
          resultsLocation: opts.resultsLocation,
          runSelect: (q) => this.select(conn, q, database, opts.signal),
        });
        return done(out);
      }
      const meta = this.metadataQuery(text, database);
      if (meta) return done(meta);
      return done(await this.select(conn, text, database, opts.signal));
    } catch (err) {
      if (opts.signal?.aborted) throw new QueryCancelled('Query cancelled');
      throw toQueryFailure(err);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      conn.closeSync();
    }
  }

  /** A query to typed rows (Athena's strings plus DuckDB's type names). */
  private async select(
    conn: DuckDBConnection,
    sql: string,
    database: string,
    signal: AbortSignal | undefined,
  ): Promise<SelectResult & { objectsRead: number }> {
    const { duckSql, scanned, objects } = await this.prepare(conn, sql, database, signal);
    if (signal?.aborted) throw new QueryCancelled('Query cancelled');
    const result = await conn.runAndReadAll(duckSql);
    const types = result.columnTypes().map(String);
    const hidden = Object.fromEntries(Object.entries(HIDDEN_COLUMNS).map(([k, v]) => [v, k]));
    const columns = result
      .columnNames()
      .map((name, i) => ({ name: hidden[name] ?? name, type: toAthenaType(types[i]) }));
    const rows = result.getRows().map((row) => row.map((v, i) => formatValue(v, columns[i].type)));
    return { columns, rows, duckTypes: types, dataScannedInBytes: scanned, objectsRead: objects };
  }

  /** EXPLAIN [ANALYZE]: DuckDB's plan of the translated query (not Trino's plan shape). */
  private async explain(
    conn: DuckDBConnection,
    st: Extract<Statement, { kind: 'explain' }>,
    database: string,
    signal: AbortSignal | undefined,
  ): Promise<Pick<QueryOutput, 'columns' | 'rows' | 'dataScannedInBytes'>> {
    const inner = parseStatement(st.query);
    if (inner)
      throw new UnsupportedSqlError(`EXPLAIN of a ${inner.kind} statement is not supported by the embedded engine`);
    const { duckSql, scanned } = await this.prepare(conn, st.query, database, signal);
    const res = await conn.runAndReadAll(`EXPLAIN ${st.analyze ? 'ANALYZE ' : ''}${duckSql}`);
    const lines = res
      .getRowsJS()
      .flatMap((r) => String(r[1]).split('\n'))
      .map((l) => [l]);
    return {
      columns: [{ name: 'Query Plan', type: 'varchar' }],
      rows: lines,
      dataScannedInBytes: st.analyze ? scanned : 0,
    };
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
    sql = this.expandViews(sql, database);
    const { tokens, refs } = findTableRefs(sql, (db, name) => this.table(db ?? database, name) !== undefined);
    refuseStringRelations(sql, tokens);
    const hidden = tokens.some((t) => t.kind === 'qident' && t.value in HIDDEN_COLUMNS);
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
      const registered =
        table.partitionKeys.length > 0 && table.parameters?.['projection.enabled'] !== 'true'
          ? this.catalog.partitions(table.databaseName, table.tableName)
          : undefined;
      const listed = await this.reader.listObjects(
        table,
        (known, candidates) => this.filterPartitions(conn, table, ref, known, candidates),
        registered,
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
      const scan = scanSql(table, files);
      await conn.run(
        `CREATE OR REPLACE TEMP VIEW ${view} AS ${hidden ? withHiddenColumns(table, scan, files, listed) : scan}`,
      );
      for (let i = cursor; i < ref.start; i++) pieces.push(tokenText(tokens[i]));
      pieces.push(ref.alias ? view : `${view} AS "${ref.table}"`);
      cursor = ref.end;
    }
    for (let i = cursor; i < tokens.length; i++) pieces.push(tokenText(tokens[i]));
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

  /**
   * Replaces views and information_schema tables by their queries (as subqueries), repeatedly, so a view
   * over a view works; what remains are catalog tables.
   */
  private expandViews(sql: string, database: string | undefined): string {
    const db = (d: string | undefined) => d ?? database ?? 'default';
    const isInfo = (d: string | undefined, name: string) =>
      db(d) === INFORMATION_SCHEMA && ['tables', 'columns', 'schemata', 'views'].includes(name);
    for (let depth = 0; depth < 32; depth++) {
      const { tokens, refs } = findTableRefs(
        sql,
        (d, name) =>
          isInfo(d, name) || this.catalog.view(db(d), name) !== undefined || this.table(db(d), name) !== undefined,
      );
      const replace = refs.filter((r) => isInfo(r.database, r.table) || this.catalog.view(db(r.database), r.table));
      if (replace.length === 0) return sql;
      const pieces: string[] = [];
      let cursor = 0;
      for (const ref of replace) {
        for (let i = cursor; i < ref.start; i++) pieces.push(tokens[i].text);
        const body = isInfo(ref.database, ref.table)
          ? this.informationSchema(ref.table)
          : this.catalog.view(db(ref.database), ref.table)!.sql;
        pieces.push(`(${body})${ref.alias ? '' : ` AS "${ref.table}"`}`);
        cursor = ref.end;
      }
      for (let i = cursor; i < tokens.length; i++) pieces.push(tokens[i].text);
      sql = pieces.join('');
    }
    throw new QueryFailure('VIEW_IS_RECURSIVE', 'View is recursive (or nested deeper than 32 levels)');
  }

  /** information_schema.{schemata,tables,columns,views} as a VALUES query over the catalog (Trino's columns). */
  private informationSchema(name: string): string {
    const catalogName = 'awsdatacatalog';
    const q = (v: string | number | null) =>
      v === null ? 'CAST(NULL AS varchar)' : typeof v === 'number' ? String(v) : quoteString(v);
    const values = (columns: string[], rows: (string | number | null)[][]) => {
      const typed = columns.map((c) => `${c}`);
      if (rows.length === 0)
        return `SELECT ${typed.map((c) => `CAST(NULL AS varchar) AS ${c}`).join(', ')} WHERE false`;
      return `SELECT * FROM (VALUES ${rows.map((r) => `(${r.map(q).join(', ')})`).join(', ')}) AS __info(${typed.join(', ')})`;
    };
    const dbs = [...this.catalog.databases(), INFORMATION_SCHEMA].sort();
    const tables = this.catalog.tables();
    const views = this.catalog.views();
    if (name === 'schemata')
      return values(
        ['catalog_name', 'schema_name'],
        dbs.map((d) => [catalogName, d]),
      );
    if (name === 'tables')
      return values(
        ['table_catalog', 'table_schema', 'table_name', 'table_type'],
        [
          ...tables.map((t) => [catalogName, t.databaseName, t.tableName, 'BASE TABLE']),
          ...views.map((v) => [catalogName, v.databaseName, v.viewName, 'VIEW']),
        ],
      );
    if (name === 'views')
      return values(
        ['table_catalog', 'table_schema', 'table_name', 'view_definition'],
        views.map((v) => [catalogName, v.databaseName, v.viewName, v.sql]),
      );
    const rows: (string | number | null)[][] = [];
    for (const t of tables) {
      const partition = new Set(t.partitionKeys);
      for (const [i, c] of [...t.columns, ...t.partitionKeys].entries()) {
        rows.push([
          catalogName,
          t.databaseName,
          t.tableName,
          c.name,
          i + 1,
          null,
          'YES',
          trinoType(c.type),
          c.comment ?? null,
          partition.has(c) ? 'partition key' : null,
        ]);
      }
    }
    for (const v of views) {
      for (const [i, c] of v.columns.entries()) {
        rows.push([catalogName, v.databaseName, v.viewName, c.name, i + 1, null, 'YES', trinoType(c.type), null, null]);
      }
    }
    return values(
      [
        'table_catalog',
        'table_schema',
        'table_name',
        'column_name',
        'ordinal_position',
        'column_default',
        'is_nullable',
        'data_type',
        'comment',
        'extra_info',
      ],
      rows,
    );
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
    if (isWord(tokens[0], 'describe') || (isWord(tokens[0], 'show') && isWord(tokens[1], 'columns'))) {
      const start = isWord(tokens[0], 'describe') ? 1 : 3;
      const name = words.slice(start).filter((w) => w !== '.');
      const db = name.length > 1 ? name[name.length - 2] : (database ?? 'default');
      const table = this.table(db, name[name.length - 1] ?? '');
      const view = table ? undefined : this.catalog.view(db, name[name.length - 1] ?? '');
      if (view) {
        return {
          columns: [
            { name: 'col_name', type: 'varchar' },
            { name: 'data_type', type: 'varchar' },
            { name: 'comment', type: 'varchar' },
          ],
          rows: view.columns.map((c) => [c.name, c.type, '']),
        };
      }
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
    if (tokens[0] && isWord(tokens[0], 'unload', 'delete', 'update', 'merge', 'optimize', 'vacuum')) {
      throw new UnsupportedSqlError(
        `The ${tokens[0].text.toUpperCase()} statement is not supported by the embedded engine (Hive tables only: no Iceberg, no UNLOAD)`,
      );
    }
    return undefined;
  }
}

/** The token as DuckDB gets it: Athena's hidden columns travel under plain names (the translator refuses `$`). */
function tokenText(t: Token): string {
  return t.kind === 'qident' && t.value in HIDDEN_COLUMNS ? `"${HIDDEN_COLUMNS[t.value]}"` : t.text;
}

/** The scan plus `"$path"` (the object's s3:// URI) and `"$file_size"` (its size in bytes). */
function withHiddenColumns(
  table: GlueTableDef,
  scan: string,
  files: readonly string[],
  objects: readonly { bucket: string; key: string; size: number }[],
): string {
  const path = HIDDEN_COLUMNS.$path;
  const size = HIDDEN_COLUMNS.$file_size;
  if (files.length === 0)
    return `SELECT *, CAST(NULL AS VARCHAR) AS ${path}, CAST(NULL AS BIGINT) AS ${size} FROM (${scan})`;
  const map = files.map(
    (f, i) => `(${quoteString(f)}, ${quoteString(`s3://${objects[i].bucket}/${objects[i].key}`)}, ${objects[i].size})`,
  );
  return `SELECT __s.* EXCLUDE (__file), __m.p AS ${path}, CAST(__m.sz AS BIGINT) AS ${size} FROM (${scanSql(table, files, true)}) AS __s JOIN (VALUES ${map.join(', ')}) AS __m(f, p, sz) ON __s.__file = __m.f`;
}

/** Glue (Hive) type to the type name Trino's information_schema.columns shows. */
function trinoType(glueType: string): string {
  const t = glueType.toLowerCase();
  const map: Record<string, string> = {
    string: 'varchar',
    int: 'integer',
    float: 'real',
    timestamp: 'timestamp(3)',
    binary: 'varbinary',
  };
  return (
    map[t] ??
    t
      .replace(/^struct</, 'row(')
      .replace(/</g, '(')
      .replace(/>/g, ')')
  );
}

/** Whether the query has a `?` outside strings, comments and quoted names. */
function hasParameterMarker(sql: string): boolean {
  try {
    return tokenize(sql).some((t) => t.kind === 'punct' && t.text === '?');
  } catch {
    return false;
  }
}

/**
 * Binds Athena's execution parameters: each `?` (outside literals) takes the next value, which is SQL text
 * (`'abc'`, `42`, `DATE '2017-06-02'`), as Athena's ExecutionParameters are.
 */
export function bindParameters(sql: string, parameters: readonly string[]): string {
  const tokens = tokenize(sql);
  const markers = tokens.filter((t) => t.kind === 'punct' && t.text === '?').length;
  if (markers !== parameters.length)
    throw new QueryFailure(
      'INVALID_PARAMETER_USAGE',
      `Incorrect number of parameters: expected ${markers} but found ${parameters.length}`,
    );
  let n = 0;
  return tokens
    .map((t) => {
      if (!(t.kind === 'punct' && t.text === '?')) return t.text;
      const value = parameters[n++];
      // One literal or expression per marker: a value that opens a new statement or comment is refused.
      const parsed = tokenize(value).filter((x) => x.kind !== 'ws');
      if (parsed.length === 0 || parsed.some((x) => x.kind === 'comment' || (x.kind === 'punct' && x.text === ';')))
        throw new QueryFailure('INVALID_PARAMETER_USAGE', `Execution parameter ${n} is not a SQL value: ${value}`);
      return `(${value})`;
    })
    .join('');
}

/** The SELECT a per-query view runs: typed columns from the cached files, plus the partition columns. */
export function scanSql(table: GlueTableDef, files: readonly string[], withFile = false): string {
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
      ...(withFile ? ['filename AS __file'] : []),
    ];
    return `SELECT ${select.join(', ')} FROM read_parquet(${list}, union_by_name = true${hive}${withFile ? ', filename = true' : ''})`;
  }
  const struct = `{${cols.map((c) => `${quoteString(c.name)}: ${quoteString(c.type)}`).join(', ')}}`;
  const select = [...all.map((c) => `"${c.name}"`), ...(withFile ? ['filename AS __file'] : [])];
  return `SELECT ${select.join(', ')} FROM read_json(${list}, format = 'newline_delimited', columns = ${struct}${hive}${withFile ? ', filename = true' : ''})`;
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
  if (err instanceof DdlFailure) return new QueryFailure(err.errorType, err.message);
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
