import type { KinesisStreamStateResponse, KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import {
  type AggregateStore,
  EventWindow,
  emptyCounts,
  type FlushResult,
  flushWindow,
  type IngestCounts,
  type InvalidReason,
  ingestScreened,
  type RawRecord,
  WindowStateError,
} from '../../lib/core';
import { type QuarantineTarget, writeQuarantine } from '../../lib/storage/quarantine';
import type { AggregatorConfig } from './config';

export interface AggregatorDeps {
  readonly config: AggregatorConfig;
  readonly store: AggregateStore;
  readonly quarantine: QuarantineTarget;
  readonly log: {
    info(message: string, extra?: Record<string, unknown>): void;
    error(message: string, extra?: Record<string, unknown>): void;
  };
}

export interface InvocationSummary {
  readonly counts: IngestCounts;
  readonly flush?: FlushResult;
  readonly quarantineKey?: string;
  readonly stateDiscarded: boolean;
}

/**
 * One invocation: ingest the batch into the window carried in `state`, quarantine the rejects, and
 * flush to DynamoDB at the end of the window (or sooner when the state grows large, or always when the
 * mapping has no tumbling window). Every write is idempotent, so Lambda's retries, bisection and
 * replays cannot double count. Bad records never fail the batch: `batchItemFailures` stays empty and
 * infrastructure errors throw, so Lambda retries from the last checkpoint.
 */
export async function processKinesisWindow(
  event: KinesisStreamTumblingWindowEvent,
  deps: AggregatorDeps,
): Promise<{ response: KinesisStreamStateResponse; summary: InvocationSummary }> {
  const { config } = deps;
  let window: EventWindow;
  let stateDiscarded = false;
  try {
    window = EventWindow.fromState(event.state);
  } catch (err) {
    if (!(err instanceof WindowStateError)) throw err;
    // State we cannot read (e.g. written by another version mid-window): its events stay in the raw
    // archive, where the `per-minute` named query recomputes them. Blocking the shard would be worse.
    deps.log.error('discarding unreadable window state', { error: err.message });
    window = new EventWindow();
    stateDiscarded = true;
  }
  const records: RawRecord[] = event.Records.map((r) => ({
    data: r.kinesis.data,
    arrivalMs: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
    sequenceNumber: r.kinesis.sequenceNumber,
    partitionKey: r.kinesis.partitionKey,
  }));
  const counts = emptyCounts();
  // Late records are judged here, while their raw bytes are at hand for the quarantine (`too_late`).
  const rejected = await ingestScreened(records, window, counts, deps.store, {
    allowedLatenessMs: config.allowedLatenessMs,
    earliestEventTimeMs: config.earliestEventTimeMs,
  });
  const shardId = shardOf(event);
  const quarantineKey = await writeQuarantine(deps.quarantine, shardId, rejected);

  const tumbling = event.window !== undefined;
  const mustFlush = !tumbling || event.isFinalInvokeForWindow || window.estimatedStateBytes > config.maxStateBytes;
  let flush: FlushResult | undefined;
  if (mustFlush && window.minuteCount > 0) {
    flush = await flushWindow(window, deps.store, {
      allowedLatenessMs: config.allowedLatenessMs,
      deviceStateRefreshMs: config.deviceStateRefreshMs,
    });
    reportProfileConflicts(flush, counts, deps.log);
    window = new EventWindow();
  }
  return {
    response: { state: window.toState(), batchItemFailures: [] },
    summary: { counts, flush, quarantineKey, stateDiscarded },
  };
}

/**
 * Events of a device id that another profile's device holds were left out of the aggregates: counted as
 * invalid (`device_profile_conflict`, so the InvalidRecords alarm fires) and logged with the ids. Their
 * raw records are in the archive like every record; the window no longer has their bytes to quarantine.
 */
function reportProfileConflicts(flush: FlushResult, counts: IngestCounts, log: AggregatorDeps['log']): void {
  if (flush.profileConflicts.length === 0) return;
  const reason: InvalidReason = 'device_profile_conflict';
  for (const c of flush.profileConflicts) {
    counts.invalid += c.events;
    counts.invalidByReason[reason] = (counts.invalidByReason[reason] ?? 0) + c.events;
  }
  log.error('device ids used by two profiles: those events are left out of the aggregates (raw records archived)', {
    reason,
    conflicts: flush.profileConflicts.slice(0, 20),
  });
}

function shardOf(event: KinesisStreamTumblingWindowEvent): string {
  const fromEvent = (event as { shardId?: string }).shardId;
  if (fromEvent) return fromEvent;
  const eventId = event.Records[0]?.eventID ?? 'shardId-unknown';
  return eventId.split(':')[0];
}
