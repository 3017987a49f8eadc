import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** The aggregates table's TTL attribute (epoch seconds), written by the aggregator when a TTL is configured. */
export const AGGREGATES_TTL_ATTRIBUTE = 'ExpiresAt';

export interface TelemetryTablesProps {
  /** On-demand (default) or provisioned with target-tracking autoscaling. */
  readonly billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  /** Read capacity range for autoscaling (PROVISIONED only). */
  readonly readCapacity: { readonly min: number; readonly max: number };
  /** Write capacity range for autoscaling (PROVISIONED only). */
  readonly writeCapacity: { readonly min: number; readonly max: number };
  /** Turn TTL on for the aggregates table (attribute `ExpiresAt`). @default false */
  readonly aggregatesTtl?: boolean;
  /**
   * Autoscaling target utilisation in percent.
   * @default 70
   */
  readonly targetUtilizationPercent?: number;
}

/**
 * The aggregates table (the workshop's `UnicornSensorData` keys: `Name` + `StatusTime` minute start) and the
 * device-state table (`Name`). Stream-free, point-in-time recovery on, KMS-encrypted, retained and
 * deletion-protected: they hold the only copy of the aggregates.
 */
export class TelemetryTables extends Construct {
  readonly aggregates: dynamodb.Table;
  readonly deviceState: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TelemetryTablesProps) {
    super(scope, id);
    const provisioned = props.billingMode === 'PROVISIONED';
    const common: Omit<dynamodb.TableProps, 'partitionKey'> = {
      billingMode: provisioned ? dynamodb.BillingMode.PROVISIONED : dynamodb.BillingMode.PAY_PER_REQUEST,
      readCapacity: provisioned ? props.readCapacity.min : undefined,
      writeCapacity: provisioned ? props.writeCapacity.min : undefined,
      // aws/dynamodb key: no monthly fee, key use visible in CloudTrail; DynamoDB caches data keys so KMS
      // request fees stay negligible.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    };
    this.aggregates = new dynamodb.Table(this, 'Aggregates', {
      ...common,
      partitionKey: { name: 'Name', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'StatusTime', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: props.aggregatesTtl ? AGGREGATES_TTL_ATTRIBUTE : undefined,
    });
    this.deviceState = new dynamodb.Table(this, 'DeviceState', {
      ...common,
      partitionKey: { name: 'Name', type: dynamodb.AttributeType.STRING },
    });
    if (provisioned) {
      const targetUtilizationPercent = props.targetUtilizationPercent ?? 70;
      for (const table of [this.aggregates, this.deviceState]) {
        table
          .autoScaleReadCapacity({ minCapacity: props.readCapacity.min, maxCapacity: props.readCapacity.max })
          .scaleOnUtilization({ targetUtilizationPercent });
        table
          .autoScaleWriteCapacity({ minCapacity: props.writeCapacity.min, maxCapacity: props.writeCapacity.max })
          .scaleOnUtilization({ targetUtilizationPercent });
      }
    }
  }
}
