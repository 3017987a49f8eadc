import { PassThrough, Writable } from 'node:stream';
import { CopyScheduler } from '../../lib/simulator/copy-scheduler';
import { EdgeDedupe } from '../../lib/simulator/edge-dedupe';
import { FleetClock } from '../../lib/simulator/fleet-clock';
import { lastEventOffset, mergeFleets, resolveFleets } from '../../lib/simulator/fleets';
import { type GeneratedRecord, planFleet } from '../../lib/simulator/generate';
import { type Released, RetryBug } from '../../lib/simulator/retry-bug';
import { edgeGateway, fileSink, type Sink } from '../../lib/simulator/sinks';
import { VirtualClock } from './sim-fixtures';

const unpaced = (clock = new VirtualClock()) => new FleetClock({ paced: false, speed: Infinity, startMs: 0 }, clock);

describe('FleetClock', () => {
  it('unpaced: never waits', () => {
    const clock = new VirtualClock();
    const fc = unpaced(clock);
    expect(fc.waitFor(1e12)).toBeUndefined();
    expect(clock.sleeps).toEqual([]);
  });

  it('paced: simulated t is due at (t - start) / speed after the clock was made; nothing due, no wait', async () => {
    const clock = new VirtualClock();
    const fc = new FleetClock({ paced: true, speed: 60, startMs: 1_000_000 }, clock);
    await fc.waitFor(1_000_000 + 60_000); // a simulated minute at 60×: one wall second
    expect(clock.sleeps).toEqual([1000]);
    expect(fc.waitFor(1_000_000 + 30_000)).toBeUndefined(); // already past
    expect(fc.elapsedMs()).toBe(1000);
  });
});

describe('CopyScheduler', () => {
  const setup = (options: { copies: number; delayMs: number; clock?: FleetClock; signal?: AbortSignal }) => {
    const out: string[] = [];
    const bug = new RetryBug<string>({
      copies: options.copies,
      delay: { minMs: options.delayMs, maxMs: options.delayMs },
      seed: 1,
    });
    const deliver = (r: Released<string>) => {
      out.push(`${r.item}${r.copy ? '+' : ''}@${r.releaseMs}`);
      return undefined;
    };
    const s = new CopyScheduler(bug, options.clock ?? unpaced(), deliver, options.signal);
    return { s, out };
  };

  it('releases originals and copies in time order, copies due earlier before a later reading', async () => {
    const { s, out } = setup({ copies: 2, delayMs: 1000 });
    for (const [item, t] of [
      ['a', 0],
      ['b', 1500],
      ['c', 3000],
    ] as const) {
      await s.releaseUntil(t);
      s.push(item, t);
      await s.releaseUntil(t);
    }
    expect(out).toEqual(['a@0', 'a+@1000', 'a+@1000', 'b@1500', 'b+@2500', 'b+@2500', 'c@3000']);
    expect(s.pending).toBe(2);
    await s.releaseUntil(Infinity);
    expect(out.slice(-2)).toEqual(['c+@4000', 'c+@4000']);
    expect(s.pending).toBe(0);
  });

  it('is synchronous when nothing waits (no promise per record in an unpaced run)', () => {
    const { s } = setup({ copies: 1, delayMs: 0 });
    s.push('a', 0);
    expect(s.releaseUntil(0)).toBeUndefined();
  });

  it('paced: each message waits for its release time; backpressure is awaited before the next', async () => {
    const clock = new VirtualClock();
    const fc = new FleetClock({ paced: true, speed: 1, startMs: 0 }, clock);
    const at: number[] = [];
    let inFlight = 0;
    const bug = new RetryBug<string>({ copies: 3, delay: { minMs: 2000, maxMs: 2000 }, seed: 1 });
    const s = new CopyScheduler(bug, fc, async () => {
      expect(inFlight).toBe(0);
      inFlight++;
      at.push(clock.monotonicMs());
      await Promise.resolve();
      inFlight--;
    });
    s.push('a', 0);
    await s.releaseUntil(Infinity);
    expect(at).toEqual([0, 2000, 2000, 2000]);
    expect(clock.sleeps).toEqual([2000]);
  });

  it('stops releasing once aborted: what is left is pending', async () => {
    const controller = new AbortController();
    const { s, out } = setup({ copies: 5, delayMs: 1000, signal: controller.signal });
    s.push('a', 0);
    await s.releaseUntil(0);
    controller.abort();
    await s.releaseUntil(Infinity);
    expect(out).toEqual(['a@0']);
    expect(s.pending).toBe(5);
  });
});

const rec = (json: string): GeneratedRecord => ({ deviceId: 'd', eventTimeMs: 0, json });

describe('sinks', () => {
  it('the file sink writes NDJSON in chunks and waits when the stream pushes back', async () => {
    const chunks: string[] = [];
    let release: (() => void) | undefined;
    const slow = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        release = done;
      },
    });
    const sink = fileSink(slow);
    let waited: Promise<void> | undefined;
    for (let i = 0; i < 1000; i++) waited = sink.put(rec(`{"i":${i}}`), 0) ?? waited;
    expect(waited).toBeInstanceOf(Promise); // the 1,000th line flushed a chunk larger than the buffer
    expect(sink.stats()).toMatchObject({ sent: 1000, buffered: 0 });
    sink.put(rec('{"i":1000}'), 0);
    expect(sink.stats().buffered).toBe(1);
    release?.();
    await waited;
    const closing = sink.close();
    await new Promise((r) => setImmediate(r));
    release?.();
    await closing;
    const lines = chunks.join('').split('\n');
    expect(lines).toHaveLength(1002);
    expect(lines[1000]).toBe('{"i":1000}');
  });

  it('a write error surfaces as a SimulationError saying the output could not be written', async () => {
    const broken = new PassThrough();
    const sink = fileSink(broken);
    broken.destroy(new Error('disk full'));
    await new Promise((r) => setImmediate(r));
    sink.put(rec('{}'), 0);
    await expect(sink.close()).rejects.toThrow(/Cannot write output: disk full/);
  });

  it('the edge gateway forwards first sightings, drops copies within its window, and passes arrival time', () => {
    const got: string[] = [];
    const inner: Sink = {
      put: (r, at) => {
        got.push(`${r.json}@${at}`);
        return undefined;
      },
      close: async () => {},
      stats: () => ({
        sent: got.length,
        retries: 0,
        throttles: 0,
        failed: 0,
        buffered: 0,
        rateLimit: null,
        errors: {},
      }),
    };
    const dedupe = new EdgeDedupe({ windowMs: 1000 });
    const gw = edgeGateway(inner, dedupe);
    for (const [json, at] of [
      ['x', 0],
      ['x', 500],
      ['y', 600],
      ['x', 1001],
    ] as const)
      gw.put(rec(json), at);
    expect(got).toEqual(['x@0', 'y@600', 'x@1001']);
    expect(dedupe.stats().dropped).toBe(1);
    expect(gw.stats().sent).toBe(3);
  });
});

describe('fleets', () => {
  it('resolves devices per profile, names, defaults, and refuses what cannot run', () => {
    expect(resolveFleets({ profiles: ['unicorn', 'solar'] })).toEqual([
      { profile: 'unicorn', devices: 1, intervalMs: 1000 },
      { profile: 'solar', devices: 100, intervalMs: 300_000 },
    ]);
    expect(resolveFleets({ profiles: ['unicorn'], names: ['A', 'B'] })[0].devices).toBe(2);
    expect(resolveFleets({ profiles: ['solar'], devices: { solar: 7 }, intervalMs: { solar: 60_000 } })).toEqual([
      { profile: 'solar', devices: 7, intervalMs: 60_000 },
    ]);
    expect(() => resolveFleets({ profiles: [] })).toThrow(/at least one profile/);
    expect(() => resolveFleets({ profiles: ['solar'], names: ['A'] })).toThrow(/--name names unicorns/);
    expect(() => resolveFleets({ profiles: ['solar'], devices: 0 })).toThrow(/--devices must be a positive/);
  });

  it('lastEventOffset is the offset of the count-th merged record, gaps included, and of the last one without a count', () => {
    const options = { durationMs: 6 * 3_600_000, seed: 5, anomalies: { gapsPerDeviceHour: 2 } };
    const plans = [
      planFleet({ ...options, profile: 'unicorn', devices: 2, intervalMs: 10_000 }),
      planFleet({ ...options, profile: 'solar', devices: 30, intervalMs: 60_000 }),
    ];
    const start = Date.parse('2026-06-01T00:00:00Z');
    const times = [...mergeFleets(plans.map((p) => p.at(new Date(start))))].map(([r]) => r.eventTimeMs - start);
    expect(times.length).toBe(plans[0].expectedRecords + plans[1].expectedRecords);
    expect(times.length).toBeLessThan(2 * 2160 + 30 * 360); // the gaps removed some
    for (const count of [1, 137, 5000, times.length - 1]) expect(lastEventOffset(plans, count)).toBe(times[count - 1]);
    expect(lastEventOffset(plans)).toBe(times[times.length - 1]);
    expect(lastEventOffset(plans, times.length + 10)).toBe(times[times.length - 1]);
  });
});
