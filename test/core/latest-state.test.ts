import { EventWindow, flushWindow, type ValidEvent, validateParsed } from '../../lib/core';
import { MemoryStore } from '../support/memory-store';
import { panel, unicorn } from '../support/records';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const event = (payload: unknown, arrival = T0 + 48 * HOUR): ValidEvent => {
  const d = validateParsed(payload, arrival);
  if (!d.ok) throw new Error(d.reason);
  return d;
};

/** One flush window holding these readings. */
async function flush(store: MemoryStore, payloads: unknown[], deviceStateRefreshMs?: number) {
  const w = new EventWindow();
  for (const p of payloads) w.add(event(p));
  return flushWindow(w, store, { deviceStateRefreshMs });
}

describe('latest state in the newest aggregates item', () => {
  test('a panel reading every ~16 minutes costs one minute write; the listing row only on change or refresh', async () => {
    const store = new MemoryStore();
    // 24 hours of readings, one per 16 minutes, each in its own flush window (as in real time).
    const readings = Array.from({ length: 90 }, (_, i) => panel('P', T0 + i * 16 * MIN, i + 1));
    for (const r of readings) await flush(store, [r]);
    expect(store.writes).toBe(90);
    // The first reading, then every 6 hours of event time (default refresh): 0, 6:08, 12:16, 18:24.
    expect(store.stateWrites).toBe(4);
    // The aggregates' newest item is the exact latest state; the listing row is at most 6 hours old.
    expect(store.latest.get('P')).toMatchObject({ eventTimeMs: T0 + 89 * 16 * MIN, eventId: 90, status: 'OK' });
    expect(store.latest.get('P')?.reading).toMatchObject({ seq: 90, acPowerW: 245.3 });
    expect(store.deviceState.get('P')?.eventId).toBe(70);
  });

  test('a status change reaches the listing at once, and so does the change back', async () => {
    const store = new MemoryStore();
    await flush(store, [panel('P', T0, 1)]);
    await flush(store, [panel('P', T0 + 16 * MIN, 2)]);
    await flush(store, [panel('P', T0 + 32 * MIN, 3, { status: 'FAULT_ARC' })]);
    expect(store.deviceState.get('P')).toMatchObject({ eventId: 3, status: 'FAULT_ARC' });
    await flush(store, [panel('P', T0 + 48 * MIN, 4)]);
    expect(store.deviceState.get('P')).toMatchObject({ eventId: 4, status: 'OK' });
    expect(store.stateWrites).toBe(3);
  });

  test('refresh 0 rewrites the listing on every flush (the former behaviour)', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 5; i++) await flush(store, [panel('P', T0 + i * 16 * MIN, i + 1)], 0);
    expect(store.stateWrites).toBe(5);
    expect(store.deviceState.get('P')?.eventId).toBe(5);
  });

  test('a backlog after a day offline: all of it lands, the newest minute carries the newest reading', async () => {
    const store = new MemoryStore();
    await flush(store, [panel('P', T0, 1)]);
    const backlog = Array.from({ length: 288 }, (_, i) => panel('P', T0 + 24 * HOUR + i * 5 * MIN, i + 2));
    const result = await flush(store, backlog.reverse());
    expect(result).toMatchObject({ eventsAdded: 288, lateEvents: 0, aggregatesWritten: 288, deviceStatesWritten: 1 });
    expect(store.latest.get('P')).toMatchObject({ eventTimeMs: T0 + 24 * HOUR + 287 * 5 * MIN, eventId: 289 });
    // Only that one minute carries a reading: the other 287 items are metrics only.
    const carrying = [...store.minutes.values()].filter((m) => m.minute.latest !== undefined);
    expect(carrying.map((m) => m.minute.latest?.eventId).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([1, 289]);
  });

  test('an older window after a newer one leaves the latest state alone; a replay writes nothing', async () => {
    const store = new MemoryStore();
    await flush(store, [unicorn('A', T0 + 5000, { HealthPoints: 20 }), unicorn('A', T0 + 65_000)]);
    const writes = store.writes;
    const stateWrites = store.stateWrites;
    await flush(store, [unicorn('A', T0 + 5000, { HealthPoints: 20 }), unicorn('A', T0 + 65_000)]);
    expect([store.writes, store.stateWrites]).toEqual([writes, stateWrites]);
    await flush(store, [unicorn('A', T0 + 2000)]);
    expect(store.latest.get('A')).toMatchObject({ eventTimeMs: T0 + 65_000 });
    expect(store.deviceState.get('A')?.eventTimeMs).toBe(T0 + 65_000);
    expect(store.stateWrites).toBe(stateWrites);
  });
});

describe('one device id, one profile', () => {
  test('a unicorn and a panel of the same id in one window: the first seen keeps the id, the other is set aside', async () => {
    const store = new MemoryStore();
    const result = await flush(store, [unicorn('X', T0), panel('X', T0 + 20_000, 1), panel('X', T0 + 16 * MIN, 2)]);
    expect(result.profileConflicts).toEqual([{ deviceId: 'X', profile: 'solar', heldBy: 'unicorn', events: 2 }]);
    expect(result).toMatchObject({ eventsAdded: 1, aggregatesWritten: 1, devicesUpdated: 1 });
    expect(Object.keys(store.snapshot())).toEqual([`X|${new Date(T0).toISOString()}`]);
    expect(store.deviceState.get('X')?.status).toBe(store.latest.get('X')?.status);
  });

  test("a later window's panel named like a stored unicorn is set aside, even alone in its window", async () => {
    const store = new MemoryStore();
    await flush(store, [unicorn('X', T0)]);
    const before = store.snapshot();
    const result = await flush(store, [panel('X', T0 + 5_000, 1)]);
    expect(result.profileConflicts).toEqual([{ deviceId: 'X', profile: 'solar', heldBy: 'unicorn', events: 1 }]);
    expect(result.aggregatesWritten).toBe(0);
    expect(store.snapshot()).toEqual(before);
    // The unicorn keeps aggregating as before.
    expect((await flush(store, [unicorn('X', T0 + 2 * MIN)])).profileConflicts).toEqual([]);
  });
});
