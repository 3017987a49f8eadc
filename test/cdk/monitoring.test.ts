import { Match } from 'aws-cdk-lib/assertions';
import { CUSTOM_METRICS } from '../../lib/constructs/monitoring';
import { type Synthesized, synthesize } from './helpers';

let quiet: Synthesized;
let withEmail: Synthesized;
beforeAll(() => {
  quiet = synthesize();
  withEmail = synthesize({ 'iot:alarmEmail': 'ops@example.com', 'iot:metricsNamespace': 'Fleet/Telemetry' });
});

const streamDimension = [
  { Name: 'StreamName', Value: { 'Fn::ImportValue': Match.stringLikeRegexp('ExportsOutputRefTelemetryStream') } },
];
const functionDimension = [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^AggregatorFunction') } }];

describe('alarms watch the right metric, dimension and unit', () => {
  test.each([
    [
      'stream iterator age (ms)',
      'AWS/Kinesis',
      'GetRecords.IteratorAgeMilliseconds',
      streamDimension,
      'Maximum',
      300_000,
      'Milliseconds',
    ],
    ['producer throttling', 'AWS/Kinesis', 'WriteProvisionedThroughputExceeded', streamDimension, 'Sum', 1, undefined],
    ['aggregator errors', 'AWS/Lambda', 'Errors', functionDimension, 'Sum', 1, undefined],
    [
      'failure queue depth',
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AggregatorFailureQueue'), 'QueueName'] },
        },
      ],
      'Maximum',
      1,
      undefined,
    ],
    [
      'archive freshness (s)',
      'AWS/Firehose',
      'DeliveryToS3.DataFreshness',
      [{ Name: 'DeliveryStreamName', Value: { Ref: Match.stringLikeRegexp('^ArchiveDelivery') } }],
      'Maximum',
      960,
      'Seconds',
    ],
  ])('%s', (_name, namespace, metricName, dimensions, statistic, threshold, unit) => {
    quiet.pipeline.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: namespace,
      MetricName: metricName,
      Dimensions: dimensions,
      Statistic: statistic,
      Threshold: threshold,
      Unit: unit ?? Match.absent(),
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^MonitoringAlarmTopic') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('^MonitoringAlarmTopic') }],
    });
  });

  test('a discarded window state (incomplete minutes) alarms at the first occurrence', () => {
    withEmail.pipeline.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Fleet/Telemetry',
      MetricName: 'WindowStateDiscarded',
      Dimensions: [{ Name: 'service', Value: 'iot-aggregator-dev' }],
      Statistic: 'Sum',
      Threshold: 1,
    });
  });

  test('delivery failures alarm when the success ratio drops below 1', () => {
    quiet.pipeline.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Firehose',
      MetricName: 'DeliveryToS3.Success',
      Dimensions: [{ Name: 'DeliveryStreamName', Value: { Ref: Match.stringLikeRegexp('^ArchiveDelivery') } }],
      Statistic: 'Minimum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
    });
  });

  test('every alarm has a dimension (a metric without one watches nothing) and notifies the topic', () => {
    const alarms = Object.values(quiet.pipeline.findResources('AWS::CloudWatch::Alarm'));
    // Seven alarms ($0.10 each): the aggregator's own IteratorAge is covered by the stream's (max over consumers).
    expect(alarms).toHaveLength(7);
    expect(alarms.filter((a) => a.Properties.MetricName === 'IteratorAge')).toEqual([]);
    for (const alarm of alarms) {
      expect(alarm.Properties.Dimensions.length).toBeGreaterThan(0);
      expect(alarm.Properties.AlarmActions).toHaveLength(1);
    }
  });

  test('the freshness threshold follows the buffering interval', () => {
    const slow = synthesize({ 'iot:firehoseBufferSeconds': 900 });
    slow.pipeline.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DeliveryToS3.DataFreshness',
      Threshold: 1800,
    });
  });
});

describe('alarm topic', () => {
  test('encrypted with a rotating customer managed key CloudWatch may use, TLS only', () => {
    quiet.pipeline.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MonitoringTopicKey'), 'Arn'] },
      TopicName: Match.absent(),
    });
    quiet.pipeline.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          }),
        ]),
      },
    });
    quiet.pipeline.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('an email subscription exists only when iot:alarmEmail is set', () => {
    quiet.pipeline.resourceCountIs('AWS::SNS::Subscription', 0);
    withEmail.pipeline.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

describe('dashboard', () => {
  /** The dashboard JSON with every CloudFormation reference replaced by `REF`. */
  const dashboard = (s: Synthesized): { widgets: { properties: { metrics?: unknown[][] } }[] } => {
    const [resource] = Object.values(s.pipeline.findResources('AWS::CloudWatch::Dashboard'));
    const parts: unknown[] = resource.Properties.DashboardBody['Fn::Join'][1];
    return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'REF')).join(''));
  };
  const metricsOf = (s: Synthesized) => dashboard(s).widgets.flatMap((w) => w.properties.metrics ?? []);

  test('iot:cloudWatchDashboard=false drops the dashboard and keeps every alarm', () => {
    const lean = synthesize({ 'iot:cloudWatchDashboard': 'false' });
    quiet.pipeline.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    lean.pipeline.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(Object.keys(lean.pipeline.findResources('AWS::CloudWatch::Alarm')).sort()).toEqual(
      Object.keys(quiet.pipeline.findResources('AWS::CloudWatch::Alarm')).sort(),
    );
  });

  test('shows the stream, the aggregator, the failure queue and Firehose, each with its dimension', () => {
    const metrics = metricsOf(quiet);
    const has = (namespace: string, name: string, dimension: string) =>
      expect(metrics).toContainEqual(expect.arrayContaining([namespace, name, dimension, 'REF']));
    for (const name of [
      'IncomingRecords',
      'IncomingBytes',
      'GetRecords.IteratorAgeMilliseconds',
      'WriteProvisionedThroughputExceeded',
    ]) {
      has('AWS/Kinesis', name, 'StreamName');
    }
    for (const name of ['Errors', 'Duration', 'ConcurrentExecutions', 'IteratorAge']) {
      has('AWS/Lambda', name, 'FunctionName');
    }
    has('AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName');
    has('AWS/Firehose', 'DeliveryToS3.DataFreshness', 'DeliveryStreamName');
    has('AWS/Firehose', 'DeliveryToS3.Success', 'DeliveryStreamName');
  });

  test('shows the custom metrics in the configured namespace with the service dimension', () => {
    const metrics = metricsOf(withEmail);
    for (const name of CUSTOM_METRICS) {
      expect(metrics).toContainEqual(
        expect.arrayContaining(['Fleet/Telemetry', name, 'service', 'iot-aggregator-dev']),
      );
    }
    const expressions = metrics.flatMap((m) =>
      m.filter((x) => typeof x === 'object' && x !== null && 'expression' in x),
    );
    expect(expressions).toContainEqual(
      expect.objectContaining({
        expression:
          'SEARCH(\'{"Fleet/Telemetry",Reason,service} MetricName="InvalidRecords" service="iot-aggregator-dev"\', \'Sum\', 60)',
      }),
    );
  });
});
