import { LocalRuntimeError } from './errors';
import {
  type Assembly,
  type CfnResource,
  lambdaAssetDir,
  Resolver,
  type ResolverOptions,
  type ResourceRef,
  resourcesOfType,
  type StackTemplate,
} from './template';

/**
 * What the embedded runtime runs, derived from the synthesized template: names resolved, references
 * followed, every resource either run, acknowledged as "not run locally", or rejected with a reason.
 */
export interface StreamPlan {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly shardCount: number;
  /** ON_DEMAND: one local shard with the stream's documented initial capacity (4 MB/s, 4,000 records/s). */
  readonly onDemand: boolean;
}

export interface TablePlan {
  readonly logicalId: string;
  readonly name: string;
  readonly keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  readonly attributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  readonly globalSecondaryIndexes?: Record<string, unknown>[];
  readonly localSecondaryIndexes?: Record<string, unknown>[];
  /** The template's provisioned capacity; undefined for on-demand (PAY_PER_REQUEST) tables. */
  readonly provisioned?: { readonly readCapacityUnits: number; readonly writeCapacityUnits: number };
}

export interface NamedPlan {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

export interface FunctionPlan extends NamedPlan {
  readonly assetDir: string;
  /** `file.export`, e.g. `index.handler`. */
  readonly handler: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

export interface MappingPlan {
  readonly logicalId: string;
  readonly functionName: string;
  readonly streamName: string;
  readonly streamArn: string;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
  readonly startingTimestamp?: number;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly tumblingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  readonly bisectOnError: boolean;
  /** -1 = retry until the record expires. */
  readonly maxRetryAttempts: number;
  /** -1 = records never expire (until the stream's retention). */
  readonly maxRecordAgeSeconds: number;
  /** Name of the SQS on-failure destination queue. */
  readonly onFailureQueue?: string;
  readonly enabled: boolean;
}

export interface ArchiveColumnPlan {
  readonly name: string;
  readonly type: string;
}

export interface DeliveryPlan {
  readonly logicalId: string;
  readonly name: string;
  readonly streamName: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly errorPrefix: string;
  readonly bufferSeconds: number;
  readonly bufferMiB: number;
  readonly compression: 'UNCOMPRESSED' | 'GZIP';
  /** The dynamic-partitioning MetadataExtraction JQ query, when enabled. */
  readonly partitionQuery?: string;
  /** The AppendDelimiterToRecord delimiter (unescaped), when configured. */
  readonly delimiter?: string;
  /** Parquet conversion's columns (from the Glue table in SchemaConfiguration), when enabled. */
  readonly parquetColumns?: readonly ArchiveColumnPlan[];
  /** ParquetSerDe page compression (Firehose's default is SNAPPY). */
  readonly parquetCompression?: ParquetCompression;
}

export type ParquetCompression = 'SNAPPY' | 'GZIP' | 'UNCOMPRESSED';

export interface StackPlan {
  readonly resolver: Resolver;
  readonly streams: readonly StreamPlan[];
  readonly tables: readonly TablePlan[];
  readonly buckets: readonly NamedPlan[];
  readonly queues: readonly (NamedPlan & { url: string })[];
  readonly functions: readonly FunctionPlan[];
  readonly mappings: readonly MappingPlan[];
  readonly deliveryStreams: readonly DeliveryPlan[];
  readonly glueDatabases: readonly string[];
  readonly athenaWorkgroups: readonly string[];
  /** Resolved stack outputs, by output key, merged over all stacks. */
  readonly outputs: Readonly<Record<string, string>>;
  /** Resource types acknowledged but not run locally, with counts (e.g. `AWS::CloudWatch::Alarm x4`). */
  readonly notRunLocally: readonly string[];
}

/** Types the local run does not need: permissions, monitoring, logs, deployment helpers. */
const ACKNOWLEDGED = [
  /^AWS::IAM::/,
  /^AWS::Logs::/,
  /^AWS::CloudWatch::/,
  /^AWS::SNS::/,
  /^AWS::KMS::/,
  /^AWS::Glue::/, // other Glue and Athena types (crawlers, jobs, ...): the served ones are in `run`
  /^AWS::Athena::/,
  /^AWS::ApplicationAutoScaling::/,
  /^AWS::SSM::/,
  /^AWS::CDK::Metadata$/,
  /^AWS::S3::BucketPolicy$/,
  /^AWS::SQS::QueuePolicy$/,
  /^AWS::Lambda::(Permission|EventInvokeConfig|Version|Alias|LayerVersion)$/,
  /^AWS::Kinesis::StreamConsumer$/,
  /^AWS::CloudFormation::/,
  /^Custom::/,
];

export function planStack(assembly: Assembly, options: ResolverOptions): StackPlan {
  const resolver = new Resolver(assembly, options);
  const r = (ref: ResourceRef, v: unknown) => resolver.resolve(ref.stack, v);
  const props = (ref: ResourceRef) => ref.resource.Properties ?? {};
  const named = (ref: ResourceRef): NamedPlan => ({
    logicalId: ref.logicalId,
    name: resolver.physicalName(ref.stack, ref.logicalId),
    arn: String(resolver.getAtt(ref.stack, ref.logicalId, 'Arn')),
  });
  const of = (type: string) => resourcesOfType(assembly, type, resolver);

  const streams = of('AWS::Kinesis::Stream').map((ref): StreamPlan => {
    const mode = (r(ref, props(ref).StreamModeDetails) as { StreamMode?: string } | undefined)?.StreamMode;
    const shards = Number(r(ref, props(ref).ShardCount) ?? 1);
    const onDemand = mode === 'ON_DEMAND';
    return { ...named(ref), shardCount: onDemand ? 1 : Math.max(1, shards), onDemand };
  });

  const tables = of('AWS::DynamoDB::Table').map((ref): TablePlan => {
    const p = r(ref, props(ref)) as Record<string, unknown>;
    const strip = (indexes: unknown) =>
      (indexes as Record<string, unknown>[] | undefined)?.map((i) => ({
        IndexName: i.IndexName,
        KeySchema: i.KeySchema,
        Projection: i.Projection,
      }));
    return {
      logicalId: ref.logicalId,
      name: resolver.physicalName(ref.stack, ref.logicalId),
      keySchema: p.KeySchema as TablePlan['keySchema'],
      attributeDefinitions: p.AttributeDefinitions as TablePlan['attributeDefinitions'],
      globalSecondaryIndexes: strip(p.GlobalSecondaryIndexes),
      localSecondaryIndexes: strip(p.LocalSecondaryIndexes),
      provisioned: provisionedCapacity(p),
    };
  });

  const buckets = of('AWS::S3::Bucket').map(named);
  const queues = of('AWS::SQS::Queue').map((ref) => ({
    ...named(ref),
    url: String(resolver.getAtt(ref.stack, ref.logicalId, 'QueueUrl')),
  }));

  const byArnOrName = <T extends NamedPlan>(list: readonly T[], v: unknown): T | undefined =>
    list.find((x) => x.arn === v || x.name === v);

  const mappingRefs = of('AWS::Lambda::EventSourceMapping');
  const functionRefs = of('AWS::Lambda::Function');
  const functionPlans = new Map<string, FunctionPlan>();
  const mappings = mappingRefs.map((ref): MappingPlan => {
    const p = r(ref, props(ref)) as Record<string, unknown>;
    const where = `${ref.stack.stackName}/${ref.logicalId}`;
    const sourceArn = String(p.EventSourceArn ?? '');
    const stream = streams.find((s) => sourceArn === s.arn || sourceArn.startsWith(`${s.arn}/consumer/`));
    if (!stream) {
      throw new LocalRuntimeError(
        `${where}: event source ${sourceArn || '(none)'} is not a Kinesis stream of this template; the embedded runtime runs Kinesis event sources only.`,
      );
    }
    const fnRef = functionRefs.find((f) => {
      const plan = named(f);
      return plan.name === p.FunctionName || plan.arn === p.FunctionName;
    });
    if (!fnRef) throw new LocalRuntimeError(`${where}: function ${String(p.FunctionName)} is not in the template.`);
    const fn = planFunction(fnRef, resolver);
    functionPlans.set(fn.name, fn);
    const dest = (p.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)?.OnFailure?.Destination;
    const queue = dest === undefined ? undefined : byArnOrName(queues, dest);
    if (dest !== undefined && !queue) {
      throw new LocalRuntimeError(`${where}: on-failure destination ${dest} is not an SQS queue of this template.`);
    }
    const types = (p.FunctionResponseTypes as string[] | undefined) ?? [];
    const num = (v: unknown, d: number) => (v === undefined || v === null ? d : Number(v));
    const parallelization = num(p.ParallelizationFactor, 1);
    if (parallelization !== 1) {
      throw new LocalRuntimeError(
        `${where}: ParallelizationFactor ${parallelization} is not honoured by the embedded runtime (it runs one batch per shard at a time); set it to 1 for local runs, or test it on AWS.`,
      );
    }
    return {
      logicalId: ref.logicalId,
      functionName: fn.name,
      streamName: stream.name,
      streamArn: stream.arn,
      startingPosition: (p.StartingPosition as MappingPlan['startingPosition']) ?? 'LATEST',
      startingTimestamp:
        p.StartingPositionTimestamp === undefined ? undefined : num(p.StartingPositionTimestamp, 0) * 1000,
      batchSize: num(p.BatchSize, 100),
      maxBatchingWindowSeconds: num(p.MaximumBatchingWindowInSeconds, 0),
      tumblingWindowSeconds: num(p.TumblingWindowInSeconds, 0),
      reportBatchItemFailures: types.includes('ReportBatchItemFailures'),
      bisectOnError: p.BisectBatchOnFunctionError === true || p.BisectBatchOnFunctionError === 'true',
      maxRetryAttempts: num(p.MaximumRetryAttempts, -1),
      maxRecordAgeSeconds: num(p.MaximumRecordAgeInSeconds, -1),
      onFailureQueue: queue?.name,
      enabled: p.Enabled !== false && p.Enabled !== 'false',
    };
  });

  const deliveryStreams = of('AWS::KinesisFirehose::DeliveryStream').map((ref) =>
    planDelivery(ref, resolver, streams, buckets, assembly),
  );

  const glueDatabases = of('AWS::Glue::Database').map((ref) => resolver.physicalName(ref.stack, ref.logicalId));
  const athenaWorkgroups = of('AWS::Athena::WorkGroup').map((ref) => resolver.physicalName(ref.stack, ref.logicalId));

  const outputs: Record<string, string> = {};
  for (const stack of assembly.stacks) {
    for (const [key, output] of Object.entries(stack.template.Outputs ?? {})) {
      try {
        outputs[key] = String(resolver.resolve(stack, output.Value));
      } catch {
        // An output the local run cannot resolve (e.g. a dashboard URL) is simply not offered.
      }
    }
  }

  const run = new Set([
    'AWS::Kinesis::Stream',
    'AWS::DynamoDB::Table',
    'AWS::S3::Bucket',
    'AWS::SQS::Queue',
    'AWS::Lambda::EventSourceMapping',
    'AWS::KinesisFirehose::DeliveryStream',
    // Served by the embedded Athena and Glue APIs (lib/local/athena) from these same definitions.
    'AWS::Glue::Database',
    'AWS::Glue::Table',
    'AWS::Athena::WorkGroup',
    'AWS::Athena::NamedQuery',
  ]);
  const notRun = new Map<string, number>();
  const unsupported: string[] = [];
  for (const stack of assembly.stacks) {
    for (const [id, res] of Object.entries(stack.template.Resources ?? {}) as [string, CfnResource][]) {
      if (run.has(res.Type)) continue;
      if (res.Type === 'AWS::Lambda::Function') {
        if ([...functionPlans.values()].some((f) => f.logicalId === id)) continue;
        notRun.set(
          'AWS::Lambda::Function (no Kinesis trigger)',
          (notRun.get('AWS::Lambda::Function (no Kinesis trigger)') ?? 0) + 1,
        );
      } else if (ACKNOWLEDGED.some((re) => re.test(res.Type))) {
        notRun.set(res.Type, (notRun.get(res.Type) ?? 0) + 1);
      } else {
        unsupported.push(`${stack.stackName}/${id} (${res.Type})`);
      }
    }
  }
  if (unsupported.length > 0) {
    throw new LocalRuntimeError(
      `The embedded runtime cannot run ${unsupported.join(', ')}. Deploy to AWS or LocalStack for these, or remove them from the stack.`,
    );
  }
  return {
    resolver,
    streams,
    tables,
    buckets,
    queues,
    functions: [...functionPlans.values()],
    mappings,
    deliveryStreams,
    glueDatabases,
    athenaWorkgroups,
    outputs,
    notRunLocally: [...notRun.entries()].map(([t, n]) => (n > 1 ? `${t} x${n}` : t)).sort(),
  };
}

function planFunction(ref: ResourceRef, resolver: Resolver): FunctionPlan {
  const p = resolver.resolve(ref.stack, ref.resource.Properties ?? {}) as Record<string, unknown>;
  const runtime = String(p.Runtime ?? '');
  if (!runtime.startsWith('nodejs')) {
    throw new LocalRuntimeError(
      `${ref.stack.stackName}/${ref.logicalId}: runtime ${runtime || '(none)'} is not run locally; the embedded runtime runs Node.js functions.`,
    );
  }
  const env = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<
    string,
    unknown
  >;
  return {
    logicalId: ref.logicalId,
    name: resolver.physicalName(ref.stack, ref.logicalId),
    arn: String(resolver.getAtt(ref.stack, ref.logicalId, 'Arn')),
    assetDir: lambdaAssetDir(ref, resolver),
    handler: String(p.Handler ?? 'index.handler'),
    environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
    timeoutSeconds: Number(p.Timeout ?? 3),
    memoryMb: Number(p.MemorySize ?? 128),
  };
}

function planDelivery(
  ref: ResourceRef,
  resolver: Resolver,
  streams: readonly StreamPlan[],
  buckets: readonly NamedPlan[],
  assembly: Assembly,
): DeliveryPlan {
  const where = `${ref.stack.stackName}/${ref.logicalId}`;
  // biome-ignore lint/suspicious/noExplicitAny: resolved CloudFormation properties are untyped JSON
  const p = resolver.resolve(ref.stack, ref.resource.Properties ?? {}) as Record<string, any>;
  const source = p.KinesisStreamSourceConfiguration as { KinesisStreamARN?: string } | undefined;
  const stream = streams.find((s) => s.arn === source?.KinesisStreamARN);
  if (p.DeliveryStreamType !== 'KinesisStreamAsSource' || !stream) {
    throw new LocalRuntimeError(
      `${where}: only Firehose delivery streams reading a Kinesis stream of this template are run locally (found ${p.DeliveryStreamType ?? 'DirectPut'}).`,
    );
  }
  const dest = (p.ExtendedS3DestinationConfiguration ?? p.S3DestinationConfiguration) as
    // biome-ignore lint/suspicious/noExplicitAny: resolved CloudFormation properties are untyped JSON
    Record<string, any> | undefined;
  const bucket = buckets.find((b) => b.arn === dest?.BucketARN);
  if (!dest || !bucket) {
    throw new LocalRuntimeError(`${where}: only S3 destinations in a bucket of this template are run locally.`);
  }
  const processors = (
    dest.ProcessingConfiguration?.Enabled === false ? [] : (dest.ProcessingConfiguration?.Processors ?? [])
  ) as {
    Type: string;
    Parameters?: { ParameterName: string; ParameterValue: string }[];
  }[];
  const param = (type: string, name: string) =>
    processors.find((x) => x.Type === type)?.Parameters?.find((x) => x.ParameterName === name)?.ParameterValue;
  for (const proc of processors) {
    if (!['MetadataExtraction', 'AppendDelimiterToRecord', 'RecordDeAggregation'].includes(proc.Type)) {
      throw new LocalRuntimeError(`${where}: Firehose processor ${proc.Type} is not run locally.`);
    }
  }
  const partitioning = dest.DynamicPartitioningConfiguration?.Enabled === true;
  const hasAppend = processors.some((x) => x.Type === 'AppendDelimiterToRecord');
  const conversion = dest.DataFormatConversionConfiguration;
  let parquetColumns: ArchiveColumnPlan[] | undefined;
  let parquetCompression: ParquetCompression | undefined;
  if (conversion && conversion.Enabled !== false) {
    const serde = conversion.OutputFormatConfiguration?.Serializer?.ParquetSerDe;
    if (!serde) throw new LocalRuntimeError(`${where}: only Parquet record format conversion is run locally.`);
    parquetColumns = glueColumns(assembly, resolver, conversion.SchemaConfiguration, where);
    const codec = String(serde.Compression ?? 'SNAPPY');
    if (codec !== 'SNAPPY' && codec !== 'GZIP' && codec !== 'UNCOMPRESSED') {
      throw new LocalRuntimeError(
        `${where}: Parquet compression ${codec} is not run locally (SNAPPY, GZIP, UNCOMPRESSED).`,
      );
    }
    parquetCompression = codec;
  }
  const hints = dest.BufferingHints ?? {};
  const compression = String(dest.CompressionFormat ?? 'UNCOMPRESSED');
  if (compression !== 'UNCOMPRESSED' && compression !== 'GZIP') {
    throw new LocalRuntimeError(`${where}: compression ${compression} is not run locally (GZIP or UNCOMPRESSED).`);
  }
  return {
    logicalId: ref.logicalId,
    name: resolver.physicalName(ref.stack, ref.logicalId),
    streamName: stream.name,
    bucket: bucket.name,
    prefix: String(dest.Prefix ?? ''),
    errorPrefix: String(dest.ErrorOutputPrefix ?? ''),
    bufferSeconds: Number(hints.IntervalInSeconds ?? 300),
    bufferMiB: Number(hints.SizeInMBs ?? 5),
    compression,
    partitionQuery: partitioning ? param('MetadataExtraction', 'MetadataExtractionQuery') : undefined,
    delimiter: hasAppend ? unescapeDelimiter(param('AppendDelimiterToRecord', 'Delimiter') ?? '\\n') : undefined,
    parquetColumns,
    parquetCompression,
  };
}

function glueColumns(
  assembly: Assembly,
  resolver: Resolver,
  schema: { DatabaseName?: string; TableName?: string } | undefined,
  where: string,
): ArchiveColumnPlan[] {
  for (const ref of resourcesOfType(assembly, 'AWS::Glue::Table', resolver)) {
    const stack: StackTemplate = ref.stack;
    // biome-ignore lint/suspicious/noExplicitAny: resolved CloudFormation properties are untyped JSON
    const p = resolver.resolve(stack, ref.resource.Properties ?? {}) as Record<string, any>;
    if (resolver.physicalName(stack, ref.logicalId) !== schema?.TableName) continue;
    if (schema?.DatabaseName !== undefined && p.DatabaseName !== schema.DatabaseName) continue;
    const cols = (p.TableInput?.StorageDescriptor?.Columns ?? []) as { Name: string; Type: string }[];
    return cols.map((c) => ({ name: c.Name, type: c.Type }));
  }
  throw new LocalRuntimeError(
    `${where}: the Glue table ${schema?.TableName} of the Parquet schema is not in the template.`,
  );
}

function unescapeDelimiter(s: string): string {
  return s.replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\r/g, '\r');
}

/** ProvisionedThroughput of a PROVISIONED table (BillingMode absent means PROVISIONED in CloudFormation). */
function provisionedCapacity(p: Record<string, unknown>): TablePlan['provisioned'] {
  if (p.BillingMode === 'PAY_PER_REQUEST') return undefined;
  const t = p.ProvisionedThroughput as { ReadCapacityUnits?: unknown; WriteCapacityUnits?: unknown } | undefined;
  if (!t) return undefined;
  return { readCapacityUnits: Number(t.ReadCapacityUnits), writeCapacityUnits: Number(t.WriteCapacityUnits) };
}
