import { Aws, CfnOutput, type CfnResource, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { StackConfig } from '../config';
import { ArchiveStorage } from '../constructs/archive-storage';
import { TelemetryStream } from '../constructs/telemetry-stream';
import { TelemetryTables } from '../constructs/telemetry-tables';
import { OUTPUT_KEYS } from '../shared/stack-target';

/**
 * Logical ids of the stateful resources. Changing one makes CloudFormation replace the resource (a new,
 * empty table or bucket), so they are pinned here and by a test, independent of the construct tree.
 */
export const STATEFUL_LOGICAL_IDS = {
  stream: 'TelemetryStream',
  aggregatesTable: 'AggregatesTable',
  deviceStateTable: 'DeviceStateTable',
  archiveBucket: 'ArchiveBucket',
  accessLogsBucket: 'AccessLogsBucket',
} as const;

export interface StateStackProps extends StackProps {
  readonly config: StackConfig;
}

/** Everything that holds data: the stream, both tables, the archive and its access logs. */
export class StateStack extends Stack {
  readonly stream: kinesis.Stream;
  readonly aggregatesTable: dynamodb.Table;
  readonly deviceStateTable: dynamodb.Table;
  readonly archiveBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StateStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.stream = new TelemetryStream(this, 'Stream', {
      mode: config.streamMode,
      shardCount: config.shardCount,
      retentionHours: config.retentionHours,
    }).stream;
    const tables = new TelemetryTables(this, 'Tables', {
      billingMode: config.billingMode,
      readCapacity: { min: config.readCapacityMin, max: config.readCapacityMax },
      writeCapacity: { min: config.writeCapacityMin, max: config.writeCapacityMax },
      targetUtilizationPercent: config.capacityTargetPercent,
      aggregatesTtl: config.aggregatesTtlDays !== undefined,
      aggregatesPointInTimeRecovery: config.aggregatesPointInTimeRecovery,
    });
    this.aggregatesTable = tables.aggregates;
    this.deviceStateTable = tables.deviceState;
    const storage = new ArchiveStorage(this, 'Storage');
    this.archiveBucket = storage.archive;

    pin(this.stream, STATEFUL_LOGICAL_IDS.stream);
    pin(this.aggregatesTable, STATEFUL_LOGICAL_IDS.aggregatesTable);
    pin(this.deviceStateTable, STATEFUL_LOGICAL_IDS.deviceStateTable);
    pin(this.archiveBucket, STATEFUL_LOGICAL_IDS.archiveBucket);
    pin(storage.accessLogs, STATEFUL_LOGICAL_IDS.accessLogsBucket);

    new CfnOutput(this, OUTPUT_KEYS.streamName, { value: this.stream.streamName });
    new CfnOutput(this, OUTPUT_KEYS.aggregatesTable, { value: this.aggregatesTable.tableName });
    new CfnOutput(this, OUTPUT_KEYS.deviceStateTable, { value: this.deviceStateTable.tableName });
    new CfnOutput(this, OUTPUT_KEYS.archiveBucket, { value: this.archiveBucket.bucketName });
    new CfnOutput(this, OUTPUT_KEYS.region, { value: Aws.REGION });
    if (config.aggregatesTtlDays !== undefined) {
      // Tools writing minutes (the history import) stamp the same expiry and skip minutes already expired.
      new CfnOutput(this, OUTPUT_KEYS.aggregatesTtlDays, { value: String(config.aggregatesTtlDays) });
    }
  }
}

function pin(construct: Construct, logicalId: string): void {
  (construct.node.defaultChild as CfnResource).overrideLogicalId(logicalId);
}
