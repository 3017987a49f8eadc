import { Aws } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ArchiveColumn, DeviceProfile } from '../core/profiles';
import { REGISTRY_COLUMNS, REGISTRY_PREFIX, REGISTRY_TABLE } from '../simulator/device-registry';
import { QUARANTINE_COLUMNS } from '../storage/quarantine';

export const QUARANTINE_TABLE = 'quarantine';
/** The Glue table Firehose reads its Parquet schema from: every profile's columns, once each. */
export const ARCHIVE_SCHEMA_TABLE = 'archive_schema';
/** A profile's raw table: `unicorn_raw`, `solar_raw`. */
export const rawTableName = (profile: Pick<DeviceProfile, 'name'>): string => `${profile.name}_raw`;

const JSON_FORMAT = {
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  serdeInfo: {
    serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
    // Devices send camelCase / PascalCase keys; Glue columns are lower-case.
    parameters: { 'case.insensitive': 'true', 'ignore.malformed.json': 'true' },
  },
};
const PARQUET_FORMAT = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
};

export interface ArchiveCatalogProps {
  /** Glue database name (lower-case, underscores: Athena identifiers need no quoting then). */
  readonly databaseName: string;
  readonly bucket: s3.IBucket;
  readonly profiles: readonly DeviceProfile[];
  /** Raw tables read Parquet (and the archive schema table exists) instead of GZIP NDJSON. */
  readonly parquet: boolean;
  /**
   * Partition projection's year range. Partitions are Firehose arrival hours, so this bounds when data
   * arrives, not event time; every projected year costs Athena planning time only when a query does not
   * filter on year.
   * @default { from: 2024, to: 2050 }
   */
  readonly projectionYears?: { readonly from: number; readonly to: number };
}

/**
 * The Glue database and tables over the archive: one raw table per profile, the quarantine, and the Parquet
 * schema table when Parquet is on. Partition projection replaces crawlers and MSCK REPAIR: Athena computes
 * partitions from the table properties, which costs nothing and is never stale.
 *
 * Glue databases and tables need names (they are per account and region, not global, and Athena queries
 * name them); the database name is derived from the stage so stages never collide.
 */
export class ArchiveCatalog extends Construct {
  readonly database: glue.CfnDatabase;
  readonly databaseName: string;
  /** By table name. */
  readonly tables: Record<string, glue.CfnTable> = {};

  constructor(scope: Construct, id: string, props: ArchiveCatalogProps) {
    super(scope, id);
    this.databaseName = props.databaseName;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: props.databaseName,
        description: 'IoT telemetry archive: raw records per device profile and the aggregator quarantine',
      },
    });
    const years = props.projectionYears ?? { from: 2024, to: 2050 };
    const bucketUrl = `s3://${props.bucket.bucketName}`;
    const ranges: Record<string, string> = {
      year: `${years.from},${years.to}`,
      month: '1,12',
      day: '1,31',
      hour: '0,23',
    };
    // Partition projection over integer year/month/day[/hour] keys, zero-padded below the year as Firehose writes them.
    const projected = (location: string, keys: readonly string[]) => ({
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
    const format = props.parquet ? PARQUET_FORMAT : JSON_FORMAT;
    const classification = props.parquet ? 'parquet' : 'json';

    for (const profile of props.profiles) {
      const location = `${bucketUrl}/raw/profile=${profile.name}/`;
      this.addTable(rawTableName(profile), {
        description: `Raw ${profile.name} records as archived by Firehose (partitions are arrival hours, UTC)`,
        columns: toColumns(profile.archiveColumns),
        partitionKeys: partitionKeys(hourly),
        location,
        format,
        parameters: { classification, ...projected(location, hourly) },
      });
    }

    const quarantine = `${bucketUrl}/quarantine/`;
    this.addTable(QUARANTINE_TABLE, {
      description: 'Records the aggregator rejected, one JSON line each with its reason',
      columns: [...QUARANTINE_COLUMNS],
      partitionKeys: partitionKeys(daily),
      location: quarantine,
      format: JSON_FORMAT,
      parameters: { classification: 'json', ...projected(quarantine, daily) },
    });

    if (props.profiles.some((p) => p.name === 'solar')) {
      // The device registry (site, rated power per panel): one small NDJSON object the named queries join.
      this.addTable(REGISTRY_TABLE, {
        description: 'Solar device registry: site, position and rated power per panel (NDJSON)',
        columns: toColumns(REGISTRY_COLUMNS),
        partitionKeys: [],
        location: `${bucketUrl}/${REGISTRY_PREFIX}`,
        format: JSON_FORMAT,
        parameters: { classification: 'json' },
      });
    }

    if (props.parquet) {
      this.addTable(ARCHIVE_SCHEMA_TABLE, {
        description: 'Schema Firehose converts every profile to Parquet with (union of the profiles columns)',
        columns: toColumns(unionColumns(props.profiles)),
        partitionKeys: [],
        location: `${bucketUrl}/raw/`,
        format: PARQUET_FORMAT,
        parameters: { classification: 'parquet' },
      });
    }
  }

  private addTable(
    name: string,
    spec: {
      readonly description: string;
      readonly columns: readonly glue.CfnTable.ColumnProperty[];
      readonly partitionKeys: readonly glue.CfnTable.ColumnProperty[];
      readonly location: string;
      readonly format: typeof JSON_FORMAT | typeof PARQUET_FORMAT;
      readonly parameters: Record<string, string>;
    },
  ): void {
    const table = new glue.CfnTable(this, toConstructId(name), {
      catalogId: Aws.ACCOUNT_ID,
      // The Ref makes the table depend on the database.
      databaseName: this.database.ref,
      tableInput: {
        name,
        description: spec.description,
        tableType: 'EXTERNAL_TABLE',
        parameters: { EXTERNAL: 'TRUE', ...spec.parameters },
        partitionKeys: [...spec.partitionKeys],
        storageDescriptor: {
          columns: [...spec.columns],
          location: spec.location,
          inputFormat: spec.format.inputFormat,
          outputFormat: spec.format.outputFormat,
          serdeInfo: spec.format.serdeInfo,
        },
      },
    });
    this.tables[name] = table;
  }
}

function toColumns(columns: readonly ArchiveColumn[]): glue.CfnTable.ColumnProperty[] {
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

/** `unicorn_raw` -> `UnicornRaw`: stable, readable logical ids. */
function toConstructId(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}
