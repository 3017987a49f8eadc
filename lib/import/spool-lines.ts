/**
 * The spool's line layout, one definition: the event-time hour as SPOOL_HOUR_BYTES ASCII digits
 * (`00`..`23`, so the archive writer partitions by hour without parsing timestamps again), the
 * record's bytes, a newline.
 */
export const SPOOL_HOUR_BYTES = 2;

const NEWLINE = 0x0a;
const ZERO = 0x30;

/**
 * A growable buffer of spool lines. Lines are copied in (one native copy per record) rather than kept
 * as `subarray`s of their chunk: a Buffer object per line, listed and concatenated later, cost the scan
 * more in allocation and garbage collection than the copy. Owned memory (`allocUnsafeSlow`, never the
 * shared pool), so its `ArrayBuffer` can be transferred to another thread whole.
 */
export class SpoolLines {
  private buf: Buffer;
  private used = 0;

  constructor(initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  get length(): number {
    return this.used;
  }

  /** The lines so far; valid until the next append (which may move them to a larger buffer). */
  get bytes(): Buffer {
    return this.buf.subarray(0, this.used);
  }

  /** The buffer the lines live in: grows (is replaced) as lines are appended. */
  get backing(): Buffer {
    return this.buf;
  }

  /** Appends one line: `hour`'s digits, `src[start, end)` (a record, without its newline), a newline. Returns its offset. */
  appendLine(hour: number, src: Uint8Array, start: number, end: number): number {
    const at = this.used;
    this.reserve(SPOOL_HOUR_BYTES + end - start + 1);
    const buf = this.buf;
    buf[at] = ZERO + ((hour / 10) | 0);
    buf[at + 1] = ZERO + (hour % 10);
    buf.set(src.subarray(start, end), at + SPOOL_HOUR_BYTES);
    const nl = at + SPOOL_HOUR_BYTES + end - start;
    buf[nl] = NEWLINE;
    this.used = nl + 1;
    return at;
  }

  /** Appends lines already laid out (as a scan worker returns them). Returns their offset. */
  appendLines(lines: Uint8Array): number {
    const at = this.used;
    this.reserve(lines.length);
    this.buf.set(lines, at);
    this.used = at + lines.length;
    return at;
  }

  /** Forgets the lines, keeping the memory for the next ones. */
  clear(): void {
    this.used = 0;
  }

  private reserve(n: number): void {
    if (this.used + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.used + n));
    this.buf.copy(grown, 0, 0, this.used);
    this.buf = grown;
  }
}
