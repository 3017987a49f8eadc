import { createHash, randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { NamedQuerySpec } from '../../catalog';
import { toCsv } from '../../query/format';
import { type JsonProtocolService, ServiceError } from '../service';
import { type AnalyticsEngine, QueryCancelled, QueryFailure, type QueryOutput } from './engine';

export interface WorkgroupDef {
  readonly name: string;
  /** `s3://bucket/prefix/` or a bare bucket name: where result CSVs go, as Athena writes them. */
  readonly resultsBucket?: string;
  /** Queries that would scan more fail, like the workgroup's BytesScannedCutoffPerQuery. */
  readonly bytesScannedCutoffPerQuery?: number;
}

type State = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

interface Execution {
  readonly id: string;
  readonly query: string;
  readonly database: string;
  readonly workgroup: string;
  readonly statementType: 'DML' | 'DDL' | 'UTILITY';
  readonly parameters?: readonly string[];
  readonly submitted: number;
  readonly abort: AbortController;
  readonly outputLocation?: string;
  state: State;
  reason?: string;
  errorType?: string;
  completed?: number;
  result?: QueryOutput;
}

const MAX_KEPT = 200;
/** Athena's StatementType: queries (and what runs one) are DML, PREPARE/DEALLOCATE UTILITY, the rest DDL. */
export function statementType(sql: string): 'DML' | 'DDL' | 'UTILITY' {
  const first = /^(?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/|\()*([A-Za-z]+)/.exec(sql)?.[1]?.toLowerCase() ?? '';
  if (['select', 'with', 'values', 'insert', 'explain', 'execute', 'table'].includes(first)) return 'DML';
  if (['prepare', 'deallocate'].includes(first)) return 'UTILITY';
  return 'DDL';
}
const invalid = (message: string) => new ServiceError('InvalidRequestException', message);

/** A stable id for a named query, derived from its name (the same on every start of the runtime). */
export function namedQueryId(name: string): string {
  const h = createHash('sha1').update(`named-query:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The Athena API subset the query tool and the AWS CLI use, over the embedded engine. Queries run
 * asynchronously, as on AWS: StartQueryExecution returns at once and GetQueryExecution reports the state.
 */
export class AthenaService implements JsonProtocolService {
  readonly targetPrefixes = ['AmazonAthena'];
  private readonly executions = new Map<string, Execution>();
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly engine: () => Promise<AnalyticsEngine>,
    private readonly options: {
      readonly workgroups: readonly WorkgroupDef[];
      readonly namedQueries: readonly NamedQuerySpec[];
      readonly defaultDatabase: string;
      readonly s3?: S3Client;
      readonly log?: (line: string) => void;
    },
  ) {}

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'StartQueryExecution':
        return this.start(input);
      case 'GetQueryExecution':
        return { QueryExecution: this.describe(this.execution(input.QueryExecutionId)) };
      case 'BatchGetQueryExecution': {
        const ids = (input.QueryExecutionIds as string[] | undefined) ?? [];
        return {
          QueryExecutions: ids
            .filter((id) => this.executions.has(id))
            .map((id) => this.describe(this.executions.get(id)!)),
          UnprocessedQueryExecutionIds: ids
            .filter((id) => !this.executions.has(id))
            .map((id) => ({
              QueryExecutionId: id,
              ErrorCode: 'INVALID_INPUT',
              ErrorMessage: 'QueryExecution not found',
            })),
        };
      }
      case 'GetQueryResults':
        return this.results(input);
      case 'StopQueryExecution':
        return this.stop(input);
      case 'ListQueryExecutions': {
        const wg = (input.WorkGroup as string | undefined) ?? 'primary';
        const ids = [...this.executions.values()].filter((e) => e.workgroup === wg).map((e) => e.id);
        return { QueryExecutionIds: ids.reverse() };
      }
      case 'ListNamedQueries':
        this.workgroup(input.WorkGroup);
        return { NamedQueryIds: this.options.namedQueries.map((q) => namedQueryId(q.name)) };
      case 'GetNamedQuery':
        return { NamedQuery: this.namedQuery(String(input.NamedQueryId ?? ''), input.WorkGroup as string | undefined) };
      case 'BatchGetNamedQuery': {
        const ids = (input.NamedQueryIds as string[] | undefined) ?? [];
        const known = new Set(this.options.namedQueries.map((q) => namedQueryId(q.name)));
        return {
          NamedQueries: ids.filter((id) => known.has(id)).map((id) => this.namedQuery(id)),
          UnprocessedNamedQueryIds: ids
            .filter((id) => !known.has(id))
            .map((id) => ({ NamedQueryId: id, ErrorCode: 'INVALID_INPUT', ErrorMessage: 'NamedQuery not found' })),
        };
      }
      case 'ListWorkGroups':
        return {
          WorkGroups: this.workgroups().map((w) => ({
            Name: w.name,
            State: 'ENABLED',
            Description: 'Embedded engine (DuckDB over the local archive)',
            EngineVersion: engineVersion(),
          })),
        };
      case 'GetWorkGroup': {
        const w = this.workgroup(input.WorkGroup);
        return {
          WorkGroup: {
            Name: w.name,
            State: 'ENABLED',
            Configuration: {
              ResultConfiguration: w.resultsBucket ? { OutputLocation: resultsPrefix(w.resultsBucket) } : {},
              EnforceWorkGroupConfiguration: true,
              PublishCloudWatchMetricsEnabled: false,
              ...(w.bytesScannedCutoffPerQuery ? { BytesScannedCutoffPerQuery: w.bytesScannedCutoffPerQuery } : {}),
              EngineVersion: engineVersion(),
            },
          },
        };
      }
      case 'CreatePreparedStatement':
      case 'UpdatePreparedStatement': {
        const wg = this.workgroup(input.WorkGroup).name;
        const name = String(input.StatementName ?? '');
        const catalog = (await this.engine()).catalog;
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw invalid(`StatementName ${name} is not valid`);
        const exists = catalog.prepared(wg, name) !== undefined;
        if (operation === 'CreatePreparedStatement' && exists)
          throw invalid(`Prepared statement ${name} already exists`);
        if (operation === 'UpdatePreparedStatement' && !exists)
          throw new ServiceError('ResourceNotFoundException', `Prepared statement ${name} was not found`);
        catalog.putPrepared({
          workgroup: wg,
          name,
          sql: String(input.QueryStatement ?? ''),
          ...(typeof input.Description === 'string' ? { description: input.Description } : {}),
        });
        return {};
      }
      case 'GetPreparedStatement': {
        const wg = this.workgroup(input.WorkGroup).name;
        const p = (await this.engine()).catalog.prepared(wg, String(input.StatementName ?? ''));
        if (!p)
          throw new ServiceError(
            'ResourceNotFoundException',
            `Prepared statement ${String(input.StatementName)} was not found`,
          );
        return {
          PreparedStatement: {
            StatementName: p.name,
            QueryStatement: p.sql,
            WorkGroupName: wg,
            ...(p.description ? { Description: p.description } : {}),
          },
        };
      }
      case 'ListPreparedStatements': {
        const wg = this.workgroup(input.WorkGroup).name;
        return {
          PreparedStatements: (await this.engine()).catalog
            .preparedStatements(wg)
            .map((p) => ({ StatementName: p.name })),
        };
      }
      case 'DeletePreparedStatement': {
        const wg = this.workgroup(input.WorkGroup).name;
        if (!(await this.engine()).catalog.deletePrepared(wg, String(input.StatementName ?? '')))
          throw new ServiceError(
            'ResourceNotFoundException',
            `Prepared statement ${String(input.StatementName)} was not found`,
          );
        return {};
      }
      default:
        throw new ServiceError(
          'UnknownOperationException',
          `Operation ${operation} is not supported by the embedded Athena`,
        );
    }
  }

  async close(): Promise<void> {
    for (const e of this.executions.values()) e.abort.abort();
  }

  private workgroups(): WorkgroupDef[] {
    const list = [...this.options.workgroups];
    if (!list.some((w) => w.name === 'primary')) list.push({ name: 'primary' });
    return list;
  }

  private workgroup(name: unknown): WorkgroupDef {
    const wanted = typeof name === 'string' && name !== '' ? name : 'primary';
    const w = this.workgroups().find((x) => x.name === wanted);
    if (!w) throw invalid(`WorkGroup ${wanted} is not found.`);
    return w;
  }

  private start(input: Record<string, unknown>): { QueryExecutionId: string } {
    const query = input.QueryString;
    if (typeof query !== 'string' || query.trim() === '') throw invalid('QueryString must not be empty');
    if (query.length > 262_144) throw invalid('QueryString is longer than 262144 characters');
    const token = input.ClientRequestToken as string | undefined;
    if (token && this.tokens.has(token)) return { QueryExecutionId: this.tokens.get(token)! };
    const wg = this.workgroup(input.WorkGroup);
    const context = (input.QueryExecutionContext ?? {}) as { Database?: string };
    const database = context.Database ?? this.options.defaultDatabase;
    const given = input.ExecutionParameters;
    if (given !== undefined && (!Array.isArray(given) || given.some((p) => typeof p !== 'string' || p === '')))
      throw invalid('ExecutionParameters must be a list of non-empty strings');
    const parameters = given as string[] | undefined;
    const id = randomUUID();
    if (token) this.tokens.set(token, id);
    const execution: Execution = {
      id,
      query,
      database,
      workgroup: wg.name,
      statementType: statementType(query),
      ...(parameters ? { parameters } : {}),
      submitted: Date.now(),
      abort: new AbortController(),
      outputLocation: wg.resultsBucket ? `${resultsPrefix(wg.resultsBucket)}${id}.csv` : undefined,
      state: 'QUEUED',
    };
    this.executions.set(id, execution);
    this.prune();
    void this.run(execution, wg);
    return { QueryExecutionId: id };
  }

  private async run(e: Execution, wg: WorkgroupDef): Promise<void> {
    try {
      const engine = await this.engine();
      if (e.state !== 'QUEUED') return;
      e.state = 'RUNNING';
      const result = await engine.execute(e.query, {
        database: e.database,
        signal: e.abort.signal,
        workgroup: e.workgroup,
        parameters: e.parameters,
        queryId: e.id,
        resultsLocation: wg.resultsBucket ? resultsPrefix(wg.resultsBucket) : undefined,
      });
      if (wg.bytesScannedCutoffPerQuery !== undefined && result.dataScannedInBytes > wg.bytesScannedCutoffPerQuery) {
        throw new QueryFailure(
          'EXCEEDED_BYTES_SCANNED_LIMIT',
          `Query exhausted resources: bytes scanned limit was exceeded (${result.dataScannedInBytes} > ${wg.bytesScannedCutoffPerQuery})`,
        );
      }
      if (e.outputLocation && this.options.s3) await this.writeCsv(e.outputLocation, result);
      if ((e.state as State) === 'CANCELLED') return;
      e.result = result;
      e.state = 'SUCCEEDED';
    } catch (err) {
      if ((e.state as State) === 'CANCELLED') return;
      if (err instanceof QueryCancelled) {
        e.state = 'CANCELLED';
      } else {
        e.state = 'FAILED';
        e.reason = (err as Error).message;
        e.errorType = err instanceof QueryFailure ? err.errorType : 'GENERIC_INTERNAL_ERROR';
        this.options.log?.(`athena: query ${e.id} failed: ${e.reason}`);
      }
    } finally {
      e.completed = Date.now();
    }
  }

  private async writeCsv(location: string, result: QueryOutput): Promise<void> {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(location)!;
    const body = toCsv(
      result.columns.map((c) => c.name),
      result.rows,
      true,
    );
    await this.options.s3!.send(new PutObjectCommand({ Bucket: m[1], Key: m[2], Body: body, ContentType: 'text/csv' }));
  }

  private execution(id: unknown): Execution {
    const e = typeof id === 'string' ? this.executions.get(id) : undefined;
    if (!e) throw invalid(`QueryExecution ${String(id)} was not found`);
    return e;
  }

  private describe(e: Execution) {
    const r = e.result;
    const end = e.completed ?? Date.now();
    return {
      QueryExecutionId: e.id,
      Query: e.query,
      StatementType: e.statementType,
      ResultConfiguration: e.outputLocation ? { OutputLocation: e.outputLocation } : {},
      QueryExecutionContext: { Database: e.database, Catalog: 'AwsDataCatalog' },
      ...(e.parameters ? { ExecutionParameters: e.parameters } : {}),
      Status: {
        State: e.state,
        ...(e.reason ? { StateChangeReason: e.reason } : {}),
        SubmissionDateTime: e.submitted / 1000,
        ...(e.completed ? { CompletionDateTime: e.completed / 1000 } : {}),
        ...(e.state === 'FAILED'
          ? { AthenaError: { ErrorCategory: 2, ErrorType: 1100, Retryable: false, ErrorMessage: e.reason } }
          : {}),
      },
      Statistics: {
        EngineExecutionTimeInMillis: r?.engineExecutionTimeInMillis ?? end - e.submitted,
        DataScannedInBytes: r?.dataScannedInBytes ?? 0,
        TotalExecutionTimeInMillis: end - e.submitted,
        QueryQueueTimeInMillis: 0,
      },
      WorkGroup: e.workgroup,
      EngineVersion: engineVersion(),
    };
  }

  private results(input: Record<string, unknown>) {
    const e = this.execution(input.QueryExecutionId);
    if (e.state === 'FAILED') throw invalid(e.reason ?? 'Query failed');
    if (e.state !== 'SUCCEEDED' || !e.result) throw invalid(`Query has not yet finished. Current state: ${e.state}`);
    const max = input.MaxResults === undefined ? 1000 : Number(input.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 1000) {
      throw invalid('MaxResults must be an integer between 1 and 1000');
    }
    // Athena's first page starts with a header row for SELECT results; the token is an offset into header+rows.
    const r = e.result;
    const header = e.statementType === 'DML' && r.columns.length > 0 ? [r.columns.map((c) => c.name)] : [];
    const all = header.length + r.rows.length;
    let offset = 0;
    if (input.NextToken !== undefined) {
      const m = /^([0-9a-f-]{36}):(\d+)$/.exec(Buffer.from(String(input.NextToken), 'base64').toString('utf8'));
      if (!m || m[1] !== e.id) throw invalid('Invalid NextToken');
      offset = Number(m[2]);
    }
    const end = Math.min(all, offset + max);
    const rows = [];
    for (let i = offset; i < end; i++) {
      const values = i < header.length ? header[i] : r.rows[i - header.length];
      rows.push({ Data: values.map((v) => (v === null ? {} : { VarCharValue: v })) });
    }
    return {
      UpdateCount: r.updateCount ?? 0,
      ResultSet: {
        Rows: rows,
        ResultSetMetadata: {
          ColumnInfo: r.columns.map((c) => ({
            CatalogName: 'hive',
            SchemaName: '',
            TableName: '',
            Name: c.name,
            Label: c.name,
            Type: c.type,
            Precision: 0,
            Scale: 0,
            Nullable: 'UNKNOWN',
            CaseSensitive: c.type === 'varchar',
          })),
        },
      },
      ...(end < all ? { NextToken: Buffer.from(`${e.id}:${end}`).toString('base64') } : {}),
    };
  }

  private stop(input: Record<string, unknown>): Record<string, never> {
    const e = this.execution(input.QueryExecutionId);
    if (e.state === 'QUEUED' || e.state === 'RUNNING') {
      e.state = 'CANCELLED';
      e.reason = 'Query cancelled by user';
      e.completed = Date.now();
      e.abort.abort();
    }
    return {};
  }

  private namedQuery(id: string, workgroup?: string) {
    const q = this.options.namedQueries.find((x) => namedQueryId(x.name) === id);
    if (!q) throw invalid(`NamedQuery ${id} was not found`);
    return {
      Name: q.name,
      Description: q.description,
      Database: this.options.defaultDatabase,
      QueryString: q.sql,
      NamedQueryId: id,
      WorkGroup: workgroup ?? this.workgroups()[0].name,
    };
  }

  private prune(): void {
    if (this.executions.size <= MAX_KEPT) return;
    for (const [id, e] of this.executions) {
      if (this.executions.size <= MAX_KEPT) break;
      if (e.state !== 'QUEUED' && e.state !== 'RUNNING') this.executions.delete(id);
    }
  }
}

function engineVersion() {
  return { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' };
}

function resultsPrefix(bucketOrLocation: string): string {
  const loc = bucketOrLocation.startsWith('s3://') ? bucketOrLocation : `s3://${bucketOrLocation}/`;
  return loc.endsWith('/') ? loc : `${loc}/`;
}
