import { writeUnits } from '../shared/dynamo-units';
import { type CostReport, GB, line, report, TB } from './model';
import { FIREHOSE_RECORD_ROUNDING, roundUpTo } from './path-counts';
import type { PriceTable } from './prices';
import { MONTH_SECONDS, readingsPerMonth, sendsPerReading, type Workload } from './workload';

/**
 * The classic tutorial architecture (the Wild Rydes workshop, /work/shared/DOMAIN.md) priced for the same
 * workload: a provisioned stream, Kinesis Data Analytics SQL at 1 KPU, one DynamoDB write per raw record,
 * raw uncompressed JSON through Firehose, and Athena scanning the whole archive (a year of data) per query.
 * It sees every copy the firmware sends: it has no deduplication.
 */
export const TUTORIAL = {
  /** Our sizing of its stream: a shard per 100 records/s of mean rate (10x burst headroom); 4 for the solar fleet. */
  recordsPerSecondPerShard: 100,
  kpus: 1,
  /** Its Lambda: batches of 100 records, ~100 ms each, 128 MB, x86. */
  lambdaBatch: 100,
  lambdaMs: 100,
  lambdaMemoryMb: 128,
  /** Firehose defaults it used: 300 s / 5 MB buffer, no compression. */
  firehoseBufferSeconds: 300,
  /** Months of archive a full-scan query reads (a year of data). */
  monthsScanned: 12,
} as const;

export function priceTutorial(w: Workload, prices: PriceTable): CostReport {
  const readings = readingsPerMonth(w);
  const records = readings * sendsPerReading({ ...w, dedupeAtEdge: false });
  const perSecond = records / MONTH_SECONDS;
  const bytes = records * (w.recordBytes + 1);
  const shards = Math.max(1, Math.ceil(perSecond / TUTORIAL.recordsPerSecondPerShard));
  const invocations = records / TUTORIAL.lambdaBatch;
  const lines = [
    line('Kinesis', `${shards} provisioned shard(s)`, shards * 730, prices.kinesisShardHour, 'fewer shards'),
    line('Kinesis', 'PUT payload units', records, prices.kinesisPutUnitsMillion, 'drop copies at the edge', 1e6),
    line(
      'Kinesis Data Analytics',
      `SQL application, ${TUTORIAL.kpus} KPU (discontinued service)`,
      TUTORIAL.kpus * 730,
      prices.kdaKpuHour,
      'aggregate in the Lambda (this stack)',
    ),
    line('Lambda', 'requests (batches of 100)', invocations, prices.lambdaRequestsMillion, 'larger batches', 1e6),
    line(
      'Lambda',
      `duration (x86, ${TUTORIAL.lambdaMemoryMb} MB)`,
      (invocations * TUTORIAL.lambdaMs * TUTORIAL.lambdaMemoryMb) / 1000 / 1024,
      prices.lambdaGbSecondX86,
      'arm64',
    ),
    line(
      'DynamoDB',
      'on-demand writes, one per raw record',
      records * writeUnits(w.recordBytes),
      prices.dynamoWriteUnitsMillion,
      'one write per device-minute (this stack)',
      1e6,
    ),
    line(
      'Firehose',
      'ingestion of raw JSON, 5 KB per record',
      (records * roundUpTo(w.recordBytes, FIREHOSE_RECORD_ROUNDING)) / GB,
      prices.firehoseIngestGb,
      'drop copies; pack readings per record',
    ),
    line('S3', 'uncompressed archive added this month', bytes / GB, prices.s3StorageGbMonth, 'GZIP (this stack)'),
    line(
      'S3',
      'PUT requests',
      MONTH_SECONDS / TUTORIAL.firehoseBufferSeconds,
      prices.s3PutThousand,
      'a longer buffer',
      1000,
    ),
    line(
      'Athena',
      `${w.queriesPerMonth} full scans of a year of raw JSON`,
      (w.queriesPerMonth * bytes * TUTORIAL.monthsScanned) / TB,
      prices.athenaTbScanned,
      'partition projection, GZIP or Parquet (this stack)',
    ),
  ];
  return report(
    `${w.name}: the classic tutorial architecture`,
    prices.region,
    w,
    `every copy reaches the pipeline: ${sendsPerReading({ ...w, dedupeAtEdge: false })} records per reading`,
    lines,
    [],
  );
}
