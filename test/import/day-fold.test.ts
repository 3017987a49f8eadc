import { DayFold, type DayFoldOptions } from '../../lib/import/day-fold';
import { scanChunk } from '../../lib/import/scan';
import { SpoolLines } from '../../lib/import/spool-lines';
import { history, ndjson, withCopies } from './fixtures';

/**
 * A day folded while it is scanned (the scan's decoded events) must equal the
 * same day folded from its spool at publish (a resumed import, or a day past the scan's memory budget):
 * the same window, counts and quarantine lines, so the archive and the aggregates do not depend on the path.
 */
describe('DayFold: folded during the scan or from the spool, the same', () => {
  const ARRIVAL = Date.parse('2026-06-03T00:00:00.000Z');
  const base = history(1, 6).filter((l) => l.includes('panelId'));
  // One device-minute over the 1,200-event cap: rate_exceeded rejects, and copies of them in later chunks.
  const template = JSON.parse(base[0]) as Record<string, unknown>;
  const crowded = Array.from({ length: 1_210 }, (_, i) =>
    JSON.stringify({
      ...template,
      panelId: 'SP-CROWD',
      ts: `2026-06-01T05:07:${String(i % 60).padStart(2, '0')}.${String(Math.floor(i / 60)).padStart(3, '0')}Z`,
      seq: i,
    }),
  );
  const lines = withCopies([...base, ...crowded, ...crowded.slice(1_195)]);
  const text = ndjson(lines);

  const scanned = (chunkBytes: number, options: DayFoldOptions) => {
    const folds = new Map<string, DayFold>();
    const spools = new Map<string, SpoolLines>();
    for (let at = 0; at < text.length; ) {
      let end = text.indexOf(0x0a, Math.min(text.length - 1, at + chunkBytes - 1)) + 1;
      if (end === 0) end = text.length;
      const chunk = text.subarray(at, end);
      scanChunk(chunk, at, { arrivalMs: ARRIVAL, source: 't' }, (key, hour, src, s, e, event) => {
        if (!folds.has(key)) folds.set(key, new DayFold(key, options));
        folds.get(key)?.addDecoded(hour, src, s, e, event);
        if (!spools.has(key)) spools.set(key, new SpoolLines());
        spools.get(key)?.appendLine(hour, src, s, e);
      });
      at = end;
    }
    return { folds, spools };
  };
  const summary = (f: DayFold) => ({
    state: f.windows.map((w) => w.toState()),
    events: f.windows.reduce((n, w) => n + w.eventCount, 0),
    archived: f.archived,
    copiesDropped: f.copiesDropped,
    eventsPastTtl: f.eventsPastTtl,
    rejected: f.rejected,
    hours: f.hourObjects().map(({ hour, lines }) => [hour, lines.toString()]),
    length: f.length,
  });

  it.each([
    ['small chunks, a TTL cutoff', 2_000, Date.parse('2026-06-01T12:00:00.000Z')],
    ['large chunks, no cutoff', 1 << 20, undefined],
  ])('%s', (_name, chunkBytes, aggregatesFromMs) => {
    const options: DayFoldOptions = { arrivalMs: ARRIVAL, aggregatesFromMs, keepHours: true };
    const { folds, spools } = scanned(chunkBytes, options);
    expect(folds.size).toBeGreaterThan(0);
    let rejected = 0;
    for (const [key, fold] of folds) {
      const fromSpool = DayFold.ofSpool(key, spools.get(key)?.bytes as Buffer, options);
      expect(summary(fold)).toEqual(summary(fromSpool));
      rejected += fold.rejected.length;
    }
    // The 10 events over the cap are quarantined once each, their copies in later chunks dropped as copies.
    expect(rejected).toBe(aggregatesFromMs === undefined ? 10 : 0);
  });
});
