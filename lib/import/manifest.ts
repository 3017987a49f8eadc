import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ImportError } from './errors';
import type { InputFile } from './inputs';
import { SpoolLines } from './spool-lines';

/** What has been read and what it added up to; kept in the manifest so a resumed run reports the whole import. */
export interface ScanCounts {
  records: number;
  bytes: number;
  /** Byte-identical copies dropped (while scanning a chunk, and when a partition is written). */
  copiesDropped: number;
  invalid: number;
  invalidByReason: Record<string, number>;
  quarantineObjects: number;
}

export interface PublishCounts {
  /** Distinct records written to the archive. */
  archived: number;
  objects: number;
  archiveBytes: number;
  /** Device-minutes whose aggregates item was written (created or gained events). */
  deviceMinutesWritten: number;
  /** Events the aggregates already held (an earlier import, the live pipeline, a replayed partition). */
  eventsAlreadyStored: number;
  eventsAdded: number;
  devicesUpdated: number;
  /**
   * Events archived only: their minute was past the aggregates table's TTL (DynamoDB would delete the item
   * within days; writing it would buy nothing). Absent in manifests of older versions.
   */
  eventsPastTtl?: number;
}

export interface FileProgress {
  /** Decompressed bytes done: every line before this offset is spooled or quarantined. */
  doneBytes: number;
  finished: boolean;
  /** Why the file ended early (a truncated gzip): the lines before were imported. */
  error?: string;
}

/** Bumped when the spool or manifest layout changes: a state directory of another version is refused. */
export const MANIFEST_VERSION = 2;

export interface Manifest {
  readonly version: typeof MANIFEST_VERSION;
  readonly importId: string;
  /** The arrival time given to every record (future timestamps are judged against it), fixed at the first run. */
  readonly startedAtMs: number;
  readonly inputs: readonly InputFile[];
  readonly files: Record<string, FileProgress>;
  /** Spool file (`<profile>/<yyyy-mm-dd>`) → committed length; bytes past it are from an unfinished chunk. */
  readonly spools: Record<string, number>;
  /** Spools whose archive objects and aggregates are written. */
  readonly published: string[];
  readonly scan: ScanCounts;
  readonly publish: PublishCounts;
}

export const emptyScan = (): ScanCounts => ({
  records: 0,
  bytes: 0,
  copiesDropped: 0,
  invalid: 0,
  invalidByReason: {},
  quarantineObjects: 0,
});

export const emptyPublish = (): PublishCounts => ({
  archived: 0,
  objects: 0,
  archiveBytes: 0,
  deviceMinutesWritten: 0,
  eventsAlreadyStored: 0,
  eventsAdded: 0,
  devicesUpdated: 0,
});

const MANIFEST = 'manifest.json';

/**
 * The import's state directory: `manifest.json` (replaced atomically by rename after every chunk and
 * every partition, so a kill -9 leaves the previous or the next one, never half of one) and the spool
 * of validated records per profile and day, appended per chunk.
 */
export class ImportState {
  private readonly fds = new Map<string, number>();
  /** Lines appended since the last `flushSpools`, by spool. */
  private readonly pending = new Map<string, SpoolLines>();

  private constructor(
    readonly dir: string,
    public manifest: Manifest,
  ) {}

  /** Opens the state of a previous run of the same import, or starts one. Bytes of an unfinished chunk are cut off. */
  static open(dir: string, fresh: () => Manifest): ImportState {
    const path = join(dir, MANIFEST);
    if (!existsSync(path)) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(join(dir, 'spool'), { recursive: true });
      const state = new ImportState(dir, fresh());
      state.save();
      return state;
    }
    let manifest: Manifest;
    try {
      manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    } catch (err) {
      throw new ImportError(`${path}: unreadable manifest (${(err as Error).message}); delete ${dir} to start over.`);
    }
    if (manifest.version !== MANIFEST_VERSION) {
      throw new ImportError(
        `${dir} was written by another version of the import (state version ${manifest.version}, this one reads ${MANIFEST_VERSION}); ` +
          'delete it and run the same command again (records already imported are not counted twice).',
      );
    }
    const state = new ImportState(dir, manifest);
    state.truncateSpools();
    return state;
  }

  get resumed(): boolean {
    return Object.values(this.manifest.files).some((f) => f.doneBytes > 0 || f.finished);
  }

  spoolPath(key: string): string {
    return join(this.dir, 'spool', `${key}.ndjson`);
  }

  /** Queues a spool line (the record `src[start, end)` of event-time hour `hour`); written by `flushSpools`. */
  append(key: string, hour: number, src: Uint8Array, start: number, end: number): void {
    this.pendingOf(key).appendLine(hour, src, start, end);
  }

  /** Queues spool lines already laid out (hour prefixes, records, newlines), as a scan worker returns them. */
  appendLines(key: string, lines: Uint8Array): void {
    this.pendingOf(key).appendLines(lines);
  }

  /** Writes the queued lines after each spool's committed length and returns the new lengths (not yet committed). */
  flushSpools(): Record<string, number> {
    const lengths = { ...this.manifest.spools };
    for (const [key, lines] of this.pending) {
      // A spool the last chunk did not touch gives its buffer back; the others keep theirs for the next chunk.
      if (lines.length === 0) {
        this.pending.delete(key);
        continue;
      }
      const at = lengths[key] ?? 0;
      writeSync(this.fd(key), lines.bytes, 0, lines.length, at);
      lengths[key] = at + lines.length;
      lines.clear();
    }
    return lengths;
  }

  /** Replaces the manifest atomically (write, then rename over the old one). */
  commit(update: (m: Manifest) => Manifest): void {
    this.manifest = update(this.manifest);
    this.save();
  }

  closeSpools(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  readSpool(key: string): Buffer {
    const length = this.manifest.spools[key] ?? 0;
    const buf = readFileSync(this.spoolPath(key));
    return buf.subarray(0, length);
  }

  private save(): void {
    const path = join(this.dir, MANIFEST);
    writeFileSync(`${path}.tmp`, JSON.stringify(this.manifest));
    renameSync(`${path}.tmp`, path);
  }

  private pendingOf(key: string): SpoolLines {
    let lines = this.pending.get(key);
    if (lines === undefined) {
      lines = new SpoolLines();
      this.pending.set(key, lines);
    }
    return lines;
  }

  private fd(key: string): number {
    let fd = this.fds.get(key);
    if (fd === undefined) {
      // Bound open files: a year of one fleet is 365 spools.
      if (this.fds.size >= 256) {
        const [oldest, oldFd] = this.fds.entries().next().value as [string, number];
        closeSync(oldFd);
        this.fds.delete(oldest);
      }
      const path = this.spoolPath(key);
      mkdirSync(dirname(path), { recursive: true });
      fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
      this.fds.set(key, fd);
    }
    return fd;
  }

  private truncateSpools(): void {
    const root = join(this.dir, 'spool');
    mkdirSync(root, { recursive: true });
    for (const profile of readdirSync(root)) {
      for (const file of readdirSync(join(root, profile))) {
        const key = `${profile}/${file.replace(/\.ndjson$/, '')}`;
        const committed = this.manifest.spools[key];
        const path = join(root, profile, file);
        if (committed === undefined) {
          rmSync(path, { force: true });
          continue;
        }
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, committed);
        closeSync(fd);
      }
    }
  }
}
