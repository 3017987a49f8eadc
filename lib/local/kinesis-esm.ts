import { randomUUID } from 'node:crypto';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { backoff } from '../shared/backoff';
import { listShardIds, ShardReader, type StartPosition, type StreamRecord } from '../shared/kinesis-shards';
import { sleep } from '../shared/sleep';
import type { CheckpointStore, ShardCheckpoint } from './checkpoints';
import {
  type EventContext,
  type FailureCondition,
  failureRecord,
  type KinesisWindow,
  kinesisRecord,
  tumblingEvent,
} from './kinesis-events';
import type { InvokeResult } from './lambda-host';
import type { MappingPlan } from './stack-plan';

/**
 * A local Kinesis event source mapping: one poller per shard, ordering preserved, honouring the
 * template's batch size, batching window, tumbling window (arrival-time windows aligned to the epoch,
 * state carried between invocations, a final invoke per window, early termination above 1 MB of
 * state), ReportBatchItemFailures, bisect on error, retries, record age and the on-failure destination.
 *
 * Failure semantics follow the Lambda docs: a failed batch is retried (bisected first when enabled;
 * a split does not count as a retry) until MaximumRetryAttempts or MaximumRecordAgeInSeconds, then
 * described in the on-failure destination and skipped. A failed *final* window invoke is retried until
 * it succeeds ("Lambda suspends further processing until a successful invocation").
 */
export const STATE_LIMIT_BYTES = 1024 * 1024;
const PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

/** Records per GetRecords of a shard's poller: a batch's worth, at least 100. */
export const esmReadLimit = (batchSize: number): number => Math.max(batchSize, 100);

export interface EsmOptions {
  readonly mapping: MappingPlan;
  readonly kinesis: KinesisClient;
  readonly invoke: (event: unknown) => Promise<InvokeResult>;
  readonly functionArn: string;
  readonly context: EventContext;
  readonly checkpoints: CheckpointStore;
  /** Sends one message to the on-failure destination; undefined = no destination (records are dropped). */
  readonly onFailure?: (body: string) => void | Promise<void>;
  /** Idle poll interval per shard; AWS polls about once a second. */
  readonly pollIntervalMs?: number;
  /** How long after a window's end, with the shard read to its tip, the window is closed. */
  readonly closeGraceMs?: number;
  readonly retryBaseMs?: number;
  readonly log?: (line: string) => void;
}

export interface EsmStats {
  invocations: number;
  failedInvocations: number;
  recordsCommitted: number;
  recordsDiscarded: number;
  discardedBatches: number;
  bisections: number;
  windowsClosed: number;
  windowsTerminatedEarly: number;
}

export class KinesisEventSourceMapping {
  readonly stats: EsmStats = {
    invocations: 0,
    failedInvocations: 0,
    recordsCommitted: 0,
    recordsDiscarded: 0,
    discardedBatches: 0,
    bisections: 0,
    windowsClosed: 0,
    windowsTerminatedEarly: 0,
  };
  private pollers: ShardPoller[] = [];
  private loops: Promise<void>[] = [];
  stopped = false;

  constructor(readonly options: EsmOptions) {}

  async start(): Promise<void> {
    const { mapping, kinesis, checkpoints } = this.options;
    if (!mapping.enabled) return;
    for (const shardId of await listShardIds(kinesis, mapping.streamName)) {
      let cp = checkpoints.get(shardId);
      if (!cp.sequenceNumber && cp.startedAt === undefined) {
        // Pin LATEST to a time, so a restart before the first commit does not skip what arrived meanwhile.
        cp = { ...cp, startedAt: Date.now() };
        checkpoints.set(shardId, cp);
      }
      this.pollers.push(new ShardPoller(this, shardId, cp));
    }
    this.loops = this.pollers.map((p) => p.run());
  }

  /** True when every shard was read to its tip after `since`, nothing is buffered or in flight, and windows are closed. */
  drained(since: number): boolean {
    return this.pollers.every((p) => p.idleSince(since));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

interface Segment {
  records: StreamRecord[];
  attempts: number;
}

type Outcome =
  | { kind: 'ok'; state: unknown }
  | { kind: 'partial'; index: number; state: unknown }
  | { kind: 'error'; message: string };

class ShardPoller {
  readonly reader: ShardReader;
  private buffer: StreamRecord[] = [];
  private bufferedSince = 0;
  private window?: KinesisWindow;
  private state: unknown = {};
  private lastSequence?: string;
  private readonly startedAt?: number;
  private tipCheckedAt = 0;
  private busy = false;
  /** The shard read in flight, if any (one at a time: reads continue from the previous one's iterator). */
  private fetching?: Promise<void>;
  private readonly m: MappingPlan;
  private readonly windowMs: number;

  constructor(
    private readonly esm: KinesisEventSourceMapping,
    readonly shardId: string,
    cp: ShardCheckpoint,
  ) {
    this.m = esm.options.mapping;
    this.windowMs = this.m.tumblingWindowSeconds * 1000;
    this.window = cp.window;
    this.state = cp.state ?? {};
    this.lastSequence = cp.sequenceNumber;
    this.startedAt = cp.startedAt;
    const start: StartPosition = cp.sequenceNumber
      ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: cp.sequenceNumber }
      : this.m.startingPosition === 'AT_TIMESTAMP'
        ? { type: 'AT_TIMESTAMP', timestamp: this.m.startingTimestamp ?? 0 }
        : this.m.startingPosition === 'LATEST'
          ? { type: 'AT_TIMESTAMP', timestamp: cp.startedAt ?? Date.now() }
          : { type: 'TRIM_HORIZON' };
    this.reader = new ShardReader(esm.options.kinesis, this.m.streamName, shardId, start);
  }

  idleSince(since: number): boolean {
    return (
      !this.busy &&
      this.fetching === undefined &&
      this.buffer.length === 0 &&
      this.tipCheckedAt >= since &&
      this.window === undefined
    );
  }

  async run(): Promise<void> {
    const poll = this.esm.options.pollIntervalMs ?? 250;
    while (!this.esm.stopped) {
      try {
        this.busy = true;
        // Lambda's poller reads the shard while the function runs: the next batch is being fetched
        // during this one's invocation, so a read's round trip is not added to every invocation.
        this.prefetch();
        if (this.buffer.length < this.m.batchSize) await this.fetching;
        if (this.windowMs > 0 && (await this.maybeCloseWindow())) continue;
        const batch = this.takeBatch();
        if (batch) {
          this.prefetch();
          await this.process(batch);
          continue;
        }
      } catch (err) {
        this.esm.options.log?.(`[esm ${this.shardId}] ${(err as Error).message}; retrying`);
      } finally {
        this.busy = false;
      }
      await sleep(poll);
    }
    await this.fetching;
  }

  /** Starts a read of the shard unless one is running or a full batch is buffered. */
  private prefetch(): void {
    if (this.fetching !== undefined || this.buffer.length >= this.m.batchSize) return;
    this.fetching = this.fill()
      .catch((err: Error) => this.esm.options.log?.(`[esm ${this.shardId}] read failed: ${err.message}; retrying`))
      .finally(() => {
        this.fetching = undefined;
      });
  }

  private async fill(): Promise<void> {
    const r = await this.reader.read(esmReadLimit(this.m.batchSize));
    if (r.records.length > 0) {
      if (this.buffer.length === 0) this.bufferedSince = Date.now();
      this.buffer.push(...r.records);
      this.tipCheckedAt = 0;
    } else if (r.atTip) {
      this.tipCheckedAt = r.tipCheckedAt;
    }
  }

  private windowOf(arrival: number): KinesisWindow {
    const start = arrival - (arrival % this.windowMs);
    return { start, end: start + this.windowMs };
  }

  private async maybeCloseWindow(): Promise<boolean> {
    if (!this.window) return false;
    const next = this.buffer[0];
    const grace = this.esm.options.closeGraceMs ?? 1000;
    const byRecord = next !== undefined && next.arrival >= this.window.end;
    const byTime = next === undefined && this.tipCheckedAt >= this.window.end + grace;
    if (!byRecord && !byTime) return false;
    await this.finalInvoke(false);
    return true;
  }

  /** The next batch, or undefined while the batching window is still gathering. */
  private takeBatch(): StreamRecord[] | undefined {
    if (this.buffer.length === 0) return undefined;
    let n = 0;
    let bytes = 0;
    const window = this.windowMs > 0 ? (this.window ?? this.windowOf(this.buffer[0].arrival)) : undefined;
    while (n < this.buffer.length && n < this.m.batchSize) {
      const r = this.buffer[n];
      if (window && r.arrival >= window.end) break;
      bytes += r.data.length * 1.4 + 300;
      if (n > 0 && bytes > PAYLOAD_LIMIT_BYTES) break;
      n++;
    }
    const complete = n === this.m.batchSize || n < this.buffer.length || bytes > PAYLOAD_LIMIT_BYTES;
    const waited = Date.now() - this.bufferedSince;
    if (!complete && waited < this.m.maxBatchingWindowSeconds * 1000) return undefined;
    if (window && !this.window) {
      this.window = window;
      this.state = {};
    }
    const batch = this.buffer.splice(0, n);
    this.bufferedSince = Date.now();
    return batch;
  }

  private event(records: StreamRecord[], final = false, early = false): unknown {
    const ctx = this.esm.options.context;
    if (this.windowMs > 0 && this.window) {
      return tumblingEvent(records, ctx, this.shardId, this.window, this.state, final, early);
    }
    return { Records: records.map((r) => kinesisRecord(r, ctx)) };
  }

  private async invoke(event: unknown): Promise<InvokeResult> {
    this.esm.stats.invocations++;
    const res = await this.esm.options.invoke(event);
    if (!res.ok) this.esm.stats.failedInvocations++;
    return res;
  }

  private interpret(res: InvokeResult, records: StreamRecord[]): Outcome {
    if (!res.ok) return { kind: 'error', message: `${res.error.errorType}: ${res.error.errorMessage}` };
    const value = (res.value ?? {}) as { state?: unknown; batchItemFailures?: { itemIdentifier?: string }[] };
    if (this.windowMs > 0 && (typeof value !== 'object' || !('state' in value))) {
      return { kind: 'error', message: 'the response of a tumbling-window invocation has no state' };
    }
    const state = this.windowMs > 0 ? value.state : undefined;
    const failures = this.m.reportBatchItemFailures ? (value.batchItemFailures ?? []) : [];
    if (!Array.isArray(failures) || failures.length === 0) return { kind: 'ok', state };
    let index = records.length;
    for (const f of failures) {
      const i = records.findIndex((r) => r.sequenceNumber === f?.itemIdentifier);
      if (i < 0) return { kind: 'error', message: `invalid batchItemFailures identifier ${f?.itemIdentifier}` };
      index = Math.min(index, i);
    }
    return { kind: 'partial', index, state };
  }

  private async process(batch: StreamRecord[]): Promise<void> {
    const queue: Segment[] = [{ records: batch, attempts: 0 }];
    const maxAgeMs = this.m.maxRecordAgeSeconds >= 0 ? this.m.maxRecordAgeSeconds * 1000 : Number.POSITIVE_INFINITY;
    let lastError = '';
    while (queue.length > 0 && !this.esm.stopped) {
      const seg = queue[0];
      const now = Date.now();
      const expired = seg.records.findIndex((r) => now - r.arrival <= maxAgeMs);
      const nExpired = expired < 0 ? seg.records.length : expired;
      if (nExpired > 0) {
        await this.discard(seg.records.slice(0, nExpired), 'RecordAgeExceeded', seg.attempts, lastError);
        seg.records = seg.records.slice(nExpired);
        if (seg.records.length === 0) {
          queue.shift();
          continue;
        }
      }
      const outcome = this.interpret(await this.invoke(this.event(seg.records)), seg.records);
      if (outcome.kind === 'ok') {
        await this.commit(seg.records, outcome.state);
        queue.shift();
        continue;
      }
      if (outcome.kind === 'partial' && outcome.index > 0) {
        await this.commit(seg.records.slice(0, outcome.index), outcome.state);
        seg.records = seg.records.slice(outcome.index);
      } else if (outcome.kind === 'error') {
        lastError = outcome.message;
        this.esm.options.log?.(`[esm ${this.shardId}] batch of ${seg.records.length} failed: ${outcome.message}`);
        if (this.m.bisectOnError && seg.records.length > 1) {
          const half = Math.ceil(seg.records.length / 2);
          queue.splice(
            0,
            1,
            { records: seg.records.slice(0, half), attempts: seg.attempts },
            {
              records: seg.records.slice(half),
              attempts: seg.attempts,
            },
          );
          this.esm.stats.bisections++;
          continue;
        }
      }
      seg.attempts++;
      if (this.m.maxRetryAttempts >= 0 && seg.attempts > this.m.maxRetryAttempts) {
        await this.discard(seg.records, 'RetryAttemptsExhausted', seg.attempts, lastError || 'Unhandled');
        queue.shift();
        continue;
      }
      await this.backoff(seg.attempts);
    }
  }

  private async commit(records: StreamRecord[], state: unknown): Promise<void> {
    if (records.length === 0) return;
    this.lastSequence = records[records.length - 1].sequenceNumber;
    if (this.windowMs > 0) this.state = state;
    this.esm.stats.recordsCommitted += records.length;
    this.save();
    if (this.windowMs > 0 && Buffer.byteLength(JSON.stringify(state ?? {})) > STATE_LIMIT_BYTES) {
      await this.finalInvoke(true);
    }
  }

  private async discard(records: StreamRecord[], condition: FailureCondition, attempts: number, error: string) {
    const { onFailure, functionArn, context, log } = this.esm.options;
    const body = failureRecord(records, context, functionArn, condition, attempts, randomUUID(), error);
    if (onFailure) await onFailure(JSON.stringify(body));
    else log?.(`[esm ${this.shardId}] ${records.length} records discarded (${condition}), no on-failure destination`);
    this.esm.stats.recordsDiscarded += records.length;
    this.esm.stats.discardedBatches++;
    this.lastSequence = records[records.length - 1].sequenceNumber;
    this.save();
  }

  private async finalInvoke(early: boolean): Promise<void> {
    for (let attempt = 1; !this.esm.stopped; attempt++) {
      const res = await this.invoke(this.event([], true, early));
      if (res.ok) {
        if (early) this.esm.stats.windowsTerminatedEarly++;
        else {
          this.esm.stats.windowsClosed++;
          this.window = undefined;
        }
        this.state = {};
        this.save();
        return;
      }
      this.esm.options.log?.(
        `[esm ${this.shardId}] final invoke for window failed (${res.error.errorMessage}); processing suspended until it succeeds`,
      );
      await this.backoff(attempt);
    }
  }

  private save(): void {
    this.esm.options.checkpoints.set(this.shardId, {
      sequenceNumber: this.lastSequence,
      window: this.window,
      state: this.windowMs > 0 ? this.state : undefined,
      startedAt: this.startedAt,
    });
  }

  private backoff(attempt: number): Promise<void> {
    return backoff({ baseMs: this.esm.options.retryBaseMs ?? 200, maxMs: 5_000 }, attempt);
  }
}
