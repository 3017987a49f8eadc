import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { StackConfig } from '../config';
import { Aggregator } from '../constructs/aggregator';
import { ArchiveDelivery } from '../constructs/archive-delivery';
import { Monitoring } from '../constructs/monitoring';
import { profilePartitionJq } from '../core/profiles';

export interface PipelineStackProps extends StackProps {
  readonly config: StackConfig;
  readonly stream: kinesis.IStream;
  readonly aggregatesTable: dynamodb.ITable;
  readonly deviceStateTable: dynamodb.ITable;
  readonly archiveBucket: s3.IBucket;
  /** Glue table Firehose converts to Parquet with; required when `config.parquet`. */
  readonly parquetSchema?: { readonly databaseName: string; readonly tableName: string };
  /** Aggregator handler source. @default AGGREGATOR_ENTRY */
  readonly aggregatorEntry?: string;
}

/** The moving parts: the aggregator and its event source, the archive delivery, and their monitoring. */
export class PipelineStack extends Stack {
  readonly aggregator: Aggregator;
  readonly delivery: ArchiveDelivery;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config } = props;
    if (config.parquet && !props.parquetSchema) {
      throw new Error('iot:parquet is on but no Glue schema table was given to the pipeline stack.');
    }
    const serviceName = `iot-aggregator-${config.stage}`;
    this.aggregator = new Aggregator(this, 'Aggregator', {
      stream: props.stream,
      aggregatesTable: props.aggregatesTable,
      deviceStateTable: props.deviceStateTable,
      archiveBucket: props.archiveBucket,
      allowedLatenessMinutes: config.allowedLatenessMinutes,
      deviceStateRefreshMinutes: config.deviceStateRefreshMinutes,
      earliestEventTime: config.earliestEventTime,
      eventSource: {
        batchSize: config.batchSize,
        maxBatchingWindow: Duration.seconds(config.maxBatchingWindowSeconds),
        retryAttempts: config.retryAttempts,
        maxRecordAge: Duration.seconds(config.maxRecordAgeSeconds),
        tumblingWindow: Duration.seconds(config.tumblingWindowSeconds),
      },
      logRetention: config.logRetentionDays,
      metricsNamespace: config.metricsNamespace,
      serviceName,
      aggregatesTtlDays: config.aggregatesTtlDays,
      entry: props.aggregatorEntry,
    });
    this.delivery = new ArchiveDelivery(this, 'ArchiveDelivery', {
      stream: props.stream,
      bucket: props.archiveBucket,
      bufferInterval: Duration.seconds(config.firehoseBufferSeconds),
      bufferSizeMiB: config.firehoseBufferMiB,
      partitionQuery: profilePartitionJq(),
      logRetention: config.logRetentionDays,
      parquetSchema: config.parquet ? props.parquetSchema : undefined,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stream: props.stream,
      aggregator: this.aggregator.function,
      failureQueue: this.aggregator.failureQueue,
      deliveryStreamName: this.delivery.deliveryStream.ref,
      deliveryBufferSeconds: config.firehoseBufferSeconds,
      metricsNamespace: config.metricsNamespace,
      serviceName,
      alarmEmail: config.alarmEmail,
      dashboard: config.cloudWatchDashboard,
    });

    new CfnOutput(this, 'AggregatorFunctionName', { value: this.aggregator.function.functionName });
    new CfnOutput(this, 'FailureQueueUrl', { value: this.aggregator.failureQueue.queueUrl });
    new CfnOutput(this, 'ArchiveDeliveryStream', { value: this.delivery.deliveryStream.ref });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
  }
}
