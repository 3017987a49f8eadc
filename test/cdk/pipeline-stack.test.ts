import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AGGREGATOR_ENTRY } from '../../lib/constructs/aggregator';
import {
  ARCHIVE_ERROR_PREFIX,
  ARCHIVE_RAW_PREFIX,
  ArchiveDelivery,
  MAX_PROCESSOR_PARAMETER_LENGTH,
} from '../../lib/constructs/archive-delivery';
import { profilePartitionJq } from '../../lib/core/profiles';
import { type Cfn, only, type Synthesized, synthesize } from './helpers';

/** A cross-stack reference to an export of the state stack. */
const importOf = (fragment: string) => ({
  'Fn::ImportValue': Match.stringLikeRegexp(`^IotTelemetry-dev-State:ExportsOutput.*${fragment}`),
});

let json: Synthesized;
let parquet: Synthesized;
beforeAll(() => {
  json = synthesize();
  parquet = synthesize({
    'iot:parquet': 'true',
    'iot:alarmEmail': 'ops@example.com',
    'iot:firehoseBufferSeconds': 300,
    'iot:firehoseBufferMiB': 128,
    'iot:aggregatesTtlDays': 90,
    'iot:batchSize': 1000,
    'iot:retryAttempts': 5,
    'iot:earliestEventTime': '2020-01-01T00:00:00Z',
  });
});

describe('aggregator function', () => {
  test('the default entry is the handler in lambdas/aggregator/index.ts', () => {
    expect(AGGREGATOR_ENTRY.replace(/\\/g, '/')).toMatch(/\/lambdas\/aggregator\/index\.ts$/);
  });

  test('Node.js 22 on arm64, `handler` export, explicit log group with the configured retention', () => {
    json.pipeline.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 60,
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^AggregatorLogs') } },
    });
    json.pipeline.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Delete',
    });
  });

  test('environment: tables, bucket, quarantine prefix, lateness and Powertools settings, nothing else', () => {
    json.pipeline.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectEquals({
          AGGREGATES_TABLE: importOf('RefAggregatesTable'),
          DEVICE_STATE_TABLE: importOf('RefDeviceStateTable'),
          ARCHIVE_BUCKET: importOf('RefArchiveBucket'),
          QUARANTINE_PREFIX: 'quarantine/',
          ALLOWED_LATENESS_MINUTES: '10',
          DEVICE_STATE_REFRESH_MINUTES: '360',
          EARLIEST_EVENT_TIME: '2000-01-01T00:00:00.000Z',
          POWERTOOLS_SERVICE_NAME: 'iot-aggregator-dev',
          POWERTOOLS_METRICS_NAMESPACE: 'IotTelemetry',
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
    parquet.pipeline.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ AGGREGATES_TTL_DAYS: '90', EARLIEST_EVENT_TIME: '2020-01-01T00:00:00Z' }),
      },
    });
  });

  test('own role: no managed policies, writes only its own log group', () => {
    json.pipeline.resourceCountIs('AWS::IAM::Role', 2);
    for (const r of Object.values(json.pipeline.findResources('AWS::IAM::Role'))) {
      expect(r.Properties.ManagedPolicyArns).toBeUndefined();
    }
    json.pipeline.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^AggregatorRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AggregatorLogs'), 'Arn'] },
          },
        ]),
      },
    });
  });
  test('tables: exactly the DynamoDB actions the store calls, per table, no more', () => {
    const statements = Object.entries(json.pipeline.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('AggregatorRole'))
      .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Cfn[]);
    const dynamo = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(2);
    // The tables themselves (no index ARNs, no `*`): aggregates read and written, the listing only written.
    const byTable = dynamo.map((s) => [
      s.Effect,
      [s.Action].flat(),
      [s.Resource].flat().map((r: Cfn) => r['Fn::ImportValue']),
    ]);
    expect(byTable).toEqual([
      [
        'Allow',
        ['dynamodb:BatchGetItem', 'dynamodb:PartiQLInsert', 'dynamodb:PutItem', 'dynamodb:Query'],
        [expect.stringMatching(/:ExportsOutputFnGetAttAggregatesTableArn\w+$/)],
      ],
      ['Allow', ['dynamodb:PutItem'], [expect.stringMatching(/:ExportsOutputFnGetAttDeviceStateTableArn\w+$/)]],
    ]);
  });
});

describe('Kinesis event source mapping', () => {
  test('60 s tumbling window, partial batch responses, bisect, bounded retries and age, SQS on failure', () => {
    json.pipeline.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: importOf('TelemetryStreamArn'),
      FunctionName: { Ref: Match.stringLikeRegexp('^AggregatorFunction') },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 5,
      TumblingWindowInSeconds: 60,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AggregatorFailureQueue'), 'Arn'] } },
      },
      ParallelizationFactor: Match.absent(),
    });
  });

  test('config values reach the mapping unchanged (batch size and retries are not swapped)', () => {
    parquet.pipeline.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1000,
      MaximumRetryAttempts: 5,
    });
  });

  test('the on-failure queue is encrypted, keeps messages 14 days and refuses plain HTTP', () => {
    json.pipeline.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    json.pipeline.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('Firehose archive delivery', () => {
  const destination = (s: Synthesized) =>
    only(s.pipeline, 'AWS::KinesisFirehose::DeliveryStream').Properties.ExtendedS3DestinationConfiguration;

  test('reads the telemetry stream into the archive bucket', () => {
    json.pipeline.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'KinesisStreamAsSource',
      DeliveryStreamName: Match.absent(),
      KinesisStreamSourceConfiguration: { KinesisStreamARN: importOf('TelemetryStreamArn') },
      ExtendedS3DestinationConfiguration: { BucketARN: importOf('ArchiveBucketArn') },
    });
  });

  test('Hive-style prefixes exactly as the architecture fixes them', () => {
    expect(ARCHIVE_RAW_PREFIX).toBe(
      'raw/profile=!{partitionKeyFromQuery:profile}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/',
    );
    expect(ARCHIVE_ERROR_PREFIX).toBe(
      'errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/',
    );
    for (const s of [json, parquet]) {
      expect(destination(s).Prefix).toBe(ARCHIVE_RAW_PREFIX);
      expect(destination(s).ErrorOutputPrefix).toBe(ARCHIVE_ERROR_PREFIX);
    }
  });

  test('JSON: dynamic partitioning by the profile JQ, newline delimiter, GZIP, buffering from config', () => {
    const d = destination(json);
    expect(d.DynamicPartitioningConfiguration).toEqual({ Enabled: true, RetryOptions: { DurationInSeconds: 300 } });
    expect(d.ProcessingConfiguration).toEqual({
      Enabled: true,
      Processors: [
        {
          Type: 'MetadataExtraction',
          Parameters: [
            { ParameterName: 'MetadataExtractionQuery', ParameterValue: profilePartitionJq() },
            { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
          ],
        },
        { Type: 'AppendDelimiterToRecord', Parameters: [{ ParameterName: 'Delimiter', ParameterValue: '\\n' }] },
      ],
    });
    expect(d.CompressionFormat).toBe('GZIP');
    expect(d.BufferingHints).toEqual({ IntervalInSeconds: 60, SizeInMBs: 64 });
    expect(d.DataFormatConversionConfiguration).toBeUndefined();
  });

  test('the partition JQ routes untyped records apart and fits Firehose’s parameter limit', () => {
    const jq = profilePartitionJq();
    expect(jq).toContain('"unicorn_untyped"');
    expect(jq).toContain('"solar_untyped"');
    expect(jq).toContain('(.HealthPoints | . == null or (type == "number" and . == floor');
    expect(jq.length).toBeLessThanOrEqual(MAX_PROCESSOR_PARAMETER_LENGTH);
    const app = new App();
    const stack = new Stack(app, 'S');
    const bucket = new s3.Bucket(stack, 'B');
    const stream = new kinesis.Stream(stack, 'K');
    expect(
      () =>
        new ArchiveDelivery(stack, 'D', {
          stream,
          bucket,
          bufferInterval: Duration.seconds(60),
          bufferSizeMiB: 64,
          partitionQuery: `{profile: ("${'x'.repeat(MAX_PROCESSOR_PARAMETER_LENGTH)}")}`,
          logRetention: logs.RetentionDays.ONE_WEEK,
        }),
    ).toThrow(/Firehose accepts at most 5120/);
  });

  test('Parquet: format conversion with the Glue archive schema, no extra compression or delimiter', () => {
    const d = destination(parquet);
    expect(d.CompressionFormat).toBe('UNCOMPRESSED');
    expect(d.BufferingHints).toEqual({ IntervalInSeconds: 300, SizeInMBs: 128 });
    expect(d.ProcessingConfiguration.Processors.map((p: { Type: string }) => p.Type)).toEqual(['MetadataExtraction']);
    expect(d.DynamicPartitioningConfiguration.Enabled).toBe(true);
    parquet.pipeline.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: {
        DataFormatConversionConfiguration: {
          Enabled: true,
          InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: { CaseInsensitive: true } } },
          OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'GZIP' } } },
          SchemaConfiguration: {
            DatabaseName: 'iot_telemetry_dev',
            TableName: 'archive_schema',
            VersionId: 'LATEST',
            RoleARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ArchiveDeliveryRole'), 'Arn'] },
          },
        },
      },
    });
  });

  test('Parquet: the role reads exactly the schema table, and the pipeline deploys after the catalog', () => {
    parquet.pipeline.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ArchiveDeliveryRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
            Resource: [
              Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':catalog'])] }),
              Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':database/iot_telemetry_dev'])] }),
              Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':table/iot_telemetry_dev/archive_schema'])] }),
            ],
          },
        ]),
      },
    });
    expect(parquet.stacks.pipeline.dependencies).toContain(parquet.stacks.analytics);
    expect(json.stacks.pipeline.dependencies).not.toContain(json.stacks.analytics);
    const jsonPolicies = JSON.stringify(json.pipeline.findResources('AWS::IAM::Policy'));
    expect(jsonPolicies).not.toContain('glue:');
  });

  test('logs to its own log group and generated log stream; waits for its role policy', () => {
    const { Properties, DependsOn } = Object.values(
      json.pipeline.findResources('AWS::KinesisFirehose::DeliveryStream'),
    )[0] as { Properties: Cfn; DependsOn: string[] };
    expect(Properties.ExtendedS3DestinationConfiguration.CloudWatchLoggingOptions).toEqual({
      Enabled: true,
      LogGroupName: { Ref: expect.stringMatching(/^ArchiveDeliveryLogs/) },
      LogStreamName: { Ref: expect.stringMatching(/^ArchiveDeliveryS3Delivery/) },
    });
    expect(DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ArchiveDeliveryRoleDefaultPolicy/)]));
  });

  test('writes only raw/ and errors/ of the archive', () => {
    json.pipeline.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ArchiveDeliveryRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['s3:PutObject']),
            Resource: [
              { 'Fn::Join': ['', [importOf('ArchiveBucketArn'), '/errors/*']] },
              { 'Fn::Join': ['', [importOf('ArchiveBucketArn'), '/raw/*']] },
            ],
          }),
        ]),
      },
    });
  });
});

describe('least privilege', () => {
  test('the aggregator may put objects under quarantine/ only', () => {
    json.pipeline.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^AggregatorRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['s3:PutObject']),
            Resource: { 'Fn::Join': ['', [importOf('ArchiveBucketArn'), '/quarantine/*']] },
          }),
        ]),
      },
    });
  });

  test('no IAM statement in any stack allows `*` or `service:*` actions', () => {
    for (const s of [json, parquet]) {
      for (const template of [s.state, s.analytics, s.pipeline]) {
        const policies = Object.values(template.findResources('AWS::IAM::Policy'));
        const actions = policies.flatMap((p) =>
          p.Properties.PolicyDocument.Statement.flatMap((st: { Action: string | string[] }) => [st.Action].flat()),
        );
        for (const action of actions) expect(action).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
      }
    }
  });
});
