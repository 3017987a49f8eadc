import { Aws, type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { CfnDeliveryStream } from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

/** Raw records, partitioned by profile and arrival hour (Hive style, read by Athena partition projection). */
export const ARCHIVE_RAW_PREFIX =
  'raw/profile=!{partitionKeyFromQuery:profile}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/';
/** Records Firehose could not partition, convert or deliver, by error type and arrival hour. */
export const ARCHIVE_ERROR_PREFIX =
  'errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/';

/** Firehose's limit on a processor parameter's value (the MetadataExtractionQuery). */
export const MAX_PROCESSOR_PARAMETER_LENGTH = 5120;

export interface ArchiveDeliveryProps {
  readonly stream: kinesis.IStream;
  readonly bucket: s3.IBucket;
  /** 60 to 900 s. */
  readonly bufferInterval: Duration;
  /** 64 to 128 MiB (dynamic partitioning's minimum is 64). */
  readonly bufferSizeMiB: number;
  /**
   * Firehose's inline JQ (MetadataExtraction) yielding `{profile: ...}`: `profilePartitionJq()`, which
   * also routes records whose fields do not read as their columns' types to `<profile>_untyped`.
   */
  readonly partitionQuery: string;
  readonly logRetention: logs.RetentionDays;
  /**
   * Convert records to Parquet with the schema of this Glue table (the union of the profiles' columns).
   * @default - no conversion: GZIP-compressed newline-delimited JSON
   */
  readonly parquetSchema?: { readonly databaseName: string; readonly tableName: string };
}

/**
 * Firehose from the telemetry stream into the archive bucket (L1: the L2 offers no dynamic partitioning).
 * Its role is built from grants plus, for Parquet only, a read of exactly the one Glue schema table.
 */
export class ArchiveDelivery extends Construct {
  readonly deliveryStream: CfnDeliveryStream;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ArchiveDeliveryProps) {
    super(scope, id);
    if (props.partitionQuery.length > MAX_PROCESSOR_PARAMETER_LENGTH) {
      throw new Error(
        `ArchiveDelivery: the partition JQ is ${props.partitionQuery.length} characters; Firehose accepts at most ` +
          `${MAX_PROCESSOR_PARAMETER_LENGTH}. Fewer archive columns per profile, or shorter column names, shorten it.`,
      );
    }
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'Archive delivery: reads the telemetry stream, writes raw/ and errors/ of the archive bucket',
    });
    props.stream.grantRead(role);
    props.bucket.grantPut(role, 'raw/*');
    props.bucket.grantPut(role, 'errors/*');
    // Firehose checks the bucket (GetBucketLocation, ListBucket) and may re-read its own multipart parts.
    props.bucket.grantRead(role, 'raw/*');

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const logStream = new logs.LogStream(this, 'S3Delivery', {
      logGroup: this.logGroup,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.logGroup.grantWrite(role);

    const parquet = props.parquetSchema;
    if (parquet) {
      const stack = Stack.of(this);
      // No grant exists for L1 Glue tables: the three read actions Firehose documents, on this table only.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
          resources: [
            stack.formatArn({ service: 'glue', resource: 'catalog' }),
            stack.formatArn({ service: 'glue', resource: 'database', resourceName: parquet.databaseName }),
            stack.formatArn({
              service: 'glue',
              resource: 'table',
              resourceName: `${parquet.databaseName}/${parquet.tableName}`,
            }),
          ],
        }),
      );
    }

    const processors: CfnDeliveryStream.ProcessorProperty[] = [
      {
        type: 'MetadataExtraction',
        parameters: [
          { parameterName: 'MetadataExtractionQuery', parameterValue: props.partitionQuery },
          { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
        ],
      },
    ];
    if (!parquet) {
      // NDJSON objects; Parquet has its own record framing.
      processors.push({
        type: 'AppendDelimiterToRecord',
        parameters: [{ parameterName: 'Delimiter', parameterValue: '\\n' }],
      });
    }

    this.deliveryStream = new CfnDeliveryStream(this, 'Resource', {
      deliveryStreamType: 'KinesisStreamAsSource',
      kinesisStreamSourceConfiguration: { kinesisStreamArn: props.stream.streamArn, roleArn: role.roleArn },
      extendedS3DestinationConfiguration: {
        bucketArn: props.bucket.bucketArn,
        roleArn: role.roleArn,
        prefix: ARCHIVE_RAW_PREFIX,
        errorOutputPrefix: ARCHIVE_ERROR_PREFIX,
        bufferingHints: {
          intervalInSeconds: props.bufferInterval.toSeconds(),
          sizeInMBs: props.bufferSizeMiB,
        },
        // Parquet compresses its own pages; compressing the file again would break it for readers.
        compressionFormat: parquet ? 'UNCOMPRESSED' : 'GZIP',
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: this.logGroup.logGroupName,
          logStreamName: logStream.logStreamName,
        },
        dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
        processingConfiguration: { enabled: true, processors },
        dataFormatConversionConfiguration: parquet
          ? {
              enabled: true,
              inputFormatConfiguration: { deserializer: { openXJsonSerDe: { caseInsensitive: true } } },
              // GZIP pages, not Firehose's default Snappy: Athena bills the bytes it scans, and measured on the
              // solar fleet Snappy pages were ~1.6x the size of GZIP ones (bench/athena.ts).
              outputFormatConfiguration: { serializer: { parquetSerDe: { compression: 'GZIP' } } },
              schemaConfiguration: {
                catalogId: Aws.ACCOUNT_ID,
                region: Aws.REGION,
                databaseName: parquet.databaseName,
                tableName: parquet.tableName,
                roleArn: role.roleArn,
                versionId: 'LATEST',
              },
            }
          : undefined,
      },
    });
    // The role's policy must exist before Firehose validates access at creation.
    this.deliveryStream.node.addDependency(role);

    NagSuppressions.addResourceSuppressions(this.deliveryStream, [
      {
        id: 'AwsSolutions-KDF1',
        reason:
          'Delivery-stream SSE applies to Direct PUT sources only. This one reads the Kinesis stream (encrypted ' +
          'with aws/kinesis) and writes SSE-S3 objects over TLS, so the data is encrypted at every hop.',
      },
    ]);
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Generated by grants, scoped to this stack: the raw/* and errors/* prefixes (Firehose generates the ' +
            'object keys), s3:Abort*/GetObject*/GetBucket*/List* as grantPut/grantRead define them, and the log ' +
            'streams of the delivery log group.',
          appliesTo: [
            'Action::s3:Abort*',
            'Action::s3:GetObject*',
            'Action::s3:GetBucket*',
            'Action::s3:List*',
            { regex: '/^Resource::.+\\/(raw|errors)\\/\\*$/g' },
          ],
        },
      ],
      true,
    );
  }
}
