import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { backoff } from '../shared/backoff';
import type { Column } from './format';

/** Athena's price: $5 per TB scanned, at least 10 MB per query, rounded up to the MB. */
export const PRICE_PER_TB_USD = 5;
export const MIN_BILLED_BYTES = 10 * 1024 * 1024;

export function queryCostUsd(dataScannedInBytes: number): number {
  if (dataScannedInBytes <= 0) return 0; // DDL and failed queries are not billed
  const mb = 1024 * 1024;
  const billed = Math.max(MIN_BILLED_BYTES, Math.ceil(dataScannedInBytes / mb) * mb);
  return (billed / 1024 ** 4) * PRICE_PER_TB_USD;
}

export interface RunQueryOptions {
  readonly sql: string;
  readonly workgroup?: string;
  readonly database?: string;
  readonly signal?: AbortSignal;
  /** Called on every poll: state and elapsed time (for a spinner). */
  readonly onProgress?: (state: string, elapsedMs: number) => void;
  /** First poll delay and the cap of its exponential growth. */
  readonly pollInitialMs?: number;
  readonly pollMaxMs?: number;
  /** Stop reading results after this many rows (the query still ran in full). */
  readonly maxRows?: number;
}

export interface QueryRun {
  readonly queryExecutionId: string;
  readonly columns: readonly Column[];
  readonly rows: (string | null)[][];
  readonly truncated: boolean;
  readonly dataScannedInBytes: number;
  readonly engineExecutionTimeInMillis: number;
  readonly totalExecutionTimeInMillis?: number;
  readonly outputLocation?: string;
  readonly costUsd: number;
}

/** A query Athena reports as FAILED or CANCELLED; `message` is Athena's StateChangeReason. */
export class AthenaQueryError extends Error {
  constructor(
    message: string,
    readonly state: string,
    readonly queryExecutionId?: string,
  ) {
    super(message);
  }
}

/**
 * Runs one query the way Athena wants it run: start, poll GetQueryExecution with exponential backoff,
 * then page through GetQueryResults. Aborting the signal stops the query on the service side too
 * (StopQueryExecution), so a Ctrl-C does not leave a scan running and billing.
 */
export async function runQuery(client: AthenaClient, options: RunQueryOptions): Promise<QueryRun> {
  const started = Date.now();
  const { QueryExecutionId: id } = await client.send(
    new StartQueryExecutionCommand({
      QueryString: options.sql,
      WorkGroup: options.workgroup,
      QueryExecutionContext: options.database ? { Database: options.database } : undefined,
    }),
  );
  if (!id) throw new AthenaQueryError('StartQueryExecution returned no QueryExecutionId', 'FAILED');
  const poll = { baseMs: options.pollInitialMs ?? 200, maxMs: options.pollMaxMs ?? 2000, factor: 1.5 };
  let execution: QueryExecution | undefined;
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) {
      await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
      throw new AthenaQueryError('Query cancelled', 'CANCELLED', id);
    }
    const res = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    execution = res.QueryExecution;
    const state = execution?.Status?.State ?? 'UNKNOWN';
    options.onProgress?.(state, Date.now() - started);
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') {
      throw new AthenaQueryError(execution?.Status?.StateChangeReason ?? `Query ${state.toLowerCase()}`, state, id);
    }
    await backoff(poll, attempt, options.signal);
  }
  const maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
  const rows: (string | null)[][] = [];
  let columns: Column[] = [];
  let token: string | undefined;
  let first = true;
  let truncated = false;
  do {
    const page = await client.send(
      new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }),
    );
    if (first) {
      columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({
        name: c.Name ?? c.Label ?? '',
        type: (c.Type ?? 'varchar').toLowerCase(),
      }));
    }
    let pageRows = (page.ResultSet?.Rows ?? []).map((r) => (r.Data ?? []).map((d) => d.VarCharValue ?? null));
    // SELECT results start with a header row on the first page.
    if (first && execution?.StatementType === 'DML' && pageRows.length > 0 && isHeader(pageRows[0], columns)) {
      pageRows = pageRows.slice(1);
    }
    first = false;
    for (const r of pageRows) {
      if (rows.length >= maxRows) {
        truncated = true;
        break;
      }
      rows.push(r);
    }
    token = page.NextToken;
  } while (token && !truncated && !options.signal?.aborted);
  const stats = execution?.Statistics ?? {};
  const scanned = stats.DataScannedInBytes ?? 0;
  return {
    queryExecutionId: id,
    columns,
    rows,
    truncated,
    dataScannedInBytes: scanned,
    engineExecutionTimeInMillis: stats.EngineExecutionTimeInMillis ?? 0,
    totalExecutionTimeInMillis: stats.TotalExecutionTimeInMillis,
    outputLocation: execution?.ResultConfiguration?.OutputLocation,
    costUsd: queryCostUsd(scanned),
  };
}

function isHeader(row: readonly (string | null)[], columns: readonly Column[]): boolean {
  return row.length === columns.length && row.every((v, i) => v === columns[i].name);
}

/** `1.2 MB`, `3.4 GB`: data scanned as the Athena console shows it. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(2)} ${units[u]}`;
}

/** The figures line printed after a query. */
export function summaryLine(run: QueryRun): string {
  const cost = run.costUsd < 0.01 ? `$${run.costUsd.toFixed(6)}` : `$${run.costUsd.toFixed(4)}`;
  return `${run.rows.length}${run.truncated ? '+' : ''} rows · data scanned ${formatBytes(run.dataScannedInBytes)} · engine time ${run.engineExecutionTimeInMillis} ms · cost ${cost} (at $${PRICE_PER_TB_USD}/TB, 10 MB minimum) · id ${run.queryExecutionId}`;
}
