import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Per-shard progress of one consumer (an event source mapping or a delivery stream), persisted so a
 * restarted runtime resumes where it stopped: nothing lost, at-least-once. Written atomically (temp
 * file + rename) after every committed batch; undefined `file` keeps it in memory.
 */
export interface ShardCheckpoint {
  /** Last sequence number fully processed; reading resumes after it. */
  readonly sequenceNumber?: string;
  /** Open tumbling window and its state (event source mappings only). */
  readonly window?: { readonly start: number; readonly end: number };
  readonly state?: unknown;
  /** When a LATEST mapping first started (epoch ms): a restart before its first commit resumes from here. */
  readonly startedAt?: number;
}

export class CheckpointStore {
  private readonly shards: Record<string, ShardCheckpoint>;

  constructor(private readonly file?: string) {
    this.shards = file && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  }

  get(shardId: string): ShardCheckpoint {
    return this.shards[shardId] ?? {};
  }

  set(shardId: string, checkpoint: ShardCheckpoint): void {
    this.shards[shardId] = checkpoint;
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.shards));
    renameSync(`${this.file}.tmp`, this.file);
  }
}
