import fc from 'fast-check';
import {
  EventWindow,
  emptyCounts,
  encodeAggregate,
  flushWindow,
  ingestBatch,
  isMinuteClosed,
  type RawRecord,
  type ValidEvent,
  validateParsed,
  WindowStateError,
} from '../../lib/core';
import { MemoryStore } from '../support/memory-store';
import { panel, rawRecord, unicorn } from '../support/records';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const event = (payload: unknown, arrival = T0 + 3_600_000): ValidEvent => {
  const d = validateParsed(payload, arrival);
  if (!d.ok) throw new Error(d.reason);
  return d;
};

describe('EventWindow', () => {
  test('drops copies of an event inside the window and keeps the first', () => {
    const w = new EventWindow();
    expect(w.add(event(unicorn('A', T0 + 1000)))).toBe('added');
    expect(w.add(event(unicorn('A', T0 + 1000)))).toBe('duplicate');
    expect(w.add(event(unicorn('A', T0 + 2000)))).toBe('added');
    expect(w.eventCount).toBe(2);
  });

  test('thousands of devices and payloads: every copy is recognised, byte for byte or by event, and nothing is lost', () => {
    // Enough devices and payloads to grow the window's device index and copy cache many times over.
    const records = Array.from({ length: 6000 }, (_, i) =>
      rawRecord(i % 2 ? panel(`P${i % 3000}`, T0 + i, i) : unicorn(`U${i % 3000}`, T0 + i * 7), T0 + 3_600_000),
    );
    const w = new EventWindow();
    const counts = emptyCounts();
    expect(ingestBatch(records, w, counts)).toEqual([]);
    // Byte-identical copies, in another order, and the same events re-encoded with another key order.
    const reencoded = records.map((r) => {
      const obj = JSON.parse(Buffer.from(r.data, 'base64').toString('utf8'));
      const reordered = Object.fromEntries(Object.entries(obj).reverse());
      return rawRecord(reordered, r.arrivalMs);
    });
    expect(ingestBatch([...records].reverse(), w, counts)).toEqual([]);
    expect(ingestBatch(reencoded, w, counts)).toEqual([]);
    expect(counts).toMatchObject({ recordsIn: 18000, added: 6000, duplicatesInWindow: 12000, invalid: 0 });
    expect(w.eventCount).toBe(6000);
    expect([...w.devices()]).toHaveLength(3000); // 1,500 unicorns and 1,500 panels, two events each
  });

  test('the same StatusTime on two unicorns, or the same seq on two panels, are different events', () => {
    const w = new EventWindow();
    expect(w.add(event(unicorn('A', T0)))).toBe('added');
    expect(w.add(event(unicorn('B', T0)))).toBe('added');
    expect(w.add(event(panel('P1', T0, 7)))).toBe('added');
    expect(w.add(event(panel('P2', T0, 7)))).toBe('added');
  });

  test('caps distinct events per device-minute and reports the overflow', () => {
    const w = new EventWindow(3);
    for (let i = 0; i < 3; i++) expect(w.add(event(unicorn('A', T0 + i)))).toBe('added');
    expect(w.add(event(unicorn('A', T0 + 4)))).toBe('overflow');
    expect(w.add(event(unicorn('A', T0 + 60_000)))).toBe('added');
  });

  test('state survives a JSON round trip with the same minutes and latest readings', () => {
    const w = new EventWindow();
    for (let i = 0; i < 50; i++) w.add(event(unicorn(`U${i % 3}`, T0 + i * 7_001, { Distance: i / 3 })));
    for (let i = 0; i < 20; i++) w.add(event(panel(`P${i % 4}`, T0 + i * 60_000, i)));
    const restored = EventWindow.fromState(JSON.parse(JSON.stringify(w.toState())));
    expect(restored.toState()).toEqual(w.toState());
    expect([...restored.devices()]).toEqual([...w.devices()]);
    expect(restored.eventCount).toBe(w.eventCount);
  });

  test('a restored window still deduplicates against what it carried', () => {
    const w = new EventWindow();
    w.add(event(unicorn('A', T0 + 1000)));
    const restored = EventWindow.fromState(JSON.parse(JSON.stringify(w.toState())));
    expect(restored.add(event(unicorn('A', T0 + 1000)))).toBe('duplicate');
  });

  test('empty or absent state is an empty window; foreign state is an error, not a silent reset', () => {
    expect(EventWindow.fromState(undefined).eventCount).toBe(0);
    expect(EventWindow.fromState({}).eventCount).toBe(0);
    expect(() => EventWindow.fromState({ v: 99, p: {} })).toThrow(WindowStateError);
    expect(() => EventWindow.fromState({ '1': 282 })).toThrow(WindowStateError);
    expect(() => EventWindow.fromState({ v: 1, p: { dragon: [] } })).toThrow(/unknown profile dragon/);
  });

  test('the state size estimate is an upper bound of the serialised size', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 600_000 })), { maxLength: 300 }),
        (points) => {
          const w = new EventWindow();
          for (const [d, ms] of points) {
            w.add(event(unicorn(`unicorn-${d}`, T0 + ms, { Distance: 29.123456 + d, HealthPoints: 150 + d })));
            w.add(event(panel(`SP-${String(d).padStart(6, '0')}`, T0 + ms, ms)));
          }
          expect(JSON.stringify(w.toState()).length).toBeLessThanOrEqual(w.estimatedStateBytes);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('the estimate bounds the state in UTF-8 bytes, also for names of 64 emoji (4 bytes each)', () => {
    const w = new EventWindow();
    for (let d = 0; d < 20; d++) w.add(event(unicorn(`${'🦄'.repeat(63)}${d % 10}`, T0 + d)));
    expect(Buffer.byteLength(JSON.stringify(w.toState()))).toBeLessThanOrEqual(w.estimatedStateBytes);
  });

  test('a busy shard minute (1,000 unicorns × 60 s) stays under the 1 MB state limit only if flushed early', () => {
    const w = new EventWindow();
    for (let s = 0; s < 60; s++) for (let d = 0; d < 1000; d++) w.add(event(unicorn(`u${d}`, T0 + s * 1000)));
    // The handler flushes past 600 KB; this shows why it must.
    expect(w.estimatedStateBytes).toBeGreaterThan(1_000_000);
  });
});

describe('lateness', () => {
  test('a minute closes once the watermark passes its end by the allowed lateness', () => {
    const tenMinutes = 600_000;
    expect(isMinuteClosed(T0, undefined, tenMinutes)).toBe(false);
    expect(isMinuteClosed(T0, T0 + 60_000 + tenMinutes - 1, tenMinutes)).toBe(false);
    expect(isMinuteClosed(T0, T0 + 60_000 + tenMinutes, tenMinutes)).toBe(true);
  });

  test('late records are counted and kept out; records within the lateness still land in their minute', async () => {
    const store = new MemoryStore();
    const first = new EventWindow();
    first.add(event(unicorn('A', T0 + 30 * 60_000)));
    await flushWindow(first, store, { allowedLatenessMs: 600_000 });

    const second = new EventWindow();
    second.add(event(unicorn('A', T0 + 30 * 60_000 - 11 * 60_000))); // minute ended 10 min before the watermark
    second.add(event(unicorn('A', T0 + 30 * 60_000 - 5 * 60_000)));
    second.add(event(unicorn('B', T0))); // another device, no watermark yet
    const result = await flushWindow(second, store, { allowedLatenessMs: 600_000 });

    expect(result.lateEvents).toBe(1);
    expect(Object.keys(store.snapshot()).sort()).toEqual([
      'A|2026-11-22T10:25:00.000Z',
      'A|2026-11-22T10:30:00.000Z',
      'B|2026-11-22T10:00:00.000Z',
    ]);
  });

  test('a device back from a day offline keeps its whole backlog (lateness is judged on the old watermark)', async () => {
    const store = new MemoryStore();
    const before = new EventWindow();
    before.add(event(panel('P', T0, 1)));
    await flushWindow(before, store);
    const backlog = new EventWindow();
    for (let i = 0; i < 288; i++)
      backlog.add(event(panel('P', T0 + 86_400_000 + i * 300_000, 2 + i), T0 + 3 * 86_400_000));
    const result = await flushWindow(backlog, store);
    expect(result.lateEvents).toBe(0);
    expect(result.eventsAdded).toBe(288);
  });
});

describe('device state', () => {
  test('keeps the newest reading whatever the arrival order, with its derived status', async () => {
    const store = new MemoryStore();
    const w = new EventWindow();
    w.add(event(unicorn('A', T0 + 5000, { HealthPoints: 20 })));
    w.add(event(unicorn('A', T0 + 1000)));
    await flushWindow(w, store);
    const older = new EventWindow();
    older.add(event(unicorn('A', T0 + 2000)));
    await flushWindow(older, store);
    expect(store.latest.get('A')).toMatchObject({ eventTimeMs: T0 + 5000, status: 'LOW_HEALTH' });
    expect(store.latest.get('A')?.reading).toMatchObject({ HealthPoints: 20 });
  });
});

describe('ingestBatch', () => {
  test('a byte-identical copy is recognised by its bytes: next to its original, chunks later in the batch, a batch later', () => {
    const originals = Array.from({ length: 600 }, (_, i) => rawRecord(unicorn(`U${i}`, T0 + i), T0 + 1000));
    // Arriving an hour before their event time: read again, these copies would be timestamp_in_future.
    const early = (r: RawRecord) => ({ ...r, arrivalMs: T0 - 3_600_000, sequenceNumber: `${r.sequenceNumber}-copy` });
    const batch = [...originals];
    batch.splice(1, 0, early(originals[0]));
    // Chunks are 256 records: the first copy is a chunk after its original, the second in its chunk.
    batch.splice(400, 0, early(originals[5]), early(originals[299]));
    const w = new EventWindow();
    const counts = emptyCounts();
    expect(ingestBatch(batch, w, counts)).toEqual([]);
    expect(ingestBatch([early(originals[599])], w, counts)).toEqual([]);
    expect(counts).toMatchObject({ recordsIn: 604, added: 600, duplicatesInWindow: 4, invalid: 0 });
  });

  test('plain records after a batch of aggregates, and records too large between good ones, are each read for what they are', () => {
    const w = new EventWindow();
    const counts = emptyCounts();
    const aggregates = Array.from({ length: 300 }, (_, i) =>
      rawRecord(encodeAggregate([{ partitionKey: 'A', data: Buffer.from(JSON.stringify(unicorn(`A${i}`, T0))) }]), T0),
    );
    ingestBatch(aggregates, w, counts);
    const big = rawRecord({ ...unicorn('B', T0), pad: 'x'.repeat(9000) }, T0);
    const plain = Array.from({ length: 300 }, (_, i) => (i % 100 === 50 ? big : rawRecord(unicorn(`P${i}`, T0), T0)));
    expect(ingestBatch(plain, w, counts).map((r) => r.reason)).toEqual(['too_large', 'too_large', 'too_large']);
    expect(counts).toMatchObject({ recordsIn: 600, aggregatesIn: 300, added: 597, invalid: 3 });
  });

  test('counts every record once: added, duplicate or invalid by reason family', () => {
    const counts = emptyCounts();
    const rejected = ingestBatch(
      [
        rawRecord(unicorn('A', T0), T0),
        rawRecord(unicorn('A', T0), T0),
        rawRecord('{bad json', T0),
        rawRecord({ ...unicorn('A', T0), Latitude: 'north' }, T0),
        rawRecord({ hello: 'world' }, T0),
      ],
      new EventWindow(),
      counts,
    );
    expect(counts).toEqual({
      recordsIn: 5,
      aggregatesIn: 0,
      added: 1,
      duplicatesInWindow: 1,
      invalid: 3,
      invalidByReason: { invalid_json: 1, wrong_type: 1, unknown_profile: 1 },
      lateCopies: 0,
    });
    expect(rejected.map((r) => r.reason)).toEqual(['invalid_json', 'wrong_type:Latitude', 'unknown_profile']);
  });
});
