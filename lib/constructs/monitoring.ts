import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * Custom metrics the aggregator emits through Powertools (EMF, lambdas/aggregator/metrics.ts), all with the
 * `service` dimension; `InvalidRecords` is also emitted per `Reason` (service + Reason). Only `RecordsIn` is
 * sent every invocation; the others only when non-zero (series are billed by the hours they have data).
 */
export const CUSTOM_METRICS = [
  'RecordsIn',
  'DuplicatesDropped',
  'InvalidRecords',
  'LateRecords',
  'AggregatesWritten',
  'WindowStateDiscarded',
];

export interface MonitoringProps {
  readonly stream: kinesis.IStream;
  readonly aggregator: lambda.IFunction;
  readonly failureQueue: sqs.IQueue;
  /** The Firehose delivery stream's name (its Ref). */
  readonly deliveryStreamName: string;
  /** Firehose buffering interval: the freshness alarm allows for it. */
  readonly deliveryBufferSeconds: number;
  readonly metricsNamespace: string;
  /** The aggregator's POWERTOOLS_SERVICE_NAME (`service` dimension). */
  readonly serviceName: string;
  /** @default - no subscription; subscribe later in the console or with `-c iot:alarmEmail=...` */
  readonly alarmEmail?: string;
  /**
   * Oldest unread record age that means the consumers fall behind, in milliseconds (the metrics' unit).
   * @default 300_000 (5 minutes: five tumbling windows)
   */
  readonly maxIteratorAgeMs?: number;
  /**
   * Build the CloudWatch dashboard ($3 a month beyond an account's first three). The alarms stay either
   * way; `npm run dashboard -- --outputs ...` shows the same pipeline health from GetMetricData.
   * @default true
   */
  readonly dashboard?: boolean;
}

const MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

/**
 * Dashboard and alarms for the pipeline. Every metric carries its resource's dimension (a metric without the
 * stream's or function's dimension watches nothing), and thresholds are in the metric's own unit.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard?: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const maxIteratorAgeMs = props.maxIteratorAgeMs ?? 300_000;

    // CloudWatch cannot publish to a topic encrypted with the AWS managed aws/sns key (its policy is fixed),
    // so the topic gets a customer managed key ($1/month) that allows exactly CloudWatch to use it.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the IoT telemetry alarm topic',
      enableKeyRotation: true,
      // It only protects notifications in flight: nothing stays encrypted under it.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'IoT telemetry alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const stream = {
      incomingRecords: props.stream.metricIncomingRecords({ statistic: 'Sum', period: MINUTE }),
      incomingBytes: props.stream.metricIncomingBytes({ statistic: 'Sum', period: MINUTE }),
      iteratorAge: props.stream.metricGetRecordsIteratorAgeMilliseconds({
        statistic: 'Maximum',
        period: MINUTE,
        unit: cloudwatch.Unit.MILLISECONDS,
      }),
      writeThrottles: props.stream.metricWriteProvisionedThroughputExceeded({ statistic: 'Sum', period: MINUTE }),
      readThrottles: props.stream.metricReadProvisionedThroughputExceeded({ statistic: 'Sum', period: MINUTE }),
    };
    const fn = {
      errors: props.aggregator.metricErrors({ statistic: 'Sum', period: MINUTE }),
      throttles: props.aggregator.metricThrottles({ statistic: 'Sum', period: MINUTE }),
      duration: props.aggregator.metricDuration({ statistic: 'p99', period: MINUTE }),
      concurrency: props.aggregator.metric('ConcurrentExecutions', { statistic: 'Maximum', period: MINUTE }),
      iteratorAge: props.aggregator.metric('IteratorAge', {
        statistic: 'Maximum',
        period: MINUTE,
        unit: cloudwatch.Unit.MILLISECONDS,
      }),
    };
    const dlqDepth = props.failureQueue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      period: MINUTE,
    });
    const firehose = (metricName: string, statistic: string, unit?: cloudwatch.Unit) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Firehose',
        metricName,
        dimensionsMap: { DeliveryStreamName: props.deliveryStreamName },
        statistic,
        period: FIVE_MINUTES,
        unit,
      });
    // Units are stated where a threshold depends on them: iterator ages are milliseconds, freshness seconds.
    const freshness = firehose('DeliveryToS3.DataFreshness', 'Maximum', cloudwatch.Unit.SECONDS);
    const deliverySuccess = firehose('DeliveryToS3.Success', 'Minimum');
    const custom = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: props.metricsNamespace,
        metricName,
        dimensionsMap: { service: props.serviceName },
        statistic: 'Sum',
        period: MINUTE,
      });
    // Invalid records are also emitted per `Reason`: SEARCH shows every reason without listing them.
    const invalidByReason = new cloudwatch.MathExpression({
      expression: `SEARCH('{"${props.metricsNamespace}",Reason,service} MetricName="InvalidRecords" service="${props.serviceName}"', 'Sum', 60)`,
      label: 'InvalidRecords by reason',
      period: MINUTE,
      usingMetrics: {},
    });

    const alarm = (
      id: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      options: { evaluationPeriods?: number; datapointsToAlarm?: number; lessThan?: boolean } = {},
    ) => {
      const created = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        datapointsToAlarm: options.datapointsToAlarm,
        comparisonOperator: options.lessThan
          ? cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
          : cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No traffic means no datapoints; that is not an incident.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      created.addOkAction(new SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };

    alarm(
      'StreamIteratorAgeAlarm',
      stream.iteratorAge,
      maxIteratorAgeMs,
      `A stream consumer (aggregator or Firehose) is more than ${maxIteratorAgeMs / 1000} s behind.`,
      { evaluationPeriods: 5, datapointsToAlarm: 3 },
    );
    alarm(
      'StreamWriteThrottlesAlarm',
      stream.writeThrottles,
      1,
      'Producers are throttled: add shards (iot:shardCount) or switch to ON_DEMAND. Retried puts create duplicates.',
      { evaluationPeriods: 5, datapointsToAlarm: 3 },
    );
    alarm(
      'AggregatorErrorsAlarm',
      fn.errors,
      1,
      'The aggregator failed whole invocations; batches are retried, then sent to the failure queue.',
      { evaluationPeriods: 5, datapointsToAlarm: 2 },
    );
    // No separate alarm on the aggregator's own IteratorAge ($0.10/month): the stream's GetRecords iterator
    // age is the maximum over its consumers, so StreamIteratorAge already fires when the aggregator lags.
    alarm(
      'FailureQueueDepthAlarm',
      dlqDepth,
      1,
      'Batches exhausted their retries or record age: inspect the failure queue and replay from the stream.',
    );
    alarm(
      'WindowStateDiscardedAlarm',
      custom('WindowStateDiscarded'),
      1,
      'The aggregator could not read a window state and started over: those minutes are incomplete in DynamoDB ' +
        'and must be recomputed from the archive (named query per-minute aggregates).',
    );
    const freshnessThreshold = props.deliveryBufferSeconds + 900;
    alarm(
      'ArchiveFreshnessAlarm',
      freshness,
      freshnessThreshold,
      `The oldest record waiting in Firehose is older than ${freshnessThreshold} s (buffer plus 15 minutes).`,
    );
    alarm(
      'ArchiveDeliveryFailuresAlarm',
      deliverySuccess,
      1,
      'Some Firehose deliveries to S3 failed (Success below 1); see the delivery log group and errors/.',
      { lessThan: true },
    );

    if (props.dashboard === false) return;
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          graph('Stream: incoming records and bytes', [stream.incomingRecords], [stream.incomingBytes]),
          graph('Stream: iterator age (ms)', [stream.iteratorAge]),
          graph('Stream: throttled requests', [stream.writeThrottles, stream.readThrottles]),
        ],
        [
          graph('Aggregator: errors and throttles', [fn.errors, fn.throttles]),
          graph('Aggregator: duration p99 (ms) and concurrency', [fn.duration], [fn.concurrency]),
          graph('Aggregator: iterator age (ms) and failure queue depth', [fn.iteratorAge], [dlqDepth]),
        ],
        [
          graph('Records: in, duplicates dropped, late', [
            custom('RecordsIn'),
            custom('DuplicatesDropped'),
            custom('LateRecords'),
          ]),
          graph(
            'Records: invalid (total and by reason), aggregates written, window states discarded',
            [custom('InvalidRecords'), invalidByReason],
            [custom('AggregatesWritten'), custom('WindowStateDiscarded')],
          ),
          graph('Archive: delivery freshness (s) and success', [freshness], [deliverySuccess]),
        ],
      ],
    });
  }
}
