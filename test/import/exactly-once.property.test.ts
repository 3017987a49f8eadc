import fc from 'fast-check';
import { EventWindow, emptyCounts, flushWindow, ingestScreened } from '../../lib/core';
import { type ObjectSink, publishDay } from '../../lib/import/publish';
import { scanChunk } from '../../lib/import/scan';
import { SpoolLines } from '../../lib/import/spool-lines';
import { MemoryStore } from '../support/memory-store';
import { rawRecord } from '../support/records';
import { history } from './fixtures';

/**
 * The import and the live pipeline share one merge, so any mix of them over the same events must give
 * the aggregates of the deduplicated events, exactly (same bits): import chunks (the scan and publish
 * code, copies included), replays of chunks (a resumed import), and live-pipeline windows (the
 * aggregator's ingest and flush) in any order. The import covers every event at least once, as it
 * does for a history; live windows see arbitrary subsets, and their late minutes are the import's.
 */
const ALL = history(1, 3);
// A unicorn minute holds 60 events and panels one: both merge shapes, over a few hours.
const POOL = [
  ...ALL.filter((l) => l.includes('panelId')).slice(0, 40),
  ...ALL.filter((l) => l.includes('"Name"')).slice(0, 90),
];
const ARRIVAL = Date.parse('2026-06-02T00:00:00.000Z');

const archive: ObjectSink = { put: async () => {} };
const quarantine = { client: undefined as never, bucket: 'unused' };

async function importChunk(store: MemoryStore, lines: readonly string[]): Promise<void> {
  const spools = new Map<string, SpoolLines>();
  const scan = scanChunk(
    Buffer.from(`${lines.join('\n')}\n`),
    0,
    { arrivalMs: ARRIVAL, source: 'p' },
    (k, hour, src, start, end) => {
      if (!spools.has(k)) spools.set(k, new SpoolLines());
      spools.get(k)?.appendLine(hour, src, start, end);
    },
  );
  expect(scan.rejected).toEqual([]);
  for (const [key, spool] of spools) {
    await publishDay(key, spool.bytes, {
      importId: 'p',
      arrivalMs: ARRIVAL,
      store,
      archive,
      format: 'json',
      quarantine,
    });
  }
}

async function liveWindow(store: MemoryStore, lines: readonly string[]): Promise<void> {
  const window = new EventWindow();
  const records = lines.map((l) => rawRecord(l, ARRIVAL));
  await ingestScreened(records, window, emptyCounts(), store);
  if (window.minuteCount > 0) await flushWindow(window, store);
}

const indices = fc.array(fc.integer({ min: 0, max: POOL.length - 1 }), { maxLength: 60 });
const op = fc.record({ kind: fc.constantFrom('import' as const, 'live' as const, 'replay' as const), events: indices });

describe('import + live pipeline: exactly once in any interleaving', () => {
  let expected: MemoryStore;
  beforeAll(async () => {
    expected = new MemoryStore();
    const window = new EventWindow();
    await ingestScreened(
      POOL.map((l) => rawRecord(l, ARRIVAL)),
      window,
      emptyCounts(),
      expected,
    );
    await flushWindow(window, expected, { allowedLatenessMs: Number.POSITIVE_INFINITY });
  });

  it('gives the aggregates of the deduplicated events, bit for bit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 8 }),
        fc.shuffledSubarray(
          POOL.map((_, i) => i),
          { minLength: POOL.length },
        ),
        fc.integer({ min: 1, max: 6 }),
        async (ops, order, parts) => {
          const store = new MemoryStore();
          const done: string[][] = [];
          const run = async (kind: 'import' | 'live', lines: string[]) => {
            if (kind === 'import') await importChunk(store, lines);
            else await liveWindow(store, lines);
          };
          // The history's chunks, in a random order, each event in one of them with copies in others.
          const chunks: string[][] = Array.from({ length: parts }, () => []);
          order.forEach((idx, i) => {
            chunks[i % parts].push(POOL[idx]);
            if (i % 3 === 0) chunks[(i + 1) % parts].push(POOL[idx]);
          });
          const steps: (() => Promise<void>)[] = [];
          for (const o of ops) {
            const lines = o.events.map((i) => POOL[i]);
            if (o.kind === 'replay') {
              steps.push(async () => {
                const again = done[o.events.length % Math.max(1, done.length)];
                if (again) await importChunk(store, again);
              });
            } else {
              steps.push(async () => {
                await run(o.kind as 'import' | 'live', lines);
                if (o.kind === 'import') done.push(lines);
              });
            }
          }
          chunks.forEach((c, i) => {
            steps.splice(Math.min(steps.length, i * 2), 0, async () => {
              await importChunk(store, c);
              done.push(c);
            });
          });
          for (const step of steps) await step();
          expect(store.snapshot()).toEqual(expected.snapshot());
          expect(new Map(store.latest)).toEqual(new Map(expected.latest));
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);
});
