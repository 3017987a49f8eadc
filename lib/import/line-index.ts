import { forEachLine } from './chunks';
import { LineSet } from './copies';

/**
 * An NDJSON chunk's lines as the scan's first step finds them: where each distinct line is, and where
 * each byte-identical copy of one is. Bytes only, no record parsed: the part of the scan a worker thread
 * does (lib/import/scan-worker.ts) while the import's thread validates the chunk before, so that the
 * core's decoder still runs once per distinct line, on one thread, and nothing but offsets crosses.
 */
export interface LineIndex {
  /** `[start, end)` of each distinct line (newline and a trailing CR excluded), in chunk order: `lineCount` pairs. */
  readonly lines: Uint32Array;
  readonly lineCount: number;
  /** Each later copy of a distinct line, in chunk order: the start of the line it copies, and its own start. */
  readonly copies: Uint32Array;
  readonly copyCount: number;
}

/** Finds the distinct lines of `chunk` and the copies of them (blank lines are neither). */
export function indexLines(chunk: Buffer): LineIndex {
  const seen = new LineSet(chunk);
  let lines: Uint32Array<ArrayBuffer> = new Uint32Array(1 << 16);
  let lineCount = 0;
  let copies: Uint32Array<ArrayBuffer> = new Uint32Array(1 << 16);
  let copyCount = 0;
  forEachLine(chunk, (s, e) => {
    const fp = seen.fingerprint(s, e);
    const first = seen.startOf(fp, s, e);
    if (first >= 0) {
      if (copyCount * 2 === copies.length) copies = grown(copies);
      copies[copyCount * 2] = first;
      copies[copyCount * 2 + 1] = s;
      copyCount++;
      return;
    }
    seen.add(fp, s, e);
    if (lineCount * 2 === lines.length) lines = grown(lines);
    lines[lineCount * 2] = s;
    lines[lineCount * 2 + 1] = e;
    lineCount++;
  });
  return { lines, lineCount, copies, copyCount };
}

function grown(a: Uint32Array): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(a.length * 2);
  b.set(a);
  return b;
}
