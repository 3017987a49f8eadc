import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { readEmf } from '../local/emf';
import type { DashboardTarget } from './target';

/**
 * Pipeline health: the aggregator's custom metrics (records in, copies dropped, invalid by reason, late,
 * aggregates written), the Lambda's iterator age, Firehose deliveries and the failure queue. In the
 * embedded runtime from its own traces (the EMF lines in the Lambda log, the SQS queue, the archive
 * listing); on AWS (and LocalStack) from CloudWatch, in one batched GetMetricData call per refresh.
 */
export const HEALTH_COUNTERS = [
  'recordsIn',
  'duplicatesDropped',
  'invalidRecords',
  'lateRecords',
  'aggregatesWritten',
  'windowStateDiscarded',
  'iteratorAgeMs',
  'firehoseObjects',
  'firehoseRecords',
  'firehoseSuccess',
  'failureQueue',
] as const;
export type HealthCounter = (typeof HEALTH_COUNTERS)[number];

export interface PipelineHealth {
  readonly at: string;
  /** Where the figures come from and over which period. */
  readonly source: string;
  readonly period: string;
  /** null: not measured by this source (the page says so). */
  readonly counters: Readonly<Record<HealthCounter, number | null>>;
  readonly invalidByReason: Readonly<Record<string, number>>;
}

export interface HealthSource {
  read(): Promise<PipelineHealth>;
  /** API calls that cost money, so far (CloudWatch metrics requested). */
  readonly billable: { calls: number; metricsRequested: number };
}

/** The custom metric names (lib/constructs/monitoring.ts CUSTOM_METRICS) and the counters they fill. */
const CUSTOM: readonly [string, HealthCounter][] = [
  ['RecordsIn', 'recordsIn'],
  ['DuplicatesDropped', 'duplicatesDropped'],
  ['InvalidRecords', 'invalidRecords'],
  ['LateRecords', 'lateRecords'],
  ['AggregatesWritten', 'aggregatesWritten'],
  ['WindowStateDiscarded', 'windowStateDiscarded'],
];

const empty = (): Record<HealthCounter, number | null> =>
  Object.fromEntries(HEALTH_COUNTERS.map((c) => [c, null])) as Record<HealthCounter, number | null>;

/** The embedded runtime: EMF totals read incrementally from the Lambda log, the queue depth, the archive's objects. */
export class EmbeddedHealth implements HealthSource {
  readonly billable = { calls: 0, metricsRequested: 0 };
  private offset = 0;
  private readonly totals: Record<string, number> = {};
  private readonly reasons: Record<string, number> = {};

  constructor(
    private readonly target: DashboardTarget,
    private readonly s3: S3Client,
    private readonly sqs: SQSClient,
  ) {}

  async read(): Promise<PipelineHealth> {
    const counters = empty();
    if (this.target.logFile) {
      const emf = readEmf(this.target.logFile, this.offset);
      this.offset = emf.endOffset;
      for (const [k, v] of Object.entries(emf.totals)) this.totals[k] = (this.totals[k] ?? 0) + v;
      for (const [k, v] of Object.entries(emf.byDimension.InvalidRecords ?? {}))
        this.reasons[k] = (this.reasons[k] ?? 0) + v;
      for (const [metric, counter] of CUSTOM) counters[counter] = this.totals[metric] ?? 0;
    }
    if (this.target.archiveBucket)
      counters.firehoseObjects = await this.countObjects(this.target.archiveBucket, 'raw/');
    if (this.target.dlqUrl) {
      const out = await this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.target.dlqUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      counters.failureQueue = Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
    }
    return {
      at: new Date().toISOString(),
      source: 'embedded runtime: the aggregator log (EMF), the failure queue, the archive bucket',
      period: 'since the stack was first started with this data directory',
      counters,
      invalidByReason: { ...this.reasons },
    };
  }

  private async countObjects(bucket: string, prefix: string): Promise<number> {
    let n = 0;
    let token: string | undefined;
    do {
      const out = await this.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      n += out.KeyCount ?? out.Contents?.length ?? 0;
      token = out.NextContinuationToken;
    } while (token);
    return n;
  }
}

const HEALTH_WINDOW_MS = 3_600_000;

/** The GetMetricData queries of one refresh: every counter in one call (ids are the counters'). */
export function healthQueries(t: DashboardTarget): MetricDataQuery[] {
  const q: MetricDataQuery[] = CUSTOM.map(([metric, counter]) => ({
    Id: counter,
    MetricStat: {
      Metric: {
        Namespace: t.metricsNamespace,
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: t.metricsService }],
      },
      Period: 3600,
      Stat: 'Sum',
    },
  }));
  q.push({
    Id: 'reasons',
    Expression: `SEARCH('{${t.metricsNamespace},Reason,service} MetricName="InvalidRecords" service="${t.metricsService}"', 'Sum', 3600)`,
  });
  if (t.functionName) {
    q.push({
      Id: 'iteratorAgeMs',
      MetricStat: {
        Metric: {
          Namespace: 'AWS/Lambda',
          MetricName: 'IteratorAge',
          Dimensions: [{ Name: 'FunctionName', Value: t.functionName }],
        },
        Period: 60,
        Stat: 'Maximum',
      },
    });
  }
  if (t.deliveryStream) {
    const firehose = (Id: string, MetricName: string, Stat: string) => ({
      Id,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/Firehose',
          MetricName,
          Dimensions: [{ Name: 'DeliveryStreamName', Value: t.deliveryStream! }],
        },
        Period: 3600,
        Stat,
      },
    });
    q.push(
      firehose('firehoseRecords', 'DeliveryToS3.Records', 'Sum'),
      firehose('firehoseSuccess', 'DeliveryToS3.Success', 'Average'),
    );
  }
  if (t.dlqUrl) {
    q.push({
      Id: 'failureQueue',
      MetricStat: {
        Metric: {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: t.dlqUrl.split('/').pop()! }],
        },
        Period: 60,
        Stat: 'Maximum',
      },
    });
  }
  return q;
}

/** Results back into counters: sums over the window; iterator age and queue depth: the newest datapoint. */
export function healthFromResults(
  results: readonly MetricDataResult[],
): Pick<PipelineHealth, 'counters' | 'invalidByReason'> {
  const counters = empty();
  const invalidByReason: Record<string, number> = {};
  const latest = new Set<string>(['iteratorAgeMs', 'failureQueue', 'firehoseSuccess']);
  for (const r of results) {
    const values = r.Values ?? [];
    if (r.Id === 'reasons' || r.Id?.startsWith('reasons')) {
      if (values.length > 0) invalidByReason[r.Label ?? 'unknown'] = values.reduce((a, b) => a + b, 0);
      continue;
    }
    if (!r.Id || !(HEALTH_COUNTERS as readonly string[]).includes(r.Id)) continue;
    const counter = r.Id as HealthCounter;
    // GetMetricData returns the newest datapoint first (ScanBy TimestampDescending).
    counters[counter] = latest.has(counter) ? (values[0] ?? null) : values.reduce((a, b) => a + b, 0);
  }
  for (const [, counter] of CUSTOM) counters[counter] ??= 0;
  return { counters, invalidByReason };
}

export class CloudWatchHealth implements HealthSource {
  readonly billable = { calls: 0, metricsRequested: 0 };
  private readonly queries: MetricDataQuery[];

  constructor(
    private readonly target: DashboardTarget,
    private readonly cloudwatch: CloudWatchClient,
  ) {
    this.queries = healthQueries(target);
  }

  async read(): Promise<PipelineHealth> {
    const end = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const results: MetricDataResult[] = [];
    let token: string | undefined;
    do {
      const out = await this.cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: this.queries,
          StartTime: new Date(end.getTime() - HEALTH_WINDOW_MS),
          EndTime: end,
          ScanBy: 'TimestampDescending',
          NextToken: token,
        }),
      );
      this.billable.calls++;
      results.push(...(out.MetricDataResults ?? []));
      token = out.NextToken;
    } while (token);
    // Billed per metric returned: each query, and each series a SEARCH expands to.
    this.billable.metricsRequested += results.length;
    return {
      at: new Date().toISOString(),
      source: `CloudWatch GetMetricData (${this.target.metricsNamespace}, AWS/Lambda, AWS/Firehose, AWS/SQS)`,
      period: 'the last 60 minutes (iterator age and queue depth: the newest minute)',
      ...healthFromResults(results),
    };
  }
}
