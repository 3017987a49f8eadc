import { type FileHandle, open } from 'node:fs/promises';
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
 *
 * The stream's pieces are copied into one buffer that is reused from chunk to chunk (a fresh 64 MiB
 * buffer per chunk cost more in page faults than the scan of its lines): a chunk's bytes are valid
 * until the next chunk is asked for, so a consumer copies what it keeps.
 */
export function chunkLines(stream: Readable, start: number, chunkBytes: number): ChunkStream {
  let failure: Error | undefined;
  async function* gen(): AsyncGenerator<Chunk> {
    let arena = Buffer.allocUnsafeSlow(chunkBytes + (4 << 20));
    let length = 0;
    let offset = start;
    /** The first cut at or after chunkBytes, or -1 while the arena holds less than one chunk. */
    const nextCut = () => (length >= chunkBytes ? arena.subarray(0, length).indexOf(0x0a, chunkBytes - 1) : -1);
    const drop = (n: number) => {
      arena.copyWithin(0, n, length);
      length -= n;
      offset += n;
    };
    try {
      for await (const data of stream as AsyncIterable<Buffer>) {
        if (length + data.length > arena.length) {
          const grown = Buffer.allocUnsafeSlow(Math.max(arena.length * 2, length + data.length));
          arena.copy(grown, 0, 0, length);
          arena = grown;
        }
        data.copy(arena, length);
        length += data.length;
        for (let nl = nextCut(); nl >= 0; nl = nextCut()) {
          yield { start: offset, bytes: arena.subarray(0, nl + 1) };
          drop(nl + 1);
        }
      }
    } catch (err) {
      failure = err as Error;
    }
    for (let nl = nextCut(); nl >= 0; nl = nextCut()) {
      yield { start: offset, bytes: arena.subarray(0, nl + 1) };
      drop(nl + 1);
    }
    if (length > 0) yield { start: offset, bytes: arena.subarray(0, length) };
  }
  return { chunks: gen(), error: () => failure };
}

/** Bytes read past a chunk's nominal size to find its last newline (a record is at most a few KB). */
const CUT_SLACK = 1 << 20;

/**
 * The chunks of a local, uncompressed file, cut exactly as `chunkLines` cuts the same bytes, read with
 * positioned reads straight into buffers from `buffer(minBytes)`, one chunk ahead of the consumer: the
 * next chunk is read (on libuv's threads) while this one is scanned, and no byte is copied on the way
 * (a stream's pieces had to be copied into the chunk; that copy and the waits for the next piece took
 * a tenth of the scan). With `alternatingBuffers`, a chunk's bytes are valid until the next chunk is
 * asked for (as with `chunkLines`); a `buffer` that hands out fresh buffers gives them to the consumer.
 */
export function chunkFile(
  path: string,
  start: number,
  chunkBytes: number,
  buffer: (minBytes: number) => Buffer,
  onBytes?: (n: number) => void,
): ChunkStream {
  let failure: Error | undefined;
  async function* gen(): AsyncGenerator<Chunk> {
    let file: FileHandle;
    try {
      file = await open(path, 'r');
    } catch (err) {
      failure = err as Error; // as a stream reports it: the file ends (here before its first byte) on a read error
      return;
    }
    /** Reads the chunk starting at `at`: its bytes (empty at the end of the file). */
    const readChunk = async (at: number): Promise<Buffer> => {
      let limit = chunkBytes + CUT_SLACK;
      let buf = buffer(limit);
      let length = 0;
      for (;;) {
        if (buf.length < limit) {
          // A line longer than the slack: rare enough for a fresh buffer (the one given may be in use).
          const grown = Buffer.allocUnsafeSlow(limit);
          buf.copy(grown, 0, 0, length);
          buf = grown;
        }
        const want = limit - length;
        const from = length;
        const { bytesRead } = await file.read(buf, length, want, at + length);
        length += bytesRead;
        if (length >= chunkBytes) {
          // Bytes read past the cut are read again as the next chunk's first (a megabyte at most).
          const nl = buf.subarray(0, length).indexOf(0x0a, Math.max(chunkBytes - 1, from));
          if (nl >= 0) return buf.subarray(0, nl + 1);
        }
        if (bytesRead < want) return buf.subarray(0, length); // the end of the file
        limit *= 2;
      }
    };
    let next: Promise<Buffer> | undefined;
    try {
      let offset = start;
      next = readChunk(offset);
      for (;;) {
        const bytes = await next;
        next = undefined;
        if (bytes.length === 0) break;
        const at = offset;
        offset += bytes.length;
        next = readChunk(offset);
        next.catch(() => {}); // awaited on the next turn
        onBytes?.(bytes.length);
        yield { start: at, bytes };
      }
    } catch (err) {
      failure = err as Error;
    } finally {
      await next?.catch(() => {});
      await file.close();
    }
  }
  return { chunks: gen(), error: () => failure };
}

/** Two buffers used in turn: a chunk is scanned in one while the next is read into the other. */
export function alternatingBuffers(): (minBytes: number) => Buffer {
  const buffers: Buffer[] = [];
  let turn = 0;
  return (minBytes) => {
    turn ^= 1;
    if ((buffers[turn]?.length ?? 0) < minBytes) buffers[turn] = Buffer.allocUnsafeSlow(minBytes);
    return buffers[turn];
  };
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
