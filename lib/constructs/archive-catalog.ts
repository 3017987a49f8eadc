import { Aws } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { archiveTables, type GlueTableDef, type ProjectionYears } from '../catalog';
import type { DeviceProfile } from '../core/profiles';

export { ARCHIVE_SCHEMA_TABLE, QUARANTINE_TABLE, rawTableName, unionColumns } from '../catalog';

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
   * @default DEFAULT_PROJECTION_YEARS ({ from: 2024, to: 2050 })
   */
  readonly projectionYears?: ProjectionYears;
}

/**
 * The Glue database and the tables `lib/catalog` defines (one raw table per profile, the quarantine, the
 * Parquet schema table when Parquet is on), mapped one to one onto `AWS::Glue::Table`.
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
    const tables = archiveTables({
      databaseName: props.databaseName,
      bucketName: props.bucket.bucketName,
      profiles: props.profiles,
      parquet: props.parquet,
      projectionYears: props.projectionYears,
    });
    for (const table of tables) this.tables[table.tableName] = this.addTable(table);
  }

  private addTable(table: GlueTableDef): glue.CfnTable {
    const columns = (cols: GlueTableDef['columns']) => cols.map((c) => ({ ...c }));
    return new glue.CfnTable(this, toConstructId(table.tableName), {
      catalogId: Aws.ACCOUNT_ID,
      // The Ref makes the table depend on the database.
      databaseName: this.database.ref,
      tableInput: {
        name: table.tableName,
        description: table.description,
        tableType: 'EXTERNAL_TABLE',
        parameters: { ...table.parameters },
        partitionKeys: columns(table.partitionKeys),
        storageDescriptor: {
          columns: columns(table.columns),
          location: table.location,
          inputFormat: table.inputFormat,
          outputFormat: table.outputFormat,
          serdeInfo: {
            serializationLibrary: table.serde,
            ...(table.serdeParameters ? { parameters: { ...table.serdeParameters } } : {}),
          },
        },
      },
    });
  }
}

/** `unicorn_raw` -> `UnicornRaw`: stable, readable logical ids. */
function toConstructId(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}
