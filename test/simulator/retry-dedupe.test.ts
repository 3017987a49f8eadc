import { AdaptiveRate } from '../../lib/simulator/adaptive-rate';
import { dedupeKey, EdgeDedupe } from '../../lib/simulator/edge-dedupe';
import { parseDelay, parseDuration, RetryBug } from '../../lib/simulator/retry-bug';

const drain = <T>(bug: RetryBug<T>) => {
  const out: { item: T; releaseMs: number; copy: boolean }[] = [];
  for (let r = bug.pop(); r; r = bug.pop()) out.push(r);
  return out;
};

describe('RetryBug', () => {
  it('releases each message once plus K identical copies, originals first for immediate delays', () => {
    const bug = new RetryBug<string>({ copies: 10, delay: 'immediate', seed: 1 });
    bug.push('a', 1000);
    bug.push('b', 2000);
    const out = drain(bug);
    expect(out.map((r) => r.item)).toEqual([...Array(11).fill('a'), ...Array(11).fill('b')]);
    expect(out.filter((r) => !r.copy).map((r) => r.item)).toEqual(['a', 'b']);
    expect(out[0].copy).toBe(false);
    expect(out.every((r) => r.releaseMs === (r.item === 'a' ? 1000 : 2000))).toBe(true);
  });

  it('spreads copies over the delay distribution and releases in time order', () => {
    const bug = new RetryBug<number>({ copies: 5, delay: 'seconds', seed: 2 });
    for (let i = 0; i < 100; i++) bug.push(i, i * 100);
    const out = drain(bug);
    expect(out).toHaveLength(600);
    for (let i = 1; i < out.length; i++) expect(out[i].releaseMs).toBeGreaterThanOrEqual(out[i - 1].releaseMs);
    const delays = out.filter((r) => r.copy).map((r) => r.releaseMs - r.item * 100);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(30_000);
    expect(new Set(delays).size).toBeGreaterThan(100);
  });

  it('popDue only releases what is due; reordering lets later messages overtake earlier ones', () => {
    const bug = new RetryBug<number>({ copies: 0, delay: 'immediate', reorderMs: 5_000, seed: 3 });
    for (let i = 0; i < 200; i++) bug.push(i, i * 10);
    expect(bug.popDue(-1)).toBeUndefined();
    const out = drain(bug).map((r) => r.item);
    expect(out.slice().sort((a, b) => a - b)).toEqual([...Array(200).keys()]);
    expect(out).not.toEqual([...Array(200).keys()]);
  });

  it('is deterministic by seed', () => {
    const run = (seed: number) => {
      const bug = new RetryBug<number>({ copies: 3, delay: { minMs: 0, maxMs: 60_000 }, reorderMs: 1000, seed });
      for (let i = 0; i < 50; i++) bug.push(i, i);
      return drain(bug).map((r) => `${r.item}@${r.releaseMs}`);
    };
    expect(run(9)).toEqual(run(9));
    expect(run(9)).not.toEqual(run(10));
  });

  it('parses delays and durations, with clear errors', () => {
    expect(parseDelay('minutes')).toBe('minutes');
    expect(parseDelay('2s-45s')).toEqual({ minMs: 2_000, maxMs: 45_000 });
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(() => parseDelay('soon')).toThrow(/immediate, seconds, minutes/);
    expect(() => parseDelay('45s-2s')).toThrow(/--delay/);
    expect(() => parseDuration('ten')).toThrow(/not a duration/);
    expect(() => new RetryBug({ copies: -1, delay: 'immediate', seed: 1 })).toThrow(/--duplicates/);
  });
});

describe('EdgeDedupe', () => {
  it('forwards the first sighting and drops copies within the window', () => {
    const d = new EdgeDedupe({ windowMs: 60_000, maxKeys: 100 });
    expect(d.admit('k1', 0)).toBe(true);
    expect(d.admit('k1', 59_000)).toBe(false);
    expect(d.admit('k2', 59_000)).toBe(true);
    expect(d.stats()).toMatchObject({ forwarded: 2, dropped: 1, keys: 2 });
  });

  it('misses a copy that arrives after the window (documented bound)', () => {
    const d = new EdgeDedupe({ windowMs: 60_000, maxKeys: 100 });
    d.admit('k1', 0);
    expect(d.admit('k1', 60_001)).toBe(true);
    expect(d.stats().expiredByAge).toBe(1);
  });

  it('never holds more than maxKeys: the oldest key goes first, and its late copy passes', () => {
    const d = new EdgeDedupe({ windowMs: 3_600_000, maxKeys: 3 });
    for (const k of ['a', 'b', 'c', 'd']) d.admit(k, 0);
    expect(d.stats()).toMatchObject({ keys: 3, evictedBySize: 1 });
    expect(d.admit('d', 1)).toBe(false);
    expect(d.admit('a', 1)).toBe(true); // evicted: missed
  });

  it('keys by the profile identity: unicorn Name + StatusTime, panel panelId + seq', () => {
    const u =
      '{"Name":"Shadowfax","StatusTime":"2017-06-02 18:43:04.123","Latitude":40.7,"Longitude":-73.9,"Distance":29.7,"HealthPoints":150,"MagicPoints":151}';
    const u2 = u.replace('29.7', '30.1');
    expect(dedupeKey(u)).toBe(dedupeKey(u2)); // same event identity
    expect(dedupeKey(u)).not.toBe(dedupeKey(u.replace('04.123', '05.123')));
    const s = (seq: number) =>
      `{"panelId":"SP-000001","ts":"2026-06-01T10:00:00.000Z","seq":${seq},"acPowerW":1,"dcVoltageV":300,"dcCurrentA":0.1,"energyWh":0.1,"panelTempC":30,"irradianceWm2":500,"status":"OK"}`;
    expect(dedupeKey(s(1))).toBe(dedupeKey(s(1)));
    expect(dedupeKey(s(1))).not.toBe(dedupeKey(s(2)));
    expect(dedupeKey('not json')).toBe(dedupeKey('not json'));
    expect(dedupeKey('{"other":1}')).not.toBe(dedupeKey('{"other":2}'));
  });
});

describe('AdaptiveRate', () => {
  it('is unlimited until throttled, then cuts to 70 % of what got through, and recovers', () => {
    const r = new AdaptiveRate(10, 500);
    expect(r.acquire(500, 0)).toBe(0);
    r.onResult(0, 0, 0);
    r.onResult(2000, 0, 1000); // measured: 2000/s over the first second
    r.onResult(400, 100, 1100);
    expect(r.limit).toBeCloseTo(1400);
    r.onResult(400, 100, 1150); // same burst: no second cut within 200 ms
    expect(r.limit).toBeCloseTo(1400);
    r.onResult(400, 100, 1400);
    expect(r.limit).toBeCloseTo(980);
    expect(r.cuts).toBe(2); // the cuts stay counted after the limit recovers or is lifted
    const before = r.limit;
    r.onResult(500, 0, 1500);
    expect(r.limit).toBeGreaterThan(before);
  });

  it('turns the limit into waits (token bucket)', () => {
    const r = new AdaptiveRate(10, 500);
    r.onResult(0, 10, 0); // first cut without a measurement: 70 % of one shard (1000/s)
    expect(r.limit).toBe(700);
    expect(r.acquire(500, 0)).toBe(Math.ceil((500 * 1000) / 700));
    expect(r.acquire(500, 1000)).toBe(0);
    expect(r.acquire(500, 1000)).toBeGreaterThan(0);
  });
});
