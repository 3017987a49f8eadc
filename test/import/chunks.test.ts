import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { alternatingBuffers, type ChunkStream, chunkFile, chunkLines } from '../../lib/import/chunks';

/** The direct file reader must cut a file exactly where the stream reader does: a resumed import cuts the same chunks. */
describe('chunkFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-chunks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cuts = async ({ chunks }: ChunkStream) => {
    const out: [number, string][] = [];
    for await (const c of chunks) out.push([c.start, c.bytes.toString('latin1')]); // copied: the bytes are reused
    return out;
  };
  const lines = Array.from({ length: 400 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat((i * 37) % 300)}"}`);
  // A line longer than the reader's slack past the nominal chunk size (1 MiB): the chunk grows to hold it.
  const long = `{"long":"${'y'.repeat(1_200_000)}"}`;

  it.each([
    ['lines ending in a newline', `${lines.join('\n')}\n`, 1000, 0],
    ['no newline at the end', lines.join('\n'), 777, 0],
    ['resumed past the start', `${lines.join('\n')}\n`, 4096, 5000],
    ['chunks smaller than a line', `${lines.join('\n')}\n`, 1, 0],
    ['a line longer than the slack', `${lines.slice(0, 50).join('\n')}\n${long}\n${lines.join('\n')}\n`, 3000, 0],
    ['one chunk for the whole file', `${lines.join('\n')}\n`, 1 << 30, 0],
  ])('cuts %s as chunkLines does', async (_name, text, chunkBytes, start) => {
    const path = join(dir, `f-${chunkBytes}-${start}.ndjson`);
    writeFileSync(path, text);
    const body = Buffer.from(text);
    // A stream of small uneven pieces, as a network or gunzip delivers them.
    const pieces = Array.from({ length: Math.ceil((body.length - start) / 999) }, (_, i) =>
      body.subarray(start + i * 999, Math.min(body.length, start + (i + 1) * 999)),
    );
    const expected = await cuts(chunkLines(Readable.from(pieces), start, chunkBytes));
    let counted = 0;
    const direct = chunkFile(path, start, chunkBytes, alternatingBuffers(), (n) => {
      counted += n;
    });
    expect(await cuts(direct)).toEqual(expected);
    expect(direct.error()).toBeUndefined();
    expect(counted).toBe(body.length - start);
  });

  it('ends a file it cannot read with the error, as the stream reader does', async () => {
    const missing = chunkFile(join(dir, 'missing.ndjson'), 0, 1000, alternatingBuffers());
    expect(await cuts(missing)).toEqual([]);
    expect(missing.error()?.message).toMatch(/ENOENT/);
  });
});
