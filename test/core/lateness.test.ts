import {
  type AggregateStore,
  EventWindow,
  emptyCounts,
  flushWindow,
  ingestScreened,
  type MinuteRef,
  type RawRecord,
} from '../../lib/core';
import { MemoryStore } from '../support/memory-store';
import { panel, rawRecord, unicorn } from '../support/records';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const MIN = 60_000;
const LATENESS = { allowedLatenessMs: 10 * MIN };

/** Counts the store's reads, to show what the screen costs. */
class CountingStore extends MemoryStore {
  watermarkReads = 0;
  minuteReads = 0;
  consistentMinuteReads = 0;
  override async getWatermarks(deviceIds: readonly string[]) {
    this.watermarkReads += deviceIds.length;
    return super.getWatermarks(deviceIds);
  }
  /** The flush's read of each device's newest item: its watermark. */
  override async getNewest(deviceIds: readonly string[]) {
    this.watermarkReads += deviceIds.length;
    return super.getNewest(deviceIds);
  }
  override async getMinutes(refs: readonly MinuteRef[], consistent = false) {
    this.minuteReads += refs.length;
    if (consistent) this.consistentMinuteReads += refs.length;
    return super.getMinutes(refs);
  }
}

/** One window: screen and ingest `records`, then flush it as the Lambda does at the window's end. */
async function runWindow(store: AggregateStore, records: RawRecord[]) {
  const window = new EventWindow();
  const counts = emptyCounts();
  const rejected = await ingestScreened(records, window, counts, store, LATENESS);
  const flush = await flushWindow(window, store, LATENESS);
  return { counts, rejected, flush };
}

describe('lateness screen (too_late)', () => {
  test('a late record whose event is not stored is quarantined as too_late; the rest of the batch lands', async () => {
    const store = new CountingStore();
    const now = T0 + 30 * MIN;
    await runWindow(store, [rawRecord(unicorn('A', now), now)]); // watermark of A: T0 + 30 min
    const late = rawRecord(unicorn('A', T0 + 19 * MIN), now + 1000); // its minute ended 10 min before the watermark
    const inTime = rawRecord(unicorn('A', T0 + 25 * MIN), now + 1000);
    const otherDevice = rawRecord(unicorn('B', T0), now + 1000); // no watermark yet: a backlog, kept
    const bad = rawRecord('{"Name":', now + 1000);
    const { counts, rejected, flush } = await runWindow(store, [late, inTime, bad, otherDevice, late]);

    expect(rejected.map((r) => [r.record.sequenceNumber, r.reason])).toEqual([
      [late.sequenceNumber, 'too_late'],
      [bad.sequenceNumber, 'invalid_json'],
      [late.sequenceNumber, 'too_late'], // each late record is quarantined, like any other rejected record
    ]);
    expect(counts).toMatchObject({ recordsIn: 5, added: 2, invalid: 3, lateCopies: 0 });
    expect(counts.invalidByReason).toEqual({ too_late: 2, invalid_json: 1 });
    expect(flush.lateEvents).toBe(0);
    expect(Object.keys(store.snapshot()).sort()).toEqual([
      'A|2026-11-22T10:25:00.000Z',
      'A|2026-11-22T10:30:00.000Z',
      'B|2026-11-22T10:00:00.000Z',
    ]);
    // The closed minute was read once, consistently, to tell an uncounted event from a copy.
    expect(store.consistentMinuteReads).toBe(1);
  });

  test('a late copy of an event the aggregates hold stays a counter (lateCopies), not a quarantine line', async () => {
    const store = new MemoryStore();
    const early = rawRecord(panel('P', T0, 1), T0 + MIN);
    await runWindow(store, [early]);
    await runWindow(store, [rawRecord(panel('P', T0 + 40 * MIN, 2), T0 + 40 * MIN)]);
    // The firmware's copy of seq 1, 45 minutes later: its minute is closed and already holds it.
    const copy = { ...early, arrivalMs: T0 + 45 * MIN, sequenceNumber: '99' };
    const { counts, rejected } = await runWindow(store, [copy]);
    expect(rejected).toEqual([]);
    expect(counts).toMatchObject({ lateCopies: 1, invalid: 0, added: 0 });
  });

  test('real-time records cost no read at all; a backlog costs one watermark read per device and batch', async () => {
    const store = new CountingStore();
    const realTime = Array.from({ length: 50 }, (_, i) =>
      rawRecord(unicorn(`U${i % 5}`, T0 + i * 1000), T0 + i * 1000 + 2000),
    );
    await runWindow(store, realTime);
    expect(store.watermarkReads).toBe(5); // the flush's own newest-item reads, as before
    expect(store.minuteReads).toBe(0); // new devices: no stored minute can exist, none is read

    const fresh = new CountingStore();
    const now = T0 + 86_400_000;
    // A panel back from a day offline uploads its backlog: nothing of it is late (the watermark is a day old).
    const backlog = Array.from({ length: 288 }, (_, i) => rawRecord(panel('P', T0 + i * 300_000, i), now));
    const { rejected, counts } = await runWindow(fresh, backlog);
    expect(rejected).toEqual([]);
    expect(counts.added).toBe(288);
    expect(fresh.watermarkReads).toBe(1 + 1); // the screen's, and the flush's
    expect(fresh.consistentMinuteReads).toBe(0);
  });

  test('a clock that was never set (1970) is timestamp_too_old for a new device and for a known one', async () => {
    const store = new MemoryStore();
    await runWindow(store, [rawRecord(unicorn('A', T0), T0)]);
    const { rejected } = await runWindow(store, [
      rawRecord(unicorn('A', 7_000), T0 + 1000),
      rawRecord(unicorn('New', 7_000), T0 + 1000),
    ]);
    expect(rejected.map((r) => r.reason)).toEqual(['timestamp_too_old', 'timestamp_too_old']);
    expect(Object.keys(store.snapshot())).toEqual(['A|2026-11-22T10:00:00.000Z']);
  });
});
