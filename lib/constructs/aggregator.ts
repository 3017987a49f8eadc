import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, type KinesisEventSourceProps, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  aggregatorEnvironment,
  DEVICE_STATE_REFRESH_MINUTES,
  EARLIEST_EVENT_TIME_DEFAULT,
  QUARANTINE_PREFIX,
} from '../config/aggregator-env';

/** The handler the lead's `lambdas/aggregator` exports (`handler`). */
export const AGGREGATOR_ENTRY = join(__dirname, '..', '..', 'lambdas', 'aggregator', 'index.ts');

/**
 * The event source's tunable settings, as CDK types them. The rest is fixed by the design: TRIM_HORIZON,
 * partial batch responses, bisect on error, the on-failure queue.
 */
export type AggregatorEventSourceProps = Pick<
  KinesisEventSourceProps,
  'batchSize' | 'maxBatchingWindow' | 'retryAttempts' | 'maxRecordAge' | 'tumblingWindow'
>;

export interface AggregatorProps {
  readonly stream: kinesis.IStream;
  readonly aggregatesTable: dynamodb.ITable;
  readonly deviceStateTable: dynamodb.ITable;
  /** Receives the quarantine objects under `quarantine/`. */
  readonly archiveBucket: s3.IBucket;
  /** Event-time lateness still aggregated into its minute (ALLOWED_LATENESS_MINUTES), 0 to 1440. */
  readonly allowedLatenessMinutes: number;
  /**
   * Minutes after which the device-state listing row is rewritten without a status change
   * (DEVICE_STATE_REFRESH_MINUTES); 0: on every flush.
   * @default DEVICE_STATE_REFRESH_MINUTES.default (360)
   */
  readonly deviceStateRefreshMinutes?: number;
  /** Earliest plausible event time, ISO-8601 (EARLIEST_EVENT_TIME). @default EARLIEST_EVENT_TIME_DEFAULT (2000-01-01) */
  readonly earliestEventTime?: string;
  /**
   * Batch size, batching window, retries, record age and the tumbling window (a 60 s window gives one
   * per-minute flush per window).
   * @default - KinesisEventSource's defaults for each setting left out
   */
  readonly eventSource: AggregatorEventSourceProps;
  readonly logRetention: logs.RetentionDays;
  /** POWERTOOLS_METRICS_NAMESPACE. */
  readonly metricsNamespace: string;
  /** POWERTOOLS_SERVICE_NAME, also the `service` dimension of the custom metrics. */
  readonly serviceName: string;
  /** Passed as AGGREGATES_TTL_DAYS when set. @default - no TTL */
  readonly aggregatesTtlDays?: number;
  /** Handler source file. @default AGGREGATOR_ENTRY (`lambdas/aggregator/index.ts`) */
  readonly entry?: string;
  /** @default 512 (arm64: about 1/3 vCPU, ample for JSON parsing at the batch sizes allowed) */
  readonly memorySize?: number;
  /** @default Duration.seconds(60) */
  readonly timeout?: Duration;
}

/**
 * The per-minute aggregator: a NodejsFunction bundled by the local esbuild (no Docker) on a Kinesis event
 * source with a tumbling window, partial batch responses, bisect on error, bounded retries and an encrypted
 * on-failure queue. Its role is built from grants only: the tables, the quarantine prefix, its own log group.
 */
export class Aggregator extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  /** On-failure destination: metadata of batches that exhausted retries or record age. */
  readonly failureQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: AggregatorProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role instead of AWSLambdaBasicExecutionRole, which may write to every log group in the account.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Per-minute aggregator: reads the stream, writes both tables and the quarantine prefix',
    });
    this.logGroup.grantWrite(role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry ?? AGGREGATOR_ENTRY,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(60),
      role,
      logGroup: this.logGroup,
      description: 'Exactly-once per-device per-minute aggregation of the telemetry stream',
      bundling: { forceDockerBundling: false, minify: true, sourceMap: true, target: 'node22' },
      environment: {
        // The handler's contract (lib/config/aggregator-env.ts), checked here at synth.
        ...aggregatorEnvironment({
          AGGREGATES_TABLE: props.aggregatesTable.tableName,
          DEVICE_STATE_TABLE: props.deviceStateTable.tableName,
          ARCHIVE_BUCKET: props.archiveBucket.bucketName,
          QUARANTINE_PREFIX,
          ALLOWED_LATENESS_MINUTES: String(props.allowedLatenessMinutes),
          DEVICE_STATE_REFRESH_MINUTES: String(props.deviceStateRefreshMinutes ?? DEVICE_STATE_REFRESH_MINUTES.default),
          EARLIEST_EVENT_TIME: props.earliestEventTime ?? EARLIEST_EVENT_TIME_DEFAULT,
          POWERTOOLS_SERVICE_NAME: props.serviceName,
          POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
          AGGREGATES_TTL_DAYS: props.aggregatesTtlDays === undefined ? undefined : String(props.aggregatesTtlDays),
        }),
        // Stack traces point into the TypeScript sources (the bundle ships its source map).
        NODE_OPTIONS: '--enable-source-maps',
      },
    });

    // Exactly what lib/storage/dynamo-aggregate-store.ts calls: on the aggregates table the newest-item
    // Query, BatchGetItem, conditional PutItem and the PartiQL INSERTs of BatchExecuteStatement (IAM
    // authorises each statement by its PartiQL action); on the device-state table (the listing)
    // conditional PutItem only. Both tables use the AWS-managed key, so there is no key grant to add.
    props.aggregatesTable.grant(
      this.function,
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:PartiQLInsert',
    );
    props.deviceStateTable.grant(this.function, 'dynamodb:PutItem');
    props.archiveBucket.grantPut(this.function, `${QUARANTINE_PREFIX}*`);

    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS allows: time to inspect and replay failed batches from the stream's retention.
      retentionPeriod: Duration.days(14),
    });

    this.function.addEventSource(
      new KinesisEventSource(props.stream, {
        ...props.eventSource,
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        onFailure: new SqsDlq(this.failureQueue),
      }),
    );

    this.suppressFindings(role);
  }

  private suppressFindings(role: iam.Role): void {
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Generated by grants, scoped to this stack: s3:Abort* (grantPut, to abort its own multipart uploads) ' +
            'and the quarantine/* prefix of the archive bucket (one object per failed batch, keys generated at ' +
            "run time), and the log streams of the function's own log group.",
          appliesTo: [
            'Action::s3:Abort*',
            // The bucket ARN token (same-stack GetAtt or cross-stack import) followed by the quarantine prefix.
            { regex: '/^Resource::.+\\/quarantine\\/\\*$/g' },
          ],
        },
      ],
      true,
    );
    NagSuppressions.addResourceSuppressions(this.failureQueue, [
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself the dead-letter destination (event source on-failure destination) of the ' +
          'aggregator; a DLQ of a DLQ would only move the same messages again.',
      },
    ]);
    NagSuppressions.addResourceSuppressions(this.function, [
      {
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22 (maintained until April 2027) is the runtime the architecture fixes: the handler is bundled ' +
          'with esbuild target node22 and tested by the embedded runtime on the same major. Node.js 24 is a ' +
          'deliberate, separately tested upgrade.',
      },
    ]);
  }
}
