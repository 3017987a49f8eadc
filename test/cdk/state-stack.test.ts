import { Match } from 'aws-cdk-lib/assertions';
import { OUTPUT_KEYS } from '../../lib/shared/stack-target';
import { STATEFUL_LOGICAL_IDS } from '../../lib/stacks/state-stack';
import { only, type Synthesized, synthesize } from './helpers';

let app: Synthesized;
let provisioned: Synthesized;
beforeAll(() => {
  app = synthesize();
  provisioned = synthesize({
    'iot:stage': 'prod',
    'iot:streamMode': 'ON_DEMAND',
    'iot:billingMode': 'PROVISIONED',
    'iot:readCapacityMin': 2,
    'iot:readCapacityMax': 20,
    'iot:writeCapacityMin': 5,
    'iot:writeCapacityMax': 100,
    'iot:capacityTargetPercent': 75,
    'iot:retentionHours': 48,
    'iot:aggregatesTtlDays': 365,
  });
});

test('stack ids are prefixed by the stage', () => {
  expect(app.stacks.state.stackName).toBe('IotTelemetry-dev-State');
  expect(app.stacks.pipeline.stackName).toBe('IotTelemetry-dev-Pipeline');
  expect(app.stacks.analytics.stackName).toBe('IotTelemetry-dev-Analytics');
  expect(provisioned.stacks.state.stackName).toBe('IotTelemetry-prod-State');
});

describe('logical ids of stateful resources are pinned (a change would replace them with empty ones)', () => {
  test.each([
    ['AWS::Kinesis::Stream', ['TelemetryStream']],
    ['AWS::DynamoDB::Table', ['AggregatesTable', 'DeviceStateTable']],
    ['AWS::S3::Bucket', ['AccessLogsBucket', 'ArchiveBucket']],
  ])('%s', (type, ids) => {
    for (const synthesized of [app, provisioned]) {
      expect(Object.keys(synthesized.state.findResources(type)).sort()).toEqual(ids);
    }
  });

  test('the exported names match the constants', () => {
    expect(STATEFUL_LOGICAL_IDS).toEqual({
      stream: 'TelemetryStream',
      aggregatesTable: 'AggregatesTable',
      deviceStateTable: 'DeviceStateTable',
      archiveBucket: 'ArchiveBucket',
      accessLogsBucket: 'AccessLogsBucket',
    });
  });
});

describe('Kinesis stream', () => {
  test('provisioned with the configured shards, AWS managed encryption, 24 h retention, no physical name', () => {
    const stream = only(app.state, 'AWS::Kinesis::Stream').Properties;
    expect(stream).toEqual({
      ShardCount: 1,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      RetentionPeriodHours: 24,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
  });

  test('on demand carries no shard count', () => {
    const stream = only(provisioned.state, 'AWS::Kinesis::Stream').Properties;
    expect(stream.StreamModeDetails).toEqual({ StreamMode: 'ON_DEMAND' });
    expect(stream.ShardCount).toBeUndefined();
    expect(stream.RetentionPeriodHours).toBe(48);
  });

  test('is deleted with its stack (its data expires anyway; a retained stream keeps billing)', () => {
    app.state.hasResource('AWS::Kinesis::Stream', { DeletionPolicy: 'Delete' });
  });
});

describe('DynamoDB tables', () => {
  test('aggregates keyed like the workshop: Name (S) + StatusTime (S)', () => {
    app.state.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'Name', KeyType: 'HASH' },
        { AttributeName: 'StatusTime', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'Name', AttributeType: 'S' },
        { AttributeName: 'StatusTime', AttributeType: 'S' },
      ],
    });
    expect(app.state.toJSON().Resources.DeviceStateTable.Properties.KeySchema).toEqual([
      { AttributeName: 'Name', KeyType: 'HASH' },
    ]);
  });

  test.each(['AggregatesTable', 'DeviceStateTable'])(
    '%s: on demand, PITR, KMS encryption, no stream, deletion protection, retained',
    (id) => {
      const table = app.state.toJSON().Resources[id];
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      });
      expect(table.Properties.StreamSpecification).toBeUndefined();
      expect(table.Properties.TableName).toBeUndefined();
      expect(table.Properties.TimeToLiveSpecification).toBeUndefined();
    },
  );

  test('iot:aggregatesPointInTimeRecovery=false turns recovery off on the minutes only, with its nag reason', () => {
    const lean = synthesize({ 'iot:aggregatesPointInTimeRecovery': 'false' }).state.toJSON().Resources;
    expect(lean.AggregatesTable.Properties.PointInTimeRecoverySpecification).toEqual({
      PointInTimeRecoveryEnabled: false,
    });
    expect(lean.DeviceStateTable.Properties.PointInTimeRecoverySpecification).toEqual({
      PointInTimeRecoveryEnabled: true,
    });
    const suppressed = lean.AggregatesTable.Metadata.cdk_nag.rules_to_suppress.map((r: { id: string }) => r.id);
    expect(suppressed).toEqual(['AwsSolutions-DDB3']);
  });

  test('provisioned mode: each table starts at its floor and autoscales on reads and writes to the ceiling', () => {
    const resources = provisioned.state.toJSON().Resources;
    expect(resources.AggregatesTable.Properties.BillingMode).toBeUndefined();
    expect(resources.AggregatesTable.Properties.ProvisionedThroughput).toEqual({
      ReadCapacityUnits: 2,
      WriteCapacityUnits: 5,
    });
    // The device-state table takes a write per status change or refresh, not per reading: floor 1.
    expect(resources.DeviceStateTable.Properties.ProvisionedThroughput).toEqual({
      ReadCapacityUnits: 1,
      WriteCapacityUnits: 1,
    });
    const targets = Object.values(provisioned.state.findResources('AWS::ApplicationAutoScaling::ScalableTarget'));
    const ranges = targets.map((t) => [
      JSON.stringify(t.Properties.ResourceId).includes('"AggregatesTable"') ? 'aggregates' : 'state',
      t.Properties.ScalableDimension,
      t.Properties.MinCapacity,
      t.Properties.MaxCapacity,
    ]);
    expect(ranges.sort()).toEqual([
      ['aggregates', 'dynamodb:table:ReadCapacityUnits', 2, 20],
      ['aggregates', 'dynamodb:table:WriteCapacityUnits', 5, 100],
      ['state', 'dynamodb:table:ReadCapacityUnits', 1, 20],
      ['state', 'dynamodb:table:WriteCapacityUnits', 1, 100],
    ]);
    for (const metric of ['DynamoDBReadCapacityUtilization', 'DynamoDBWriteCapacityUtilization']) {
      provisioned.state.resourcePropertiesCountIs(
        'AWS::ApplicationAutoScaling::ScalingPolicy',
        {
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingScalingPolicyConfiguration: Match.objectLike({
            TargetValue: 75,
            PredefinedMetricSpecification: { PredefinedMetricType: metric },
          }),
        },
        2,
      );
    }
    app.state.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    expect(app.state.toJSON().Resources.AggregatesTable.Properties.BillingMode).toBe('PAY_PER_REQUEST');
  });

  test('TTL on the aggregates table only when configured', () => {
    const resources = provisioned.state.toJSON().Resources;
    expect(resources.AggregatesTable.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'ExpiresAt',
      Enabled: true,
    });
    expect(resources.DeviceStateTable.Properties.TimeToLiveSpecification).toBeUndefined();
  });
});

describe('buckets', () => {
  test.each(['ArchiveBucket', 'AccessLogsBucket'])('%s: SSE-S3, all public access blocked, no ACLs, retained', (id) => {
    const bucket = app.state.toJSON().Resources[id];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    expect(bucket.Properties.BucketName).toBeUndefined();
  });

  test.each(['ArchiveBucket', 'AccessLogsBucket'])('%s: the bucket policy denies plain HTTP and TLS < 1.2', (id) => {
    app.state.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  test('the archive logs its access to the access-logs bucket, which expires logs', () => {
    const resources = app.state.toJSON().Resources;
    expect(resources.ArchiveBucket.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: 'AccessLogsBucket' },
      LogFilePrefix: 'archive/',
    });
    expect(resources.AccessLogsBucket.Properties.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([expect.objectContaining({ ExpirationInDays: 90, Status: 'Enabled' })]),
    );
    expect(resources.ArchiveBucket.Properties.VersioningConfiguration).toBeUndefined();
  });
});

test('outputs: stream, tables, bucket and region, under the shared OUTPUT_KEYS ids', () => {
  const outputs = app.state.toJSON().Outputs;
  expect(outputs[OUTPUT_KEYS.streamName].Value).toEqual({ Ref: 'TelemetryStream' });
  expect(outputs[OUTPUT_KEYS.aggregatesTable].Value).toEqual({ Ref: 'AggregatesTable' });
  expect(outputs[OUTPUT_KEYS.deviceStateTable].Value).toEqual({ Ref: 'DeviceStateTable' });
  expect(outputs[OUTPUT_KEYS.archiveBucket].Value).toEqual({ Ref: 'ArchiveBucket' });
  expect(outputs[OUTPUT_KEYS.region].Value).toEqual({ Ref: 'AWS::Region' });
});

test('the aggregates TTL is an output only when set (tools that write minutes stamp the same expiry)', () => {
  expect(app.state.toJSON().Outputs[OUTPUT_KEYS.aggregatesTtlDays]).toBeUndefined();
  const withTtl = synthesize({ 'iot:aggregatesTtlDays': '7' }).state.toJSON().Outputs;
  expect(withTtl[OUTPUT_KEYS.aggregatesTtlDays].Value).toBe('7');
});
