import fc from 'fast-check';
import {
  EventWindow,
  emptyCounts,
  encodeAggregate,
  flushWindow,
  type IngestOptions,
  ingestScreened,
  isMinuteClosed,
  minuteStart,
  type RawRecord,
  type RejectedRecord,
  SOLAR_STATUS_CODES,
  validateParsed,
} from '../../lib/core';
import { MemoryStore } from '../support/memory-store';
import { panel, rawRecord, unicorn } from '../support/records';

const BASE = Date.UTC(2026, 10, 22, 10, 0, 0);
/** Lateness far beyond the generated span: these properties are about duplicates, not lateness. */
const NO_LATENESS: IngestOptions = { allowedLatenessMs: 365 * 86_400_000 };
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
  /** Records arrive this far apart, in delivery order (Kinesis arrival times grow along a shard). */
  arrivalStepMs: fc.integer({ min: 0, max: 3_000 }),
  /**
   * KPL packing, cycled over the shuffled payloads: 0 or 1 sends the next payload as a plain record, k > 1
   * packs the next k into one aggregate (copies then sit inside and across aggregates, mixed with plain
   * records in one batch); `resend` repeats an aggregate byte for byte a record later (a retried PutRecords).
   */
  packing: fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 12 }),
  resend: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  /** Readings from a clock that was never set (1970), each sent 1–3 times: always timestamp_too_old. */
  unsetClock: fc.array(fc.record({ device: fc.integer({ min: 0, max: 3 }), offsetMs: fc.nat(86_400_000) }), {
    maxLength: 4,
  }),
});

type Delivery = typeof deliveryArb extends fc.Arbitrary<infer T> ? T : never;

/** Delivers everything; returns every record the core rejected (with replays: a retried batch rejects again). */
async function deliver(d: Delivery, store: MemoryStore, options: IngestOptions = NO_LATENESS) {
  const payloads: unknown[] = [];
  d.events.forEach((e, i) => {
    for (let k = 0; k <= d.copies[i]; k++) payloads.push(toPayload(e));
  });
  d.unsetClock.forEach((o, i) => {
    for (let k = 0; k <= i % 3; k++) payloads.push(unicorn(`u${o.device}`, o.offsetMs));
  });
  // Shuffle by the generated keys: any arrival order, copies spread anywhere.
  const keyed = payloads.map((p, i) => ({ p, k: d.order[i % d.order.length] * 1000 + i }));
  keyed.sort((x, y) => x.k - y.k);
  const start = BASE + 4 * 60_000; // no reading is then more than 5 minutes ahead of its arrival
  const shuffled: RawRecord[] = [];
  const arrival = () => start + shuffled.length * d.arrivalStepMs;
  for (let i = 0, n = 0; i < keyed.length; n++) {
    const size = d.packing[n % d.packing.length];
    if (size <= 1) {
      shuffled.push(rawRecord(keyed[i++].p, arrival()));
      continue;
    }
    const users = keyed.slice(i, i + size).map((x) => {
      const data = Buffer.from(JSON.stringify(x.p));
      return { partitionKey: 'Name' in (x.p as object) ? 'unicorn' : 'panel', data };
    });
    i += size;
    const aggregate = rawRecord(encodeAggregate(users), arrival());
    shuffled.push(aggregate);
    if (d.resend[n % d.resend.length]) shuffled.push({ ...aggregate, sequenceNumber: `${aggregate.sequenceNumber}r` });
  }
  const batches: RawRecord[][] = [];
  for (let i = 0, b = 0; i < shuffled.length; b++) {
    const size = d.batchSizes[b % d.batchSizes.length];
    batches.push(shuffled.slice(i, i + size));
    i += size;
  }
  const rejected: RejectedRecord[] = [];
  for (let w = 0; w * d.batchesPerWindow < batches.length; w++) {
    const windowBatches = batches.slice(w * d.batchesPerWindow, (w + 1) * d.batchesPerWindow);
    const runWindow = async () => {
      let state: unknown = {};
      for (const [i, batch] of windowBatches.entries()) {
        let window = EventWindow.fromState(JSON.parse(JSON.stringify(state)));
        rejected.push(...(await ingestScreened(batch, window, emptyCounts(), store, options)));
        if (d.earlyFlush[(w + i) % d.earlyFlush.length] && i < windowBatches.length - 1) {
          await flushWindow(window, store, options);
          window = new EventWindow();
        }
        state = window.toState();
      }
      await flushWindow(EventWindow.fromState(state), store, options);
    };
    await runWindow();
    if (d.replayWindows[w % d.replayWindows.length]) await runWindow();
  }
  return rejected;
}

/** An event's identity as the aggregates hold it: device, minute, dedup key. */
function eventKeyOf(payload: unknown): string {
  const e = validateParsed(payload, Number.MAX_SAFE_INTEGER);
  if (!e.ok) throw new Error(`generated an invalid event: ${e.reason}`);
  return `${e.deviceId}|${minuteStart(e.eventTimeMs)}|${e.eventId}`;
}
const payloadOf = (r: RejectedRecord) => JSON.parse(Buffer.from(r.record.data, 'base64').toString('utf8'));

/** The keys of the events the store's aggregates hold. */
function heldEvents(store: MemoryStore): Set<string> {
  const held = new Set<string>();
  for (const { ref, minute } of store.minutes.values()) {
    for (const id of minute.ids) held.add(`${ref.deviceId}|${ref.minuteStartMs}|${id}`);
  }
  return held;
}

function expectUnsetClocksQuarantined(d: Delivery, rejected: readonly RejectedRecord[]) {
  const tooOld = rejected.filter((r) => r.reason === 'timestamp_too_old');
  const sent = d.unsetClock.reduce((n, _o, i) => n + 1 + (i % 3), 0);
  expect(tooOld.length).toBeGreaterThanOrEqual(sent); // replays quarantine theirs again
  expect(new Set(tooOld.map((r) => JSON.stringify(payloadOf(r))))).toEqual(
    new Set(d.unsetClock.map((o) => JSON.stringify(unicorn(`u${o.device}`, o.offsetMs)))),
  );
}

describe('exactly-once per device per minute', () => {
  test('aggregates equal the reference over the deduplicated events, whatever the delivery', async () => {
    await fc.assert(
      fc.asyncProperty(deliveryArb, async (d) => {
        const store = new MemoryStore();
        const rejected = await deliver(d, store);
        expect(store.snapshot()).toEqual(reference(d.events));
        expectUnsetClocksQuarantined(d, rejected);
        expect(rejected.filter((r) => r.reason !== 'timestamp_too_old')).toEqual([]);
      }),
      { numRuns: 4000 },
    );
  });

  test('with lateness: every event is in the aggregates or quarantined as too_late, never both, never lost', async () => {
    await fc.assert(
      fc.asyncProperty(
        deliveryArb,
        fc.constantFrom(0, 30_000, 60_000, 120_000, 300_000, 600_000),
        async (d, allowedLatenessMs) => {
          const store = new MemoryStore();
          const rejected = await deliver(d, store, { allowedLatenessMs });
          const held = heldEvents(store);
          const tooLate = rejected.filter((r) => r.reason === 'too_late').map((r) => eventKeyOf(payloadOf(r)));
          const all = new Set(d.events.map((e) => eventKeyOf(toPayload(e))));
          // The quarantine gets exactly the late events the aggregates do not hold.
          expect(new Set([...tooLate].filter((k) => held.has(k)))).toEqual(new Set());
          expect(new Set([...held, ...tooLate])).toEqual(all);
          // ... and each of them really was late: its minute is closed by its device's watermark.
          for (const k of tooLate) {
            const [device, minute] = k.split('|');
            expect(isMinuteClosed(Number(minute), store.latest.get(device)?.eventTimeMs, allowedLatenessMs)).toBe(true);
          }
          // The aggregates are the reference over the events they hold (exact sums, mins, maxs, counts).
          const kept = d.events.filter((e) => held.has(eventKeyOf(toPayload(e))));
          expect(store.snapshot()).toEqual(reference(kept));
          expectUnsetClocksQuarantined(d, rejected);
          expect(rejected.every((r) => r.reason === 'too_late' || r.reason === 'timestamp_too_old')).toBe(true);
        },
      ),
      { numRuns: 1500 },
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
