import type { KinesisClient, Shard, ShardIteratorType } from '@aws-sdk/client-kinesis';
import { listShards, ShardReader } from '../shared/kinesis-shards';
import { sleep } from '../shared/sleep';

export interface ConsumedRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly arrivalTime?: Date;
  readonly data: Uint8Array;
}

export interface ConsumeOptions {
  readonly client: Pick<KinesisClient, 'send'>;
  readonly streamName: string;
  /** Where to start in every shard. @default TRIM_HORIZON */
  readonly from?: Extract<ShardIteratorType, 'TRIM_HORIZON' | 'LATEST'>;
  /** Stop after this many records. */
  readonly count?: number;
  /** Stop when no record arrived for this long (ms). */
  readonly idleTimeoutMs?: number;
  /** Pause between polls of a shard that returned nothing (GetRecords: 5 calls/s per shard). @default 250 */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  readonly onRecord: (record: ConsumedRecord) => void;
}

export interface ConsumeSummary {
  readonly records: number;
  readonly shards: number;
  readonly stoppedBy: 'count' | 'idle' | 'signal';
}

/**
 * Tails every shard of a stream, like the workshop's `./consumer`: one polling loop per shard, children
 * of a closed (split or merged) shard picked up when their parent ends. Stops on count, idle time or signal.
 */
export async function consumeStream(options: ConsumeOptions): Promise<ConsumeSummary> {
  const { client, streamName } = options;
  const from = options.from ?? 'TRIM_HORIZON';
  const pollMs = options.pollMs ?? 250;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let records = 0;
  let lastRecordAt = Date.now();
  let stoppedBy: ConsumeSummary['stoppedBy'] = 'signal';
  const started = new Set<string>();
  const all = await listShards(client, streamName);
  const loops: Promise<void>[] = [];

  const startShard = (shard: Shard, type: 'TRIM_HORIZON' | 'LATEST') => {
    const shardId = shard.ShardId!;
    if (started.has(shardId)) return;
    started.add(shardId);
    loops.push(pollShard(shardId, type));
  };

  async function pollShard(shardId: string, type: 'TRIM_HORIZON' | 'LATEST'): Promise<void> {
    const reader = new ShardReader(client, streamName, shardId, { type });
    while (!stop.signal.aborted) {
      const res = await reader.read(10_000);
      for (const r of res.records) {
        if (stop.signal.aborted) return;
        records++;
        lastRecordAt = Date.now();
        options.onRecord({
          shardId,
          sequenceNumber: r.sequenceNumber,
          partitionKey: r.partitionKey,
          arrivalTime: new Date(r.arrival),
          data: r.data,
        });
        if (options.count !== undefined && records >= options.count) {
          stoppedBy = 'count';
          stop.abort();
          return;
        }
      }
      if (res.closed) {
        // The shard is closed: its children carry on from their start.
        for (const child of await listShards(client, streamName)) {
          if (child.ParentShardId === shardId || child.AdjacentParentShardId === shardId) {
            startShard(child, 'TRIM_HORIZON');
          }
        }
        return;
      }
      if (res.records.length === 0) await sleep(pollMs, stop.signal);
    }
  }

  // Open a shard only when its parent is not in the list (already trimmed) or the start is LATEST.
  const ids = new Set(all.map((s) => s.ShardId));
  for (const shard of all) {
    const hasParent = shard.ParentShardId !== undefined && ids.has(shard.ParentShardId);
    if (from === 'LATEST' ? shard.SequenceNumberRange?.EndingSequenceNumber === undefined : !hasParent) {
      startShard(shard, from);
    }
  }

  let idleTimer: NodeJS.Timeout | undefined;
  if (options.idleTimeoutMs !== undefined) {
    const idleMs = options.idleTimeoutMs;
    const check = () => {
      if (stop.signal.aborted) return;
      const quiet = Date.now() - lastRecordAt;
      if (quiet >= idleMs) {
        stoppedBy = 'idle';
        stop.abort();
      } else idleTimer = setTimeout(check, idleMs - quiet);
    };
    idleTimer = setTimeout(check, idleMs);
  }
  try {
    // Children may be added while we wait: wait until the list stops growing.
    for (let done = 0; done < loops.length; ) {
      const n = loops.length;
      await Promise.all(loops.slice(done, n));
      done = n;
    }
  } finally {
    if (idleTimer) clearTimeout(idleTimer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (records >= (options.count ?? Number.POSITIVE_INFINITY)) stoppedBy = 'count';
  return { records, shards: started.size, stoppedBy };
}

/** One record as text: the data alone (raw), or arrival time, shard, partition key and data (pretty). */
export function formatConsumed(r: ConsumedRecord, raw: boolean): string {
  const text = Buffer.from(r.data).toString('utf8');
  if (raw) return text;
  const at = r.arrivalTime ? r.arrivalTime.toISOString() : '-';
  return `${at} ${r.shardId} ${r.partitionKey}  ${text}`;
}
