import type { Anomaly } from '../../lib/simulator/anomalies';
import { type KindScore, scoreTable } from '../../lib/simulator/detection-score';
import { type RegistryEntry, registryEntries } from '../../lib/simulator/device-registry';
import { generateFleet } from '../../lib/simulator/generate';
import { DetectionHarness, type Scenario } from '../support/detection-harness';

// Precision and recall of solar-spikes, solar-gaps and solar-underperformance on cloudy fleets, through the
// real engine (s3rver + the embedded Athena's DuckDB), on two weather models: the simulator's, and a
// second, simpler one written here so that the detector is not tuned to one generator.

const DAY = 86_400_000;
const HOUR = 3_600_000;
const TARGET = { precision: 0.95, recall: 0.9 };
/** Trend fleets read hourly: enough for daily energy and insolation, and the suite stays near a minute. */
const TREND_INTERVAL = HOUR;

let harness: DetectionHarness;
beforeAll(async () => {
  harness = await DetectionHarness.start();
}, 60_000);
afterAll(async () => {
  await harness?.close();
});

function expectTargets(scores: readonly KindScore[], kinds: readonly string[]): void {
  const failing = scores
    .filter((s) => kinds.includes(s.kind))
    .filter((s) => s.precision < TARGET.precision || s.recall < TARGET.recall)
    .map((s) => `${s.kind}: precision ${s.precision.toFixed(3)} recall ${s.recall.toFixed(3)}`);
  expect(failing).toEqual([]);
  for (const k of kinds) expect(scores.find((s) => s.kind === k)?.injected ?? 0).toBeGreaterThan(0);
}

// ---- A second, simpler weather model -------------------------------------------------------------------

/** mulberry32: a tiny seeded PRNG, independent of the simulator's. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimpleFleet {
  readonly registry: RegistryEntry[];
  readonly anomalies: Anomaly[];
  readonly json: { deviceId: string; eventTimeMs: number; json: string }[];
}

/**
 * A sine sun by longitude; per site, a two-state sky (sun, or a cloud letting 15-55 % through) that flips
 * at random, so clearings are sudden; 2 % noise on irradiance and on power, independently; power clipped at
 * 90 % of the nameplate; energy as power x interval (not a trapezoid). Spikes on random daylight readings
 * (half 2-2.5x, half 3-5x the true power), gaps of 3-8 readings, and, for long runs, soiling sawtooths,
 * fast degradation and a lost string on chosen panels.
 */
function simpleFleet(options: {
  panels: number;
  startMs: number;
  days: number;
  intervalMs: number;
  seed: number;
  spikesPerPanel: number;
  trends: boolean;
}): SimpleFleet {
  const rnd = prng(options.seed);
  const sites = [
    { name: 'north', longitude: 10 },
    { name: 'east', longitude: 45 },
    { name: 'south', longitude: -60 },
    { name: 'west', longitude: 100 },
  ];
  const registry: RegistryEntry[] = [];
  const anomalies: Anomaly[] = [];
  const slots = Math.floor((options.days * DAY) / options.intervalMs);
  const rows: { deviceId: string; eventTimeMs: number; json: string }[] = [];
  // Per site: the sky of every slot (sun = 1, cloud = its transmittance).
  const skies = sites.map(() => {
    const sky = new Float64Array(slots);
    let cloud = 0;
    for (let k = 0; k < slots; k++) {
      if (rnd() < 0.12) cloud = cloud === 0 ? 0.15 + 0.4 * rnd() : 0;
      sky[k] = cloud === 0 ? 1 : cloud;
    }
    return sky;
  });
  const iso = (ms: number) => new Date(ms).toISOString();
  for (let i = 0; i < options.panels; i++) {
    const site = i % sites.length;
    const id = `SX-${String(i + 1).padStart(4, '0')}`;
    const rated = 3000 + 500 * Math.floor(rnd() * 5);
    const longitude = sites[site].longitude + (rnd() - 0.5) * 0.1;
    registry.push({ panelId: id, site: sites[site].name, latitude: 0, longitude, ratedPowerW: rated });
    const phase = Math.floor(rnd() * options.intervalMs);
    const at = (k: number) => options.startMs + phase + k * options.intervalMs;
    // Trend conditions on some panels: one kind each, kept clear of the run's first and last week.
    let health = (_k: number) => 1;
    if (options.trends) {
      const role = Math.floor(i / sites.length) % 8; // every site gets a mix, most panels healthy
      if (role === 1 || role === 5) {
        // Soiling: 0.8-1.5 % a day for 10-16 days, then a cleaning, twice.
        const episodes: [number, number, number][] = [];
        for (const startDay of [5 + rnd() * 5, 30 + rnd() * 5]) {
          const length = 10 + rnd() * 6;
          const rate = 0.008 + 0.007 * rnd();
          const from = Math.floor((startDay * DAY) / options.intervalMs);
          const to = Math.floor(((startDay + length) * DAY) / options.intervalMs);
          episodes.push([from, to, rate]);
          anomalies.push({ kind: 'soiling', deviceId: id, start: iso(at(from)), end: iso(at(to)) });
        }
        health = (k) => {
          for (const [from, to, rate] of episodes) {
            if (k >= from && k < to) return 1 - (rate * (k - from) * options.intervalMs) / DAY;
          }
          return 1;
        };
      } else if (role === 3) {
        const rate = 0.025 + 0.02 * rnd(); // per 30 days
        health = (k) => 1 - (rate * k * options.intervalMs) / (30 * DAY);
        anomalies.push({ kind: 'degradation', deviceId: id, start: iso(at(0)), end: iso(at(slots - 1)) });
      } else if (role === 7) {
        const step = Math.floor(((10 + rnd() * (options.days - 20)) * DAY) / options.intervalMs);
        const loss = 0.2 + 0.2 * rnd();
        health = (k) => (k >= step ? 1 - loss : 1);
        anomalies.push({ kind: 'step_down', deviceId: id, start: iso(at(step)), end: iso(at(slots - 1)) });
      }
    }
    const spikeAt = new Map<number, number>();
    const missing = new Set<number>();
    for (let n = 0; n < options.spikesPerPanel; n++) {
      const k = Math.floor(rnd() * slots);
      spikeAt.set(k, n % 2 === 0 ? 2 + 0.5 * rnd() : 3 + 2 * rnd());
    }
    const gapStart = Math.floor(rnd() * (slots - 20)) + 5;
    const gapLength = 3 + Math.floor(rnd() * 6);
    for (let k = gapStart; k < gapStart + gapLength; k++) missing.add(k);
    anomalies.push({ kind: 'gap', deviceId: id, start: iso(at(gapStart)), end: iso(at(gapStart + gapLength - 1)) });
    let seq = Math.floor(rnd() * 1000);
    for (let k = 0; k < slots; k++) {
      const t = at(k);
      const solarHour = (((t / HOUR + longitude / 15) % 24) + 24) % 24;
      const sun = solarHour > 6 && solarHour < 18 ? Math.sin((Math.PI * (solarHour - 6)) / 12) ** 1.3 : 0;
      const trueIrradiance = 1000 * sun * skies[site][k];
      const truePower = Math.min(0.9 * rated, rated * (trueIrradiance / 1000) * 0.82 * health(k));
      const noisy = (x: number) => x * (1 + 0.02 * (rnd() + rnd() + rnd() - 1.5) * 2);
      const irradiance = trueIrradiance > 0 ? Math.round(noisy(trueIrradiance) * 10) / 10 : 0;
      const power = truePower > 0 ? Math.round(noisy(truePower) * 10) / 10 : 0;
      const factor = spikeAt.get(k);
      if (missing.has(k)) continue;
      let reported = power;
      if (factor !== undefined && trueIrradiance > 50) {
        reported = Math.round(power * factor * 10) / 10;
        anomalies.push({ kind: 'spike', deviceId: id, start: iso(t), end: iso(t), factor, value: reported });
      }
      const voltage = power > 0 ? 380 : 0;
      const current = power > 0 ? Math.round((power / 0.96 / voltage) * 1000) / 1000 : 0;
      const energy = Math.round(((power * options.intervalMs) / HOUR) * 1000) / 1000;
      rows.push({
        deviceId: id,
        eventTimeMs: t,
        json: `{"panelId":"${id}","ts":"${iso(t)}","seq":${seq++},"acPowerW":${reported},"dcVoltageV":${voltage},"dcCurrentA":${current},"energyWh":${energy},"panelTempC":${Math.round(25 + trueIrradiance / 40)},"irradianceWm2":${irradiance},"status":"OK"}`,
      });
    }
  }
  rows.sort((a, b) => a.eventTimeMs - b.eventTimeMs);
  return { registry, anomalies, json: rows };
}

// ---- Scenarios -----------------------------------------------------------------------------------------

const READING_KINDS = ['spike', 'spike 2-3x', 'spike 3-5x', 'gap'];
const TREND_KINDS = ['soiling', 'step_down', 'degradation'];

describe('spikes and gaps on cloudy fleets (2 days, readings every 5 minutes, 2 copies each)', () => {
  test('the simulator: 40 panels on 4 sites, spikes 2-5x, gaps, faults', async () => {
    const f = generateFleet({
      profile: 'solar',
      devices: 40,
      start: new Date('2026-06-01T00:00:00Z'),
      durationMs: 2 * DAY,
      seed: 21,
      sites: 4,
      anomalies: { spikesPerDeviceHour: 0.06, gapsPerDeviceHour: 0.01, faultsPerDeviceHour: 0.01 },
    });
    const scenario: Scenario = {
      name: 'sim-readings',
      records: () => f.records(),
      registry: registryEntries(f),
      anomalies: f.anomalies,
      from: '2026-06-01',
      to: '2026-06-02',
      score: 'readings',
    };
    const r = await harness.score(scenario);
    console.log(scoreTable(`simulator, ${r.records} readings`, r.scores));
    expectTargets(r.scores, READING_KINDS);
  }, 120_000);

  test('the simple model: 40 panels, spikes 2-2.5x and 3-5x on daylight readings', async () => {
    const f = simpleFleet({
      panels: 40,
      startMs: Date.parse('2026-06-01T00:00:00Z'),
      days: 2,
      intervalMs: 5 * 60_000,
      seed: 4,
      spikesPerPanel: 6,
      trends: false,
    });
    const r = await harness.score({
      name: 'simple-readings',
      records: () => f.json,
      registry: f.registry,
      anomalies: f.anomalies,
      from: '2026-06-01',
      to: '2026-06-02',
      score: 'readings',
    });
    console.log(scoreTable(`simple model, ${r.records} readings`, r.scores));
    expectTargets(r.scores, READING_KINDS);
  }, 120_000);
});

describe('underperformance trends on cloudy fleets (60 days, hourly readings, daily uploads)', () => {
  test('the simulator: soiling episodes, fast degradation and lost strings are told apart', async () => {
    const f = generateFleet({
      profile: 'solar',
      devices: 32,
      start: new Date('2026-03-01T00:00:00Z'),
      durationMs: 60 * DAY,
      intervalMs: TREND_INTERVAL,
      seed: 9,
      sites: 4,
      anomalies: {
        spikesPerDeviceHour: 0.002,
        gapsPerDeviceHour: 0.002,
        faultsPerDeviceHour: 0.002,
        soilingPerDeviceDay: 1 / 100,
        stepDownsPerDeviceDay: 1 / 400,
        degradedShare: 0.15,
      },
    });
    const r = await harness.score({
      name: 'sim-trends',
      records: () => f.records(),
      registry: registryEntries(f),
      anomalies: f.anomalies,
      from: '2026-03-01',
      to: '2026-04-29',
      dailyUpload: true,
      copies: 1,
      intervalMs: TREND_INTERVAL,
      score: 'trends',
    });
    console.log(scoreTable(`simulator, ${r.records} readings`, r.scores));
    expectTargets(r.scores, TREND_KINDS);
  }, 120_000);

  test('the simple model: the same kinds on a sawtooth, a slope and a step of its own', async () => {
    const f = simpleFleet({
      panels: 32,
      startMs: Date.parse('2026-03-01T00:00:00Z'),
      days: 60,
      intervalMs: TREND_INTERVAL,
      seed: 8,
      spikesPerPanel: 0,
      trends: true,
    });
    const r = await harness.score({
      name: 'simple-trends',
      records: () => f.json,
      registry: f.registry,
      anomalies: f.anomalies,
      from: '2026-03-01',
      to: '2026-04-29',
      dailyUpload: true,
      copies: 1,
      intervalMs: TREND_INTERVAL,
      score: 'trends',
    });
    console.log(scoreTable(`simple model, ${r.records} readings`, r.scores));
    expectTargets(r.scores, TREND_KINDS);
  }, 120_000);
});
