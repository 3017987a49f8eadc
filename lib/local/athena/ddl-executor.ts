import { gzipSync } from 'node:zlib';
import { HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type GlueColumn, type GlueTableDef, JSON_SERDE, parseS3Location, storageFormat } from '../../catalog';
import { ParquetWriter } from '../parquet';
import type { ParquetCompression } from '../stack-plan';
import { templateSegments } from './archive-reader';
import type { CatalogStore, PartitionDef } from './catalog-store';
import type { CreateTable, Ctas, PartitionSpec, QualifiedName, Statement } from './ddl-parser';
import { duckDbType } from './duckdb-types';

/** Athena's Hive DDL errors read `FAILED: ...`; the engine's QueryFailure prefixes the error type. */
export class DdlFailure extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

export interface SelectResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** DuckDB type names of the columns (precise: DECIMAL(38,9), not Athena's bare `decimal`). */
  readonly duckTypes: readonly string[];
  readonly rows: readonly (readonly (string | null)[])[];
  readonly dataScannedInBytes: number;
}

export interface DdlContext {
  readonly catalog: CatalogStore;
  readonly s3: S3Client;
  /** The database of the query execution context. */
  readonly database: string;
  readonly queryId: string;
  /** The workgroup's results location (`s3://bucket/prefix/`), where a CTAS without external_location writes. */
  readonly resultsLocation?: string;
  readonly runSelect: (sql: string) => Promise<SelectResult>;
}

export interface DdlOutput {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly (readonly (string | null)[])[];
  readonly updateCount?: number;
  readonly dataScannedInBytes?: number;
}

const EMPTY: DdlOutput = { columns: [], rows: [] };
const HCATALOG_JSON_SERDE = 'org.apache.hive.hcatalog.data.JsonSerDe';
const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
const TEXT_INPUT = 'org.apache.hadoop.mapred.TextInputFormat';
const TEXT_OUTPUT = 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat';
const PARQUET_INPUT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
const PARQUET_OUTPUT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat';
/** SerDes Athena knows that the embedded engine cannot read: refused with that reason, not as unknown. */
const KNOWN_UNSUPPORTED_SERDES = [
  'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
  'org.apache.hadoop.hive.serde2.OpenCSVSerde',
  'org.apache.hadoop.hive.serde2.RegexSerDe',
  'org.apache.hadoop.hive.serde2.avro.AvroSerDe',
  'org.apache.hadoop.hive.ql.io.orc.OrcSerde',
  'com.amazonaws.glue.serde.GrokSerDe',
  'com.amazon.ionhiveserde.IonHiveSerDe',
  'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
];
const hiveFailed = (message: string) => new DdlFailure('FAILED', message);
const notSupported = (message: string) => new DdlFailure('NOT_SUPPORTED', message);

/** Applies one DDL statement to the catalog (and, for CTAS and INSERT, writes objects to S3). */
export async function executeDdl(st: Statement, ctx: DdlContext): Promise<DdlOutput> {
  const db = (n: { database?: string }) => n.database ?? ctx.database;
  const { catalog } = ctx;
  switch (st.kind) {
    case 'createDatabase':
      if (catalog.hasDatabase(st.name)) {
        if (st.ifNotExists) return EMPTY;
        throw hiveFailed(
          `Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.DDLTask. Database ${st.name} already exists`,
        );
      }
      catalog.createDatabase(st.name);
      return EMPTY;
    case 'dropDatabase': {
      if (!catalog.hasDatabase(st.name)) {
        if (st.ifExists) return EMPTY;
        throw hiveFailed(`SemanticException [Error 10072]: Database does not exist: ${st.name}`);
      }
      const inside = [...catalog.tables(st.name), ...catalog.views(st.name)];
      if (inside.length > 0 && !st.cascade)
        throw hiveFailed(
          `InvalidOperationException(message:Database ${st.name} is not empty. One or more tables exist.)`,
        );
      for (const t of catalog.tables(st.name)) catalog.deleteTable(st.name, t.tableName);
      for (const v of catalog.views(st.name)) catalog.deleteView(st.name, v.viewName);
      catalog.dropDatabase(st.name);
      return EMPTY;
    }
    case 'createTable':
      return createTable(st, db(st), ctx);
    case 'ctas':
      return ctas(st, db(st), ctx);
    case 'insert':
      return insert(st.select, st.columns, { database: db(st), name: st.name }, ctx);
    case 'createView': {
      const database = requireDatabase(ctx, db(st));
      if (catalog.table(database, st.name))
        throw new DdlFailure('ALREADY_EXISTS', `line 1:1: Table '${database}.${st.name}' already exists (not a view)`);
      if (catalog.view(database, st.name) && !st.orReplace)
        throw new DdlFailure('ALREADY_EXISTS', `line 1:1: View 'awsdatacatalog.${database}.${st.name}' already exists`);
      const probe = await ctx.runSelect(`SELECT * FROM (${st.select}) AS __view LIMIT 0`);
      catalog.putView({
        databaseName: database,
        viewName: st.name,
        sql: st.select,
        columns: probe.columns.map((c, i) => ({ name: c.name, type: glueType(probe.duckTypes[i]) })),
      });
      return EMPTY;
    }
    case 'drop': {
      const database = db(st);
      if (st.what === 'view') {
        if (catalog.deleteView(database, st.name) || st.ifExists) return EMPTY;
        throw new DdlFailure('VIEW_NOT_FOUND', `line 1:1: View 'awsdatacatalog.${database}.${st.name}' does not exist`);
      }
      if (catalog.view(database, st.name))
        throw hiveFailed(`SemanticException [Error 10131]: ${st.name} is a view: use DROP VIEW`);
      // Like Athena, DROP TABLE removes the definition only; the objects stay in S3.
      if (catalog.deleteTable(database, st.name) || st.ifExists) return EMPTY;
      throw hiveFailed(`SemanticException [Error 10001]: Table not found ${database}.${st.name}`);
    }
    case 'addPartitions': {
      const t = requireTable(ctx, st);
      const specs = st.partitions.map((p) => partitionDef(t, p));
      const existing = new Set(catalog.partitions(t.databaseName, t.tableName).map((p) => p.values.join('/')));
      const dup = specs.find((p) => existing.has(p.values.join('/')));
      if (dup && !st.ifNotExists)
        throw hiveFailed(
          `Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.DDLTask. AlreadyExistsException: Partition already exists: ${partitionName(t, dup.values)}`,
        );
      for (const p of specs) await checkLocation(ctx, p.location);
      catalog.addPartitions(t.databaseName, t.tableName, specs);
      return EMPTY;
    }
    case 'dropPartitions': {
      const t = requireTable(ctx, st);
      const values = st.partitions.map((p) => partitionDef(t, p).values);
      const dropped = catalog.dropPartitions(t.databaseName, t.tableName, values);
      if (dropped < values.length && !st.ifExists)
        throw hiveFailed('SemanticException [Error 10006]: Partition not found');
      return EMPTY;
    }
    case 'msck':
      return msckRepair(requireTable(ctx, st), ctx);
    case 'showCreate': {
      const database = db(st);
      if (st.what === 'view') {
        const v = catalog.view(database, st.name);
        if (!v) throw new DdlFailure('VIEW_NOT_FOUND', `View 'awsdatacatalog.${database}.${st.name}' does not exist`);
        return text('Create View', `CREATE VIEW awsdatacatalog.${database}.${v.viewName} AS\n${v.sql}`);
      }
      return text('createtab_stmt', showCreateTable(requireTable(ctx, st)));
    }
    case 'showPartitions': {
      const t = requireTable(ctx, st);
      if (t.partitionKeys.length === 0)
        throw hiveFailed(`SemanticException [Error 10241]: Table ${t.tableName} is not a partitioned table`);
      // Like Athena: projected partitions are computed at query time and not listed, only registered ones.
      const rows = catalog
        .partitions(t.databaseName, t.tableName)
        .map((p) => partitionName(t, p.values))
        .sort();
      return { columns: [{ name: 'partition', type: 'varchar' }], rows: rows.map((r) => [r]) };
    }
    case 'showTblProperties': {
      const t = requireTable(ctx, st);
      return {
        columns: [
          { name: 'prpt_name', type: 'varchar' },
          { name: 'prpt_value', type: 'varchar' },
        ],
        rows: Object.entries({ EXTERNAL: 'TRUE', ...(t.parameters ?? {}) }).map(([k, v]) => [k, v]),
      };
    }
    case 'showTables':
    case 'showViews': {
      const database = st.database ?? ctx.database;
      if (!catalog.hasDatabase(database))
        throw new DdlFailure('SCHEMA_NOT_FOUND', `Schema '${database}' does not exist`);
      const names =
        st.kind === 'showTables'
          ? [...catalog.tables(database).map((t) => t.tableName), ...catalog.views(database).map((v) => v.viewName)]
          : catalog.views(database).map((v) => v.viewName);
      const re = st.pattern === undefined ? undefined : hivePattern(st.pattern);
      const rows = names
        .filter((n) => !re || re.test(n))
        .sort()
        .map((n) => [n]);
      return { columns: [{ name: st.kind === 'showTables' ? 'tab_name' : 'views', type: 'varchar' }], rows };
    }
    default:
      throw notSupported(`The ${st.kind} statement is handled by the engine`);
  }
}

/** The Glue type a DuckDB result column is stored as (CTAS, views). */
export function glueType(duckType: string): string {
  const t = duckType.toUpperCase();
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return `decimal(${dec[1]},${dec[2]})`;
  const map: Record<string, string> = {
    VARCHAR: 'string',
    BIGINT: 'bigint',
    HUGEINT: 'bigint',
    UBIGINT: 'bigint',
    INTEGER: 'int',
    UINTEGER: 'bigint',
    SMALLINT: 'smallint',
    USMALLINT: 'int',
    TINYINT: 'tinyint',
    UTINYINT: 'smallint',
    DOUBLE: 'double',
    FLOAT: 'float',
    BOOLEAN: 'boolean',
    DATE: 'date',
    TIMESTAMP: 'timestamp',
    TIMESTAMP_MS: 'timestamp',
    TIMESTAMP_S: 'timestamp',
    TIMESTAMP_NS: 'timestamp',
    'TIMESTAMP WITH TIME ZONE': 'timestamp',
    BLOB: 'binary',
    '"NULL"': 'string',
    NULL: 'string',
  };
  return map[t] ?? 'string';
}

function requireDatabase(ctx: DdlContext, database: string): string {
  if (!ctx.catalog.hasDatabase(database))
    throw hiveFailed(`SemanticException [Error 10072]: Database does not exist: ${database}`);
  return database;
}

function requireTable(ctx: DdlContext, n: QualifiedName): GlueTableDef {
  const database = n.database ?? ctx.database;
  const t = ctx.catalog.table(database, n.name);
  if (!t) throw hiveFailed(`SemanticException [Error 10001]: Table not found ${database}.${n.name}`);
  return t;
}

async function createTable(st: CreateTable, database: string, ctx: DdlContext): Promise<DdlOutput> {
  requireDatabase(ctx, database);
  if (ctx.catalog.table(database, st.name) || ctx.catalog.view(database, st.name)) {
    if (st.ifNotExists) return EMPTY;
    throw hiveFailed(
      `Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.DDLTask. AlreadyExistsException(message:Table ${st.name} already exists)`,
    );
  }
  if (!st.external)
    throw new DdlFailure(
      'NOT_SUPPORTED',
      'Only external table creation is supported: use CREATE EXTERNAL TABLE ... LOCATION, or CREATE TABLE ... AS SELECT',
    );
  if (!st.location) throw hiveFailed('SemanticException LOCATION is required for an external table');
  const format = tableFormat(st);
  for (const c of [...st.columns, ...st.partitionKeys]) {
    try {
      duckDbType(c.type);
    } catch {
      throw hiveFailed(`ParseException line 1:0 unsupported column type ${c.type} for column ${c.name}`);
    }
  }
  const names = [...st.columns, ...st.partitionKeys].map((c) => c.name);
  const dupName = names.find((n, i) => names.indexOf(n) !== i);
  if (dupName) throw hiveFailed(`SemanticException [Error 10036]: Duplicate column name: ${dupName}`);
  const location = await checkLocation(ctx, st.location);
  const table: GlueTableDef = {
    databaseName: database,
    tableName: st.name,
    ...(st.comment !== undefined ? { description: st.comment } : {}),
    columns: st.columns,
    partitionKeys: st.partitionKeys,
    location,
    parameters: { EXTERNAL: 'TRUE', ...st.tblProperties },
    serde: format.serde,
    ...(Object.keys(st.serdeProperties).length > 0 ? { serdeParameters: st.serdeProperties } : {}),
    inputFormat: format.inputFormat,
    outputFormat: format.outputFormat,
  };
  if (table.parameters?.['projection.enabled'] === 'true') {
    try {
      templateSegments(table);
    } catch (err) {
      throw hiveFailed(`SemanticException ${(err as Error).message}`);
    }
    for (const k of st.partitionKeys) {
      if (!table.parameters[`projection.${k.name}.type`])
        throw new DdlFailure(
          'HIVE_METASTORE_ERROR',
          `Partition projection is enabled but projection.${k.name}.type is not set for partition column ${k.name}`,
        );
    }
  }
  ctx.catalog.putTable(table);
  return EMPTY;
}

function tableFormat(st: CreateTable): { serde: string; inputFormat: string; outputFormat: string } {
  if (st.delimited)
    throw notSupported(
      'ROW FORMAT DELIMITED (CSV/TSV text) is not supported by the embedded engine: use a JSON SerDe or Parquet',
    );
  const stored = st.storedAs;
  if (stored && !['PARQUET', 'TEXTFILE'].includes(stored))
    throw notSupported(`STORED AS ${stored} is not supported by the embedded engine: use PARQUET or a JSON SerDe`);
  if (stored === 'PARQUET' || (st.inputFormat ?? '').toLowerCase().includes('parquet')) {
    if (st.serde && st.serde !== PARQUET_SERDE)
      throw hiveFailed(`SemanticException Cannot use SerDe ${st.serde} with Parquet`);
    return { serde: PARQUET_SERDE, inputFormat: PARQUET_INPUT, outputFormat: PARQUET_OUTPUT };
  }
  if (st.inputFormat && st.inputFormat !== TEXT_INPUT)
    throw notSupported(`INPUTFORMAT ${st.inputFormat} is not supported by the embedded engine`);
  if (!st.serde)
    throw notSupported(
      "Text tables without a SerDe (Hive's default LazySimpleSerDe) are not supported by the embedded engine: use ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' or STORED AS PARQUET",
    );
  if (st.serde === JSON_SERDE || st.serde === HCATALOG_JSON_SERDE)
    return { serde: st.serde, inputFormat: TEXT_INPUT, outputFormat: TEXT_OUTPUT };
  if (KNOWN_UNSUPPORTED_SERDES.includes(st.serde))
    throw notSupported(`SerDe ${st.serde} is not supported by the embedded engine: use a JSON SerDe or Parquet`);
  throw hiveFailed(
    `Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.DDLTask. Cannot validate serde: ${st.serde}`,
  );
}

/** An `s3://` location whose bucket exists on the endpoint; returned with a trailing `/`. */
async function checkLocation(ctx: DdlContext, location: string): Promise<string> {
  if (!/^s3a?:\/\/[^/]+/.test(location))
    throw new DdlFailure(
      'INVALID_TABLE_PROPERTY',
      `Location ${location} is not an S3 location: use s3://bucket/prefix/`,
    );
  const { bucket, prefix } = parseS3Location(location);
  try {
    await ctx.s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchBucket')
      throw hiveFailed(
        `Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.DDLTask. MetaException(message:Got exception: java.io.IOException The specified bucket does not exist: ${bucket})`,
      );
    throw err;
  }
  return `s3://${bucket}/${prefix}`;
}

function partitionDef(t: GlueTableDef, spec: PartitionSpec): PartitionDef {
  const keys = t.partitionKeys.map((k) => k.name);
  const given = Object.keys(spec.values);
  if (keys.length === 0)
    throw hiveFailed(`SemanticException [Error 10241]: Table ${t.tableName} is not a partitioned table`);
  if (given.length !== keys.length || !keys.every((k) => k in spec.values))
    throw hiveFailed(
      `SemanticException [Error 10006]: Partition spec (${given.join(', ')}) does not match the partition keys (${keys.join(', ')}) of ${t.tableName}`,
    );
  const values = keys.map((k) => spec.values[k]);
  return { values, location: spec.location ?? `${t.location}${partitionName(t, values)}/` };
}

function partitionName(t: GlueTableDef, values: readonly string[]): string {
  return t.partitionKeys.map((k, i) => `${k.name}=${values[i]}`).join('/');
}

/** MSCK REPAIR TABLE: registers the `k=v/...` prefixes found under the table's location. */
async function msckRepair(t: GlueTableDef, ctx: DdlContext): Promise<DdlOutput> {
  if (t.partitionKeys.length === 0) return EMPTY;
  const { bucket, prefix } = parseS3Location(t.location);
  const keys = t.partitionKeys.map((k) => k.name);
  const found = new Map<string, string[]>();
  let token: string | undefined;
  do {
    const res = await ctx.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of res.Contents ?? []) {
      const parts = o.Key!.slice(prefix.length).split('/');
      if (parts.length <= keys.length) continue;
      const values: string[] = [];
      for (const [i, k] of keys.entries()) {
        const m = /^([^=]+)=(.*)$/.exec(parts[i]);
        if (!m || m[1].toLowerCase() !== k) break;
        values.push(decodeURIComponent(m[2]));
      }
      if (values.length === keys.length) found.set(values.join('\u0000'), values);
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  const known = new Set(ctx.catalog.partitions(t.databaseName, t.tableName).map((p) => p.values.join('\u0000')));
  const missing = [...found.entries()].filter(([k]) => !known.has(k)).map(([, v]) => v);
  ctx.catalog.addPartitions(
    t.databaseName,
    t.tableName,
    missing.map((values) => ({ values, location: `${t.location}${partitionName(t, values)}/` })),
  );
  const names = missing.map((v) => `${t.tableName}:${partitionName(t, v)}`).sort();
  const lines =
    names.length === 0
      ? []
      : [
          `Partitions not in metastore:\t${names.join('\t')}`,
          ...names.map((n) => `Repair: Added partition to metastore ${n}`),
        ];
  return text('msck', ...lines);
}

async function ctas(st: Ctas, database: string, ctx: DdlContext): Promise<DdlOutput> {
  requireDatabase(ctx, database);
  if (ctx.catalog.table(database, st.name) || ctx.catalog.view(database, st.name)) {
    if (st.ifNotExists) return EMPTY;
    throw new DdlFailure('ALREADY_EXISTS', `line 1:1: Table 'awsdatacatalog.${database}.${st.name}' already exists`);
  }
  const p = st.properties;
  const str = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : undefined);
  for (const k of Object.keys(p)) {
    if (
      ![
        'format',
        'external_location',
        'partitioned_by',
        'write_compression',
        'parquet_compression',
        'is_external',
        'table_type',
      ].includes(k)
    )
      throw notSupported(
        `The CTAS property ${k} is not supported by the embedded engine (bucketing, ORC/Avro/CSV options, Iceberg)`,
      );
  }
  if ((str('table_type') ?? 'hive').toLowerCase() !== 'hive')
    throw notSupported('Only Hive CTAS tables are supported by the embedded engine (no Iceberg)');
  const format = (str('format') ?? 'PARQUET').toUpperCase();
  if (format !== 'PARQUET' && format !== 'JSON')
    throw notSupported(`CTAS format ${format} is not supported by the embedded engine: use PARQUET or JSON`);
  const compression = (
    str('write_compression') ??
    str('parquet_compression') ??
    (format === 'PARQUET' ? 'GZIP' : 'GZIP')
  ).toUpperCase();
  if (
    !['GZIP', 'SNAPPY', 'NONE', 'UNCOMPRESSED'].includes(compression) ||
    (format === 'JSON' && compression === 'SNAPPY')
  )
    throw notSupported(`write_compression ${compression} is not supported here for ${format}`);
  let location = str('external_location');
  if (location === undefined) {
    if (!ctx.resultsLocation)
      throw new DdlFailure(
        'INVALID_TABLE_PROPERTY',
        "No output location: set external_location, or give the workgroup a query result location (Athena writes CTAS tables to '<results>/tables/<query id>/')",
      );
    location = `${ctx.resultsLocation}tables/${ctx.queryId}/`;
  }
  location = await checkLocation(ctx, location);
  const { bucket, prefix } = parseS3Location(location);
  const listed = await ctx.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  if ((listed.KeyCount ?? listed.Contents?.length ?? 0) > 0)
    throw new DdlFailure(
      'HIVE_PATH_ALREADY_EXISTS',
      `Target directory for table '${database}.${st.name}' already exists: ${location}. You may need to manually clean the data at location '${location}' before retrying. Athena will not delete data in your account.`,
    );
  const result = await ctx.runSelect(st.withData ? st.select : `SELECT * FROM (${st.select}) AS __ctas LIMIT 0`);
  const columns = result.columns.map((c, i) => ({ name: c.name.toLowerCase(), type: glueType(result.duckTypes[i]) }));
  const names = columns.map((c) => c.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new DdlFailure('DUPLICATE_COLUMN_NAME', `line 1:1: Column name '${dup}' specified more than once`);
  const partitionedBy = (Array.isArray(p.partitioned_by) ? p.partitioned_by : []) as string[];
  const tail = names.slice(names.length - partitionedBy.length);
  if (partitionedBy.length > 0 && partitionedBy.join() !== tail.join())
    throw new DdlFailure(
      'INVALID_TABLE_PROPERTY',
      `Partition columns (${partitionedBy.join(', ')}) must be the last columns of the SELECT, in the same order`,
    );
  const partitionKeys = columns.slice(columns.length - partitionedBy.length);
  const table: GlueTableDef = {
    databaseName: database,
    tableName: st.name,
    columns: columns.slice(0, columns.length - partitionedBy.length),
    partitionKeys,
    location,
    parameters: { EXTERNAL: 'TRUE', classification: format.toLowerCase(), has_encrypted_data: 'false' },
    ...(format === 'PARQUET'
      ? { serde: PARQUET_SERDE, inputFormat: PARQUET_INPUT, outputFormat: PARQUET_OUTPUT }
      : { serde: JSON_SERDE, inputFormat: TEXT_INPUT, outputFormat: TEXT_OUTPUT }),
  };
  const compressionName = (compression === 'NONE' ? 'UNCOMPRESSED' : compression) as ParquetCompression;
  const written = await writeRows(ctx, table, result.rows, compressionName);
  ctx.catalog.putTable(table);
  if (partitionKeys.length > 0) ctx.catalog.addPartitions(database, st.name, written.partitions);
  return { columns: [], rows: [], updateCount: result.rows.length, dataScannedInBytes: result.dataScannedInBytes };
}

async function insert(
  select: string,
  columnList: readonly string[] | undefined,
  target: Required<QualifiedName>,
  ctx: DdlContext,
): Promise<DdlOutput> {
  const t = ctx.catalog.table(target.database, target.name);
  if (!t) {
    if (ctx.catalog.view(target.database, target.name))
      throw new DdlFailure('NOT_SUPPORTED', `Inserting into views is not supported: ${target.name} is a view`);
    throw new DdlFailure(
      'TABLE_NOT_FOUND',
      `line 1:1: Table 'awsdatacatalog.${target.database}.${target.name}' does not exist`,
    );
  }
  const all = [...t.columns, ...t.partitionKeys];
  const result = await ctx.runSelect(select);
  const order = columnList ?? all.map((c) => c.name);
  if (result.columns.length !== order.length)
    throw new DdlFailure(
      'TYPE_MISMATCH',
      `line 1:1: Insert query has ${result.columns.length} columns, table ${t.tableName} has ${order.length}`,
    );
  const unknown = order.find((n) => !all.some((c) => c.name === n));
  if (unknown)
    throw new DdlFailure('COLUMN_NOT_FOUND', `line 1:1: Insert column name does not exist in target table: ${unknown}`);
  // Rows in the table's column order; columns not listed are NULL, as in Trino.
  const rows = result.rows.map((r) => all.map((c) => (order.includes(c.name) ? r[order.indexOf(c.name)] : null)));
  const format = storageFormat(t);
  const parquetCompression = 'GZIP' as ParquetCompression;
  const written = await writeRows(ctx, t, rows, format === 'parquet' ? parquetCompression : 'GZIP');
  if (t.partitionKeys.length > 0 && t.parameters?.['projection.enabled'] !== 'true')
    ctx.catalog.addPartitions(t.databaseName, t.tableName, written.partitions);
  return { columns: [], rows: [], updateCount: rows.length, dataScannedInBytes: result.dataScannedInBytes };
}

/**
 * Writes rows (in table column order, partition columns last) as one object per partition under the
 * table's location (or its projection template), Parquet through the runtime's one Parquet writer.
 */
async function writeRows(
  ctx: DdlContext,
  t: GlueTableDef,
  rows: readonly (readonly (string | null)[])[],
  compression: ParquetCompression,
): Promise<{ partitions: PartitionDef[] }> {
  const n = t.columns.length;
  const groups = new Map<string, { values: string[]; rows: (readonly (string | null)[])[] }>();
  for (const r of rows) {
    const values = r.slice(n).map((v) => v ?? '__HIVE_DEFAULT_PARTITION__');
    const k = values.join('\u0000');
    const g = groups.get(k) ?? { values, rows: [] };
    g.rows.push(r);
    groups.set(k, g);
  }
  const format = storageFormat(t);
  const partitions: PartitionDef[] = [];
  const writer = format === 'parquet' ? new ParquetWriter(t.columns, compression) : undefined;
  try {
    let i = 0;
    for (const g of groups.values()) {
      const location = partitionLocation(t, g.values);
      const { bucket, prefix } = parseS3Location(location);
      const records = g.rows.map((r) => Object.fromEntries(t.columns.map((c, j) => [c.name, jsonValue(r[j], c)])));
      const name = `${ctx.queryId}_${String(i++).padStart(5, '0')}`;
      const body = writer
        ? await writer.write(records)
        : gzipSync(`${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
      await ctx.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${prefix}${name}${writer ? '.parquet' : '.json.gz'}`,
          Body: body,
        }),
      );
      if (t.partitionKeys.length > 0) partitions.push({ values: g.values, location });
    }
  } finally {
    await writer?.close();
  }
  return { partitions };
}

function partitionLocation(t: GlueTableDef, values: readonly string[]): string {
  if (t.partitionKeys.length === 0) return t.location;
  const template =
    t.parameters?.['projection.enabled'] === 'true' ? t.parameters['storage.location.template'] : undefined;
  if (template) {
    let out = template;
    for (const [i, k] of t.partitionKeys.entries()) out = out.split(`\${${k.name}}`).join(values[i]);
    return out.endsWith('/') ? out : `${out}/`;
  }
  return `${t.location}${partitionName(t, values)}/`;
}

/** A result string back to a JSON value of the column's type (numbers and booleans unquoted). */
function jsonValue(v: string | null, c: GlueColumn): unknown {
  if (v === null) return null;
  const type = duckDbType(c.type);
  if (['INTEGER', 'BIGINT', 'SMALLINT', 'TINYINT', 'DOUBLE', 'FLOAT'].includes(type) || type.startsWith('DECIMAL')) {
    const num = Number(v);
    return Number.isFinite(num) ? num : v;
  }
  if (type === 'BOOLEAN') return v === 'true';
  return v;
}

function text(column: string, ...lines: string[]): DdlOutput {
  return { columns: [{ name: column, type: 'varchar' }], rows: lines.flatMap((l) => l.split('\n')).map((l) => [l]) };
}

/** Hive's SHOW TABLES pattern: `*` any characters, `|` alternatives, case-insensitive. */
function hivePattern(p: string): RegExp {
  const alts = p.split('|').map((a) =>
    a
      .trim()
      .split('*')
      .map((s) => s.replace(/[.+?^${}()[\]\\]/g, '\\$&'))
      .join('.*'),
  );
  return new RegExp(`^(${alts.join('|')})$`, 'i');
}

/** SHOW CREATE TABLE as Athena prints it: Hive DDL that recreates the table. */
export function showCreateTable(t: GlueTableDef): string {
  const col = (c: GlueColumn) =>
    `  \`${c.name}\` ${c.type}${c.comment ? ` COMMENT '${c.comment.replace(/'/g, "''")}'` : ''}`;
  const props = (p: Readonly<Record<string, string>>) =>
    Object.entries(p)
      .map(([k, v]) => `  '${k.replace(/'/g, "''")}'='${v.replace(/'/g, "''")}'`)
      .join(', \n');
  const format = storageFormat(t);
  const lines = [`CREATE EXTERNAL TABLE \`${t.tableName}\`(`, `${t.columns.map(col).join(', \n')})`];
  if (t.description) lines.push(`COMMENT '${t.description.replace(/'/g, "''")}'`);
  if (t.partitionKeys.length > 0) lines.push('PARTITIONED BY ( ', `${t.partitionKeys.map(col).join(', \n')})`);
  lines.push('ROW FORMAT SERDE ', `  '${t.serde ?? (format === 'json' ? JSON_SERDE : PARQUET_SERDE)}' `);
  if (t.serdeParameters && Object.keys(t.serdeParameters).length > 0)
    lines.push('WITH SERDEPROPERTIES ( ', `${props(t.serdeParameters)}) `);
  lines.push(
    'STORED AS INPUTFORMAT ',
    `  '${t.inputFormat ?? (format === 'json' ? TEXT_INPUT : PARQUET_INPUT)}' `,
    'OUTPUTFORMAT ',
    `  '${t.outputFormat ?? (format === 'json' ? TEXT_OUTPUT : PARQUET_OUTPUT)}'`,
    'LOCATION',
    `  '${t.location}'`,
  );
  const params = Object.fromEntries(Object.entries(t.parameters ?? {}).filter(([k]) => k !== 'EXTERNAL'));
  if (Object.keys(params).length > 0) lines.push('TBLPROPERTIES (', `${props(params)})`);
  return lines.join('\n');
}
