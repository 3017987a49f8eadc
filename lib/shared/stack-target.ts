import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a client (simulator, consumer, query tool) sends its calls: the embedded runtime's
 * `.local/stack.json`, a `cdk deploy --outputs-file` file, or flags. Same field names everywhere.
 */
export interface StackTarget {
  /** Custom endpoint (embedded runtime, LocalStack); undefined means real AWS. */
  readonly endpoint?: string;
  readonly region: string;
  readonly streamName?: string;
  readonly aggregatesTable?: string;
  readonly deviceStateTable?: string;
  readonly archiveBucket?: string;
  readonly glueDatabase?: string;
  readonly athenaWorkgroup?: string;
  /** Days the aggregates table keeps a minute (its TTL, `iot:aggregatesTtlDays`); undefined: forever. */
  readonly aggregatesTtlDays?: number;
  /** Where the target description came from, for messages. */
  readonly source: string;
}

/** Stack output keys (CfnOutput ids) the CDK stacks export; `cdk deploy --outputs-file` writes them. */
export const OUTPUT_KEYS = {
  streamName: 'StreamName',
  aggregatesTable: 'AggregatesTableName',
  deviceStateTable: 'DeviceStateTableName',
  archiveBucket: 'ArchiveBucketName',
  glueDatabase: 'GlueDatabaseName',
  athenaWorkgroup: 'AthenaWorkgroupName',
  aggregatesTtlDays: 'AggregatesTtlDays',
  region: 'Region',
} as const;

export const LOCAL_STACK_FILE = join('.local', 'stack.json');

export class TargetError extends Error {}

/** Reads a `cdk deploy --outputs-file` file: `{ StackName: { OutputKey: value } }`, merged over all stacks. */
export function targetFromCdkOutputs(path: string): StackTarget {
  let parsed: Record<string, Record<string, string>>;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TargetError(`Cannot read outputs file ${path}: ${(err as Error).message}`);
  }
  const merged: Record<string, string> = {};
  for (const outputs of Object.values(parsed ?? {})) {
    if (outputs && typeof outputs === 'object') Object.assign(merged, outputs);
  }
  const pick = (key: string): string | undefined => {
    // CDK prefixes nested construct outputs; match on the suffix as well as the exact key.
    if (merged[key] !== undefined) return merged[key];
    const found = Object.keys(merged).find((k) => k.endsWith(key));
    return found === undefined ? undefined : merged[found];
  };
  return {
    region: pick(OUTPUT_KEYS.region) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    streamName: pick(OUTPUT_KEYS.streamName),
    aggregatesTable: pick(OUTPUT_KEYS.aggregatesTable),
    deviceStateTable: pick(OUTPUT_KEYS.deviceStateTable),
    archiveBucket: pick(OUTPUT_KEYS.archiveBucket),
    glueDatabase: pick(OUTPUT_KEYS.glueDatabase),
    athenaWorkgroup: pick(OUTPUT_KEYS.athenaWorkgroup),
    aggregatesTtlDays: ttlDays(pick(OUTPUT_KEYS.aggregatesTtlDays)),
    source: path,
  };
}

/** An output's TTL days, or undefined when the stack keeps aggregates forever (no output). */
export function ttlDays(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Reads the embedded runtime's `.local/stack.json`, or undefined when no embedded stack has run here. */
export function targetFromLocalStack(cwd = process.cwd()): StackTarget | undefined {
  const path = join(cwd, LOCAL_STACK_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Omit<StackTarget, 'source'>;
    return { ...parsed, source: path };
  } catch (err) {
    throw new TargetError(
      `Cannot read ${path}: ${(err as Error).message}. Restart the embedded stack (npm run local).`,
    );
  }
}
