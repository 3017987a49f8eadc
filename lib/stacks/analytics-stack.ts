import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { NamedQuerySpec } from '../catalog';
import { glueDatabaseName, type StackConfig } from '../config';
import { ARCHIVE_SCHEMA_TABLE, ArchiveCatalog } from '../constructs/archive-catalog';
import { QueryWorkgroup } from '../constructs/query-workgroup';
import type { DeviceProfile } from '../core/profiles';
import { OUTPUT_KEYS } from '../shared/stack-target';

export interface AnalyticsStackProps extends StackProps {
  readonly config: StackConfig;
  readonly archiveBucket: s3.IBucket;
  readonly profiles: readonly DeviceProfile[];
  readonly namedQueries: readonly NamedQuerySpec[];
}

/** Glue catalog over the archive and the Athena workgroup with the named queries. Holds no data itself. */
export class AnalyticsStack extends Stack {
  readonly catalog: ArchiveCatalog;
  readonly queries: QueryWorkgroup;

  constructor(scope: Construct, id: string, props: AnalyticsStackProps) {
    super(scope, id, props);
    this.catalog = new ArchiveCatalog(this, 'Catalog', {
      databaseName: glueDatabaseName(props.config.stage),
      bucket: props.archiveBucket,
      profiles: props.profiles,
      parquet: props.config.parquet,
    });
    this.queries = new QueryWorkgroup(this, 'Workgroup', {
      databaseName: this.catalog.databaseName,
      scanLimitGiB: props.config.athenaScanLimitGiB,
      namedQueries: props.namedQueries,
    });
    this.queries.node.addDependency(this.catalog.database);

    new CfnOutput(this, OUTPUT_KEYS.glueDatabase, { value: this.catalog.database.ref });
    new CfnOutput(this, OUTPUT_KEYS.athenaWorkgroup, { value: this.queries.workgroup.ref });
  }

  /** The Parquet schema table, when Parquet is on. */
  get archiveSchemaTableName(): string | undefined {
    return this.catalog.tables[ARCHIVE_SCHEMA_TABLE] ? ARCHIVE_SCHEMA_TABLE : undefined;
  }
}
