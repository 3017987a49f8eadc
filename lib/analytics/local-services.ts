import { S3Client } from '@aws-sdk/client-s3';
import type { JsonProtocolService } from '../local/service';
import { type ClientTarget, s3ClientConfig } from '../shared/aws-clients';
import { AthenaService, type WorkgroupDef } from './athena-service';
import { type GlueTableDef, tablesFromProfiles, tablesFromTemplate } from './catalog';
import { AnalyticsEngine } from './engine';
import { GlueService } from './glue-service';
import { NAMED_QUERIES, type NamedQuerySpec } from './named-queries';

/** A stack template as the runtime holds it, with a resolver for its Refs (duck-typed: no import of lib/local). */
interface AssemblyLike {
  readonly stacks: readonly { readonly template: { readonly Resources?: Record<string, unknown> } }[];
}
interface ResolverLike {
  resolve(stack: unknown, value: unknown): unknown;
}

export interface AnalyticsServicesOptions {
  /** Where the archive is read (the runtime's own endpoint, LocalStack, or AWS). */
  readonly s3?: ClientTarget;
  /** Glue tables with references resolved. When absent they come from `assembly` + `resolver`, then from the profiles. */
  readonly tables?: readonly GlueTableDef[];
  readonly workgroups?: readonly WorkgroupDef[];
  /** @default NAMED_QUERIES */
  readonly namedQueries?: readonly NamedQuerySpec[];
  /** Local copies of archive objects (ETag-keyed). */
  readonly cacheDir: string;
  readonly log?: (line: string) => void;
  // What the embedded runtime passes today (lib/local/runtime.ts), accepted as-is:
  readonly endpoint?: string;
  readonly s3Endpoint?: string;
  readonly region?: string;
  readonly assembly?: AssemblyLike;
  readonly resolver?: ResolverLike;
  readonly archiveBucket?: string;
  readonly glueDatabase?: string;
  readonly athenaWorkgroup?: string;
  readonly resultsBucket?: string;
}

/**
 * The Athena and Glue services the embedded runtime hosts on its single endpoint. The DuckDB engine
 * starts on the first query, so a runtime that never runs one pays nothing for it.
 */
export function createAnalyticsServices(options: AnalyticsServicesOptions): JsonProtocolService[] {
  const s3Target: ClientTarget = options.s3 ?? {
    endpoint: options.s3Endpoint ?? options.endpoint,
    region: options.region ?? 'us-east-1',
  };
  const tables = resolveTables(options);
  const workgroups: WorkgroupDef[] = [...(options.workgroups ?? [])];
  if (options.athenaWorkgroup && !workgroups.some((w) => w.name === options.athenaWorkgroup)) {
    workgroups.push({ name: options.athenaWorkgroup, resultsBucket: options.resultsBucket });
  }
  const defaultDatabase = options.glueDatabase ?? tables[0]?.databaseName ?? 'default';
  let engine: Promise<AnalyticsEngine> | undefined;
  const s3 = new S3Client(s3ClientConfig(s3Target));
  const athena = new AthenaService(
    () => {
      engine ??= AnalyticsEngine.create({ s3: s3Target, tables, cacheDir: options.cacheDir });
      return engine;
    },
    { workgroups, namedQueries: options.namedQueries ?? NAMED_QUERIES, defaultDatabase, s3, log: options.log },
  );
  const glue = new GlueService(tables);
  const close = athena.close.bind(athena);
  athena.close = async () => {
    await close();
    if (engine) await (await engine).close();
    s3.destroy();
  };
  return [athena, glue];
}

function resolveTables(options: AnalyticsServicesOptions): GlueTableDef[] {
  if (options.tables) return [...options.tables];
  if (options.assembly && options.resolver) {
    const out: GlueTableDef[] = [];
    for (const stack of options.assembly.stacks) {
      const resources = stack.template.Resources ?? {};
      const glueOnly = Object.fromEntries(
        Object.entries(resources).filter(([, r]) => (r as { Type?: string }).Type === 'AWS::Glue::Table'),
      );
      const resolved = Object.fromEntries(
        Object.entries(glueOnly).map(([id, r]) => [
          id,
          {
            Type: 'AWS::Glue::Table',
            Properties: options.resolver!.resolve(stack, (r as { Properties?: unknown }).Properties),
          },
        ]),
      );
      out.push(
        ...tablesFromTemplate({ Resources: resolved }, (name) => {
          throw new Error(`Unresolved reference ${name} in a Glue table`);
        }),
      );
    }
    if (out.length > 0) return out;
  }
  if (options.archiveBucket && options.glueDatabase)
    return tablesFromProfiles(options.archiveBucket, options.glueDatabase);
  return [];
}
