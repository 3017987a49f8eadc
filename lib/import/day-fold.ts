import { getHeapStatistics } from 'node:v8';
import {
  type DecodeOptions,
  decodeRange,
  EventWindow,
  type RawRecord,
  type RejectedRecord,
  type ValidEvent,
} from '../core';
import { LineSet } from './copies';
import { SPOOL_HOUR_BYTES, SpoolLines } from './spool-lines';

export interface DayFoldOptions {
  /** The arrival time every imported record gets (the import's start). */
  readonly arrivalMs: number;
  readonly decode?: DecodeOptions;
  /** Events before this instant (a minute start: the TTL's cutoff) are archived only. @default none */
  readonly aggregatesFromMs?: number;
  /** Keep each hour's distinct lines (a JSON archive is written from them; Parquet is written by DuckDB). */
  readonly keepHours: boolean;
}

/**
 * Windows a day's events are split into, by device: each is merged on its own (a device's minutes are
 * all in one, so each device-minute is still written once), and the event loop turns between merges.
 * With a store that answers at once (in memory) one merge of a whole day would hold the thread until it
 * is done, and the day's archive uploads, ready long before, would wait for it.
 */
export const FLUSH_GROUPS = 8;

/**
 * One profile-day's spool folded into the aggregator's `EventWindow`s (the core's merge, the one
 * definition of the aggregates), one per device group (`FLUSH_GROUPS`): its distinct lines in spool
 * order (a byte-identical copy that crossed a chunk boundary is dropped here), each event added once,
 * `rate_exceeded` rejects kept for the quarantine. The publish merges `windows` into the store.
 *
 * Two ways in, one fold: the scan feeds a day's lines as it spools them (with the event it has just
 * decoded, so a record is parsed once), or the publish folds a spool read back from disk (a resumed
 * import, or a day that did not fit in memory during the scan), decoding each line. Either way the same
 * bytes at the same offsets go through the same steps in the same order, so the window, the counts and
 * the quarantine lines are identical.
 */
export class DayFold {
  readonly windows: readonly EventWindow[] = Array.from({ length: FLUSH_GROUPS }, () => new EventWindow());
  readonly rejected: RejectedRecord[] = [];
  copiesDropped = 0;
  archived = 0;
  eventsPastTtl = 0;
  private readonly lines: SpoolLines;
  /** The spool as read back from disk, when folded from it (then `lines` is unused). */
  private spool: Buffer | undefined;
  private readonly seen: LineSet;
  /** For a JSON archive: each hour's distinct lines as `[start, end)` pairs of the spool, record and newline. */
  private readonly hours = new Map<number, number[]>();
  private readonly profileName: string;
  /** Bytes of `lines` handed to the spool file (`unwritten`). */
  private written = 0;

  constructor(
    readonly key: string,
    private readonly options: DayFoldOptions,
    spool?: Buffer,
  ) {
    this.profileName = key.split('/')[0];
    this.spool = spool;
    this.lines = new SpoolLines(spool === undefined ? 1 << 20 : 0);
    this.seen = new LineSet(this.buffer);
  }

  /** Folds a whole spool read back from disk. */
  static ofSpool(key: string, spool: Buffer, options: DayFoldOptions): DayFold {
    const fold = new DayFold(key, options, spool);
    fold.foldLines(0, spool.length);
    return fold;
  }

  /** The spool's bytes folded so far. */
  get length(): number {
    return this.spool?.length ?? this.lines.length;
  }

  /** Appends one spool line whose record (`src[start, end)`) the scan has just decoded to `event`. */
  addDecoded(hour: number, src: Uint8Array, start: number, end: number, event: ValidEvent): void {
    const s = this.lines.appendLine(hour, src, start, end);
    const e = this.lines.length - 1;
    const buf = this.lines.backing;
    this.seen.rebind(buf);
    if (this.isCopy(s, e)) return;
    this.fold(buf, s, e, event);
  }

  /** The lines appended since the last call: what the spool file does not hold yet. */
  unwritten(): Buffer {
    const bytes = this.lines.bytes.subarray(this.written);
    this.written = this.lines.length;
    return bytes;
  }

  /** A JSON archive's hourly objects: each hour's distinct lines, concatenated. */
  hourObjects(): { hour: number; lines: Buffer }[] {
    const buf = this.buffer;
    return [...this.hours].map(([hour, ranges]) => {
      const parts: Buffer[] = [];
      for (let i = 0; i < ranges.length; i += 2) parts.push(buf.subarray(ranges[i], ranges[i + 1]));
      return { hour, lines: Buffer.concat(parts) };
    });
  }

  private get buffer(): Buffer {
    return this.spool ?? this.lines.backing;
  }

  private foldLines(from: number, to: number): void {
    const buf = this.buffer;
    let s = from;
    while (s < to) {
      let e = buf.indexOf(0x0a, s);
      if (e < 0 || e >= to) e = to;
      if (!this.isCopy(s, e)) {
        const event = decodeRange(buf, s + SPOOL_HOUR_BYTES, e, this.options.arrivalMs, this.options.decode ?? {});
        // Spooled lines passed this exact check in the scan; a line that does not is a spool written by another version.
        if (!event.ok)
          throw new Error(
            `spool ${this.key} holds a record the core rejects (${event.reason}): delete the import's state directory`,
          );
        this.fold(buf, s, e, event);
      }
      s = e + 1;
    }
  }

  /** Whether the line `buf[s, e)` (its newline at `e`) is a byte-identical copy of one already folded; else remembers it. */
  private isCopy(s: number, e: number): boolean {
    const fp = this.seen.fingerprint(s, e);
    if (this.seen.has(fp, s, e)) {
      this.copiesDropped++;
      return true;
    }
    this.seen.add(fp, s, e);
    return false;
  }

  private fold(buf: Buffer, s: number, e: number, event: ValidEvent): void {
    this.archived++;
    if (this.options.keepHours) {
      const hour = (buf[s] - 0x30) * 10 + (buf[s + 1] - 0x30);
      let ranges = this.hours.get(hour);
      if (ranges === undefined) {
        ranges = [];
        this.hours.set(hour, ranges);
      }
      ranges.push(s + SPOOL_HOUR_BYTES, e + 1);
    }
    const from = this.options.aggregatesFromMs;
    if (from !== undefined && event.eventTimeMs < from) {
      this.eventsPastTtl++;
      return;
    }
    if (this.windows[deviceGroup(event.deviceId)].add(event) === 'overflow') {
      const record: RawRecord = {
        data: buf.toString('base64', s + SPOOL_HOUR_BYTES, e),
        arrivalMs: this.options.arrivalMs,
        sequenceNumber: String(s).padStart(15, '0'),
        partitionKey: this.profileName,
      };
      this.rejected.push({ record, reason: 'rate_exceeded' });
    }
  }
}

/** A device's window (FNV-1a of its id): the same device, the same window, in every run. */
function deviceGroup(deviceId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < deviceId.length; i++) h = Math.imul(h ^ deviceId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % FLUSH_GROUPS;
}

/**
 * The days folded during the scan, so that the publish merges them without reading their spools back
 * and parsing every record a second time. Only days whose whole spool this run writes qualify (a day
 * with bytes from an earlier run, which was killed, is folded from its spool at publish), and only
 * while their spool bytes stay within `budgetBytes`: past it the largest day is dropped and folded at
 * publish instead, so a year of history scans in bounded memory.
 */
export class ScanFolds {
  private readonly folds = new Map<string, DayFold | null>();

  constructor(
    private readonly options: DayFoldOptions,
    /** Whether a spool already has committed bytes (from an earlier run): then it is folded at publish. */
    private readonly hasBytes: (key: string) => boolean,
    private readonly budgetBytes = defaultScanFoldBudget(),
  ) {}

  /** The fold a day's lines go to, or undefined when the day is folded at publish. */
  fold(key: string): DayFold | undefined {
    let fold = this.folds.get(key);
    if (fold === undefined) {
      fold = this.budgetBytes > 0 && !this.hasBytes(key) ? new DayFold(key, this.options) : null;
      this.folds.set(key, fold);
    }
    return fold ?? undefined;
  }

  /** Hands each fold's lines not yet in its spool file to `append` (before a chunk is committed). */
  drain(append: (key: string, lines: Buffer) => void): void {
    for (const fold of this.folds.values()) {
      if (fold === null) continue;
      const lines = fold.unwritten();
      if (lines.length > 0) append(fold.key, lines);
    }
  }

  /** After a chunk: drops the largest days' folds while the folds hold more than the budget. */
  trim(): void {
    for (;;) {
      let total = 0;
      let largest: DayFold | undefined;
      for (const f of this.folds.values()) {
        if (f === null) continue;
        total += f.length;
        if (largest === undefined || f.length > largest.length) largest = f;
      }
      if (largest === undefined || total <= this.budgetBytes) return;
      this.folds.set(largest.key, null);
    }
  }

  /** Whether `key` has a complete fold for a spool of `length` bytes. */
  has(key: string, length: number): boolean {
    const fold = this.folds.get(key);
    return fold != null && fold.length === length;
  }

  /** Hands over the fold of `key` when it covers exactly its committed spool of `length` bytes (and forgets it). */
  take(key: string, length: number): DayFold | undefined {
    const fold = this.folds.get(key);
    this.folds.delete(key);
    return fold != null && fold.length === length ? fold : undefined;
  }
}

/**
 * Spool bytes the scan keeps folded: an eighth of the heap limit, at most 256 MiB. A day's window takes
 * about as much heap again as its spool lines, and the publish holds two days at once.
 */
function defaultScanFoldBudget(): number {
  return Math.min(256 << 20, Math.floor(getHeapStatistics().heap_size_limit / 8));
}
