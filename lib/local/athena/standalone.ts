import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { archiveTables, type GlueTableDef } from '../../catalog';
import { PROFILES } from '../../core/profiles';
import { CliError, type LocalQueryRequest } from '../../query/cli';
import { type QueryRun, queryCostUsd } from '../../query/client';
import { type Assembly, type CfnTemplate, Resolver } from '../template';
import { AnalyticsEngine } from './engine';
import { tablesFromAssembly } from './services';

/**
 * `npm run query -- --engine local`: the embedded engine in-process against any S3 endpoint (LocalStack's
 * free tier has S3 but no Athena). The tables are the catalog's (JSON, default projection) or a
 * synthesized template's, read through the runtime's one CloudFormation resolver.
 */
export async function runLocalQuery(request: LocalQueryRequest): Promise<QueryRun> {
  const tables = request.templateFile
    ? tablesFromTemplateFile(request.templateFile, request.bucket, request.database)
    : archiveTables({ bucketName: request.bucket, databaseName: request.database, profiles: PROFILES, parquet: false });
  // Without a cache directory the downloaded objects live as long as this run.
  const cacheDir = request.cacheDir ?? mkdtempSync(join(tmpdir(), 'iot-query-cache-'));
  const engine = await AnalyticsEngine.create({ s3: request.s3, tables, cacheDir });
  try {
    const r = await engine.execute(request.sql, { database: request.database, signal: request.signal });
    const max = request.maxRows ?? Number.POSITIVE_INFINITY;
    return {
      queryExecutionId: 'local',
      columns: r.columns,
      rows: r.rows.slice(0, max) as (string | null)[][],
      truncated: r.rows.length > max,
      dataScannedInBytes: r.dataScannedInBytes,
      engineExecutionTimeInMillis: r.engineExecutionTimeInMillis,
      costUsd: queryCostUsd(r.dataScannedInBytes),
    };
  } finally {
    await engine.close();
    if (!request.cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** Glue tables of one template file, with the archive bucket and database given on the command line. */
export function tablesFromTemplateFile(path: string, bucket: string, database: string): GlueTableDef[] {
  let template: CfnTemplate;
  try {
    template = JSON.parse(readFileSync(path, 'utf8')) as CfnTemplate;
  } catch (err) {
    throw new CliError(`Cannot read template ${path}: ${(err as Error).message}`);
  }
  const dir = dirname(path);
  const assembly: Assembly = { dir, stacks: [{ stackName: 'template', dir, template, assets: new Map() }] };
  const resolver = new Resolver(assembly, {
    region: 'us-east-1',
    accountId: '000000000000',
    endpoint: 'http://127.0.0.1',
    physicalNames: (type) =>
      type === 'AWS::S3::Bucket' ? bucket : type === 'AWS::Glue::Database' ? database : undefined,
  });
  const tables = tablesFromAssembly(assembly, resolver);
  if (tables.length === 0) throw new CliError(`Template ${path} has no AWS::Glue::Table resources`);
  return tables;
}
