import { type KinesisClient, PutRecordsCommand, type PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import { backoffDelay } from '../shared/backoff';
import { AdaptiveRate } from './adaptive-rate';

/** PutRecords limits (Kinesis API reference). A record's size counts its data and its partition key. */
export const PUT_RECORDS_MAX_RECORDS = 500;
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;
export const RECORD_MAX_BYTES = 1024 * 1024;
const PARTITION_KEY_MAX_CHARS = 256;

export interface SenderEntry {
  /** The device id: a device's records hash to one shard and stay ordered there. */
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

export interface KinesisSenderOptions {
  readonly client: Pick<KinesisClient, 'send'>;
  readonly streamName: string;
  /** Concurrent PutRecords requests. @default 4 */
  readonly maxInFlight?: number;
  /** @default 500 (the API's limit) */
  readonly maxBatchRecords?: number;
  /** @default 5 MiB (the API's limit) */
  readonly maxBatchBytes?: number;
  /** How long a partial batch may wait for more records. @default 100 ms */
  readonly lingerMs?: number;
  /** Attempts per record before it is counted failed (the first send included). @default 10 */
  readonly maxAttempts?: number;
  /** Backoff: attempt n waits uniform(0, min(maxDelayMs, baseDelayMs × 2^n)) ("full jitter"). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** put() waits while this many records are buffered or waiting to be retried. @default 2 × maxInFlight × 500 */
  readonly maxBuffered?: number;
  readonly random?: () => number;
  readonly now?: () => number;
}

export interface SenderStats {
  /** Records Kinesis accepted. */
  readonly sent: number;
  /** Record re-sends after a failure (per record, not per request). */
  readonly retries: number;
  /** Records rejected with ProvisionedThroughputExceededException. */
  readonly throttles: number;
  /** Records given up on (attempts exhausted, too large, or a fatal error). */
  readonly failed: number;
  readonly requests: number;
  readonly inFlight: number;
  /** Records buffered or waiting for a retry. */
  readonly buffered: number;
  /** The adaptive limit in records/s, or null when unthrottled. */
  readonly rateLimit: number | null;
  /** Times throttling lowered the adaptive limit so far (it only grows, unlike `rateLimit`). */
  readonly rateLimitCuts: number;
  /** Error codes seen, with counts. */
  readonly errors: Readonly<Record<string, number>>;
}

interface Pending {
  readonly entry: SenderEntry;
  readonly size: number;
  attempts: number;
  readonly enqueuedAt: number;
}

/** Errors that no retry can fix: stop and report instead of hammering. */
const FATAL_ERRORS = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'ValidationException',
  'InvalidArgumentException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'CredentialsProviderError',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSNotFoundException',
]);

export function isFatalKinesisError(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  const text = `${e?.code ?? ''} ${(err as Error)?.message ?? ''}`;
  return FATAL_ERRORS.has(e?.name ?? '') || text.includes('ECONNREFUSED') || text.includes('ENOTFOUND');
}

/**
 * A Kinesis producer: batches records into PutRecords calls within the API limits, keeps a bounded
 * number of requests in flight, retries only the entries Kinesis reports failed (exponential backoff,
 * full jitter), slows down on ProvisionedThroughputExceeded, and flushes on close. A record is re-sent
 * only when Kinesis said it failed, or when a whole request failed without an answer (then Kinesis may
 * have stored it: the at-least-once case every producer has; the pipeline dedups by event identity).
 * Hand-written rather than the KPL (a Java daemon) or a generic queue: these few rules are the point.
 */
export class KinesisSender {
  private readonly o: Required<Omit<KinesisSenderOptions, 'client' | 'streamName'>>;
  private queue: Pending[] = [];
  private head = 0;
  private queuedBytes = 0;
  private inFlight = 0;
  private waitingRetry = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private flushing = 0;
  private fatal: Error | undefined;
  private readonly rate: AdaptiveRate;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private spaceWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private counts = { sent: 0, retries: 0, throttles: 0, failed: 0, requests: 0 };
  private readonly errors: Record<string, number> = {};

  constructor(private readonly options: KinesisSenderOptions) {
    this.o = {
      maxInFlight: options.maxInFlight ?? 4,
      maxBatchRecords: Math.min(PUT_RECORDS_MAX_RECORDS, options.maxBatchRecords ?? PUT_RECORDS_MAX_RECORDS),
      maxBatchBytes: Math.min(PUT_RECORDS_MAX_BYTES, options.maxBatchBytes ?? PUT_RECORDS_MAX_BYTES),
      lingerMs: options.lingerMs ?? 100,
      maxAttempts: options.maxAttempts ?? 10,
      baseDelayMs: options.baseDelayMs ?? 100,
      maxDelayMs: options.maxDelayMs ?? 5_000,
      // Two full rounds of requests: enough to keep every request slot busy, small enough that the
      // buffered records die young (a larger buffer measurably slowed an in-process emulator through GC).
      maxBuffered: options.maxBuffered ?? 2 * (options.maxInFlight ?? 4) * PUT_RECORDS_MAX_RECORDS,
      random: options.random ?? Math.random,
      now: options.now ?? (() => performance.now()),
    };
    this.rate = new AdaptiveRate(10, this.o.maxBatchRecords);
  }

  stats(): SenderStats {
    return {
      ...this.counts,
      inFlight: this.inFlight,
      buffered: this.queue.length - this.head + this.waitingRetry,
      rateLimit: this.rate.limit === Number.POSITIVE_INFINITY ? null : Math.round(this.rate.limit),
      rateLimitCuts: this.rate.cuts,
      errors: { ...this.errors },
    };
  }

  /**
   * Buffers a record. Resolves at once while there is room; otherwise when there is again
   * (backpressure). Rejects after a fatal error (missing stream, bad credentials).
   */
  put(entry: SenderEntry): Promise<void> | undefined {
    if (this.fatal) return Promise.reject(this.fatal);
    const size = entry.data.byteLength + Buffer.byteLength(entry.partitionKey);
    if (
      size > RECORD_MAX_BYTES ||
      entry.partitionKey.length === 0 ||
      entry.partitionKey.length > PARTITION_KEY_MAX_CHARS
    ) {
      this.counts.failed++;
      this.countError(size > RECORD_MAX_BYTES ? 'RecordTooLarge' : 'InvalidPartitionKey');
      return undefined;
    }
    this.queue.push({ entry, size, attempts: 0, enqueuedAt: this.o.now() });
    this.queuedBytes += size;
    this.pump();
    if (this.queue.length - this.head + this.waitingRetry < this.o.maxBuffered) return undefined;
    return new Promise<void>((resolve) => this.spaceWaiters.push(resolve)).then(() => {
      if (this.fatal) throw this.fatal;
    });
  }

  /** Sends everything buffered (partial batches too) and waits until nothing is left in flight or in retry. */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      this.pump();
      while (!this.idle()) {
        await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      }
    } finally {
      this.flushing--;
    }
    if (this.fatal) throw this.fatal;
  }

  /** Flushes, then stops its timers. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.clearTimer();
      for (const t of this.retryTimers) clearTimeout(t);
      this.retryTimers.clear();
    }
  }

  private idle(): boolean {
    return this.queue.length === this.head && this.inFlight === 0 && this.waitingRetry === 0;
  }

  private pump(): void {
    if (this.fatal) {
      this.failQueued();
      return;
    }
    while (this.inFlight < this.o.maxInFlight && this.queue.length > this.head) {
      const queued = this.queue.length - this.head;
      const now = this.o.now();
      const full = queued >= this.o.maxBatchRecords || this.queuedBytes >= this.o.maxBatchBytes;
      if (!full && this.flushing === 0) {
        const due = this.queue[this.head].enqueuedAt + this.o.lingerMs;
        if (now < due) {
          this.arm(due - now);
          return;
        }
      }
      const wait = this.rate.acquire(Math.min(queued, this.o.maxBatchRecords), now);
      if (wait > 0) {
        this.arm(wait);
        return;
      }
      this.dispatch(this.takeBatch());
    }
  }

  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let bytes = 0;
    while (this.head < this.queue.length && batch.length < this.o.maxBatchRecords) {
      const p = this.queue[this.head];
      if (bytes + p.size > this.o.maxBatchBytes) break;
      bytes += p.size;
      batch.push(p);
      this.head++;
    }
    this.queuedBytes -= bytes;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head); // compact now and then instead of shift() per record
      this.head = 0;
    }
    return batch;
  }

  private dispatch(batch: Pending[]): void {
    this.inFlight++;
    this.counts.requests++;
    const command = new PutRecordsCommand({
      StreamName: this.options.streamName, // kinesalite answers StreamName, not StreamARN
      Records: batch.map((p) => ({ PartitionKey: p.entry.partitionKey, Data: p.entry.data })),
    });
    this.options.client
      .send(command)
      .then(
        (res) => this.onResponse(batch, res.Records ?? []),
        (err: unknown) => this.onRequestError(batch, err),
      )
      .finally(() => {
        this.inFlight--;
        this.afterChange();
      });
  }

  private onResponse(batch: Pending[], results: PutRecordsResultEntry[]): void {
    const failed: Pending[] = [];
    let throttled = 0;
    for (let i = 0; i < batch.length; i++) {
      const code = results[i]?.ErrorCode ?? (results[i] ? undefined : 'MissingResult');
      if (code === undefined) continue;
      failed.push(batch[i]);
      this.countError(code);
      if (code === 'ProvisionedThroughputExceededException') throttled++;
    }
    this.counts.sent += batch.length - failed.length;
    this.counts.throttles += throttled;
    this.rate.onResult(batch.length - failed.length, throttled, this.o.now());
    if (failed.length > 0) this.retryLater(failed);
  }

  private onRequestError(batch: Pending[], err: unknown): void {
    const e = err as { name?: string; code?: string; message?: string };
    this.countError(e?.code ?? e?.name ?? 'Error');
    if (isFatalKinesisError(err)) {
      this.fatal = err instanceof Error ? err : new Error(String(err));
      this.counts.failed += batch.length;
      this.failQueued();
      return;
    }
    const throttled = e?.name === 'ProvisionedThroughputExceededException' || e?.name === 'LimitExceededException';
    if (throttled) this.counts.throttles += batch.length;
    this.rate.onResult(0, throttled ? batch.length : 0, this.o.now());
    this.retryLater(batch);
  }

  private retryLater(entries: Pending[]): void {
    const again: Pending[] = [];
    let attempt = 0;
    for (const p of entries) {
      p.attempts++;
      if (p.attempts >= this.o.maxAttempts) this.counts.failed++;
      else {
        again.push(p);
        attempt = Math.max(attempt, p.attempts);
      }
    }
    if (again.length === 0) return;
    this.counts.retries += again.length;
    this.waitingRetry += again.length;
    const wait = backoffDelay(
      { baseMs: this.o.baseDelayMs, maxMs: this.o.maxDelayMs, jitter: 'full' },
      attempt + 1,
      this.o.random,
    );
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.waitingRetry -= again.length;
      if (this.fatal) {
        this.counts.failed += again.length;
      } else {
        // Retried records go first: they are the oldest.
        const bytes = again.reduce((s, p) => s + p.size, 0);
        this.queue = again.concat(this.queue.slice(this.head));
        this.head = 0;
        this.queuedBytes += bytes;
      }
      this.afterChange();
    }, Math.round(wait));
    this.retryTimers.add(timer);
  }

  private afterChange(): void {
    this.pump();
    const buffered = this.queue.length - this.head + this.waitingRetry;
    if (buffered < this.o.maxBuffered || this.fatal) {
      const waiters = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const w of waiters) w();
    }
    if (this.idle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private failQueued(): void {
    const n = this.queue.length - this.head;
    if (n > 0) {
      this.counts.failed += n;
      this.queue = [];
      this.head = 0;
      this.queuedBytes = 0;
    }
  }

  private arm(delayMs: number): void {
    const at = this.o.now() + delayMs;
    if (this.timer && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.afterChange();
      },
      Math.max(1, Math.ceil(delayMs)),
    );
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private countError(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }
}
