import { GetTableCommand, type GetTableCommandOutput, type GlueClient } from '@aws-sdk/client-glue';
import { storageFormat } from '../catalog';
import type { DeviceProfile } from '../core/profiles';
import { LOCAL_STACK_FILE, type StackTarget, targetFromCdkOutputs, targetFromLocalStack } from '../shared/stack-target';
import { ImportError } from './errors';
import type { ArchiveFormat } from './publish';

export interface ImportTargetFlags {
  readonly outputs?: string;
  readonly endpoint?: string;
  /** Per-service endpoints, when S3 and DynamoDB are not behind one (separate emulators). */
  readonly s3Endpoint?: string;
  readonly dynamodbEndpoint?: string;
  readonly region?: string;
  readonly bucket?: string;
  readonly aggregatesTable?: string;
  readonly deviceStateTable?: string;
  readonly database?: string;
  /** The aggregates table's TTL in days, when the target does not say it (`--outputs` and stack.json do). */
  readonly aggregatesTtlDays?: number;
  /** Ignore `.local/stack.json`. */
  readonly aws?: boolean;
  readonly cwd?: string;
}

export interface ImportTarget {
  readonly endpoint?: string;
  readonly s3Endpoint?: string;
  readonly dynamodbEndpoint?: string;
  readonly region: string;
  readonly bucket: string;
  readonly aggregatesTable: string;
  readonly deviceStateTable: string;
  readonly glueDatabase?: string;
  /** The aggregates table's TTL, days; undefined: minutes are kept forever. */
  readonly aggregatesTtlDays?: number;
  readonly source: string;
}

/**
 * The stack the import writes to: `--outputs cdk-outputs.json`, else the embedded stack's
 * `.local/stack.json`, else flags alone; flags override file values. Everything missing is named.
 */
export function resolveImportTarget(flags: ImportTargetFlags): ImportTarget {
  let base: StackTarget | undefined;
  if (flags.outputs) base = targetFromCdkOutputs(flags.outputs);
  else if (!flags.aws) base = targetFromLocalStack(flags.cwd);
  const pick = {
    endpoint: flags.endpoint ?? base?.endpoint,
    s3Endpoint: flags.s3Endpoint ?? flags.endpoint ?? base?.endpoint,
    dynamodbEndpoint: flags.dynamodbEndpoint ?? flags.endpoint ?? base?.endpoint,
    region: flags.region ?? base?.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    bucket: flags.bucket ?? base?.archiveBucket,
    aggregatesTable: flags.aggregatesTable ?? base?.aggregatesTable,
    deviceStateTable: flags.deviceStateTable ?? base?.deviceStateTable,
    glueDatabase: flags.database ?? base?.glueDatabase,
    aggregatesTtlDays: flags.aggregatesTtlDays ?? base?.aggregatesTtlDays,
  };
  const missing = [
    pick.bucket ? undefined : '--bucket (the archive bucket)',
    pick.aggregatesTable ? undefined : '--aggregates-table',
    pick.deviceStateTable ? undefined : '--device-state-table',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new ImportError(
      [
        `No complete target (${base ? `${base.source} lacks` : 'missing'}: ${missing.join(', ')}). Choose one with`,
        `  npm run local                       (the embedded stack; its ${LOCAL_STACK_FILE} is found automatically)`,
        '  --outputs cdk-outputs.json          (after cdk deploy --outputs-file cdk-outputs.json)',
        '  --bucket B --aggregates-table A --device-state-table S [--endpoint URL] [--region R]',
      ].join('\n'),
    );
  }
  return {
    ...pick,
    bucket: pick.bucket as string,
    aggregatesTable: pick.aggregatesTable as string,
    deviceStateTable: pick.deviceStateTable as string,
    source: base?.source ?? 'flags',
  };
}

/** A raw table's archive format and columns as the stack's Glue catalog defines them. */
export interface RawTableInfo {
  readonly format: ArchiveFormat;
  readonly columns: readonly { name: string; type: string }[];
  /** Partition projection's year range, when the table has one: partitions outside it are invisible to Athena. */
  readonly years?: readonly [number, number];
}

/**
 * Reads each profile's raw table from Glue (AWS, or the embedded runtime's Glue API): the archive is
 * written in the format and with the columns the tables read, never a guess.
 */
export async function readRawTables(
  glue: GlueClient,
  database: string,
  profiles: readonly DeviceProfile[],
  tableName: (p: DeviceProfile) => string,
): Promise<Map<string, RawTableInfo>> {
  const out = new Map<string, RawTableInfo>();
  for (const profile of profiles) {
    const name = tableName(profile);
    let table: GetTableCommandOutput;
    try {
      table = await glue.send(new GetTableCommand({ DatabaseName: database, Name: name }));
    } catch (err) {
      throw new ImportError(
        `Cannot read the Glue table ${database}.${name} (${(err as Error).message}); ` +
          'pass --archive-format parquet|json to say how the stack archives.',
      );
    }
    const t = table.Table as {
      Parameters?: Record<string, string>;
      StorageDescriptor?: {
        Columns?: { Name?: string; Type?: string }[];
        SerdeInfo?: { SerializationLibrary?: string };
        InputFormat?: string;
      };
    };
    const sd = t.StorageDescriptor ?? {};
    const range = t.Parameters?.['projection.year.range']?.split(',').map(Number);
    out.set(profile.name, {
      format: storageFormat({
        databaseName: database,
        tableName: name,
        columns: [],
        partitionKeys: [],
        location: '',
        parameters: t.Parameters,
        serde: sd.SerdeInfo?.SerializationLibrary,
        inputFormat: sd.InputFormat,
      }),
      columns: (sd.Columns ?? []).map((c) => ({ name: String(c.Name).toLowerCase(), type: String(c.Type) })),
      ...(range && range.length === 2 ? { years: [range[0], range[1]] as const } : {}),
    });
  }
  return out;
}
