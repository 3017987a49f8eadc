import { Duration } from 'aws-cdk-lib';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { SecureBucket } from './secure-bucket';

export interface ArchiveStorageProps {
  /**
   * Days server access logs are kept.
   * @default 90
   */
  readonly accessLogsRetentionDays?: number;
}

/**
 * The raw archive (Firehose `raw/` and `errors/`, the aggregator's `quarantine/`) and the bucket that
 * receives its server access logs. Versioning stays off: every object key is written once (Firehose and
 * the quarantine writer generate unique keys), so versions would only keep deleted data billable.
 */
export class ArchiveStorage extends Construct {
  readonly archive: SecureBucket;
  readonly accessLogs: SecureBucket;

  constructor(scope: Construct, id: string, props: ArchiveStorageProps = {}) {
    super(scope, id);
    this.accessLogs = new SecureBucket(this, 'AccessLogs', {
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogsRetentionDays ?? 90) }],
    });
    NagSuppressions.addResourceSuppressions(this.accessLogs, [
      {
        id: 'AwsSolutions-S1',
        reason: 'This is the server access log target; logging its own writes would log forever.',
      },
    ]);
    this.archive = new SecureBucket(this, 'Archive', {
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'archive/',
    });
  }
}
