import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { baseClientConfig } from '../shared/aws-clients';
import { dedupeKey, type EdgeDedupe } from './edge-dedupe';
import { SimulationError } from './errors';
import type { GeneratedRecord } from './generate';
import { KinesisSender, type SenderStats } from './kinesis-sender';
import { checkStream, describeTarget, type StreamTarget } from './target';

export type SinkStats = Pick<
  SenderStats,
  'sent' | 'retries' | 'throttles' | 'failed' | 'buffered' | 'rateLimit' | 'errors'
>;

/** Where released records go: a stream, a file, or a gateway in front of either. */
export interface Sink {
  /** Takes one record arriving at `arrivalMs` (simulated); a promise means wait before the next (backpressure). */
  put(record: GeneratedRecord, arrivalMs: number): Promise<void> | undefined;
  /** Flushes what is buffered. */
  close(): Promise<void>;
  stats(): SinkStats;
}

const WRITE_CHUNK_LINES = 1000;

/** NDJSON lines, exactly the bytes a stream would get, written in chunks with backpressure. */
export function fileSink(out: string | Writable): Sink {
  const stream = typeof out === 'string' ? createWriteStream(out) : out;
  const own = typeof out === 'string';
  let chunk: string[] = [];
  let written = 0;
  let failure: Error | undefined;
  stream.on('error', (err: Error) => {
    failure = err;
  });
  const write = (): Promise<void> | undefined => {
    if (failure) return Promise.reject(new SimulationError(`Cannot write output: ${failure.message}`));
    if (chunk.length === 0) return undefined;
    const text = `${chunk.join('\n')}\n`;
    written += chunk.length;
    chunk = [];
    return stream.write(text) ? undefined : new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  };
  return {
    put(r) {
      chunk.push(r.json);
      return chunk.length >= WRITE_CHUNK_LINES ? write() : undefined;
    },
    async close() {
      await write();
      if (own)
        await new Promise<void>((resolve, reject) =>
          stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
        );
      if (failure) throw new SimulationError(`Cannot write output: ${failure.message}`);
    },
    stats: () => ({
      sent: written,
      retries: 0,
      throttles: 0,
      failed: 0,
      buffered: chunk.length,
      rateLimit: null,
      errors: {},
    }),
  };
}

/** PutRecords through the sender; partition key = device id, so a device's records stay on one shard. */
export function streamSink(sender: KinesisSender): Sink {
  return {
    put: (r) => sender.put({ partitionKey: r.deviceId, data: Buffer.from(r.json) }),
    close: () => sender.close(),
    stats: () => sender.stats(),
  };
}

/** The edge gateway in front of a sink: drops the messages `dedupe` has seen (see edge-dedupe.ts). */
export function edgeGateway(inner: Sink, dedupe: EdgeDedupe): Sink {
  return {
    put: (r, arrivalMs) => (dedupe.admit(dedupeKey(r.json), arrivalMs) ? inner.put(r, arrivalMs) : undefined),
    close: () => inner.close(),
    stats: () => inner.stats(),
  };
}

export interface SinkTarget {
  readonly target?: StreamTarget;
  readonly out?: string | Writable;
  readonly client?: Pick<KinesisClient, 'send'>;
  readonly skipStreamCheck?: boolean;
  readonly maxInFlight?: number;
}

/** Opens the run's sink: the stream (checked first, unless told not to) or the output file. */
export async function openSink(options: SinkTarget): Promise<{ sink: Sink; description: string }> {
  if (options.target) {
    const target = options.target;
    const client = options.client ?? new KinesisClient(baseClientConfig(target));
    if (!options.skipStreamCheck) await checkStream(client, target);
    const sender = new KinesisSender({ client, streamName: target.streamName, maxInFlight: options.maxInFlight });
    return { sink: streamSink(sender), description: describeTarget(target) };
  }
  const out = options.out;
  if (out === undefined) throw new SimulationError('Give exactly one of a target stream or an output file.');
  return { sink: fileSink(out), description: typeof out === 'string' ? `file ${out}` : 'stdout' };
}
