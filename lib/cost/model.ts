import { designGbSeconds } from './lambda-time';
import { type PathCounts, perMonth } from './path-counts';
import type { Price, PriceTable } from './prices';
import { ALARMS_PER_TARGET_TRACKING_POLICY, type StackFacts } from './stack';
import { MONTH_SECONDS, readingsPerMonth, type Workload } from './workload';

/**
 * The monthly bill of a stack for a workload: one line per billed quantity, priced from lib/cost/prices.ts.
 * Pure: the stack facts come from cdk.out (stack.ts), the per-reading counts from the design or a run.
 */
export interface LineItem {
  readonly service: string;
  readonly what: string;
  /** Billed quantity a month, in `countUnit`s. */
  readonly quantity: number;
  readonly unit: string;
  /** What `quantity` counts (the price's unit without its "million"/"thousand"). */
  readonly countUnit: string;
  /** USD per `unit`. */
  readonly unitPrice: number;
  readonly usd: number;
  /** What would lower this line (shown for the dominating lines). */
  readonly lower: string;
}

export interface CostReport {
  readonly title: string;
  readonly region: string;
  readonly workload: Workload;
  readonly readingsPerMonth: number;
  readonly counts: string;
  readonly lines: readonly LineItem[];
  readonly totalUsd: number;
  /** The three largest lines. */
  readonly dominant: readonly LineItem[];
  /** Warnings: capacity the template lacks, assumptions worth knowing. */
  readonly notes: readonly string[];
}

export const GB = 1024 ** 3;
export const TB = 1024 ** 4;
export const MB = 1024 ** 2;
const HOURS = 730;
/** Athena bills at least 10 MB per query. */
export const ATHENA_MIN_BYTES = 10 * MB;
/** On-demand streams start with (and bill reads/writes across) 4 shards' worth of capacity. */
const ON_DEMAND_SHARDS = 4;
/** Per-item storage overhead DynamoDB adds (index and metadata). */
const DYNAMO_ITEM_OVERHEAD = 100;
/**
 * Storage that grows (the archive, aggregates kept forever) is priced as it stands after this many
 * months: the bill of a deployment's first year-end, not of its cheap first month.
 */
export const STORAGE_HORIZON_MONTHS = 12;
/** Months of aggregates items DynamoDB holds: the TTL's worth, or the horizon's when kept forever. */
export function storageMonths(ttlDays: number | undefined): number {
  const monthDays = MONTH_SECONDS / 86_400;
  return ttlDays === undefined ? STORAGE_HORIZON_MONTHS : Math.min(ttlDays / monthDays, STORAGE_HORIZON_MONTHS);
}
/**
 * JQ processing time per record for Firehose's partition-key query: not published; assumed. 5 µs for
 * a profile-only `if has(..)` query; the stack's query also type-checks every archive column
 * (lib/core/profiles/routing.ts), which measured 6.5-7.5x the profile-only query with jq 1.6 (Firehose's
 * engine) over 50,000 records per fleet on the 2 vCPU shared VM: 5 µs x 7 = 35 µs.
 */
export const JQ_MICROSECONDS_PER_RECORD = 35;
/** Athena reads this fraction of GZIP JSON's bytes from Parquet (README: 15-57% measured). */
const PARQUET_SCAN_FRACTION = 0.5;
/** Target-tracking utilisation when a provisioned table has no autoscaling policy in the template. */
const DEFAULT_TARGET_PERCENT = 70;

export function line(
  service: string,
  what: string,
  quantity: number,
  price: Price,
  lower: string,
  perUnits = 1,
): LineItem {
  return {
    service,
    what,
    quantity,
    unit: price.unit,
    countUnit: price.unit.replace(/^(million|thousand) /, ''),
    unitPrice: price.usd,
    usd: (quantity / perUnits) * price.usd,
    lower,
  };
}

export function report(
  title: string,
  region: string,
  w: Workload,
  counts: string,
  lines: LineItem[],
  notes: string[],
): CostReport {
  const totalUsd = lines.reduce((s, l) => s + l.usd, 0);
  const dominant = [...lines].sort((a, b) => b.usd - a.usd).slice(0, 3);
  return {
    title,
    region,
    workload: w,
    readingsPerMonth: readingsPerMonth(w),
    counts,
    lines,
    totalUsd,
    dominant,
    notes,
  };
}

/** Lambda invocations a month made by a Kinesis mapping at this record rate. */
export function mappingInvocations(
  mapping: NonNullable<StackFacts['functions'][number]['mapping']>,
  shards: number,
  recordsPerSecond: number,
): number {
  const lanes = shards * Math.max(1, mapping.parallelizationFactor);
  const perLane = recordsPerSecond / lanes;
  // The mapping polls about once a second, or waits the batching window to fill a batch.
  const perBatch = Math.min(mapping.batchSize, Math.max(1, perLane * Math.max(1, mapping.maxBatchingWindowSeconds)));
  const batches = perLane > 0 ? (perLane / perBatch) * MONTH_SECONDS : 0;
  const windowEnds = mapping.tumblingWindowSeconds > 0 ? MONTH_SECONDS / mapping.tumblingWindowSeconds : 0;
  return lanes * (batches + windowEnds);
}

export function priceStack(stack: StackFacts, w: Workload, c: PathCounts, prices: PriceTable): CostReport {
  const lines: LineItem[] = [];
  const notes: string[] = [];
  const readings = readingsPerMonth(w);
  const month = (perReading: number) => perMonth(w, perReading);
  const kinesisRecordsPerSecond = (c.kinesisRecords * readings) / MONTH_SECONDS;
  const kinesisBytesPerSecond = (c.kinesisBytes * readings) / MONTH_SECONDS;
  const dedupe = 'drop the firmware copies at the edge (simulator --dedupe) and pack readings per record (KPL)';

  // Kinesis
  for (const s of stack.streams) {
    if (s.mode === 'PROVISIONED') {
      lines.push(
        line(
          'Kinesis',
          `${s.shards} provisioned shard(s)`,
          s.shards * HOURS,
          prices.kinesisShardHour,
          s.shards > 1 ? 'fewer shards (iot:shardCount), pack readings per record' : 'nothing: one shard is the floor',
        ),
      );
      lines.push(
        line(
          'Kinesis',
          'PUT payload units (25 KB each)',
          month(c.kinesisPutUnits),
          prices.kinesisPutUnitsMillion,
          dedupe,
          1e6,
        ),
      );
      const needed = Math.max(kinesisRecordsPerSecond / 1000, kinesisBytesPerSecond / MB);
      if (needed > s.shards) {
        notes.push(
          `${s.logicalId}: ${Math.round(kinesisRecordsPerSecond)} records/s need ${Math.ceil(needed)} shard(s); the template has ${s.shards} (set iot:shardCount, or pack readings).`,
        );
      }
      if (s.retentionHours > 24) {
        lines.push(
          line(
            'Kinesis',
            `extended retention to ${Math.min(s.retentionHours, 168)} h`,
            s.shards * HOURS,
            prices.kinesisExtendedRetentionShardHour,
            'keep the 24 h default: the archive keeps every record',
          ),
        );
      }
    } else {
      lines.push(
        line('Kinesis', 'on-demand stream', HOURS, prices.kinesisOnDemandStreamHour, 'a provisioned shard is cheaper'),
      );
      lines.push(
        line(
          'Kinesis',
          'on-demand data in (1 KB per record minimum)',
          month(c.kinesisOnDemandBilledBytes) / GB,
          prices.kinesisOnDemandGbIn,
          dedupe,
        ),
      );
      lines.push(
        line(
          'Kinesis',
          `on-demand data read by ${s.consumers} consumer(s)`,
          (month(c.kinesisBytes) * s.consumers) / GB,
          prices.kinesisOnDemandGbOut,
          dedupe,
        ),
      );
    }
    if (s.retentionHours > 168) {
      lines.push(
        line(
          'Kinesis',
          `long-term retention beyond 7 days (${s.retentionHours} h)`,
          ((month(c.kinesisBytes) / GB) * (s.retentionHours - 168)) / HOURS,
          prices.kinesisLongTermRetentionGbMonth,
          'shorter retention',
        ),
      );
    }
  }

  // Lambda
  const shards = stack.streams[0]?.mode === 'ON_DEMAND' ? ON_DEMAND_SHARDS : (stack.streams[0]?.shards ?? 1);
  let invocations = 0;
  for (const f of stack.functions) {
    if (!f.mapping) continue;
    const n = mappingInvocations(f.mapping, shards, kinesisRecordsPerSecond);
    invocations += n;
    const gbSeconds =
      c.lambdaGbSeconds !== undefined
        ? month(c.lambdaGbSeconds)
        : designGbSeconds(n, month(c.dynamoWriteRequests), f.memoryMb);
    lines.push(
      line(
        'Lambda',
        `${f.logicalId} requests (batch ${f.mapping.batchSize}, window ${f.mapping.tumblingWindowSeconds} s)`,
        n,
        prices.lambdaRequestsMillion,
        'larger batches and batching window',
        1e6,
      ),
    );
    lines.push(
      line(
        'Lambda',
        `${f.logicalId} duration (${f.architecture}, ${f.memoryMb} MB)`,
        gbSeconds,
        f.architecture === 'arm64' ? prices.lambdaGbSecondArm : prices.lambdaGbSecondX86,
        'fewer DynamoDB round trips per flush; arm64',
      ),
    );
  }

  // DynamoDB
  const wru = month(c.dynamoWriteUnits);
  const rru = month(c.dynamoReadUnits);
  const onDemand = stack.tables.filter((t) => t.billingMode === 'PAY_PER_REQUEST');
  const provisioned = stack.tables.filter((t) => t.billingMode === 'PROVISIONED');
  const writesLower = 'fewer write units per reading (one item write per reading, smaller items)';
  if (stack.tables.length > 0) {
    // Each table is billed for the traffic it takes: the listing its share of the writes and no reads on
    // the data path, the minutes table the rest (a stack without that split shares evenly).
    const listingWru = month(c.dynamoListingWriteUnits);
    const hasBoth = stack.tables.some((t) => t.role === 'listing') && stack.tables.some((t) => t.role === 'minutes');
    const tableShare = (t: (typeof stack.tables)[number], total: number, listingPart: number) =>
      !hasBoth ? total / stack.tables.length : t.role === 'listing' ? listingPart : total - listingPart;
    const sumOver = (tables: typeof stack.tables, total: number, listingPart: number) =>
      tables.reduce((sum, t) => sum + tableShare(t, total, listingPart), 0);
    if (onDemand.length > 0) {
      lines.push(
        line(
          'DynamoDB',
          `on-demand write request units (${onDemand.length} table(s))`,
          sumOver(onDemand, wru, listingWru),
          prices.dynamoWriteUnitsMillion,
          writesLower,
          1e6,
        ),
      );
      lines.push(
        line(
          'DynamoDB',
          'on-demand read request units',
          sumOver(onDemand, rru, 0),
          prices.dynamoReadUnitsMillion,
          'fewer reads per flush',
          1e6,
        ),
      );
    }
    for (const t of provisioned) {
      const wcuPerSecond = tableShare(t, wru, listingWru) / MONTH_SECONDS;
      const rcuPerSecond = tableShare(t, rru, 0) / MONTH_SECONDS;
      const capacity = (
        perSecond: number,
        fixed?: number,
        scaling?: { min: number; max: number; targetPercent: number },
      ) =>
        scaling
          ? Math.min(scaling.max, Math.max(scaling.min, Math.ceil(perSecond / (scaling.targetPercent / 100))))
          : (fixed ?? Math.ceil(perSecond / (DEFAULT_TARGET_PERCENT / 100)));
      const wcu = capacity(wcuPerSecond, t.writeCapacity, t.writeScaling);
      const rcu = capacity(rcuPerSecond, t.readCapacity, t.readScaling);
      if (t.writeScaling && wcuPerSecond > t.writeScaling.max) {
        notes.push(
          `${t.logicalId}: ${wcuPerSecond.toFixed(1)} writes/s exceed the autoscaling maximum of ${t.writeScaling.max} WCU: throttling.`,
        );
      }
      lines.push(
        line('DynamoDB', `${t.logicalId} provisioned ${wcu} WCU`, wcu * HOURS, prices.dynamoWcuHour, writesLower),
      );
      lines.push(
        line('DynamoDB', `${t.logicalId} provisioned ${rcu} RCU`, rcu * HOURS, prices.dynamoRcuHour, 'fewer reads'),
      );
    }
    const ttlDays = stack.functions.find((f) => f.mapping)?.aggregatesTtlDays;
    const heldMonths = storageMonths(ttlDays);
    const storageGb = (month(c.aggregateItems) * heldMonths * (w.aggregateItemBytes + DYNAMO_ITEM_OVERHEAD)) / GB;
    const held =
      ttlDays === undefined
        ? `after ${STORAGE_HORIZON_MONTHS} months, kept forever: +${fmtGb(storageGb / heldMonths)} a month`
        : `${ttlDays} day(s) of items, iot:aggregatesTtlDays`;
    const storageLower =
      ttlDays === undefined
        ? 'iot:aggregatesTtlDays (the archive keeps the history for Athena)'
        : 'a shorter iot:aggregatesTtlDays (the archive keeps the history for Athena)';
    lines.push(line('DynamoDB', `aggregates storage (${held})`, storageGb, prices.dynamoStorageGbMonth, storageLower));
    if (stack.tables.some((t) => t.role === 'minutes' && t.pointInTimeRecovery)) {
      lines.push(
        line('DynamoDB', 'point-in-time recovery of that storage', storageGb, prices.dynamoPitrGbMonth, storageLower),
      );
    }
  }

  // Firehose and the S3 archive
  let objects = 0;
  for (const d of stack.deliveries) {
    const billedGb = month(c.firehoseBilledBytes) / GB;
    lines.push(
      line(
        'Firehose',
        `ingestion, ${fmtCount(month(c.firehoseRecords))} records rounded up to 5 KB`,
        billedGb,
        prices.firehoseIngestGb,
        dedupe,
      ),
    );
    if (d.parquet) {
      lines.push(
        line(
          'Firehose',
          'Parquet conversion (5 KB per record)',
          billedGb,
          prices.firehoseFormatConversionGb,
          'GZIP JSON if the archive is rarely queried',
        ),
      );
    }
    const partitions = d.dynamicPartitioning ? w.fleets : 1;
    const bytesPerSecond = (c.kinesisBytes * readings) / MONTH_SECONDS / partitions;
    const perObjectSeconds = Math.min(d.bufferSeconds, (d.bufferMiB * MB) / Math.max(1e-9, bytesPerSecond));
    const deliveryObjects = (partitions * MONTH_SECONDS) / perObjectSeconds;
    objects += deliveryObjects;
    if (d.dynamicPartitioning) {
      lines.push(
        line(
          'Firehose',
          'dynamic partitioning, data processed',
          month(c.kinesisBytes) / GB,
          prices.firehosePartitioningGb,
          dedupe,
        ),
      );
      lines.push(
        line(
          'Firehose',
          `dynamic partitioning, objects delivered (${partitions} partition(s), ${d.bufferSeconds} s buffer)`,
          deliveryObjects,
          prices.firehosePartitioningObjectsThousand,
          'a longer buffer interval (iot:firehoseBufferSeconds)',
          1000,
        ),
      );
      lines.push(
        line(
          'Firehose',
          `JQ partition-key processing (${JQ_MICROSECONDS_PER_RECORD} µs per record, assumed)`,
          (month(c.firehoseRecords) * JQ_MICROSECONDS_PER_RECORD) / 1e6 / 3600,
          prices.firehoseJqHour,
          dedupe,
        ),
      );
    }
  }
  const archiveGb = (month(c.archiveBytes) * STORAGE_HORIZON_MONTHS) / GB;
  if (stack.deliveries.length > 0) {
    lines.push(
      line(
        'S3',
        `archive after ${STORAGE_HORIZON_MONTHS} months (+${fmtGb(archiveGb / STORAGE_HORIZON_MONTHS)} a month)`,
        archiveGb,
        prices.s3StorageGbMonth,
        'lifecycle to a colder class; drop copies before the archive',
      ),
    );
  }

  // Athena over the archive
  const parquet = stack.deliveries.some((d) => d.parquet);
  const dayBytes = (month(c.archiveBytes) / (MONTH_SECONDS / 86_400)) * (parquet ? PARQUET_SCAN_FRACTION : 1);
  const cutoff = stack.athenaScanLimitBytes ?? Number.POSITIVE_INFINITY;
  const perQuery = Math.min(cutoff, Math.max(ATHENA_MIN_BYTES, dayBytes * w.queryDays));
  if (w.queriesPerMonth > 0) {
    lines.push(
      line(
        'Athena',
        `${w.queriesPerMonth} queries over ${w.queryDays} day(s) each (10 MB minimum${parquet ? ', Parquet' : ''})`,
        (w.queriesPerMonth * perQuery) / TB,
        prices.athenaTbScanned,
        'fewer days per query; iot:parquet=true',
      ),
    );
  }
  const objectsPerDay = objects / (MONTH_SECONDS / 86_400);
  const gets = w.queriesPerMonth * Math.max(1, objectsPerDay * w.queryDays);
  const puts = objects + w.queriesPerMonth * 2;
  lines.push(
    line(
      'S3',
      'PUT requests (archive objects, query results)',
      puts,
      prices.s3PutThousand,
      'a longer Firehose buffer',
      1000,
    ),
  );
  lines.push(
    line('S3', 'GET requests (Athena reading the archive)', gets, prices.s3GetThousand, 'fewer, larger objects', 1000),
  );

  // CloudWatch, KMS, SQS
  lines.push(
    line(
      'CloudWatch',
      `${stack.alarms} alarms`,
      stack.alarms,
      prices.cloudwatchAlarmMonth,
      'keep only the alarms someone acts on',
    ),
  );
  if (stack.autoscalingAlarms > 0) {
    lines.push(
      line(
        'CloudWatch',
        `${stack.autoscalingAlarms} alarms of the target-tracking autoscaling (${ALARMS_PER_TARGET_TRACKING_POLICY} per scaled capacity)`,
        stack.autoscalingAlarms,
        prices.cloudwatchAlarmMonth,
        'autoscale only the capacities whose traffic varies',
      ),
    );
  }
  lines.push(
    line(
      'CloudWatch',
      `${stack.dashboards} dashboard(s)`,
      stack.dashboards,
      prices.cloudwatchDashboardMonth,
      'the first 3 dashboards of an account are free',
    ),
  );
  lines.push(
    line(
      'CloudWatch',
      `${c.metricSeries} custom metric series (EMF)`,
      c.metricSeries,
      prices.cloudwatchMetricMonth,
      'fewer metric dimensions',
    ),
  );
  lines.push(
    line(
      'CloudWatch',
      'Lambda logs ingested',
      (invocations * c.logBytesPerInvocation) / GB,
      prices.cloudwatchLogsGbIngested,
      'log less per invocation',
    ),
  );
  if (stack.kmsKeys > 0) {
    lines.push(
      line(
        'KMS',
        `${stack.kmsKeys} customer managed key(s)`,
        stack.kmsKeys,
        prices.kmsKeyMonth,
        'AWS managed keys where the service allows',
      ),
    );
  }
  if (stack.queues > 0) {
    lines.push(
      line(
        'SQS',
        `${stack.queues} failure queue(s): messages only on failures`,
        0,
        prices.sqsRequestsMillion,
        'nothing to do',
        1e6,
      ),
    );
  }
  return report(`${w.name}: the synthesized stack`, stack.region, w, c.note, lines, notes);
}

function fmtGb(gb: number): string {
  return `${gb < 10 ? gb.toFixed(1) : Math.round(gb).toLocaleString('en-US')} GB`;
}

export function fmtCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} billion`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  return Math.round(n).toLocaleString('en-US');
}
