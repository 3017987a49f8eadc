import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { AggregatePacker, KINESIS_MAX_RECORD_BYTES } from '../core/kpl';
import { baseClientConfig } from '../shared/aws-clients';
import { openShardRanges, type ShardRange, shardIndexOf } from '../shared/kinesis-shards';
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

/** How the edge gateway packs readings into KPL aggregates (`--aggregate`). */
export interface AggregationOptions {
  /**
   * Largest aggregate, bytes (data plus partition key). 25 KB is one Kinesis PUT payload unit (25 KB
   * chunks), so a fuller record costs a second unit for no saving; it is five of Firehose's 5 KB billing
   * steps, and it keeps a Lambda batch of 100 records near 3 MB of the 6 MB payload limit.
   * @default 25600
   */
  readonly maxBytes?: number;
  /**
   * Longest a reading waits in an open aggregate, simulated ms (checked as readings arrive; close flushes).
   * A minute, the aggregator's tumbling window: 300 panels (1 reading/s) then fill ~60 readings a record,
   * 30,000 panels fill 25 KB in about a second. @default 60000
   */
  readonly lingerMs?: number;
}

export const DEFAULT_AGGREGATE_BYTES = 25 * 1024;
export const DEFAULT_AGGREGATE_LINGER_MS = 60_000;
/** Kinesis bills PUT payload units of 25 KB per record. */
export const PUT_UNIT_BYTES = 25 * 1024;

/** What packing did: per reading, how many records, bytes and PUT units reached Kinesis. */
export interface AggregationStats {
  readonly readings: number;
  readonly records: number;
  readonly bytes: number;
  readonly putUnits: number;
}

/** Readings in, aggregates out, with the counts the cost model prices per reading. */
export interface AggregatingSink extends Sink {
  aggregation(): AggregationStats;
}

/**
 * Packs readings into KPL aggregates (lib/core/kpl.ts) before the sender: one Kinesis record carries
 * ~100 solar readings, so PUT units and Firehose's per-record rounding stop scaling with readings. As the
 * KPL does, an aggregate holds only readings bound for one shard (`shards`: the stream's open hash-key
 * ranges; their partition keys' MD5 falls in the range), so each device's readings stay on its own shard
 * and in order, and one aggregator container writes each device. The outer partition key is the first
 * reading's device, which routes the aggregate to that shard. An aggregate goes when the next reading
 * would not fit, when its oldest reading has waited `lingerMs`, and at close. After a reshard the ranges
 * are stale until the next run: aggregates still arrive whole, on the shard of their first device.
 */
export function aggregatingSink(
  sender: KinesisSender,
  options: AggregationOptions = {},
  shards: readonly ShardRange[] = [],
): AggregatingSink {
  const maxBytes = options.maxBytes ?? DEFAULT_AGGREGATE_BYTES;
  const lingerMs = options.lingerMs ?? DEFAULT_AGGREGATE_LINGER_MS;
  if (!(maxBytes >= 256 && maxBytes <= KINESIS_MAX_RECORD_BYTES)) {
    throw new SimulationError(`--aggregate-bytes must be 256 to ${KINESIS_MAX_RECORD_BYTES} (got ${maxBytes})`);
  }
  // The partition key counts against the record limit too: keep room for the longest (256 bytes).
  const open = Array.from({ length: Math.max(1, shards.length) }, () => ({
    packer: new AggregatePacker(Math.min(maxBytes, KINESIS_MAX_RECORD_BYTES - 256)),
    openedAtMs: Number.NaN,
  }));
  const stats = { readings: 0, records: 0, bytes: 0, putUnits: 0 };
  const flush = (slot: (typeof open)[number]): Promise<void> | undefined => {
    const partitionKey = slot.packer.partitionKey;
    const data = slot.packer.take();
    slot.openedAtMs = Number.NaN;
    if (data === undefined || partitionKey === undefined) return undefined;
    const size = data.length + Buffer.byteLength(partitionKey);
    stats.records++;
    stats.bytes += size;
    stats.putUnits += Math.ceil(size / PUT_UNIT_BYTES);
    return sender.put({ partitionKey, data });
  };
  return {
    put(r, arrivalMs) {
      const data = Buffer.from(r.json);
      const slot = open[shardIndexOf(shards, r.deviceId)];
      const { packer } = slot;
      let waited: Promise<void> | undefined;
      if (packer.count > 0 && (!packer.wouldFit(r.deviceId, data.length) || arrivalMs - slot.openedAtMs >= lingerMs)) {
        waited = flush(slot);
      }
      if (packer.count === 0) slot.openedAtMs = arrivalMs;
      packer.add(r.deviceId, data);
      stats.readings++;
      return waited;
    },
    async close() {
      await Promise.all(open.map(flush));
      await sender.close();
    },
    stats: () => sender.stats(),
    aggregation: () => ({ ...stats }),
  };
}

export interface SinkTarget {
  readonly target?: StreamTarget;
  readonly out?: string | Writable;
  readonly client?: Pick<KinesisClient, 'send'>;
  readonly skipStreamCheck?: boolean;
  readonly maxInFlight?: number;
  /** Pack readings into KPL aggregates (stream targets only). */
  readonly aggregate?: AggregationOptions;
}

/** Opens the run's sink: the stream (checked first, unless told not to) or the output file. */
export async function openSink(
  options: SinkTarget,
): Promise<{ sink: Sink; description: string; aggregation?: () => AggregationStats }> {
  if (options.target) {
    const target = options.target;
    const client = options.client ?? new KinesisClient(baseClientConfig(target));
    if (!options.skipStreamCheck) await checkStream(client, target);
    const sender = new KinesisSender({ client, streamName: target.streamName, maxInFlight: options.maxInFlight });
    if (options.aggregate) {
      const shards = await openShardRanges(client, target.streamName);
      const sink = aggregatingSink(sender, options.aggregate, shards);
      return { sink, description: describeTarget(target), aggregation: () => sink.aggregation() };
    }
    return { sink: streamSink(sender), description: describeTarget(target) };
  }
  if (options.aggregate) {
    throw new SimulationError('--aggregate packs records for a stream; --out writes one JSON line per reading.');
  }
  const out = options.out;
  if (out === undefined) throw new SimulationError('Give exactly one of a target stream or an output file.');
  return { sink: fileSink(out), description: typeof out === 'string' ? `file ${out}` : 'stdout' };
}
