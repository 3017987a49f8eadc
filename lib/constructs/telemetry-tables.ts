import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

/** The aggregates table's TTL attribute (epoch seconds), written by the aggregator when a TTL is configured. */
export const AGGREGATES_TTL_ATTRIBUTE = 'ExpiresAt';

export interface TelemetryTablesProps {
  /** On-demand (default) or provisioned with target-tracking autoscaling. */
  readonly billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  /**
   * Read capacity range for autoscaling (PROVISIONED only): `min` is the aggregates table's floor (and its
   * initial capacity), `max` each table's ceiling.
   */
  readonly readCapacity: { readonly min: number; readonly max: number };
  /** Write capacity range for autoscaling (PROVISIONED only), as `readCapacity`. */
  readonly writeCapacity: { readonly min: number; readonly max: number };
  /** Turn TTL on for the aggregates table (attribute `ExpiresAt`). @default false */
  readonly aggregatesTtl?: boolean;
  /**
   * Point-in-time recovery of the aggregates table ($0.20 per GB-month on top of storage). Its minutes are
   * derived from the archive, whose per-minute named queries recompute them; the device-state table
   * always keeps recovery.
   * @default true
   */
  readonly aggregatesPointInTimeRecovery?: boolean;
  /**
   * Autoscaling target utilisation in percent (20 to 90).
   * @default 70
   */
  readonly targetUtilizationPercent?: number;
}

/** The device-state table's capacity floor: it takes a rewrite per status change or refresh, not per reading. */
export const DEVICE_STATE_CAPACITY_FLOOR = 1;

/**
 * The aggregates table (the workshop's `UnicornSensorData` keys: `Name` + `StatusTime` minute start) and the
 * device-state table (`Name`). Stream-free, point-in-time recovery on (the aggregates table's can be
 * turned off: the archive rebuilds it), KMS-encrypted, retained and deletion-protected.
 *
 * PROVISIONED: both tables get target-tracking autoscaling on reads and writes. The aggregates table
 * takes about one write per unique reading and one newest-item read per device and flush; the
 * device-state table only a rewrite per status change or refresh interval and the dashboard's scans, so
 * its floor is `DEVICE_STATE_CAPACITY_FLOOR` instead of the configured minimum.
 */
export class TelemetryTables extends Construct {
  readonly aggregates: dynamodb.Table;
  readonly deviceState: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TelemetryTablesProps) {
    super(scope, id);
    const provisioned = props.billingMode === 'PROVISIONED';
    const targetUtilizationPercent = props.targetUtilizationPercent ?? 70;
    if (provisioned && (targetUtilizationPercent < 20 || targetUtilizationPercent > 90)) {
      throw new Error(
        `targetUtilizationPercent ${targetUtilizationPercent}: set 20 to 90 (Application Auto Scaling's range)`,
      );
    }
    const common = (
      floor: { read: number; write: number },
      pointInTimeRecoveryEnabled = true,
    ): Omit<dynamodb.TableProps, 'partitionKey'> => ({
      billingMode: provisioned ? dynamodb.BillingMode.PROVISIONED : dynamodb.BillingMode.PAY_PER_REQUEST,
      readCapacity: provisioned ? floor.read : undefined,
      writeCapacity: provisioned ? floor.write : undefined,
      // aws/dynamodb key: no monthly fee, key use visible in CloudTrail; DynamoDB caches data keys so KMS
      // request fees stay negligible.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const aggregatesFloor = { read: props.readCapacity.min, write: props.writeCapacity.min };
    const stateFloor = { read: DEVICE_STATE_CAPACITY_FLOOR, write: DEVICE_STATE_CAPACITY_FLOOR };
    const aggregatesPitr = props.aggregatesPointInTimeRecovery ?? true;
    this.aggregates = new dynamodb.Table(this, 'Aggregates', {
      ...common(aggregatesFloor, aggregatesPitr),
      partitionKey: { name: 'Name', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'StatusTime', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: props.aggregatesTtl ? AGGREGATES_TTL_ATTRIBUTE : undefined,
    });
    if (!aggregatesPitr) {
      NagSuppressions.addResourceSuppressions(this.aggregates, [
        {
          id: 'AwsSolutions-DDB3',
          reason:
            'iot:aggregatesPointInTimeRecovery=false: the aggregates are derived data; the S3 archive keeps every ' +
            'reading and the per-minute named queries recompute the minutes from it',
        },
      ]);
    }
    this.deviceState = new dynamodb.Table(this, 'DeviceState', {
      ...common(stateFloor),
      partitionKey: { name: 'Name', type: dynamodb.AttributeType.STRING },
    });
    if (provisioned) {
      const scale = (table: dynamodb.Table, floor: { read: number; write: number }) => {
        table
          .autoScaleReadCapacity({ minCapacity: floor.read, maxCapacity: props.readCapacity.max })
          .scaleOnUtilization({ targetUtilizationPercent });
        table
          .autoScaleWriteCapacity({ minCapacity: floor.write, maxCapacity: props.writeCapacity.max })
          .scaleOnUtilization({ targetUtilizationPercent });
      };
      scale(this.aggregates, aggregatesFloor);
      scale(this.deviceState, stateFloor);
    }
  }
}
