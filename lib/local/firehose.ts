import { gzipSync } from 'node:zlib';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { userRecords } from '../core/kpl';
import { listShardIds, ShardReader, type StreamRecord } from '../shared/kinesis-shards';
import { sleep } from '../shared/sleep';
import type { CheckpointStore } from './checkpoints';
import {
  compilePartitionQuery,
  evaluatePrefix,
  objectName,
  type PartitionQuery,
  validatePrefix,
} from './firehose-format';
import { ParquetWriter } from './parquet';
import type { DeliveryPlan } from './stack-plan';

/** Records per GetRecords of a Firehose delivery reading its Kinesis source (GetRecords' own maximum). */
export const FIREHOSE_READ_LIMIT = 10_000;
/**
 * Local Firehose delivery from a Kinesis stream to S3: its own shard readers, one buffer flushed when
 * it reaches the buffering hints' size or age, dynamic partitioning by the profile JQ, the newline
 * delimiter, GZIP or Parquet, error output for records that fail, and Firehose-style object names.
 * Checkpoints advance only after a flush's objects are written, so a restart re-reads (never loses)
 * what was buffered; every object is one PutObject (S3 writes are atomic: no half-written object).
 */
export interface FirehoseOptions {
  readonly plan: DeliveryPlan;
  readonly kinesis: KinesisClient;
  readonly s3: S3Client;
  readonly checkpoints: CheckpointStore;
  readonly pollIntervalMs?: number;
  readonly log?: (line: string) => void;
}

export interface FirehoseStats {
  /** Kinesis records read (what Firehose's per-record 5 KB rounding applies to; the cost model prices these). */
  recordsIn: number;
  /** Of those, KPL aggregates (de-aggregated, as Firehose does for a Kinesis source). */
  aggregatesIn: number;
  /** User records delivered or failed: the plain records plus the user records of the aggregates. */
  userRecords: number;
  objectsWritten: number;
  bytesWritten: number;
  recordsFailed: number;
}

/** A user record: a plain Kinesis record, or one taken out of a KPL aggregate (`subSequenceNumber`). */
type Buffered = StreamRecord & { readonly subSequenceNumber: number };

export class FirehoseDelivery {
  readonly stats: FirehoseStats = {
    recordsIn: 0,
    aggregatesIn: 0,
    userRecords: 0,
    objectsWritten: 0,
    bytesWritten: 0,
    recordsFailed: 0,
  };
  private readonly query?: PartitionQuery;
  private readonly parquet?: ParquetWriter;
  private readers: ShardReader[] = [];
  private buffer: Buffered[] = [];
  private bufferBytes = 0;
  private bufferedSince = 0;
  private tipCheckedAt = new Map<string, number>();
  private loop?: Promise<void>;
  private stopped = false;
  private busy = false;
  /** Flush now regardless of buffering hints (drain, shutdown). */
  private flushRequested = false;

  constructor(private readonly options: FirehoseOptions) {
    const { plan } = options;
    validatePrefix(plan.prefix, plan.name);
    validatePrefix(plan.errorPrefix, plan.name);
    if (plan.partitionQuery) this.query = compilePartitionQuery(plan.partitionQuery);
    if (plan.parquetColumns) this.parquet = new ParquetWriter(plan.parquetColumns, plan.parquetCompression);
  }

  async start(): Promise<void> {
    const { plan, kinesis, checkpoints } = this.options;
    for (const shardId of await listShardIds(kinesis, plan.streamName)) {
      const seq = checkpoints.get(shardId).sequenceNumber;
      this.readers.push(
        new ShardReader(
          kinesis,
          plan.streamName,
          shardId,
          seq ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: seq } : { type: 'TRIM_HORIZON' },
        ),
      );
    }
    this.loop = this.run();
  }

  /** True when every shard was read to its tip after `since` and the buffer is delivered. */
  drained(since: number): boolean {
    return (
      !this.busy &&
      this.buffer.length === 0 &&
      this.readers.every((r) => (this.tipCheckedAt.get(r.shardId) ?? 0) >= since)
    );
  }

  /** Asks for the buffer to be delivered at the next turn, whatever the buffering hints say. */
  requestFlush(): void {
    this.flushRequested = true;
  }

  async stop(): Promise<void> {
    this.requestFlush();
    this.stopped = true;
    await this.loop;
    await this.parquet?.close();
  }

  private async run(): Promise<void> {
    const poll = this.options.pollIntervalMs ?? 250;
    const { plan } = this.options;
    for (;;) {
      let got = 0;
      this.busy = true;
      try {
        for (const reader of this.readers) {
          if (this.stopped) break;
          const r = await reader.read(FIREHOSE_READ_LIMIT);
          if (r.records.length > 0) {
            if (this.buffer.length === 0) this.bufferedSince = Date.now();
            for (const rec of r.records) {
              // Firehose de-aggregates KPL records read from a Kinesis stream: one line per user record.
              const users = userRecords(rec.data);
              if (users.length !== 1 || users[0].data !== rec.data) this.stats.aggregatesIn++;
              for (const u of users) {
                this.buffer.push({ ...rec, data: u.data, subSequenceNumber: u.subSequenceNumber });
                this.bufferBytes += u.data.length;
              }
              this.stats.userRecords += users.length;
            }
            this.stats.recordsIn += r.records.length;
            got += r.records.length;
            this.tipCheckedAt.set(reader.shardId, 0);
          } else if (r.atTip) {
            this.tipCheckedAt.set(reader.shardId, r.tipCheckedAt);
          }
        }
        const due =
          this.buffer.length > 0 &&
          (this.flushRequested ||
            this.bufferBytes >= plan.bufferMiB * 1024 * 1024 ||
            Date.now() - this.bufferedSince >= plan.bufferSeconds * 1000);
        if (due) await this.flush();
        else if (this.buffer.length === 0) this.flushRequested = false;
      } catch (err) {
        this.options.log?.(`[firehose ${plan.name}] ${(err as Error).message}; retrying`);
      } finally {
        this.busy = false;
      }
      if (this.stopped && this.buffer.length === 0) return;
      if (this.stopped) {
        // one last attempt to deliver what is buffered, then leave it to be re-read after a restart
        try {
          await this.flush();
        } catch (err) {
          this.options.log?.(`[firehose ${plan.name}] buffer not delivered at shutdown: ${(err as Error).message}`);
        }
        return;
      }
      if (got === 0) await sleep(poll);
    }
  }

  private async flush(): Promise<void> {
    const records = this.buffer;
    const { plan, checkpoints } = this.options;
    const groups = new Map<string, { keys: Record<string, string>; records: Buffered[]; parsed: unknown[] }>();
    const failed: Buffered[] = [];
    for (const r of records) {
      let keys: Record<string, string> = {};
      let parsed: unknown;
      if (this.query || this.parquet) {
        try {
          parsed = JSON.parse(Buffer.from(r.data).toString('utf8'));
          if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
          // A query that fails (jq cannot parse the record) sends the record to the error output, as Firehose does.
          if (this.query) keys = this.query(parsed as Record<string, unknown>);
        } catch {
          failed.push(r);
          continue;
        }
      }
      const id = JSON.stringify(keys);
      const g = groups.get(id) ?? { keys, records: [], parsed: [] };
      g.records.push(r);
      g.parsed.push(parsed);
      groups.set(id, g);
    }
    for (const g of groups.values()) {
      const timestamp = Math.min(...g.records.map((r) => r.arrival));
      const prefix = evaluatePrefix(plan.prefix, { timestamp, partitionKeys: g.keys });
      let body: Buffer;
      let ext = '';
      if (this.parquet) {
        body = await this.parquet.write(g.parsed as Record<string, unknown>[]);
        ext = '.parquet';
      } else {
        body = this.join(g.records.map((r) => r.data));
        if (plan.compression === 'GZIP') {
          body = gzipSync(body);
          ext = '.gz';
        }
      }
      await this.put(plan.bucket, prefix + objectName(plan.name, timestamp, ext), body);
    }
    if (failed.length > 0) {
      const timestamp = Math.min(...failed.map((r) => r.arrival));
      const errorType = this.query ? 'processing-failed' : 'format-conversion-failed';
      const lines = failed.map((r) =>
        JSON.stringify({
          attemptsMade: 1,
          arrivalTimestamp: r.arrival,
          errorCode: this.query ? 'DynamicPartitioning.MetadataExtractionFailed' : 'DataFormatConversion.InvalidSchema',
          errorMessage: 'Non JSON record provided',
          attemptEndingTimestamp: Date.now(),
          rawData: Buffer.from(r.data).toString('base64'),
          sequenceNumber: r.sequenceNumber,
          subSequenceNumber: r.subSequenceNumber,
          dataCatalogTable: undefined,
        }),
      );
      let body = Buffer.from(`${lines.join('\n')}\n`);
      let ext = '';
      if (plan.compression === 'GZIP' && !this.parquet) {
        body = gzipSync(body);
        ext = '.gz';
      }
      const prefix = evaluatePrefix(plan.errorPrefix || '!{firehose:error-output-type}/', {
        timestamp,
        errorOutputType: errorType,
      });
      await this.put(plan.bucket, prefix + objectName(plan.name, timestamp, ext), body);
      this.stats.recordsFailed += failed.length;
    }
    // Delivered: advance every shard's checkpoint to the last record taken from it.
    const last = new Map<string, string>();
    for (const r of records) last.set(r.shardId, r.sequenceNumber);
    for (const [shardId, seq] of last) checkpoints.set(shardId, { sequenceNumber: seq });
    this.buffer = [];
    this.bufferBytes = 0;
    this.flushRequested = false;
  }

  private join(parts: Uint8Array[]): Buffer {
    const delimiter = this.options.plan.delimiter;
    if (!delimiter) return Buffer.concat(parts);
    const d = Buffer.from(delimiter);
    return Buffer.concat(parts.flatMap((p) => [p, d]));
  }

  private async put(bucket: string, key: string, body: Buffer): Promise<void> {
    await this.options.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    this.stats.objectsWritten++;
    this.stats.bytesWritten += body.length;
  }
}
