import { readFileSync, writeFileSync } from 'node:fs';
import { AthenaClient } from '@aws-sdk/client-athena';
import { fillParams, findNamedQuery, NAMED_QUERIES, ParamError, parseParamArgs } from '../catalog';
import { baseClientConfig } from '../shared/aws-clients';
import { type StackTarget, TargetError, targetFromCdkOutputs, targetFromLocalStack } from '../shared/stack-target';
import { AthenaQueryError, type QueryRun, runQuery, summaryLine } from './client';
import { formatRows, OUTPUT_FORMATS, type OutputFormat } from './format';

/** Options of `npm run query`, as commander parses them (bin/query.ts). */
export interface QueryCliOptions {
  readonly sql?: string;
  readonly file?: string;
  readonly named?: string;
  readonly list?: boolean;
  readonly param?: readonly string[];
  readonly format?: string;
  readonly output?: string;
  readonly outputs?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly workgroup?: string;
  readonly database?: string;
  readonly engine?: string;
  readonly s3Endpoint?: string;
  readonly bucket?: string;
  readonly template?: string;
  readonly cacheDir?: string;
  readonly maxRows?: number;
}

export interface CliIo {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  /** Whether stderr is a terminal (spinner) */
  readonly tty: boolean;
  readonly signal?: AbortSignal;
  readonly cwd?: string;
}

export class CliError extends Error {}

const HOW_TO_TARGET = [
  'No target to query. Choose one:',
  '  • start the embedded stack (npm run local) — the tool then finds it through .local/stack.json;',
  '  • after `cdk deploy --outputs-file cdk-outputs.json`: --outputs cdk-outputs.json;',
  '  • or flags: --workgroup NAME --database NAME [--region R] [--endpoint URL];',
  '  • LocalStack (S3 only): --engine local --s3-endpoint http://localhost:4566 --bucket ARCHIVE_BUCKET.',
].join('\n');

/** The query tool; returns the exit code. Everything it prints goes through `io`. */
export async function runQueryCli(
  opts: QueryCliOptions,
  io: CliIo,
  engines: { readonly local?: LocalQueryRunner } = {},
): Promise<number> {
  try {
    const format = (opts.format ?? 'table') as OutputFormat;
    if (!OUTPUT_FORMATS.includes(format)) throw new CliError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}`);
    if (opts.list) {
      io.stdout(listNamedQueries());
      return 0;
    }
    const sql = querySql(opts);
    const engine = opts.engine ?? 'athena';
    let run: QueryRun;
    if (engine === 'local') run = await runLocal(opts, sql, io, engines.local);
    else if (engine === 'athena') run = await runAthena(opts, sql, io);
    else throw new CliError('--engine must be athena (default: AWS or the embedded runtime) or local');
    const text = formatRows(format, run.columns, run.rows);
    if (opts.output) {
      writeFileSync(opts.output, text);
      io.stderr(`Wrote ${run.rows.length} rows to ${opts.output}\n`);
    } else {
      io.stdout(text);
    }
    if (run.truncated) io.stderr(`Stopped reading after ${run.rows.length} rows (--max-rows).\n`);
    io.stderr(`${summaryLine(run)}\n`);
    return 0;
  } catch (err) {
    io.stderr(`${errorMessage(err)}\n`);
    return err instanceof AthenaQueryError && err.state === 'CANCELLED' ? 130 : 1;
  }
}

export function listNamedQueries(): string {
  const out: string[] = [];
  for (const q of NAMED_QUERIES) {
    out.push(`${q.name}\n  ${q.description}`);
    for (const p of q.params) {
      out.push(
        `    --param ${p.name}=…  ${p.description}${p.default !== undefined ? ` (default: ${JSON.stringify(p.default)})` : ''}`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

function querySql(opts: QueryCliOptions): string {
  const sources = [opts.sql !== undefined, opts.file !== undefined, opts.named !== undefined].filter(Boolean).length;
  if (sources !== 1) throw new CliError('Give exactly one of: a SQL string, --file FILE, --named NAME (or --list).');
  const params = parseParamArgs(opts.param ?? []);
  if (opts.named !== undefined) {
    const q = findNamedQuery(opts.named);
    return fillParams(q.sql, q.params, params);
  }
  let sql: string;
  if (opts.file !== undefined) {
    try {
      sql = readFileSync(opts.file, 'utf8');
    } catch (err) {
      throw new CliError(`Cannot read ${opts.file}: ${(err as Error).message}`);
    }
  } else {
    sql = opts.sql!;
  }
  // Ad-hoc SQL may use {{name}} placeholders too, filled from --param with no declared defaults.
  if (/\{\{\s*[a-z_]/i.test(sql) || Object.keys(params).length > 0) {
    const names = [...new Set([...sql.matchAll(/\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}/gi)].map((m) => m[1]))];
    return fillParams(
      sql,
      names.map((name) => ({ name, description: `placeholder {{${name}}}` })),
      params,
    );
  }
  return sql;
}

/** The stack to query: flags over an outputs file over the embedded runtime's .local/stack.json. */
export function resolveTarget(opts: QueryCliOptions, cwd = process.cwd()): StackTarget {
  let base: StackTarget | undefined;
  if (opts.outputs) base = targetFromCdkOutputs(opts.outputs);
  else if (!opts.workgroup && !opts.database && !opts.endpoint) base = targetFromLocalStack(cwd);
  if (!base && !opts.workgroup && !opts.database && !opts.endpoint) throw new CliError(HOW_TO_TARGET);
  const region = opts.region ?? base?.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  return {
    ...(base ?? { source: 'flags' }),
    region,
    endpoint: opts.endpoint ?? base?.endpoint,
    athenaWorkgroup: opts.workgroup ?? base?.athenaWorkgroup,
    glueDatabase: opts.database ?? base?.glueDatabase,
    archiveBucket: opts.bucket ?? base?.archiveBucket,
  };
}

async function runAthena(opts: QueryCliOptions, sql: string, io: CliIo): Promise<QueryRun> {
  const target = resolveTarget(opts, io.cwd);
  const client = new AthenaClient(baseClientConfig(target));
  const spinner = io.tty ? new Spinner(io.stderr) : undefined;
  try {
    return await runQuery(client, {
      sql,
      workgroup: target.athenaWorkgroup,
      database: target.glueDatabase,
      signal: io.signal,
      maxRows: opts.maxRows,
      onProgress: (state, ms) => spinner?.update(`${state} ${(ms / 1000).toFixed(1)} s`),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED' && target.endpoint) {
      throw new CliError(
        `Cannot reach ${target.endpoint} (from ${target.source}). Is the embedded stack running? Start it with npm run local.`,
      );
    }
    throw err;
  } finally {
    spinner?.stop();
    client.destroy();
  }
}

/**
 * What `--engine local` asks of the embedded engine. The engine is runtime code (lib/local/athena); the
 * query tool imports none of it, so bin/query.ts passes it in (lib/local already depends on lib/query).
 */
export interface LocalQueryRequest {
  readonly sql: string;
  readonly s3: { readonly endpoint?: string; readonly region: string };
  readonly bucket: string;
  readonly database: string;
  /** A synthesized template whose Glue tables to use; the bucket and database above replace its names. */
  readonly templateFile?: string;
  /** Keep downloaded archive objects here between runs; a temporary directory otherwise. */
  readonly cacheDir?: string;
  readonly maxRows?: number;
  readonly signal?: AbortSignal;
}
export type LocalQueryRunner = (request: LocalQueryRequest) => Promise<QueryRun>;

/** The embedded engine run in-process against any S3 endpoint (LocalStack's free tier has S3 but no Athena). */
async function runLocal(opts: QueryCliOptions, sql: string, io: CliIo, runner?: LocalQueryRunner): Promise<QueryRun> {
  if (!runner) throw new CliError('--engine local is not available in this build of the query tool.');
  let base: StackTarget | undefined;
  try {
    base = opts.outputs ? targetFromCdkOutputs(opts.outputs) : targetFromLocalStack(io.cwd);
  } catch (err) {
    if (!(err instanceof TargetError)) throw err;
  }
  const bucket = opts.bucket ?? base?.archiveBucket;
  if (!bucket) throw new CliError('--engine local needs --bucket ARCHIVE_BUCKET (the stack output ArchiveBucketName).');
  const spinner = io.tty ? new Spinner(io.stderr) : undefined;
  const started = Date.now();
  const timer = spinner
    ? setInterval(() => spinner.update(`RUNNING ${((Date.now() - started) / 1000).toFixed(1)} s`), 100)
    : undefined;
  try {
    return await runner({
      sql,
      s3: {
        endpoint: opts.s3Endpoint ?? opts.endpoint ?? base?.endpoint,
        region: opts.region ?? base?.region ?? 'us-east-1',
      },
      bucket,
      database: opts.database ?? base?.glueDatabase ?? 'default',
      templateFile: opts.template,
      cacheDir: opts.cacheDir,
      maxRows: opts.maxRows,
      signal: io.signal,
    });
  } finally {
    if (timer) clearInterval(timer);
    spinner?.stop();
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof AthenaQueryError) {
    return err.state === 'CANCELLED'
      ? `Query cancelled (${err.queryExecutionId ?? ''}).`
      : `Query failed: ${err.message}`;
  }
  if (err instanceof CliError || err instanceof ParamError || err instanceof TargetError) return err.message;
  const e = err as { name?: string; message?: string };
  if (e?.name === 'CredentialsProviderError') {
    return `No AWS credentials: ${e.message}. Configure them (aws configure, AWS_PROFILE, or SSO login), or query the embedded stack (npm run local).`;
  }
  // AWS service errors (InvalidRequestException, AccessDeniedException, ...) as the service reports them.
  if (e?.name && e.name !== 'Error') return `${e.name}: ${e.message}`;
  return `Error: ${e?.message ?? String(err)}`;
}

/**
 * A one-line spinner on stderr. Hand-written: ora is ESM-only, and cli-progress draws bars for known
 * totals, while a query's duration is unknown.
 */
class Spinner {
  private static readonly FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  private frame = 0;
  private drawn = false;

  constructor(private readonly write: (s: string) => void) {}

  update(text: string): void {
    this.frame = (this.frame + 1) % Spinner.FRAMES.length;
    this.write(`\r\x1b[2K${Spinner.FRAMES[this.frame]} ${text}`);
    this.drawn = true;
  }

  stop(): void {
    if (this.drawn) this.write('\r\x1b[2K');
    this.drawn = false;
  }
}
