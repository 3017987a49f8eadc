/**
 * The distinct lines of one buffer, byte for byte, found without making a string per line. Nine of
 * ten records of a retry-bug export are copies, so this check runs on every record: a `Set<string>`
 * of the lines cost a string allocation per record and a third of the scan in garbage collection.
 * Here a line is a `[start, end)` range of the buffer, keyed by a 32-bit fingerprint of its bytes in
 * an open-addressing table of typed arrays; a fingerprint match is confirmed by comparing the bytes
 * (native `Buffer.compare`), so a shared fingerprint costs a comparison, never a wrong answer.
 * No library offers a byte-range set over one buffer; this is the smallest one that does the job.
 */
export class LineSet {
  private capacity = 1 << 14;
  private mask = this.capacity - 1;
  private fingerprints = new Int32Array(this.capacity);
  /** start + 1 of the line in the slot (0: empty); ends[i] its end. Offsets fit a 4 GiB buffer. */
  private starts = new Uint32Array(this.capacity);
  private ends = new Uint32Array(this.capacity);
  private count = 0;
  private view: DataView;

  constructor(private buf: Buffer) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /**
   * Continues over `buf`, a buffer holding the same bytes at the same offsets and more after them (a
   * growing spool that moved to a larger buffer): the lines in the set stay valid.
   */
  rebind(buf: Buffer): void {
    if (buf === this.buf) return;
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get size(): number {
    return this.count;
  }

  /** A well-mixed fingerprint of `buf[start, end)`, four bytes at a time. */
  fingerprint(start: number, end: number): number {
    const v = this.view;
    let h = (end - start) | 0;
    let i = start;
    for (; i + 4 <= end; i += 4) {
      h = Math.imul(h ^ v.getInt32(i, true), 0x9e3779b1);
      h ^= h >>> 15;
    }
    for (; i < end; i++) {
      h = Math.imul(h ^ this.buf[i], 0x85ebca6b);
      h ^= h >>> 13;
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    return h ^ (h >>> 13);
  }

  /** Whether the bytes of `buf[start, end)` (fingerprint `fp`) are already in the set. */
  has(fp: number, start: number, end: number): boolean {
    return this.find(fp, start, end) >= 0;
  }

  /** The start of the line in the set with the bytes of `buf[start, end)` (fingerprint `fp`), or -1. */
  startOf(fp: number, start: number, end: number): number {
    const i = this.find(fp, start, end);
    return i < 0 ? -1 : this.starts[i] - 1;
  }

  /** Adds `buf[start, end)`; call only after `has` said no. */
  add(fp: number, start: number, end: number): void {
    if (this.count * 2 >= this.capacity) this.grow();
    let i = fp & this.mask;
    while (this.starts[i] !== 0) i = (i + 1) & this.mask;
    this.fingerprints[i] = fp;
    this.starts[i] = start + 1;
    this.ends[i] = end;
    this.count++;
  }

  private find(fp: number, start: number, end: number): number {
    const length = end - start;
    for (let i = fp & this.mask; this.starts[i] !== 0; i = (i + 1) & this.mask) {
      if (this.fingerprints[i] !== fp) continue;
      const s = this.starts[i] - 1;
      const e = this.ends[i];
      if (e - s === length && this.buf.compare(this.buf, s, e, start, end) === 0) return i;
    }
    return -1;
  }

  private grow(): void {
    const { fingerprints, starts, ends } = this;
    this.capacity *= 2;
    this.mask = this.capacity - 1;
    this.fingerprints = new Int32Array(this.capacity);
    this.starts = new Uint32Array(this.capacity);
    this.ends = new Uint32Array(this.capacity);
    for (let j = 0; j < starts.length; j++) {
      if (starts[j] === 0) continue;
      let i = fingerprints[j] & this.mask;
      while (this.starts[i] !== 0) i = (i + 1) & this.mask;
      this.fingerprints[i] = fingerprints[j];
      this.starts[i] = starts[j];
      this.ends[i] = ends[j];
    }
  }
}
