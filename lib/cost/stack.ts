import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRuntimeError } from '../local/errors';
import { type Assembly, loadAssembly, Resolver, type ResourceRef, resourcesOfType } from '../local/template';
import { CostInputError } from './errors';

/**
 * What the synthesized stack (cdk.out) says about the bill: read with the runtime's own template loader
 * and CloudFormation resolver (lib/local/template.ts), so `-c iot:...` context given at synth is what
 * gets priced. Everything here is a fact of the template; traffic comes from the workload.
 */
export interface StreamFacts {
  readonly logicalId: string;
  readonly mode: 'PROVISIONED' | 'ON_DEMAND';
  readonly shards: number;
  readonly retentionHours: number;
  /** Event source mappings and delivery streams reading it (each is a consumer for on-demand reads). */
  readonly consumers: number;
}

export interface AutoScalingFacts {
  readonly min: number;
  readonly max: number;
  /** Target utilisation, percent. */
  readonly targetPercent: number;
}

export interface TableFacts {
  readonly logicalId: string;
  readonly billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  readonly readCapacity?: number;
  readonly writeCapacity?: number;
  readonly readScaling?: AutoScalingFacts;
  readonly writeScaling?: AutoScalingFacts;
  readonly pointInTimeRecovery: boolean;
  readonly ttlAttribute?: string;
  /**
   * What the table holds, from its key schema: `minutes` (a sort key: the per-minute aggregates, which
   * take the data path's reads and almost all of its writes) or `listing` (partition key only: the
   * device-state listing, rewritten once per refresh interval).
   */
  readonly role: 'minutes' | 'listing';
}

export interface FunctionFacts {
  readonly logicalId: string;
  readonly architecture: 'arm64' | 'x86_64';
  readonly memoryMb: number;
  /**
   * The aggregator's device-state refresh (DEVICE_STATE_REFRESH_MINUTES, in seconds): the listing row is
   * rewritten on a status change or once per this much event time; 0 or absent: on every flush.
   */
  readonly deviceStateRefreshSeconds?: number;
  /** Days the aggregator's minute items live before DynamoDB's TTL deletes them (AGGREGATES_TTL_DAYS); absent: forever. */
  readonly aggregatesTtlDays?: number;
  /** The Kinesis event source mapping that invokes it, when there is one. */
  readonly mapping?: {
    readonly batchSize: number;
    readonly maxBatchingWindowSeconds: number;
    readonly tumblingWindowSeconds: number;
    readonly parallelizationFactor: number;
  };
}

export interface DeliveryFacts {
  readonly logicalId: string;
  readonly fromKinesis: boolean;
  readonly compression: string;
  readonly parquet: boolean;
  readonly dynamicPartitioning: boolean;
  readonly bufferSeconds: number;
  readonly bufferMiB: number;
}

export interface StackFacts {
  readonly region: string;
  readonly streams: readonly StreamFacts[];
  readonly tables: readonly TableFacts[];
  readonly functions: readonly FunctionFacts[];
  readonly deliveries: readonly DeliveryFacts[];
  readonly alarms: number;
  /**
   * Alarms that Application Auto Scaling creates at deploy time for the target-tracking policies (they are
   * not in the template, but they are billed like any alarm).
   */
  readonly autoscalingAlarms: number;
  readonly dashboards: number;
  readonly kmsKeys: number;
  readonly queues: number;
  readonly logGroups: number;
  /** Athena workgroups' per-query scan cutoff, bytes (undefined: no limit). */
  readonly athenaScanLimitBytes?: number;
}

/**
 * CloudWatch alarms Application Auto Scaling creates per DynamoDB target-tracking policy: a high and a low
 * alarm on the consumed capacity, and a high and a low one on the provisioned capacity ("two pairs",
 * docs.aws.amazon.com/keyspaces/latest/devguide/creating-alarms.html, the same mechanism as DynamoDB's;
 * docs.aws.amazon.com/amazondynamodb/latest/developerguide/provisioned-capacity-mode.html: "Application Auto
 * Scaling creates and manages the CloudWatch alarms").
 */
export const ALARMS_PER_TARGET_TRACKING_POLICY = 4;

/** A logical id without the 8-hex-digit hash CDK appends (`AggregatorFunction65A1DE15` -> `AggregatorFunction`). */
const readableId = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');

export function readStack(cdkOut: string, region: string): StackFacts {
  if (!existsSync(join(cdkOut, 'manifest.json'))) {
    throw new CostInputError(`no synthesized stack in ${cdkOut}: run \`npm run synth\` first (or pass --cdk-out).`);
  }
  let assembly: Assembly;
  try {
    assembly = loadAssembly(cdkOut);
  } catch (err) {
    if (err instanceof LocalRuntimeError) throw new CostInputError(err.message);
    throw err;
  }
  const resolver = new Resolver(assembly, { region, accountId: '000000000000', endpoint: 'http://127.0.0.1' });
  // biome-ignore lint/suspicious/noExplicitAny: resolved CloudFormation properties are untyped JSON
  const props = (ref: ResourceRef) => resolver.resolve(ref.stack, ref.resource.Properties ?? {}) as Record<string, any>;
  const of = (type: string) => resourcesOfType(assembly, type, resolver);
  const arnOf = (ref: ResourceRef) => String(resolver.getAtt(ref.stack, ref.logicalId, 'Arn'));
  const nameOf = (ref: ResourceRef) => resolver.physicalName(ref.stack, ref.logicalId);

  const mappings = of('AWS::Lambda::EventSourceMapping').map((ref) => ({ ref, p: props(ref) }));
  const deliveryRefs = of('AWS::KinesisFirehose::DeliveryStream').map((ref) => ({ ref, p: props(ref) }));

  const streams = of('AWS::Kinesis::Stream').map((ref): StreamFacts => {
    const p = props(ref);
    const arn = arnOf(ref);
    const mode = p.StreamModeDetails?.StreamMode === 'ON_DEMAND' ? 'ON_DEMAND' : 'PROVISIONED';
    const consumers =
      mappings.filter((m) => String(m.p.EventSourceArn ?? '').startsWith(arn)).length +
      deliveryRefs.filter((d) => d.p.KinesisStreamSourceConfiguration?.KinesisStreamARN === arn).length;
    return {
      logicalId: readableId(ref.logicalId),
      mode,
      shards: mode === 'ON_DEMAND' ? 0 : Number(p.ShardCount ?? 1),
      retentionHours: Number(p.RetentionPeriodHours ?? 24),
      consumers,
    };
  });

  const scaling = readAutoScaling(assembly, resolver);
  const tables = of('AWS::DynamoDB::Table').map((ref): TableFacts => {
    const p = props(ref);
    const tableName = nameOf(ref);
    const billingMode = p.BillingMode === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED';
    const scaled = (dimension: string) => scaling.get(`table/${tableName}|dynamodb:table:${dimension}`);
    return {
      logicalId: readableId(ref.logicalId),
      billingMode,
      readCapacity: p.ProvisionedThroughput ? Number(p.ProvisionedThroughput.ReadCapacityUnits) : undefined,
      writeCapacity: p.ProvisionedThroughput ? Number(p.ProvisionedThroughput.WriteCapacityUnits) : undefined,
      readScaling: scaled('ReadCapacityUnits'),
      writeScaling: scaled('WriteCapacityUnits'),
      pointInTimeRecovery: p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true,
      ttlAttribute: p.TimeToLiveSpecification?.Enabled ? String(p.TimeToLiveSpecification.AttributeName) : undefined,
      role: (p.KeySchema ?? []).some((k: { KeyType?: string }) => k.KeyType === 'RANGE') ? 'minutes' : 'listing',
    };
  });

  const functions = of('AWS::Lambda::Function').map((ref): FunctionFacts => {
    const p = props(ref);
    const name = nameOf(ref);
    const arn = arnOf(ref);
    const mapping = mappings.find((m) => m.p.FunctionName === name || m.p.FunctionName === arn)?.p;
    return {
      logicalId: readableId(ref.logicalId),
      architecture: (p.Architectures ?? ['x86_64'])[0] === 'arm64' ? 'arm64' : 'x86_64',
      memoryMb: Number(p.MemorySize ?? 128),
      deviceStateRefreshSeconds:
        p.Environment?.Variables?.DEVICE_STATE_REFRESH_MINUTES === undefined
          ? undefined
          : Number(p.Environment.Variables.DEVICE_STATE_REFRESH_MINUTES) * 60,
      aggregatesTtlDays:
        p.Environment?.Variables?.AGGREGATES_TTL_DAYS === undefined
          ? undefined
          : Number(p.Environment.Variables.AGGREGATES_TTL_DAYS),
      mapping: mapping && {
        batchSize: Number(mapping.BatchSize ?? 100),
        maxBatchingWindowSeconds: Number(mapping.MaximumBatchingWindowInSeconds ?? 0),
        tumblingWindowSeconds: Number(mapping.TumblingWindowInSeconds ?? 0),
        parallelizationFactor: Number(mapping.ParallelizationFactor ?? 1),
      },
    };
  });

  const deliveries = deliveryRefs.map(({ ref, p }): DeliveryFacts => {
    const dest = p.ExtendedS3DestinationConfiguration ?? p.S3DestinationConfiguration ?? {};
    const conversion = dest.DataFormatConversionConfiguration;
    return {
      logicalId: readableId(ref.logicalId),
      fromKinesis: p.DeliveryStreamType === 'KinesisStreamAsSource',
      compression: String(dest.CompressionFormat ?? 'UNCOMPRESSED'),
      parquet: Boolean(conversion && conversion.Enabled !== false),
      dynamicPartitioning: dest.DynamicPartitioningConfiguration?.Enabled === true,
      bufferSeconds: Number(dest.BufferingHints?.IntervalInSeconds ?? 300),
      bufferMiB: Number(dest.BufferingHints?.SizeInMBs ?? 5),
    };
  });

  const limits = of('AWS::Athena::WorkGroup')
    .map((ref) => props(ref).WorkGroupConfiguration?.BytesScannedCutoffPerQuery)
    .filter((v) => v !== undefined)
    .map(Number);

  return {
    region,
    streams,
    tables,
    functions,
    deliveries,
    alarms: of('AWS::CloudWatch::Alarm').length,
    autoscalingAlarms:
      of('AWS::ApplicationAutoScaling::ScalingPolicy').filter(
        (ref) => ref.resource.Properties?.TargetTrackingScalingPolicyConfiguration !== undefined,
      ).length * ALARMS_PER_TARGET_TRACKING_POLICY,
    dashboards: of('AWS::CloudWatch::Dashboard').length,
    kmsKeys: of('AWS::KMS::Key').length,
    queues: of('AWS::SQS::Queue').length,
    logGroups: of('AWS::Logs::LogGroup').length,
    athenaScanLimitBytes: limits.length > 0 ? Math.min(...limits) : undefined,
  };
}

/** Target-tracking autoscaling by `<ResourceId>|<ScalableDimension>`. */
function readAutoScaling(assembly: Assembly, resolver: Resolver): Map<string, AutoScalingFacts> {
  const out = new Map<string, AutoScalingFacts>();
  const targets = resourcesOfType(assembly, 'AWS::ApplicationAutoScaling::ScalableTarget', resolver);
  const policies = resourcesOfType(assembly, 'AWS::ApplicationAutoScaling::ScalingPolicy', resolver);
  for (const t of targets) {
    // biome-ignore lint/suspicious/noExplicitAny: resolved CloudFormation properties are untyped JSON
    const p = resolver.resolve(t.stack, t.resource.Properties ?? {}) as Record<string, any>;
    const policy = policies.find((pol) => {
      const target = pol.resource.Properties?.ScalingTargetId as { Ref?: string } | undefined;
      return target?.Ref === t.logicalId && pol.stack === t.stack;
    });
    // biome-ignore lint/suspicious/noExplicitAny: resolved CloudFormation properties are untyped JSON
    const pp = policy ? (resolver.resolve(policy.stack, policy.resource.Properties ?? {}) as Record<string, any>) : {};
    out.set(`${p.ResourceId}|${p.ScalableDimension}`, {
      min: Number(p.MinCapacity),
      max: Number(p.MaxCapacity),
      targetPercent: Number(pp.TargetTrackingScalingPolicyConfiguration?.TargetValue ?? 70),
    });
  }
  return out;
}
