import { S3Client } from '@aws-sdk/client-s3';
import {
  type CfnGlueTableProperties,
  type GlueTableDef,
  NAMED_QUERIES,
  type NamedQuerySpec,
  tableFromCfn,
} from '../../catalog';
import { type ClientTarget, s3ClientConfig } from '../../shared/aws-clients';
import type { JsonProtocolService } from '../service';
import { type Assembly, type Resolver, resourcesOfType } from '../template';
import { AthenaService, type WorkgroupDef } from './athena-service';
import { CatalogStore } from './catalog-store';
import { AnalyticsEngine } from './engine';
import { GlueService } from './glue-service';

export interface EmbeddedAnalyticsOptions {
  /** Where the archive is read (the runtime's own endpoint, LocalStack, or AWS). */
  readonly s3: ClientTarget;
  /** Glue tables with references resolved (from the template: `tablesFromAssembly`). */
  readonly tables: readonly GlueTableDef[];
  readonly workgroups?: readonly WorkgroupDef[];
  /** @default NAMED_QUERIES */
  readonly namedQueries?: readonly NamedQuerySpec[];
  /** Database of queries that name none. @default the first table's database, else `default` */
  readonly defaultDatabase?: string;
  /** Local copies of archive objects (ETag-keyed); the only directory besides nothing DuckDB may read. */
  readonly cacheDir: string;
  /**
   * Where the catalog (tables, views and partitions users create, prepared statements) persists across
   * restarts; the template's tables are put back at every start. @default in memory only
   */
  readonly catalogFile?: string;
  readonly log?: (line: string) => void;
}

/**
 * The Athena and Glue services the embedded runtime hosts on its single endpoint. The DuckDB engine
 * starts on the first query, so a runtime that never runs one pays nothing for it. `close` stops the
 * services, the engine and the S3 client.
 */
export class EmbeddedAnalytics {
  readonly athena: AthenaService;
  readonly glue: GlueService;
  /** The one catalog Athena DDL, the Glue API and the engine share. */
  readonly catalog: CatalogStore;
  private engine?: Promise<AnalyticsEngine>;
  private readonly s3: S3Client;

  constructor(options: EmbeddedAnalyticsOptions) {
    const tables = [...options.tables];
    this.s3 = new S3Client(s3ClientConfig(options.s3));
    this.catalog = new CatalogStore(tables, options.catalogFile);
    this.athena = new AthenaService(
      () => {
        this.engine ??= AnalyticsEngine.create({
          s3: options.s3,
          tables,
          catalog: this.catalog,
          cacheDir: options.cacheDir,
        });
        return this.engine;
      },
      {
        workgroups: [...(options.workgroups ?? [])],
        namedQueries: options.namedQueries ?? NAMED_QUERIES,
        defaultDatabase: options.defaultDatabase ?? tables[0]?.databaseName ?? 'default',
        s3: this.s3,
        log: options.log,
      },
    );
    this.glue = new GlueService(this.catalog);
  }

  get services(): readonly JsonProtocolService[] {
    return [this.athena, this.glue];
  }

  async close(): Promise<void> {
    await this.athena.close();
    await this.glue.close();
    if (this.engine) await (await this.engine).close();
    this.s3.destroy();
  }
}

/** Every `AWS::Glue::Table` of a synthesized assembly, resolved through the runtime's one CloudFormation resolver. */
export function tablesFromAssembly(assembly: Assembly, resolver: Resolver): GlueTableDef[] {
  return resourcesOfType(assembly, 'AWS::Glue::Table', resolver).map((ref) =>
    tableFromCfn(resolver.resolve(ref.stack, ref.resource.Properties) as CfnGlueTableProperties),
  );
}
