import { CostInputError } from './errors';

/**
 * Every list price the cost model uses: one module, one region per table, each price with its source
 * page and the date it was checked. Starting point: /work/shared/PRICES.md (gathered 2026-11); prices
 * marked `secondary` come from price compilations that agree with each other because the official page's
 * table could not be read. Check the page and change the date when you change a number.
 *
 * Units: data sizes are binary (1 KB = 1,024 bytes, 1 GB = 1,024^3, 1 TB = 1,024^4), months 730 hours.
 */
export interface Price {
  readonly usd: number;
  /** What one `usd` buys, as printed in the table: "shard-hour", "million PUT units", "GB", ... */
  readonly unit: string;
  readonly source: string;
  readonly checked: string;
  readonly secondary?: boolean;
}

export interface PriceTable {
  readonly region: string;
  readonly kinesisShardHour: Price;
  readonly kinesisPutUnitsMillion: Price;
  readonly kinesisExtendedRetentionShardHour: Price;
  readonly kinesisLongTermRetentionGbMonth: Price;
  readonly kinesisOnDemandStreamHour: Price;
  readonly kinesisOnDemandGbIn: Price;
  readonly kinesisOnDemandGbOut: Price;
  readonly lambdaRequestsMillion: Price;
  readonly lambdaGbSecondArm: Price;
  readonly lambdaGbSecondX86: Price;
  readonly dynamoWriteUnitsMillion: Price;
  readonly dynamoReadUnitsMillion: Price;
  readonly dynamoWcuHour: Price;
  readonly dynamoRcuHour: Price;
  readonly dynamoStorageGbMonth: Price;
  readonly dynamoPitrGbMonth: Price;
  readonly firehoseIngestGb: Price;
  readonly firehoseFormatConversionGb: Price;
  readonly firehosePartitioningGb: Price;
  readonly firehosePartitioningObjectsThousand: Price;
  readonly firehoseJqHour: Price;
  readonly s3StorageGbMonth: Price;
  readonly s3PutThousand: Price;
  readonly s3GetThousand: Price;
  readonly athenaTbScanned: Price;
  readonly cloudwatchMetricMonth: Price;
  readonly cloudwatchAlarmMonth: Price;
  readonly cloudwatchDashboardMonth: Price;
  readonly cloudwatchLogsGbIngested: Price;
  /** GetMetricData: per 1,000 metrics requested (the dashboard's health refresh on AWS). */
  readonly cloudwatchGetMetricDataThousand: Price;
  readonly kmsKeyMonth: Price;
  readonly sqsRequestsMillion: Price;
  /** Kinesis Data Analytics (SQL) per KPU-hour: only the tutorial comparison uses it. */
  readonly kdaKpuHour: Price;
}

const CHECKED = '2026-11 (shared/PRICES.md)';
const KDS = 'https://aws.amazon.com/kinesis/data-streams/pricing/';
const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const DDB = 'https://aws.amazon.com/dynamodb/pricing/';
const FIREHOSE = 'https://aws.amazon.com/firehose/pricing/';
const S3 = 'https://aws.amazon.com/s3/pricing/';
const ATHENA = 'https://aws.amazon.com/athena/pricing/';
const CW = 'https://aws.amazon.com/cloudwatch/pricing/';

const p = (usd: number, unit: string, source: string, secondary = false): Price => ({
  usd,
  unit,
  source,
  checked: CHECKED,
  ...(secondary ? { secondary } : {}),
});

const US_EAST_1: PriceTable = {
  region: 'us-east-1',
  kinesisShardHour: p(0.015, 'shard-hour', KDS),
  kinesisPutUnitsMillion: p(0.014, 'million PUT units', KDS),
  kinesisExtendedRetentionShardHour: p(0.02, 'shard-hour', KDS, true),
  kinesisLongTermRetentionGbMonth: p(0.023, 'GB-month', KDS),
  kinesisOnDemandStreamHour: p(0.04, 'stream-hour', KDS),
  kinesisOnDemandGbIn: p(0.08, 'GB', KDS),
  kinesisOnDemandGbOut: p(0.04, 'GB', KDS),
  lambdaRequestsMillion: p(0.2, 'million requests', LAMBDA),
  lambdaGbSecondArm: p(0.0000133334, 'GB-s', LAMBDA),
  lambdaGbSecondX86: p(0.0000166667, 'GB-s', LAMBDA),
  dynamoWriteUnitsMillion: p(0.625, 'million WRU', DDB),
  dynamoReadUnitsMillion: p(0.125, 'million RRU', DDB),
  dynamoWcuHour: p(0.00065, 'WCU-hour', DDB, true),
  dynamoRcuHour: p(0.00013, 'RCU-hour', DDB, true),
  dynamoStorageGbMonth: p(0.25, 'GB-month', DDB),
  dynamoPitrGbMonth: p(0.2, 'GB-month', DDB),
  firehoseIngestGb: p(0.029, 'GB', FIREHOSE),
  firehoseFormatConversionGb: p(0.018, 'GB', FIREHOSE, true),
  firehosePartitioningGb: p(0.02, 'GB', FIREHOSE, true),
  firehosePartitioningObjectsThousand: p(0.005, 'thousand objects', FIREHOSE, true),
  firehoseJqHour: p(0.07, 'JQ hour', FIREHOSE, true),
  s3StorageGbMonth: p(0.023, 'GB-month', S3),
  s3PutThousand: p(0.005, 'thousand PUTs', S3, true),
  s3GetThousand: p(0.0004, 'thousand GETs', S3, true),
  athenaTbScanned: p(5, 'TB scanned', ATHENA),
  cloudwatchMetricMonth: p(0.3, 'metric-month', CW, true),
  cloudwatchAlarmMonth: p(0.1, 'alarm-month', CW, true),
  cloudwatchDashboardMonth: p(3, 'dashboard-month', CW, true),
  cloudwatchLogsGbIngested: p(0.5, 'GB', CW, true),
  cloudwatchGetMetricDataThousand: p(0.01, '1,000 metrics requested', CW, true),
  kmsKeyMonth: p(1, 'key-month', 'https://aws.amazon.com/kms/pricing/'),
  sqsRequestsMillion: p(0.4, 'million requests', 'https://aws.amazon.com/sqs/pricing/'),
  kdaKpuHour: p(0.11, 'KPU-hour', 'https://aws.amazon.com/managed-service-apache-flink/pricing/', true),
};

const TABLES: Readonly<Record<string, PriceTable>> = { 'us-east-1': US_EAST_1 };

/** The price table of a region; any region without one is an error, never a silent us-east-1. */
export function pricesFor(region: string): PriceTable {
  const table = TABLES[region];
  if (!table) {
    throw new CostInputError(
      `no prices for region ${region}: lib/cost/prices.ts has ${Object.keys(TABLES).join(', ')}; add that region's list prices there (with sources) to price it.`,
    );
  }
  return table;
}

export const PRICED_REGIONS: readonly string[] = Object.keys(TABLES);
