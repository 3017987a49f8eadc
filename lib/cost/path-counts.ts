import { existsSync, readFileSync } from 'node:fs';
import { profileByName } from '../core/profiles';
import type { MeteringSnapshot } from '../local/metering-types';
import { readUnits, writeUnits } from '../shared/dynamo-units';
import { NEWEST_CACHE_MS } from '../storage/dynamo-aggregate-store';
import { CostInputError } from './errors';
import { runGbSeconds } from './lambda-time';
import type { StackFacts } from './stack';
import { MONTH_SECONDS, readingsPerMonth, sendsPerReading, type Workload } from './workload';

/**
 * What one unique reading costs on the data path, in billable units. `design` estimates them from how
 * today's aggregator and the template work; `measured` divides an embedded run's metered counts by the
 * unique readings it carried, so a change to the data path (KPL packing, fewer writes) shows up in the
 * bill without touching the model.
 */
export interface PathCounts {
  readonly source: 'design' | 'measured';
  /** Per unique reading. */
  readonly kinesisRecords: number;
  readonly kinesisBytes: number;
  readonly kinesisPutUnits: number;
  readonly kinesisOnDemandBilledBytes: number;
  readonly firehoseRecords: number;
  readonly firehoseBilledBytes: number;
  /** Bytes the archive stores (compressed objects). */
  readonly archiveBytes: number;
  readonly dynamoWriteUnits: number;
  /** The part of `dynamoWriteUnits` that goes to the device-state listing (the rest: the minutes table). */
  readonly dynamoListingWriteUnits: number;
  readonly dynamoReadUnits: number;
  readonly dynamoWriteRequests: number;
  /** New per-minute aggregates items (DynamoDB storage). */
  readonly aggregateItems: number;
  /** Lambda compute, GB-seconds per reading, when measured (the design estimate is per invocation and write). */
  readonly lambdaGbSeconds?: number;
  /** Not per reading: */
  readonly logBytesPerInvocation: number;
  readonly metricSeries: number;
  /** What the counts came from, for the report. */
  readonly note: string;
}

/** Firehose and Kinesis round each record up to these sizes (PRICES.md). */
export const KB = 1024;
export const FIREHOSE_RECORD_ROUNDING = 5 * KB;
export const KINESIS_PUT_UNIT = 25 * KB;
export const KINESIS_ON_DEMAND_ROUNDING = KB;

export const roundUpTo = (bytes: number, step: number) => Math.max(1, Math.ceil(bytes / step)) * step;

/**
 * The aggregator's metric series billed all month (lambdas/aggregator/metrics.ts): RecordsIn and
 * AggregatesWritten, plus DuplicatesDropped while copies reach the aggregator. The others
 * (InvalidRecords and per Reason, LateRecords, WindowStateDiscarded) are sent only when non-zero and
 * billed by the hours they occur in; the design assumes a clean fleet: measure.
 */
const designMetricSeries = (w: Workload) => 2 + (w.copies > 0 && !w.dedupeAtEdge ? 1 : 0);
/** Lambda log bytes per invocation: START/END/REPORT lines, one EMF document, a summary line (assumed). */
const DESIGN_LOG_BYTES_PER_INVOCATION = 1024;

/** The flush window of the stack's (first) aggregator mapping: tumbling window, else each batch. */
export function flushWindowSeconds(stack: StackFacts): number {
  const m = stack.functions.find((f) => f.mapping)?.mapping;
  if (!m) return 60;
  return m.tumblingWindowSeconds > 0 ? m.tumblingWindowSeconds : Math.max(1, m.maxBatchingWindowSeconds);
}

/**
 * Today's design (docs/architecture.md): per flush window in which a device has readings, one
 * newest-item Query (0.5 RRU) unless the container remembers the device's newest item (it does for
 * NEWEST_CACHE_MS after reading it: one Query per that many seconds of a device's windows) and one conditional put per device-minute that gained events (the newest
 * one carries the latest reading); a stored minute is read first (0.5 RRU) only when it may exist
 * (readings less than a minute apart); the device-state listing row is rewritten once per refresh
 * interval of event time, or every flush for a fleet whose listing follows every flush (status changes
 * come on top: measure). Copies are dropped inside the window;
 * copies straddling windows cost reads the design leaves out: measure.
 */
export function designCounts(stack: StackFacts, w: Workload): PathCounts {
  const sends = sendsPerReading(w);
  const kinesisRecords = sends / w.readingsPerKinesisRecord;
  const recordBytes = w.recordBytes * w.readingsPerKinesisRecord;
  const window = flushWindowSeconds(stack);
  const perDeviceWindowsPerReading = w.intervalSeconds / Math.max(window, w.intervalSeconds);
  const minutesPerWindow = w.intervalSeconds >= 60 ? 1 : Math.max(1, window / 60);
  const minuteWritesPerReading = perDeviceWindowsPerReading * minutesPerWindow;
  const refresh = stack.functions.find((f) => f.mapping)?.deviceStateRefreshSeconds ?? 0;
  // A fleet whose listing follows every flush (the unicorns' live map) ignores the refresh interval.
  const everyFlush = profileByName(w.profile)?.listingFollowsEveryFlush === true;
  const stateWritesPerReading =
    refresh > 0 && !everyFlush
      ? Math.min(perDeviceWindowsPerReading, w.intervalSeconds / refresh)
      : perDeviceWindowsPerReading;
  const minuteReadsPerReading = w.intervalSeconds < 60 ? minuteWritesPerReading : 0;
  const newestQueriesPerWindow =
    1 / Math.max(1, Math.ceil(NEWEST_CACHE_MS / 1000 / Math.max(window, w.intervalSeconds)));
  const readingsPerMinuteItem = Math.max(1, 60 / w.intervalSeconds);
  return {
    source: 'design',
    kinesisRecords,
    kinesisBytes: kinesisRecords * recordBytes,
    kinesisPutUnits: kinesisRecords * Math.ceil(recordBytes / KINESIS_PUT_UNIT),
    kinesisOnDemandBilledBytes: kinesisRecords * roundUpTo(recordBytes, KINESIS_ON_DEMAND_ROUNDING),
    firehoseRecords: kinesisRecords,
    firehoseBilledBytes: kinesisRecords * roundUpTo(recordBytes, FIREHOSE_RECORD_ROUNDING),
    archiveBytes: (sends * (w.recordBytes + 1)) / w.archiveCompressionRatio,
    dynamoWriteUnits:
      minuteWritesPerReading * writeUnits(w.aggregateItemBytes) + stateWritesPerReading * writeUnits(w.stateItemBytes),
    dynamoListingWriteUnits: stateWritesPerReading * writeUnits(w.stateItemBytes),
    dynamoReadUnits:
      (perDeviceWindowsPerReading * newestQueriesPerWindow + minuteReadsPerReading) *
      readUnits(w.aggregateItemBytes, false),
    dynamoWriteRequests: minuteWritesPerReading + stateWritesPerReading,
    aggregateItems: 1 / readingsPerMinuteItem,
    logBytesPerInvocation: DESIGN_LOG_BYTES_PER_INVOCATION,
    metricSeries: designMetricSeries(w),
    note: `design estimate: ${fmt(sends)} sends per reading, ${fmt(w.readingsPerKinesisRecord)} readings per Kinesis record, flush window ${window} s`,
  };
}

/** An embedded run's counts per unique reading; what a run cannot tell (item counts) comes from the design. */
export function measuredCounts(snapshot: MeteringSnapshot, design: PathCounts, source: string): PathCounts {
  checkSnapshot(snapshot, source);
  const n = snapshot.pipeline.uniqueReadings;
  if (n <= 0) {
    throw new CostInputError(
      `${source} holds no unique readings (the aggregator counted none): run \`npm start\` to record a run first.`,
    );
  }
  const k = snapshot.kinesis;
  const d = snapshot.dynamodb;
  const inv = snapshot.lambda.invocations;
  return {
    source: 'measured',
    kinesisRecords: k.records / n,
    kinesisBytes: k.bytes / n,
    kinesisPutUnits: k.putPayloadUnits / n,
    kinesisOnDemandBilledBytes: k.onDemandBilledBytes / n,
    firehoseRecords: snapshot.firehose.recordsIn / n,
    firehoseBilledBytes: k.firehoseBilledBytes / n,
    archiveBytes: snapshot.firehose.bytesWritten / n,
    dynamoWriteUnits: d.writeUnits / n,
    // Metering counts the stack's units, not per table: the listing keeps the design's share of them.
    dynamoListingWriteUnits:
      design.dynamoWriteUnits > 0 ? (d.writeUnits / n) * (design.dynamoListingWriteUnits / design.dynamoWriteUnits) : 0,
    dynamoReadUnits: d.readUnits / n,
    dynamoWriteRequests: d.writeRequests / n,
    aggregateItems: design.aggregateItems,
    lambdaGbSeconds: lambdaGbSecondsOf(snapshot) / n,
    logBytesPerInvocation: inv > 0 ? snapshot.lambda.logBytes / inv : design.logBytesPerInvocation,
    metricSeries: snapshot.pipeline.metricSeries > 0 ? snapshot.pipeline.metricSeries : design.metricSeries,
    note:
      `measured in ${source} (${snapshot.endedAt}): ${fmt(n)} unique readings, ${fmt(k.records / n)} Kinesis records, ` +
      `${fmt(d.writeUnits / n)} WRU and ${fmt(d.readUnits / n)} RRU per reading, ${lambdaNote(snapshot)}` +
      `${snapshot.traffic ? `; traffic: ${snapshot.traffic}` : ''}`,
  };
}

/** AWS's GB-seconds from the run's CPU time; a file without it (older runs) keeps its local wall time. */
function lambdaGbSecondsOf(s: MeteringSnapshot): number {
  const l = s.lambda;
  if (l.cpuMs === undefined || !l.memoryMb) return l.gbSeconds;
  return runGbSeconds({
    cpuMs: l.cpuMs,
    invocations: l.invocations,
    writeRequests: s.dynamodb.writeRequests,
    memoryMb: l.memoryMb,
  });
}

function lambdaNote(s: MeteringSnapshot): string {
  const l = s.lambda;
  if (l.invocations === 0) return 'no invocations';
  const per = (ms: number) => `${fmt(Math.round((ms / l.invocations) * 10) / 10)} ms`;
  return l.cpuMs === undefined
    ? `Lambda priced from local wall time (${per(l.durationMs)} per invocation)`
    : `Lambda CPU ${per(l.cpuMs)} per invocation (local wall time ${per(l.durationMs)}, emulators included)`;
}

export function readSnapshot(file: string): MeteringSnapshot {
  if (!existsSync(file)) {
    throw new CostInputError(`no metering file at ${file}: run \`npm start\` (it records .local/metering.json) first.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CostInputError(`${file} is not JSON (${(err as Error).message}).`);
  }
  checkSnapshot(parsed as MeteringSnapshot, file);
  return parsed as MeteringSnapshot;
}

/** Every count must be a number >= 0: a negative or missing count is a broken file, not a discount. */
function checkSnapshot(s: MeteringSnapshot, source: string): void {
  if (s?.version !== 1) throw new CostInputError(`${source} is not a version-1 metering file.`);
  for (const section of ['kinesis', 'dynamodb', 's3', 'firehose', 'lambda', 'pipeline'] as const) {
    const values = s[section] as unknown as Record<string, unknown> | undefined;
    if (!values || typeof values !== 'object') throw new CostInputError(`${source}: section "${section}" is missing.`);
    for (const [key, v] of Object.entries(values)) {
      if (key === 'byTable') continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new CostInputError(`${source}: ${section}.${key} must be a count >= 0 (got ${JSON.stringify(v)}).`);
      }
    }
  }
}

/** Readings a month, scaled from a per-reading count. */
export const perMonth = (w: Workload, perReading: number) => perReading * readingsPerMonth(w);
export const monthSeconds = MONTH_SECONDS;

function fmt(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 3 });
}
