import type { Readable } from 'node:stream';

/** A run of whole lines of one file: the unit the manifest records as done. */
export interface Chunk {
  /** Offset of the first byte in the (decompressed) file. */
  readonly start: number;
  /** Ends after a newline, except the file's last chunk when the file does not end with one. */
  readonly bytes: Buffer;
}

export interface ChunkStream {
  readonly chunks: AsyncIterable<Chunk>;
  /** Set once the stream ended on a read error (a truncated gzip, a dropped connection): the bytes before it were chunked. */
  readonly error: () => Error | undefined;
}

/**
 * Cuts a byte stream into chunks of at least `chunkBytes` ending at a newline. The cut points depend
 * only on the bytes and `start`, so a resumed import cuts the rest of the file exactly as an
 * uninterrupted one would: every chunk has the same start and end, and the quarantine object named
 * after a chunk is the same object.
 */
export function chunkLines(stream: Readable, start: number, chunkBytes: number): ChunkStream {
  let failure: Error | undefined;
  async function* gen(): AsyncGenerator<Chunk> {
    let parts: Buffer[] = [];
    let length = 0;
    let offset = start;
    const cut = function* (final: boolean): Generator<Chunk> {
      if (length === 0) return;
      const all = parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
      let from = 0;
      // Cut as many chunks as the buffer holds: each at the first newline at or after chunkBytes.
      while (all.length - from >= chunkBytes) {
        const nl = all.indexOf(0x0a, from + chunkBytes - 1);
        if (nl < 0) break;
        yield { start: offset, bytes: all.subarray(from, nl + 1) };
        offset += nl + 1 - from;
        from = nl + 1;
      }
      if (final && from < all.length) {
        yield { start: offset, bytes: all.subarray(from) };
        offset += all.length - from;
        from = all.length;
      }
      const rest = all.subarray(from);
      parts = rest.length > 0 ? [rest] : [];
      length = rest.length;
    };
    try {
      for await (const data of stream as AsyncIterable<Buffer>) {
        parts.push(data);
        length += data.length;
        if (length >= chunkBytes) yield* cut(false);
      }
    } catch (err) {
      failure = err as Error;
    }
    yield* cut(true);
  }
  return { chunks: gen(), error: () => failure };
}

/**
 * Calls `fn(start, end)` for each line of `buf` (without its `\n` or `\r\n`), skipping blank lines.
 * A plain loop over bytes: no per-line string or array is made here.
 */
export function forEachLine(buf: Buffer, fn: (start: number, end: number) => void): void {
  let s = 0;
  const n = buf.length;
  while (s < n) {
    let e = buf.indexOf(0x0a, s);
    if (e < 0) e = n;
    let end = e;
    if (end > s && buf[end - 1] === 0x0d) end--;
    if (end > s && !isBlank(buf, s, end)) fn(s, end);
    s = e + 1;
  }
}

function isBlank(buf: Buffer, s: number, e: number): boolean {
  // Only a line that starts with whitespace can be blank; records start with `{` or a CSV cell.
  const c = buf[s];
  if (c !== 0x20 && c !== 0x09) return false;
  for (let i = s; i < e; i++) if (buf[i] !== 0x20 && buf[i] !== 0x09) return false;
  return true;
}
