import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface TelemetryStreamProps {
  /** PROVISIONED bills per shard-hour, ON_DEMAND per stream-hour and GB. */
  readonly mode: 'PROVISIONED' | 'ON_DEMAND';
  /** Shards in PROVISIONED mode (ignored on demand). */
  readonly shardCount: number;
  /** Retention in hours; beyond 24 h is billed as extended retention. */
  readonly retentionHours: number;
}

/** The one Kinesis stream both fleets write to (partition key = device id), encrypted with the AWS managed key. */
export class TelemetryStream extends Construct {
  readonly stream: kinesis.Stream;

  constructor(scope: Construct, id: string, props: TelemetryStreamProps) {
    super(scope, id);
    const provisioned = props.mode === 'PROVISIONED';
    this.stream = new kinesis.Stream(this, 'Resource', {
      streamMode: provisioned ? kinesis.StreamMode.PROVISIONED : kinesis.StreamMode.ON_DEMAND,
      shardCount: provisioned ? props.shardCount : undefined,
      retentionPeriod: Duration.hours(props.retentionHours),
      encryption: kinesis.StreamEncryption.MANAGED,
      // The stream only buffers (24 h by default); the archive and the tables keep the data. A retained
      // stream would keep billing shard-hours after `cdk destroy`, so it goes with its stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    NagSuppressions.addResourceSuppressions(this.stream, [
      {
        id: 'AwsSolutions-KDS3',
        reason:
          'Encrypted with the AWS managed aws/kinesis key: free, and readable by Lambda and Firehose in the account ' +
          'without key policies. A customer managed key costs $1/month plus per-request KMS fees on every ' +
          'GetRecords/PutRecords, and buys only key-policy control this stack does not need.',
      },
    ]);
  }
}
