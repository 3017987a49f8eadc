import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { fillParams, findNamedQuery, isCheckedParam, NAMED_QUERIES, ParamError } from '../../lib/catalog';
import { type DeviceProfile, solarProfile, unicornProfile } from '../../lib/core/profiles';
import { minuteKey, minuteStart } from '../../lib/core/time';
import { AnalyticsEngine, type QueryOutput } from '../../lib/local/athena/engine';
import { REGISTRY_KEY, registryEntries, registryNdjson } from '../../lib/simulator/device-registry';
import { type Anomaly, generateFleet } from '../../lib/simulator/generate';
import { catalogTables, putArchive, type S3Fixture, startS3 } from '../local/athena/fixtures';

const BUCKET = 'archive';
const DB = 'iot';
const DAY = 86_400_000;
const START = new Date('2026-06-01T00:00:00Z');

let s3f: S3Fixture;
let engine: AnalyticsEngine;
let cacheDir: string;
let solarJson: string[]; // one entry per message (before retry copies)
let solarAnomalies: Anomaly[];
let unicornJson: string[];
let unicornAnomalies: Anomaly[];
const copiesOf = (i: number) => 1 + (i % 3); // 1-3 identical copies per message

beforeAll(async () => {
  s3f = await startS3([BUCKET]);
  // 200 panels, 3 days, a reading every 5 minutes, the simulator's default spikes, gaps and faults.
  const fleet = generateFleet({ profile: 'solar', devices: 200, start: START, durationMs: 3 * DAY, seed: 42 });
  solarAnomalies = fleet.anomalies;
  solarJson = [];
  const lines: { arrivalMs: number; json: string }[] = [];
  for (const r of fleet.records()) {
    const i = solarJson.length;
    solarJson.push(r.json);
    // The retry bug: copies arrive seconds to 40 minutes later, some in the next hourly partition.
    for (let c = 0; c < copiesOf(i); c++)
      lines.push({ arrivalMs: r.eventTimeMs + 2000 + c * 20 * 60_000, json: r.json });
  }
  await putArchive(s3f.s3, BUCKET, 'solar', lines);
  await s3f.s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: REGISTRY_KEY, Body: registryNdjson(registryEntries(fleet)) }),
  );

  // Unicorns: the workshop's StatusTime layout and ISO with an offset, mixed; each status sent twice.
  const unicorns = generateFleet({ profile: 'unicorn', devices: 10, start: START, durationMs: 30 * 60_000, seed: 7 });
  unicornAnomalies = unicorns.anomalies;
  unicornJson = [];
  const uLines: { arrivalMs: number; json: string }[] = [];
  for (const r of unicorns.records()) {
    let json = r.json;
    if (unicornJson.length % 2 === 1) {
      const o = JSON.parse(json);
      const shifted = new Date(r.eventTimeMs + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
      o.StatusTime = shifted;
      json = JSON.stringify(o);
    }
    unicornJson.push(json);
    uLines.push({ arrivalMs: r.eventTimeMs + 1000, json }, { arrivalMs: r.eventTimeMs + 3000, json });
  }
  await putArchive(s3f.s3, BUCKET, 'unicorn', uLines);

  cacheDir = mkdtempSync(join(tmpdir(), 'athena-nq-cache-'));
  engine = await AnalyticsEngine.create({ s3: s3f.target, tables: catalogTables(BUCKET, DB), cacheDir });
}, 120_000);

afterAll(async () => {
  await engine?.close();
  await s3f?.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

function named(name: string, params: Record<string, string> = {}): Promise<QueryOutput> {
  const q = findNamedQuery(name);
  return engine.execute(fillParams(q.sql, q.params, params), { database: DB });
}

const utc = (s: string) => Date.parse(s.replace(' UTC', 'Z').replace(' ', 'T'));

/** Per-minute aggregates computed in TypeScript from the profile, as the aggregator defines them. */
function reference(profile: DeviceProfile, jsons: readonly string[]) {
  const minutes = new Map<string, { count: number; seen: Set<number>; m: Record<string, number> }>();
  for (const json of jsons) {
    const v = profile.validate(JSON.parse(json));
    if (!v.ok) continue;
    const t = profile.eventTime(v.record);
    const key = `${profile.deviceId(v.record)}|${minuteKey(minuteStart(t))}`;
    let agg = minutes.get(key);
    if (!agg) {
      agg = { count: 0, seen: new Set(), m: {} };
      minutes.set(key, agg);
    }
    const id = profile.eventId(v.record, t);
    if (agg.seen.has(id)) continue;
    agg.seen.add(id);
    agg.count++;
    for (const spec of profile.metrics) {
      const x = spec.value(v.record);
      const prev = agg.m[spec.name];
      agg.m[spec.name] =
        prev === undefined
          ? x
          : spec.op === 'sum'
            ? prev + x
            : spec.op === 'min'
              ? Math.min(prev, x)
              : Math.max(prev, x);
    }
  }
  return minutes;
}

/** Compares every row; mismatches are collected in plain code (one expect per row would take most of the run). */
function compareMinutes(result: QueryOutput, profile: DeviceProfile, jsons: readonly string[]) {
  const ref = reference(profile, jsons);
  const names = result.columns.map((c) => c.name);
  const mismatches: string[] = [];
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  for (const row of result.rows) {
    const key = `${row[0]}|${row[1]}`;
    const expected = ref.get(key);
    if (!expected) {
      mismatches.push(`unexpected minute ${key}`);
      continue;
    }
    const get = (col: string) => Number(row[names.indexOf(col.toLowerCase())]);
    if (get('RecordCount') !== expected.count)
      mismatches.push(`${key} RecordCount ${get('RecordCount')} != ${expected.count}`);
    for (const spec of profile.metrics) {
      if (spec.name === 'SumPowerW') continue; // stored as MeanPowerW
      if (!close(get(spec.name), expected.m[spec.name]))
        mismatches.push(`${key} ${spec.name} ${get(spec.name)} != ${expected.m[spec.name]}`);
    }
    for (const d of profile.derived) {
      const want = d.compute(expected.m, expected.count);
      if (!close(get(d.name), want)) mismatches.push(`${key} ${d.name} ${get(d.name)} != ${want}`);
    }
  }
  expect(mismatches.slice(0, 5)).toEqual([]);
  expect(result.rows.length).toBe(ref.size);
  expect(ref.size).toBeGreaterThan(0);
}

describe('named queries on simulated data (200 panels, 3 days, retry copies)', () => {
  test('every named query declares its placeholders and runs', async () => {
    for (const q of NAMED_QUERIES) {
      const used = new Set([...q.sql.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]));
      expect([...used].sort()).toEqual(q.params.map((p) => p.name).sort());
      const r = await engine.execute(fillParams(q.sql, q.params, { from: '2026-06-02', to: '2026-06-02' }), {
        database: DB,
      });
      expect(r.columns.length).toBeGreaterThan(1);
    }
  }, 240_000); // every named query over 3 days of 200 panels: ~30 s alone, several times that on a loaded 2-core machine

  test('spikes: finds the injected spikes (recall) and little else (precision), with the expected power', async () => {
    const r = await named('solar-spikes');
    expect(r.columns.map((c) => c.name)).toEqual([
      'device',
      'site',
      'event_time',
      'value',
      'expected',
      'reason',
      'irradiance',
      'rated_w',
      'excess_w',
    ]);
    const found = new Set(r.rows.map((x) => `${x[0]}|${utc(x[2]!)}`));
    for (const x of r.rows) expect(Number(x[3])).toBeGreaterThan(Number(x[4]));
    expect(new Set(r.rows.map((x) => x[1]))).not.toContain(null); // the registry gave every panel its site
    const injected = solarAnomalies
      .filter((a) => a.kind === 'spike')
      .map((a) => `${a.deviceId}|${Date.parse(a.start)}`);
    expect(injected.length).toBeGreaterThan(100);
    const hits = injected.filter((k) => found.has(k)).length;
    expect(hits / injected.length).toBeGreaterThanOrEqual(0.95);
    expect(hits / found.size).toBeGreaterThanOrEqual(0.95);
  });

  test('performance ratio: one panel against its site, the same rows as in the fleet-wide answer', async () => {
    const all = await named('solar-performance-ratio');
    const one = await named('solar-performance-ratio', { device: 'SP-000007' });
    expect(one.rows.length).toBeGreaterThan(0);
    expect(one.rows).toEqual(all.rows.filter((x) => x[0] === 'SP-000007'));
    const relative = all.rows.map((x) => Number(x[7]));
    // Healthy panels (the simulator's ordinary dust and ageing) stay near their site's well-kept panels.
    expect(relative.filter((r) => r > 0.9 && r < 1.1).length / relative.length).toBeGreaterThan(0.95);
  });

  test('gaps: each injected outage is reported once, from the last reading before it to the first after it', async () => {
    const r = await named('solar-gaps');
    const gaps = solarAnomalies.filter((a) => a.kind === 'gap');
    expect(gaps.length).toBeGreaterThan(30);
    const reported = r.rows.map((x) => ({
      device: x[0],
      from: utc(x[1]!),
      until: x[2] === null ? Infinity : utc(x[2]),
    }));
    let matched = 0;
    for (const g of gaps) {
      const hit = reported.filter(
        (x) => x.device === g.deviceId && x.from < Date.parse(g.start) && x.until > Date.parse(g.end),
      );
      if (hit.length === 1 && hit[0].until - Date.parse(g.end) <= 5 * 60_000) matched++;
    }
    expect(matched / gaps.length).toBeGreaterThanOrEqual(0.98);
    expect(matched / reported.length).toBeGreaterThanOrEqual(0.98);
  });

  test('per-minute aggregates recomputed from the archive equal the aggregator’s definition (TS reference)', async () => {
    const r = await named('solar-per-minute');
    compareMinutes(r, solarProfile as DeviceProfile, solarJson);
    expect(r.columns.map((c) => c.name)).toEqual([
      'name',
      'statustime',
      'energywh',
      'minpowerw',
      'maxpowerw',
      'meanpowerw',
      'maxpaneltempc',
      'faultcount',
      'recordcount',
    ]);
    expect(r.rows[0][1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/); // the aggregates table's sort key
  });

  test('unicorn per-minute: both StatusTime layouts, duplicates removed', async () => {
    const r = await named('unicorn-per-minute');
    compareMinutes(r, unicornProfile as DeviceProfile, unicornJson);
  });

  test('unicorn spikes and gaps: the injected ones, and only those', async () => {
    const spikes = await named('unicorn-spikes');
    const injected = unicornAnomalies
      .filter((a) => a.kind === 'spike')
      .map((a) => `${a.deviceId}|${Date.parse(a.start)}`);
    expect(injected.length).toBeGreaterThan(3);
    expect(spikes.rows.map((x) => `${x[0]}|${utc(x[1]!)}`).sort()).toEqual(injected.sort());
    const gaps = await named('unicorn-gaps');
    const injectedGaps = unicornAnomalies.filter((a) => a.kind === 'gap');
    expect(injectedGaps.length).toBeGreaterThan(0);
    expect(gaps.rows).toHaveLength(injectedGaps.length);
    for (const g of injectedGaps) {
      expect(
        gaps.rows.filter(
          (x) => x[0] === g.deviceId && utc(x[1]!) < Date.parse(g.start) && utc(x[2]!) > Date.parse(g.end),
        ),
      ).toHaveLength(1);
    }
  });

  test('a one-day range reads about a day of partitions and keeps only that day’s events', async () => {
    const all = await named('solar-per-minute');
    const day = await named('solar-per-minute', { from: '2026-06-02', to: '2026-06-02' });
    expect(day.dataScannedInBytes).toBeLessThan(all.dataScannedInBytes * 0.45);
    expect(day.rows.every((x) => x[1]!.startsWith('2026-06-02'))).toBe(true);
    const expected = all.rows.filter((x) => x[1]!.startsWith('2026-06-02'));
    expect(day.rows).toEqual(expected);
  });

  test('duplicates: copies per device and the copies histogram size the retry bug exactly', async () => {
    const perDevice = await named('solar-duplicates');
    const records = perDevice.rows.reduce((s, x) => s + Number(x[2]), 0);
    const messages = perDevice.rows.reduce((s, x) => s + Number(x[1]), 0);
    expect(messages).toBe(solarJson.length);
    expect(records).toBe(solarJson.reduce((s, _j, i) => s + copiesOf(i), 0));
    const histogram = await named('solar-copies-histogram');
    expect(histogram.rows.map((x) => [Number(x[0]), Number(x[1])])).toEqual(
      [1, 2, 3].map((c) => [c, solarJson.filter((_j, i) => copiesOf(i) === c).length]),
    );
  });

  test('trends: daily fleet energy equals the sum over deduplicated readings', async () => {
    const r = await named('solar-fleet-trends', { granularity: 'day' });
    expect(r.rows).toHaveLength(3);
    const byDay = new Map<string, number>();
    for (const j of solarJson) {
      const o = JSON.parse(j);
      const d = o.ts.slice(0, 10);
      byDay.set(d, (byDay.get(d) ?? 0) + o.energyWh);
    }
    for (const row of r.rows) {
      expect(Number(row[1])).toBeCloseTo(byDay.get(row[0]!.slice(0, 10))! / 1000, 6);
      expect(row[4]).toBe('200');
    }
    const device = await named('solar-device-trends', {
      device: 'SP-000001',
      granularity: 'hour',
      from: '2026-06-02',
      to: '2026-06-02',
    });
    expect(device.rows).toHaveLength(24);
    expect(new Set(device.rows.map((x) => x[0]))).toEqual(new Set(['SP-000001']));
  });

  test('parameters are checked before they reach the SQL', () => {
    const unchecked = NAMED_QUERIES.flatMap((q) => q.params.filter((p) => !isCheckedParam(p.name)).map((p) => p.name));
    expect(unchecked).toEqual([]);
    const spikes = findNamedQuery('solar-spikes');
    expect(() => fillParams(spikes.sql, spikes.params, { jump: '1; DROP TABLE x' })).toThrow(ParamError);
    const q = findNamedQuery('solar-gaps');
    expect(() => fillParams(q.sql, q.params, { from: '2026-13-01' })).toThrow(ParamError);
    expect(() => fillParams(q.sql, q.params, { nope: '1' })).toThrow(/Unknown parameter "nope"/);
    expect(fillParams(q.sql, q.params, { device: "x' OR '1'='1" })).toContain("'x'' OR ''1''=''1'");
    expect(() => findNamedQuery('nope')).toThrow(/Known: solar-deduplicated/);
  });
});
