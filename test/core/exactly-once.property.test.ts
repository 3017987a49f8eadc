import fc from 'fast-check';
import {
  EventWindow,
  emptyCounts,
  flushWindow,
  ingestBatch,
  minuteStart,
  type RawRecord,
  SOLAR_STATUS_CODES,
} from '../../lib/core';
import { MemoryStore } from '../support/memory-store';
import { panel, rawRecord, unicorn } from '../support/records';

const BASE = Date.UTC(2026, 10, 22, 10, 0, 0);
/** Lateness far beyond the generated span: this property is about duplicates, not lateness. */
const NO_LATENESS = { allowedLatenessMs: 365 * 86_400_000 };
const fixed = (v: number) => Math.round(v * 1e6);

interface Event {
  readonly kind: 'unicorn' | 'solar';
  readonly device: number;
  readonly offsetMs: number;
  readonly seq: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly status: number;
}

const eventArb: fc.Arbitrary<Event> = fc.record({
  kind: fc.constantFrom('unicorn' as const, 'solar' as const),
  device: fc.integer({ min: 0, max: 3 }),
  offsetMs: fc.integer({ min: 0, max: 4 * 60_000 - 1 }),
  seq: fc.integer({ min: 0, max: 50 }),
  a: fc.double({ min: 0, max: 1000, noNaN: true, noDefaultInfinity: true }),
  b: fc.integer({ min: 0, max: 300 }),
  c: fc.integer({ min: 0, max: 300 }),
  status: fc.integer({ min: 0, max: SOLAR_STATUS_CODES.length - 1 }),
});

function toPayload(e: Event) {
  if (e.kind === 'unicorn') {
    return unicorn(`u${e.device}`, BASE + e.offsetMs, { Distance: e.a, HealthPoints: e.b, MagicPoints: e.c });
  }
  // A panel's sequence number fixes its reading: same seq, same payload (the firmware resends identical copies).
  return panel(`p${e.device}`, BASE + e.seq * 4_700, e.seq, {
    acPowerW: e.a,
    energyWh: e.b / 7,
    panelTempC: e.c / 5,
    status: SOLAR_STATUS_CODES[e.status],
  });
}

/** The brute-force reference: dedupe by the profiles' keys, then group by device and minute of event time. */
function reference(events: readonly Event[]): Record<string, Record<string, number>> {
  const unique = new Map<string, ReturnType<typeof toPayload>>();
  for (const e of events) {
    const p = toPayload(e);
    const key = 'Name' in p ? `${p.Name}|${p.StatusTime}` : `${p.panelId}|${p.seq}`;
    if (!unique.has(key)) unique.set(key, p);
  }
  const groups = new Map<string, ReturnType<typeof toPayload>[]>();
  for (const p of unique.values()) {
    const t = 'Name' in p ? Date.parse(`${p.StatusTime.replace(' ', 'T')}Z`) : Date.parse(p.ts);
    const key = `${'Name' in p ? p.Name : p.panelId}|${new Date(minuteStart(t)).toISOString()}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const out: Record<string, Record<string, number>> = {};
  for (const [key, ps] of groups) {
    if ('Name' in ps[0]) {
      const us = ps as ReturnType<typeof unicorn>[];
      out[key] = {
        RecordCount: us.length,
        Distance: us.reduce((s, u) => s + fixed(u.Distance), 0) / 1e6,
        MinMagicPoints: Math.min(...us.map((u) => u.MagicPoints)),
        MaxMagicPoints: Math.max(...us.map((u) => u.MagicPoints)),
        MinHealthPoints: Math.min(...us.map((u) => u.HealthPoints)),
        MaxHealthPoints: Math.max(...us.map((u) => u.HealthPoints)),
      };
    } else {
      const ss = ps as ReturnType<typeof panel>[];
      const sumPower = ss.reduce((s, p) => s + fixed(p.acPowerW), 0) / 1e6;
      out[key] = {
        RecordCount: ss.length,
        EnergyWh: ss.reduce((s, p) => s + fixed(p.energyWh), 0) / 1e6,
        SumPowerW: sumPower,
        MinPowerW: Math.min(...ss.map((p) => p.acPowerW)),
        MaxPowerW: Math.max(...ss.map((p) => p.acPowerW)),
        MaxPanelTempC: Math.max(...ss.map((p) => p.panelTempC)),
        FaultCount: ss.filter((p) => p.status !== 'OK').length,
        MeanPowerW: sumPower / ss.length,
      };
    }
  }
  return out;
}

/**
 * Delivery as Lambda might do it: records cut into batches, batches grouped into tumbling windows whose
 * state crosses a JSON round trip between invocations, some windows delivered again after they flushed
 * (a retried final invoke), some cut short (early termination flushes mid-window).
 */
const deliveryArb = fc.record({
  // Distinct dedup keys: devices resend identical payloads, so one key never carries two readings.
  events: fc.uniqueArray(eventArb, {
    minLength: 1,
    maxLength: 40,
    selector: (e) => (e.kind === 'unicorn' ? `u${e.device}|${e.offsetMs}` : `p${e.device}|${e.seq}`),
  }),
  copies: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 40, maxLength: 40 }),
  order: fc.array(fc.nat(), { minLength: 900, maxLength: 900 }),
  batchSizes: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 30 }),
  batchesPerWindow: fc.integer({ min: 1, max: 4 }),
  replayWindows: fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
  earlyFlush: fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
});

type Delivery = typeof deliveryArb extends fc.Arbitrary<infer T> ? T : never;

async function deliver(d: Delivery, store: MemoryStore): Promise<void> {
  const records: RawRecord[] = [];
  d.events.forEach((e, i) => {
    const payload = toPayload(e);
    for (let k = 0; k <= d.copies[i]; k++) records.push(rawRecord(payload, BASE + 10 * 60_000));
  });
  // Shuffle by the generated keys: any arrival order, copies spread anywhere.
  const keyed = records.map((r, i) => ({ r, k: d.order[i % d.order.length] * 1000 + i }));
  keyed.sort((x, y) => x.k - y.k);
  const shuffled = keyed.map((x) => x.r);
  const batches: RawRecord[][] = [];
  for (let i = 0, b = 0; i < shuffled.length; b++) {
    const size = d.batchSizes[b % d.batchSizes.length];
    batches.push(shuffled.slice(i, i + size));
    i += size;
  }
  for (let w = 0; w * d.batchesPerWindow < batches.length; w++) {
    const windowBatches = batches.slice(w * d.batchesPerWindow, (w + 1) * d.batchesPerWindow);
    const runWindow = async () => {
      let state: unknown = {};
      for (const [i, batch] of windowBatches.entries()) {
        let window = EventWindow.fromState(JSON.parse(JSON.stringify(state)));
        ingestBatch(batch, window, emptyCounts());
        if (d.earlyFlush[(w + i) % d.earlyFlush.length] && i < windowBatches.length - 1) {
          await flushWindow(window, store, NO_LATENESS);
          window = new EventWindow();
        }
        state = window.toState();
      }
      await flushWindow(EventWindow.fromState(state), store, NO_LATENESS);
    };
    await runWindow();
    if (d.replayWindows[w % d.replayWindows.length]) await runWindow();
  }
}

describe('exactly-once per device per minute', () => {
  test('aggregates equal the reference over the deduplicated events, whatever the delivery', async () => {
    await fc.assert(
      fc.asyncProperty(deliveryArb, async (d) => {
        const store = new MemoryStore();
        await deliver(d, store);
        expect(store.snapshot()).toEqual(reference(d.events));
      }),
      { numRuns: 4000 },
    );
  });

  test('a second full delivery of everything writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(deliveryArb, async (d) => {
        const store = new MemoryStore();
        await deliver(d, store);
        const before = store.snapshot();
        const writes = store.writes;
        await deliver(d, store);
        expect(store.writes).toBe(writes);
        expect(store.snapshot()).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });

  test('a concurrent writer (version conflicts) does not change the result', async () => {
    await fc.assert(
      fc.asyncProperty(deliveryArb, fc.integer({ min: 1, max: 4 }), async (d, every) => {
        const store = new MemoryStore();
        let calls = 0;
        store.interfere = () => ++calls % (every + 1) === 0;
        await deliver(d, store);
        expect(store.snapshot()).toEqual(reference(d.events));
      }),
      { numRuns: 300 },
    );
  });
});
