import type { ArchiveColumn, DeviceProfile } from '../core/profiles';
import { QUARANTINE_COLUMNS } from '../storage/quarantine-columns';
import { REGISTRY_COLUMNS, REGISTRY_PREFIX, REGISTRY_TABLE } from './registry-table';

/**
 * The Glue tables over the archive, as plain data: what `lib/constructs/archive-catalog.ts` deploys, what
 * the embedded engine and the query tool read, and what every test checks. One definition, no AWS SDK
 * and no CDK, so deploy time, run time and tests cannot drift apart.
 */
export interface GlueTableDef {
  readonly databaseName: string;
  readonly tableName: string;
  readonly description?: string;
  /** Glue (Hive) types: string, int, bigint, double, float, boolean, timestamp, date, decimal(p,s), ... */
  readonly columns: readonly GlueColumn[];
  readonly partitionKeys: readonly GlueColumn[];
  /** `s3://bucket/prefix/` */
  readonly location: string;
  /** Table parameters, including `projection.*` and `storage.location.template`. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** SerDe serialization library, e.g. `org.openx.data.jsonserde.JsonSerDe` or a Parquet SerDe. */
  readonly serde?: string;
  readonly serdeParameters?: Readonly<Record<string, string>>;
  readonly inputFormat?: string;
  readonly outputFormat?: string;
}

export interface GlueColumn {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

export type StorageFormat = 'json' | 'parquet';

export const QUARANTINE_TABLE = 'quarantine';
/** The Glue table Firehose reads its Parquet schema from: every profile's columns, once each. */
export const ARCHIVE_SCHEMA_TABLE = 'archive_schema';
/** A profile's raw table: `unicorn_raw`, `solar_raw`. */
export const rawTableName = (profile: Pick<DeviceProfile, 'name'>): string => `${profile.name}_raw`;

export const JSON_SERDE = 'org.openx.data.jsonserde.JsonSerDe';

interface TableFormat {
  readonly inputFormat: string;
  readonly outputFormat: string;
  readonly serde: string;
  readonly serdeParameters?: Readonly<Record<string, string>>;
  readonly classification: StorageFormat;
}

const JSON_FORMAT: TableFormat = {
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  serde: JSON_SERDE,
  // Devices send camelCase / PascalCase keys; Glue columns are lower-case.
  serdeParameters: { 'case.insensitive': 'true', 'ignore.malformed.json': 'true' },
  classification: 'json',
};
const PARQUET_FORMAT: TableFormat = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
  classification: 'parquet',
};

/**
 * Partition projection's default year range. Partitions are Firehose arrival hours, so this bounds when
 * data arrives, not event time.
 */
export const DEFAULT_PROJECTION_YEARS: ProjectionYears = { from: 2024, to: 2050 };

export interface ProjectionYears {
  readonly from: number;
  readonly to: number;
}

/** The stack's settings the tables depend on. */
export interface ArchiveCatalogSettings {
  /** Glue database name. */
  readonly databaseName: string;
  /** The archive bucket's name (a CDK token at synth time, a real name elsewhere). */
  readonly bucketName: string;
  readonly profiles: readonly DeviceProfile[];
  /** Raw tables read Parquet (and the archive schema table exists) instead of GZIP NDJSON. */
  readonly parquet: boolean;
  /** @default DEFAULT_PROJECTION_YEARS */
  readonly projectionYears?: ProjectionYears;
}

/**
 * The Glue tables over the archive: one raw table per profile, the quarantine, the solar device registry,
 * and the Parquet schema table when Parquet is on. Partition projection replaces crawlers and MSCK REPAIR: Athena computes
 * partitions from the table properties, which costs nothing and is never stale.
 */
export function archiveTables(settings: ArchiveCatalogSettings): GlueTableDef[] {
  const years = settings.projectionYears ?? DEFAULT_PROJECTION_YEARS;
  const bucketUrl = `s3://${settings.bucketName}`;
  const ranges: Record<string, string> = {
    year: `${years.from},${years.to}`,
    month: '1,12',
    day: '1,31',
    hour: '0,23',
  };
  // Partition projection over integer year/month/day[/hour] keys, zero-padded below the year as Firehose writes them.
  const projected = (location: string, keys: readonly string[]): Record<string, string> => ({
    'projection.enabled': 'true',
    ...Object.fromEntries(
      keys.flatMap((k) => [
        [`projection.${k}.type`, 'integer'],
        [`projection.${k}.range`, ranges[k]],
        ...(k === 'year' ? [] : [[`projection.${k}.digits`, '2']]),
      ]),
    ),
    'storage.location.template': `${location}${keys.map((k) => `${k}=\${${k}}`).join('/')}/`,
  });
  const hourly = ['year', 'month', 'day', 'hour'];
  const daily = ['year', 'month', 'day'];
  const partitionKeys = (names: readonly string[]) => names.map((name) => ({ name, type: 'int' }));
  const format = settings.parquet ? PARQUET_FORMAT : JSON_FORMAT;
  const table = (
    tableName: string,
    spec: Omit<GlueTableDef, 'databaseName' | 'tableName' | keyof TableFormat | 'parameters'> & {
      readonly format: TableFormat;
      readonly parameters: Record<string, string>;
    },
  ): GlueTableDef => ({
    databaseName: settings.databaseName,
    tableName,
    description: spec.description,
    columns: spec.columns,
    partitionKeys: spec.partitionKeys,
    location: spec.location,
    parameters: { EXTERNAL: 'TRUE', classification: spec.format.classification, ...spec.parameters },
    serde: spec.format.serde,
    ...(spec.format.serdeParameters ? { serdeParameters: spec.format.serdeParameters } : {}),
    inputFormat: spec.format.inputFormat,
    outputFormat: spec.format.outputFormat,
  });

  const tables = settings.profiles.map((profile) => {
    const location = `${bucketUrl}/raw/profile=${profile.name}/`;
    return table(rawTableName(profile), {
      description: `Raw ${profile.name} records as archived by Firehose (partitions are arrival hours, UTC)`,
      columns: toColumns(profile.archiveColumns),
      partitionKeys: partitionKeys(hourly),
      location,
      format,
      parameters: projected(location, hourly),
    });
  });

  const quarantine = `${bucketUrl}/quarantine/`;
  tables.push(
    table(QUARANTINE_TABLE, {
      description: 'Records the aggregator rejected, one JSON line each with its reason',
      columns: [...QUARANTINE_COLUMNS],
      partitionKeys: partitionKeys(daily),
      location: quarantine,
      format: JSON_FORMAT,
      parameters: projected(quarantine, daily),
    }),
  );

  if (settings.profiles.some((p) => p.name === 'solar')) {
    // The device registry (site, rated power per panel): one small NDJSON object the solar queries join.
    tables.push(
      table(REGISTRY_TABLE, {
        description: 'Solar device registry: site, position and rated power per panel (NDJSON)',
        columns: toColumns(REGISTRY_COLUMNS),
        partitionKeys: [],
        location: `${bucketUrl}/${REGISTRY_PREFIX}`,
        format: JSON_FORMAT,
        parameters: {},
      }),
    );
  }

  if (settings.parquet) {
    tables.push(
      table(ARCHIVE_SCHEMA_TABLE, {
        description: 'Schema Firehose converts every profile to Parquet with (union of the profiles columns)',
        columns: toColumns(unionColumns(settings.profiles)),
        partitionKeys: [],
        location: `${bucketUrl}/raw/`,
        format: PARQUET_FORMAT,
        parameters: {},
      }),
    );
  }
  return tables;
}

function toColumns(columns: readonly ArchiveColumn[]): GlueColumn[] {
  return columns.map((c) => ({ name: c.name.toLowerCase(), type: c.type, comment: c.comment }));
}

/** Every profile's columns once (first profile wins on a shared name); the types must agree. */
export function unionColumns(profiles: readonly Pick<DeviceProfile, 'name' | 'archiveColumns'>[]): ArchiveColumn[] {
  const byName = new Map<string, ArchiveColumn>();
  for (const profile of profiles) {
    for (const column of profile.archiveColumns) {
      const key = column.name.toLowerCase();
      const seen = byName.get(key);
      if (seen && seen.type !== column.type) {
        throw new Error(
          `Archive column "${key}" is ${seen.type} in one profile and ${column.type} in ${profile.name}: ` +
            'the Parquet schema needs one type per column; rename or align it in lib/core/profiles.',
        );
      }
      if (!seen) byName.set(key, column);
    }
  }
  return [...byName.values()];
}

export function storageFormat(t: GlueTableDef): StorageFormat {
  const hint = `${t.serde ?? ''} ${t.inputFormat ?? ''} ${t.parameters?.classification ?? ''}`.toLowerCase();
  if (hint.includes('parquet')) return 'parquet';
  if (hint.includes('json') || hint.trim() === '') return 'json';
  throw new Error(
    `Table ${t.databaseName}.${t.tableName}: only JSON and Parquet tables are supported (${hint.trim()})`,
  );
}

/** `s3://bucket/prefix/` → bucket and prefix. */
export function parseS3Location(location: string): { bucket: string; prefix: string } {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(location.trim());
  if (!m) throw new Error(`Not an S3 location: ${location}`);
  const prefix = m[2] === '' || m[2].endsWith('/') ? m[2] : `${m[2]}/`;
  return { bucket: m[1], prefix };
}

/** The shape of an `AWS::Glue::Table`'s Properties once every intrinsic is resolved. */
export interface CfnGlueTableProperties {
  readonly DatabaseName: string;
  readonly TableInput: {
    readonly Name: string;
    readonly Description?: string;
    readonly Parameters?: Record<string, string>;
    readonly PartitionKeys?: readonly { Name: string; Type: string; Comment?: string }[];
    readonly StorageDescriptor?: {
      readonly Columns?: readonly { Name: string; Type: string; Comment?: string }[];
      readonly Location?: string;
      readonly InputFormat?: string;
      readonly OutputFormat?: string;
      readonly SerdeInfo?: { SerializationLibrary?: string; Parameters?: Record<string, string> };
    };
  };
}

/** A resolved `AWS::Glue::Table` resource back to the definition it was made from (the construct's inverse). */
export function tableFromCfn(p: CfnGlueTableProperties): GlueTableDef {
  const sd = p.TableInput.StorageDescriptor ?? {};
  const column = (c: { Name: string; Type: string; Comment?: string }): GlueColumn => ({
    name: c.Name.toLowerCase(),
    type: c.Type,
    ...(c.Comment !== undefined ? { comment: c.Comment } : {}),
  });
  return {
    databaseName: p.DatabaseName,
    tableName: p.TableInput.Name,
    ...(p.TableInput.Description !== undefined ? { description: p.TableInput.Description } : {}),
    columns: (sd.Columns ?? []).map(column),
    partitionKeys: (p.TableInput.PartitionKeys ?? []).map(column),
    location: sd.Location ?? '',
    parameters: p.TableInput.Parameters,
    serde: sd.SerdeInfo?.SerializationLibrary,
    ...(sd.SerdeInfo?.Parameters ? { serdeParameters: sd.SerdeInfo.Parameters } : {}),
    inputFormat: sd.InputFormat,
    outputFormat: sd.OutputFormat,
  };
}
