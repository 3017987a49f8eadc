import { indexLines } from '../../lib/import/line-index';
import { scanChunk, scanIndexed } from '../../lib/import/scan';
import { BAD_LINES, history, ndjson } from './fixtures';

/**
 * The scan in two steps (the line index, which a worker builds, then the validation) must give what a
 * line-by-line scan gives: a copy of a valid line dropped unparsed, a copy of a rejected line rejected
 * again at its own offset, the rejects in chunk order, the spool lines in chunk order.
 */
describe('scan: line index, then validation', () => {
  const ARRIVAL = Date.parse('2026-06-03T00:00:00.000Z');
  const good = history(1, 2)
    .filter((l) => l.includes('panelId'))
    .slice(0, 40);
  const lines = [good[0], BAD_LINES[0], good[1], good[0], '', BAD_LINES[0], '  ', ...good.slice(2), BAD_LINES[1]];
  lines.push(BAD_LINES[1], good[5], `${good[6]}\r`, good[6]);
  const chunk = ndjson(lines);
  const START = 1_000;

  const scan = (indexed: boolean) => {
    const spooled: string[] = [];
    const ctx = { arrivalMs: ARRIVAL, source: 'a.ndjson' };
    const sink = (_key: string, _hour: number, src: Buffer, s: number, e: number) =>
      spooled.push(src.toString('utf8', s, e));
    const result = indexed
      ? scanIndexed(chunk, START, indexLines(chunk), ctx, sink)
      : scanChunk(chunk, START, ctx, sink);
    return { ...result, spooled };
  };

  it('counts, drops and rejects line by line', () => {
    const { counts, rejected, spooled } = scan(false);
    expect(counts.records).toBe(lines.filter((l) => l.trim() !== '').length);
    // good[0] once, good[5] once, good[6] twice (a trailing CR is not part of the line).
    expect(counts.copiesDropped).toBe(4);
    expect(counts.invalid).toBe(4);
    expect(spooled).toEqual(good);
    const offsetOf = (i: number) =>
      START +
      Buffer.byteLength(
        lines
          .slice(0, i)
          .map((l) => `${l}\n`)
          .join(''),
      );
    const bad = lines.flatMap((l, i) => (BAD_LINES.includes(l) ? [i] : []));
    expect(rejected.map((r) => Number(r.record.sequenceNumber))).toEqual(bad.map(offsetOf));
    expect(rejected.map((r) => Buffer.from(r.record.data, 'base64').toString())).toEqual(bad.map((i) => lines[i]));
    expect(rejected.map((r) => r.reason)).toEqual([
      'invalid_json',
      'invalid_json',
      'unknown_profile',
      'unknown_profile',
    ]);
  });

  it('a worker-built index gives the same', () => {
    expect(scan(true)).toEqual(scan(false));
  });
});
