import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePerProfile, parsePositiveInt, parseProfiles, progressLine } from '../../lib/simulator/cli-options';
import { resolveStreamTarget } from '../../lib/simulator/target';
import { planTiming } from '../../lib/simulator/timing';

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const unicorns = (devices: number) => [{ profile: 'unicorn' as const, devices, intervalMs: 1000 }];

describe('planTiming', () => {
  it('speed 1 is live: events start now and leave at their own time', () => {
    const t = planTiming({ fleets: unicorns(10), durationMs: 60_000, nowMs: NOW });
    expect(t).toMatchObject({ paced: true, speed: 1, startMs: NOW, spanMs: 60_000, ratePerSec: 10, openEnded: false });
  });

  it('speed N: the simulated window ends when the run ends, never in the future', () => {
    const t = planTiming({
      fleets: [{ profile: 'solar', devices: 300, intervalMs: 300_000 }],
      simDurationMs: 86_400_000,
      speed: 288,
      nowMs: NOW,
    });
    expect(t.spanMs).toBe(86_400_000);
    const wallMs = t.spanMs / t.speed; // 5 minutes
    expect(wallMs).toBe(300_000);
    // the last event leaves at NOW + wallMs and its event time is exactly that
    expect(t.startMs + t.spanMs).toBe(NOW + wallMs);
  });

  it('a rate sets the speed; a rate that contradicts the speed is impossible', () => {
    expect(planTiming({ fleets: unicorns(10), rate: 100, durationMs: 1000, nowMs: NOW }).speed).toBe(10);
    expect(() => planTiming({ fleets: unicorns(10), rate: 100, speed: 1, durationMs: 1000, nowMs: NOW })).toThrow(
      /Impossible rate: at --speed 1, 10 unicorn every 1 s produce 10 records\/s, not 100/,
    );
    expect(() => planTiming({ fleets: unicorns(1), rate: -5, nowMs: NOW })).toThrow(/--rate must be a positive/);
  });

  it('rate max needs an end and starts in the past', () => {
    expect(() => planTiming({ fleets: unicorns(1), rate: 'max', nowMs: NOW })).toThrow(/--count or --sim-duration/);
    const t = planTiming({ fleets: unicorns(4), rate: 'max', count: 400, nowMs: NOW });
    expect(t.paced).toBe(false);
    expect(t.startMs + t.spanMs).toBeLessThanOrEqual(NOW);
    expect(t.spanMs).toBeGreaterThanOrEqual(100_000);
  });

  it('refuses an open-ended fast run and a start in the future', () => {
    expect(() => planTiming({ fleets: unicorns(1), speed: 10, nowMs: NOW })).toThrow(/future/);
    expect(() =>
      planTiming({ fleets: unicorns(1), durationMs: 1000, start: new Date(NOW + 3_600_000), nowMs: NOW }),
    ).toThrow(/--start puts event times in the future/);
    expect(planTiming({ fleets: unicorns(1), nowMs: NOW }).openEnded).toBe(true);
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
