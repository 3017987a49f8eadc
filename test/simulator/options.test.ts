import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePerProfile, parsePositiveInt, parseProfiles, progressLine } from '../../lib/simulator/cli-options';
import type { FleetSpec } from '../../lib/simulator/fleets';
import { resolveStreamTarget } from '../../lib/simulator/target';
import { placeWindow, planPacing, SEEDED_WINDOW_END_MS, seededStartMs } from '../../lib/simulator/timing';

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const unicorns = (devices: number): FleetSpec[] => [{ profile: 'unicorn', devices, intervalMs: 1000 }];

const plan = (input: Omit<Parameters<typeof planPacing>[0], 'fleets'>, fleets = unicorns(1)) =>
  planPacing({ fleets, ...input });

describe('planPacing and placeWindow', () => {
  it('speed 1 is live: events start now and leave at their own time', () => {
    const t = plan({ durationMs: 60_000 }, unicorns(10));
    expect(t).toMatchObject({ paced: true, speed: 1, spanMs: 60_000, ratePerSec: 10, openEnded: false });
    expect(placeWindow({ pacing: t, lastEventOffsetMs: 59_900, nowMs: NOW })).toEqual({
      startMs: NOW,
      startFrom: 'clock',
    });
  });

  it('speed N: the simulated window ends when the run ends, never in the future', () => {
    const t = plan({ simDurationMs: 86_400_000, speed: 288 }, [
      { profile: 'solar', devices: 300, intervalMs: 300_000 },
    ]);
    expect(t.spanMs).toBe(86_400_000);
    const last = 86_400_000 - 1_000; // the last reading's offset from the start
    const { startMs } = placeWindow({ pacing: t, lastEventOffsetMs: last, nowMs: NOW });
    // the last event leaves at NOW + last / speed and its event time is exactly that
    expect(startMs + last).toBeCloseTo(NOW + last / t.speed, 6);
  });

  it('a rate sets the speed; a rate that contradicts the speed is impossible', () => {
    expect(plan({ rate: 100, durationMs: 1000 }, unicorns(10)).speed).toBe(10);
    expect(() => plan({ rate: 100, speed: 1, durationMs: 1000 }, unicorns(10))).toThrow(
      /Impossible rate: at --speed 1, 10 unicorn every 1 s produce 10 records\/s, not 100/,
    );
    expect(() => plan({ rate: -5 })).toThrow(/--rate must be a positive/);
  });

  it('rate max needs an end and starts in the past', () => {
    expect(() => plan({ rate: 'max' })).toThrow(/--count or --sim-duration/);
    const t = plan({ rate: 'max', count: 400 }, unicorns(4));
    expect(t.paced).toBe(false);
    expect(t.spanMs).toBeGreaterThanOrEqual(100_000);
    const { startMs } = placeWindow({ pacing: t, lastEventOffsetMs: 99_500, nowMs: NOW });
    expect(startMs + 99_500).toBe(NOW);
  });

  it('writing to a file with no pacing option is unpaced, and needs an end; a pacing option paces it', () => {
    expect(plan({ count: 400, unpacedByDefault: true }, unicorns(4))).toMatchObject({ paced: false });
    expect(plan({ simDurationMs: 60_000, unpacedByDefault: true })).toMatchObject({ paced: false, spanMs: 60_000 });
    expect(() => plan({ unpacedByDefault: true })).toThrow(/--out writes as fast as it can and needs an end/);
    expect(plan({ count: 400, speed: 10, unpacedByDefault: true })).toMatchObject({ paced: true, speed: 10 });
    expect(plan({ durationMs: 1000, unpacedByDefault: true })).toMatchObject({ paced: true, speed: 1 });
    expect(plan({ count: 400, rate: 4, unpacedByDefault: true }, unicorns(4))).toMatchObject({ paced: true });
  });

  it('refuses an open-ended fast run and a start in the future', () => {
    expect(() => plan({ speed: 10 })).toThrow(/future/);
    const t = plan({ durationMs: 1000 });
    expect(() =>
      placeWindow({ pacing: t, lastEventOffsetMs: 0, start: new Date(NOW + 3_600_000), nowMs: NOW }),
    ).toThrow(
      /--start puts event times in the future .* 60 min ahead of the clock\. Start at 2026-06-01T12:00:00\.000Z or earlier/,
    );
    expect(plan({}).openEnded).toBe(true);
  });
});

describe('the --start check is exact (issue 12, defect 7)', () => {
  const maxRun = plan({ rate: 'max', count: 12_000 }, [{ profile: 'solar', devices: 100, intervalMs: 300_000 }]);
  const last = 10 * 3_600_000 + 7_000; // offset of the run's last event: 10 h after the start

  it('accepts a start whose last event is at most the tolerance ahead, refuses a millisecond more', () => {
    const at = (startMs: number) => () =>
      placeWindow({ pacing: maxRun, lastEventOffsetMs: last, start: new Date(startMs), nowMs: NOW });
    expect(at(NOW - last + 1000)).not.toThrow();
    expect(at(NOW - last + 1001)).toThrow(/in the future/);
    // 11 h ago: the last event is an hour in the past, although the planned span (with room for gaps) is 12.5 h
    expect(maxRun.spanMs).toBeGreaterThan(12 * 3_600_000);
    expect(at(NOW - 11 * 3_600_000)).not.toThrow();
  });

  it('paced: at speed N the last event binds (it leaves after last / speed); at speed <= 1 the first one', () => {
    const fast = plan({ speed: 4, count: 12_000 }, [{ profile: 'solar', devices: 100, intervalMs: 300_000 }]);
    const lead = last - last / 4;
    const at = (pacing: typeof fast, startMs: number) => () =>
      placeWindow({ pacing, lastEventOffsetMs: last, start: new Date(startMs), nowMs: NOW });
    expect(at(fast, NOW - lead + 1000)).not.toThrow();
    expect(at(fast, NOW - lead + 1001)).toThrow(/in the future/);
    const live = plan({ count: 12_000 }, [{ profile: 'solar', devices: 100, intervalMs: 300_000 }]);
    expect(at(live, NOW + 1000)).not.toThrow();
    expect(at(live, NOW + 1001)).toThrow(/in the future/);
  });
});

describe('seeded start', () => {
  it('a minute of 2025 drawn from the seed alone; a window too long for the year ends by 2026-01-01', () => {
    const a = seededStartMs(7, 3_600_000);
    expect(seededStartMs(7, 60_000)).toBe(a); // the window length does not move it
    expect(seededStartMs(8, 3_600_000)).not.toBe(a);
    expect(a % 60_000).toBe(0);
    expect(a).toBeGreaterThanOrEqual(Date.UTC(2025, 0, 1));
    expect(a).toBeLessThan(SEEDED_WINDOW_END_MS);
    const twoYears = 2 * 365 * 86_400_000;
    const long = seededStartMs(7, twoYears);
    expect(long + twoYears).toBeLessThanOrEqual(SEEDED_WINDOW_END_MS);
    expect(long + twoYears).toBeGreaterThan(SEEDED_WINDOW_END_MS - 60_000);
  });

  it('a given seed pins the start, whatever the clock says; a given start wins', () => {
    const t = plan({ rate: 'max', count: 400 }, unicorns(4));
    const w = (nowMs: number, start?: Date) =>
      placeWindow({ pacing: t, lastEventOffsetMs: 99_500, seed: 7, start, nowMs });
    expect(w(NOW)).toEqual({ startMs: seededStartMs(7, 99_500), startFrom: 'seed' });
    expect(w(NOW + 86_400_000)).toEqual(w(NOW));
    expect(w(NOW, new Date(NOW - 3_600_000))).toEqual({ startMs: NOW - 3_600_000, startFrom: 'start' });
  });
});

describe('CLI option parsing', () => {
  it('profiles, per-profile values, integers', () => {
    expect(parseProfiles('unicorn,solar')).toEqual(['unicorn', 'solar']);
    expect(parseProfiles('both')).toEqual(['unicorn', 'solar']);
    expect(() => parseProfiles('pony')).toThrow(/Unknown profile "pony"/);
    expect(parsePerProfile('--devices', 'unicorn=5,solar=300', parsePositiveInt)).toEqual({ unicorn: 5, solar: 300 });
    expect(parsePerProfile('--devices', '7', parsePositiveInt)).toBe(7);
    expect(() => parsePerProfile('--devices', 'pony=5', parsePositiveInt)).toThrow(/profile=value/);
    expect(() => parsePositiveInt('--count', '1.5')).toThrow(/--count must be a positive whole number/);
  });

  it('a progress line says what was sent, retried, throttled, duplicated and what is left', () => {
    const line = progressLine(
      {
        phase: 'running',
        produced: 50,
        expected: 100,
        duplicatesInjected: 500,
        droppedAtEdge: 490,
        sent: 60,
        retries: 3,
        throttles: 2,
        failed: 0,
        buffered: 0,
        rateLimit: 900,
        elapsedMs: 10_000,
        simulatedTime: null,
      },
      6,
    );
    expect(line).toBe(
      '[10s] running: produced 50/100 | sent 60 (6/s) | retries 3 | throttles 2 | duplicates +500 -490 dropped | failed 0 | limited to 900/s | 10s left',
    );
  });
});

describe('resolveStreamTarget', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-target-'));

  it('says how to choose a target when there is none', () => {
    expect(() => resolveStreamTarget({ cwd: dir })).toThrow(/npm run local[\s\S]*--outputs[\s\S]*--out/);
  });

  it('uses the embedded stack file, the outputs file, or flags; flags win', () => {
    mkdirSync(join(dir, '.local'), { recursive: true });
    writeFileSync(
      join(dir, '.local', 'stack.json'),
      JSON.stringify({ endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', streamName: 'local-stream' }),
    );
    expect(resolveStreamTarget({ cwd: dir })).toMatchObject({
      endpoint: 'http://127.0.0.1:4566',
      streamName: 'local-stream',
    });
    expect(resolveStreamTarget({ cwd: dir, stream: 'wildrydes' })).toMatchObject({
      endpoint: 'http://127.0.0.1:4566',
      streamName: 'wildrydes',
    });
    expect(resolveStreamTarget({ cwd: dir, stream: 'wildrydes', aws: true, region: 'eu-west-1' })).toEqual({
      endpoint: undefined,
      region: 'eu-west-1',
      streamName: 'wildrydes',
      source: '--stream',
    });
    const outputs = join(dir, 'cdk-outputs.json');
    writeFileSync(outputs, JSON.stringify({ IotStack: { StreamName: 'iot-Stream-ABC', Region: 'eu-central-1' } }));
    expect(resolveStreamTarget({ cwd: dir, outputs })).toMatchObject({
      endpoint: undefined,
      region: 'eu-central-1',
      streamName: 'iot-Stream-ABC',
    });
    expect(() => resolveStreamTarget({ cwd: dir, outputs: join(dir, 'missing.json') })).toThrow(
      /Cannot read outputs file/,
    );
  });
});
