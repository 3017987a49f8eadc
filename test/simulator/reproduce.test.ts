import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reproduceCommand } from '../../lib/simulator/cli-options';
import { runSimulation } from '../../lib/simulator/run';
import type { SimulationOptions } from '../../lib/simulator/types';
import { simulateCli, VirtualClock } from './sim-fixtures';

const tmp = mkdtempSync(join(tmpdir(), 'sim-reproduce-'));
let n = 0;
const file = () => join(tmp, `run-${n++}.ndjson`);

/** Both fleets with the retry bug, reordering and the edge gateway: every seeded source of randomness. */
const busy: SimulationOptions = {
  profiles: ['unicorn', 'solar'],
  devices: { unicorn: 3, solar: 40 },
  count: 600,
  duplicates: 4,
  delay: 'seconds',
  reorderMs: 3_000,
  dedupe: { windowMs: 5_000 },
};

describe('byte-identical reproduction from a seed', () => {
  it('the same options and seed give the same bytes, whenever they run; another seed gives others', async () => {
    const run = async (seed: number, clock: VirtualClock) => {
      const out = file();
      const summary = await runSimulation({ ...busy, seed, out, clock });
      return { bytes: readFileSync(out), summary };
    };
    const first = await run(7, new VirtualClock(Date.parse('2026-06-01T12:00:00Z')));
    const again = await run(7, new VirtualClock(Date.parse('2027-03-15T08:30:00Z'))); // months later
    expect(first.summary).toMatchObject({ produced: 600, startFrom: 'seed', seedGiven: true });
    expect(first.bytes.length).toBeGreaterThan(100_000);
    expect(again.bytes.equals(first.bytes)).toBe(true);
    expect(again.summary.simulatedStart).toBe(first.summary.simulatedStart);
    const other = await run(8, new VirtualClock());
    expect(other.bytes.equals(first.bytes)).toBe(false);
    expect(other.summary.simulatedStart).not.toBe(first.summary.simulatedStart);
  });

  it('without a seed, the drawn seed and the start reproduce the run', async () => {
    const out = file();
    const drawn = await runSimulation({ ...busy, out, clock: new VirtualClock() });
    expect(drawn).toMatchObject({ seedGiven: false, startFrom: 'clock' });
    const replay = file();
    const again = await runSimulation({
      ...busy,
      out: replay,
      seed: drawn.seed,
      start: new Date(drawn.simulatedStart),
      clock: new VirtualClock(Date.parse('2026-07-01T00:00:00Z')),
    });
    expect(again.startFrom).toBe('start');
    expect(readFileSync(replay).equals(readFileSync(out))).toBe(true);
  });

  it('the CLI: the issue command twice gives identical files, and the printed command reproduces them', async () => {
    const args = ['--profile', 'solar', '--devices', '40', '--count', '400', '--duplicates', '10', '--seed', '7'];
    const a = await simulateCli([...args, '--out', 'a.ndjson'], tmp);
    const b = await simulateCli([...args, '--out', 'b.ndjson'], tmp);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const bytes = readFileSync(join(tmp, 'a.ndjson'));
    expect(bytes.toString().split('\n')).toHaveLength(4401);
    expect(readFileSync(join(tmp, 'b.ndjson')).equals(bytes)).toBe(true);
    const printed = /reproduce byte for byte: npm run simulate -- (.*)/.exec(a.stderr)?.[1];
    expect(printed).toMatch(/--seed 7 --start 2025-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
    // The printed words are plain (no quoting needed here): run them, writing elsewhere.
    const replay = await simulateCli([...printed!.replace('a.ndjson', 'c.ndjson').split(' ')], tmp);
    expect(replay.code).toBe(0);
    expect(readFileSync(join(tmp, 'c.ndjson')).equals(bytes)).toBe(true);
  });

  it('the reproduction command replaces a given seed and start and quotes what the shell would split', () => {
    const run = { seed: 42, simulatedStart: '2025-03-01T10:00:00.000Z' };
    expect(reproduceCommand(['--seed=1', '--name', "O'Neil Two", '--start', 'x', '--out', 'a.ndjson'], run)).toBe(
      "npm run simulate -- --name 'O'\\''Neil Two' --out a.ndjson --seed 42 --start 2025-03-01T10:00:00.000Z",
    );
  });
});

describe('pacing of --out', () => {
  const solar: SimulationOptions = { profiles: ['solar'], devices: 40, count: 400, seed: 3 };

  it('with no pacing option, a file is written without a single sleep', async () => {
    const clock = new VirtualClock();
    const s = await runSimulation({ ...solar, out: file(), clock });
    expect(s).toMatchObject({ produced: 400, sent: 400, speed: 'max' });
    expect(clock.sleeps).toEqual([]);
  });

  it('a pacing option paces it: 400 readings every 5 min of 40 panels take 50 minutes at speed 1', async () => {
    const clock = new VirtualClock();
    const s = await runSimulation({ ...solar, speed: 1, out: file(), clock });
    expect(s).toMatchObject({ produced: 400, speed: 1 });
    expect(clock.sleeps.length).toBeGreaterThan(300);
    expect(clock.monotonicMs()).toBeGreaterThan(45 * 60_000);
    expect(clock.monotonicMs()).toBeLessThan(50 * 60_000);
  });
});

describe('--start (issue 12, defect 7): the check is the real last event, not the span planned with room for gaps', () => {
  it('accepts a start whose last event is about an hour in the past', async () => {
    // 100 panels every 5 min: 12,000 readings are 10 h (plus a few gaps); the planned span is 12.5 h + 5 min.
    const start = new Date(Date.now() - 11 * 3_600_000);
    const s = await runSimulation({
      profiles: ['solar'],
      devices: 100,
      count: 12_000,
      rate: 'max',
      seed: 3,
      start,
      out: file(),
    });
    expect(s.produced).toBe(12_000);
    expect(Date.parse(s.simulatedEnd!)).toBeLessThan(Date.now() - 20 * 60_000);
  });

  it('still refuses a start that puts the last event in the future, saying the latest start that works', async () => {
    const start = new Date(Date.now() - 9 * 3_600_000);
    await expect(
      runSimulation({ profiles: ['solar'], devices: 100, count: 12_000, rate: 'max', seed: 3, start, out: file() }),
    ).rejects.toThrow(/--start puts event times in the future .*ahead of the clock\. Start at \S+ or earlier/);
  });
});
