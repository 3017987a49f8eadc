import { solarProfile, unicornProfile } from '../../lib/core/profiles';
import type { SolarRecord, UnicornRecord } from '../../lib/core/profiles/records';
import { parseTimestamp } from '../../lib/core/time';
import { type GeneratedFleet, type GeneratedRecord, generateFleet } from '../../lib/simulator/generate';
import { cosSolarZenith, PANEL_TEMP_MAX_C, PANEL_TEMP_MIN_C } from '../../lib/simulator/solar-physics';

const START = new Date('2026-06-01T00:00:00.000Z');
const all = (f: GeneratedFleet): GeneratedRecord[] => [...f.records()];

describe('generateFleet: determinism and order', () => {
  it.each(['unicorn', 'solar'] as const)('%s: same seed, same data; another seed, other data', (profile) => {
    const opts = { profile, devices: 5, start: START, durationMs: 3_600_000, seed: 42 };
    const a = generateFleet(opts);
    const b = generateFleet(opts);
    const c = generateFleet({ ...opts, seed: 43 });
    expect(all(a)).toEqual(all(b));
    expect(a.anomalies).toEqual(b.anomalies);
    expect(all(a).map((r) => r.json)).not.toEqual(all(c).map((r) => r.json));
    // records() replays the same sequence each time it is called
    expect(all(a)).toEqual(all(a));
  });

  it.each(['unicorn', 'solar'] as const)('%s: event-time order, inside the window, as many as announced', (profile) => {
    const f = generateFleet({
      profile,
      devices: 7,
      start: START,
      durationMs: (profile === 'solar' ? 48 : 1) * 3_600_000,
      seed: 1,
    });
    const recs = all(f);
    expect(recs.length).toBe(f.expectedRecords);
    expect(recs.findIndex((r, i) => i > 0 && r.eventTimeMs < recs[i - 1].eventTimeMs)).toBe(-1);
    expect(recs[0].eventTimeMs).toBeGreaterThanOrEqual(START.getTime());
    expect(recs[recs.length - 1].eventTimeMs).toBeLessThan(
      START.getTime() + (profile === 'solar' ? 48 : 1) * 3_600_000,
    );
  });

  it('rejects bad options with a clear error', () => {
    expect(() =>
      generateFleet({ profile: 'pony' as 'unicorn', devices: 1, start: START, durationMs: 1, seed: 1 }),
    ).toThrow(/Unknown profile "pony"/);
    expect(() => generateFleet({ profile: 'unicorn', devices: 0, start: START, durationMs: 1, seed: 1 })).toThrow(
      /devices/,
    );
  });
});

describe('unicorns: the workshop producer, record for record', () => {
  const fleet = generateFleet({
    profile: 'unicorn',
    devices: 3,
    start: START,
    durationMs: 3_600_000,
    seed: 7,
    names: ['Bucephalus'],
    anomalies: { spikesPerDeviceHour: 3, gapsPerDeviceHour: 2, faultsPerDeviceHour: 2 },
  });
  const recs = all(fleet);
  const anomalies = fleet.anomalies;

  it('every record is accepted by the core exactly as a workshop record', () => {
    const keys = ['Name', 'StatusTime', 'Latitude', 'Longitude', 'Distance', 'HealthPoints', 'MagicPoints'].join();
    const bad = recs.filter((r) => {
      const obj = JSON.parse(r.json);
      return (
        Object.keys(obj).join() !== keys ||
        !unicornProfile.validate(obj).ok ||
        !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/.test(obj.StatusTime) ||
        parseTimestamp(obj.StatusTime) !== r.eventTimeMs ||
        unicornProfile.deviceId(obj) !== r.deviceId
      );
    });
    expect(bad).toEqual([]);
    expect(recs.length).toBe(fleet.expectedRecords);
    // The given name first; generated names skip it, so no two unicorns share a name.
    expect(fleet.devices.map((d) => d.deviceId)).toEqual(['Bucephalus', 'Shadowfax', 'Rocinante']);
    expect(new Set(recs.map((r) => r.deviceId)).size).toBe(3);
  });

  it('one reading per second, Distance 29–31, health and magic ±1 per tick, outside injected anomalies', () => {
    const spikes = new Set(anomalies.filter((a) => a.kind === 'spike').map((a) => `${a.deviceId}@${a.start}`));
    const faults = anomalies.filter((a) => a.kind === 'fault');
    const inFault = (id: string, t: number) =>
      faults.some((a) => a.deviceId === id && t >= Date.parse(a.start) && t <= Date.parse(a.end));
    const byDevice = new Map<string, UnicornRecord[]>();
    for (const r of recs) byDevice.set(r.deviceId, [...(byDevice.get(r.deviceId) ?? []), JSON.parse(r.json)]);
    const bad: string[] = [];
    for (const [id, rs] of byDevice) {
      for (let i = 0; i < rs.length; i++) {
        const r = rs[i];
        const t = parseTimestamp(r.StatusTime);
        const spike = spikes.has(`${id}@${new Date(t).toISOString()}`);
        if (spike ? r.Distance < 87 : r.Distance < 29 || r.Distance > 31) bad.push(`Distance ${id} ${r.StatusTime}`);
        if (inFault(id, t) ? r.HealthPoints >= 50 : r.HealthPoints < 60) bad.push(`Health ${id} ${r.StatusTime}`);
        if (r.MagicPoints < 60) bad.push(`Magic ${id} ${r.StatusTime}`);
        if (i > 0) {
          const dt = t - parseTimestamp(rs[i - 1].StatusTime);
          if (dt % 1000 !== 0) bad.push(`tick ${id} ${r.StatusTime}`);
          if (dt === 1000 && Math.abs(r.MagicPoints - rs[i - 1].MagicPoints) > 1)
            bad.push(`walk ${id} ${r.StatusTime}`);
        }
        if (Math.abs(r.Latitude - 40.7484) >= 0.1) bad.push(`map ${id} ${r.StatusTime}`);
      }
    }
    expect(bad).toEqual([]);
    expect(anomalies.length).toBeGreaterThan(0);
    expect(new Set(anomalies.map((a) => a.kind))).toEqual(new Set(['spike', 'gap', 'fault']));
  });
});

describe('solar panels: physics', () => {
  const fleet = generateFleet({ profile: 'solar', devices: 40, start: START, durationMs: 3 * 86_400_000, seed: 3 });
  const recs = all(fleet);
  const site = new Map(fleet.devices.map((d) => [d.deviceId, d]));
  const spikeAt = new Set(fleet.anomalies.filter((a) => a.kind === 'spike').map((a) => `${a.deviceId}@${a.start}`));
  const parsed = recs.map((r) => JSON.parse(r.json) as SolarRecord);

  it('every record passes the core solar validation, with a valid ISO ts', () => {
    const bad = parsed.filter(
      (r, i) =>
        !solarProfile.validate(r as unknown as Record<string, unknown>).ok ||
        !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(r.ts) ||
        parseTimestamp(r.ts) !== recs[i].eventTimeMs,
    );
    expect(bad).toEqual([]);
  });

  it('no power and no irradiance when the sun is down; power by day', () => {
    let daylight = 0;
    let night = 0;
    const bad: string[] = [];
    const previous = new Map<string, number>();
    for (const r of parsed) {
      const t = parseTimestamp(r.ts);
      const afterGap = t - (previous.get(r.panelId) ?? t - fleet.intervalMs) > fleet.intervalMs;
      previous.set(r.panelId, t);
      const d = site.get(r.panelId)!;
      const cosZ = cosSolarZenith(d.latitude, d.longitude, t);
      if (spikeAt.has(`${r.panelId}@${r.ts}`)) continue;
      if (cosZ <= 0) {
        night++;
        // After a gap the reading also carries what the meter counted while offline.
        if (r.irradianceWm2 !== 0 || r.acPowerW !== 0 || (!afterGap && r.energyWh !== 0)) bad.push(r.ts);
      } else if (cosZ > 0.5 && r.status === 'OK') {
        if (!(r.acPowerW > 0)) bad.push(r.ts);
        daylight++;
      }
    }
    expect(bad).toEqual([]);
    expect(daylight).toBeGreaterThan(100);
    expect(night).toBeGreaterThan(100);
  });

  it('energy is the trapezoid of consecutive AC powers over the elapsed time; seq +1 per reading', () => {
    const last = new Map<string, SolarRecord>();
    let checked = 0;
    const bad: string[] = [];
    for (const r of parsed) {
      const prev = last.get(r.panelId);
      last.set(r.panelId, r);
      if (!prev) continue;
      if (r.seq !== prev.seq + 1) bad.push(`seq ${r.panelId} ${r.ts}`);
      if (spikeAt.has(`${r.panelId}@${r.ts}`) || spikeAt.has(`${prev.panelId}@${prev.ts}`)) continue;
      const dt = parseTimestamp(r.ts) - parseTimestamp(prev.ts);
      if (dt > fleet.intervalMs) continue; // after a gap it also holds what the meter counted offline
      const trapezoid = ((prev.acPowerW + r.acPowerW) / 2) * (dt / 3_600_000);
      if (Math.abs(r.energyWh - trapezoid) > 0.0006) bad.push(`energy ${r.panelId} ${r.ts}`);
      checked++;
    }
    expect(bad).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('temperature follows irradiance within bounds; DC and AC agree; AC never above the inverter rating', () => {
    const maxAc = new Map<string, number>();
    const bad: string[] = [];
    for (const r of parsed) {
      if (r.panelTempC < PANEL_TEMP_MIN_C || r.panelTempC > (r.status === 'FAULT_OVERTEMP' ? 119 : PANEL_TEMP_MAX_C)) {
        bad.push(`temp ${r.panelId} ${r.ts}`);
      }
      if (spikeAt.has(`${r.panelId}@${r.ts}`)) continue;
      if (r.status === 'OK' && r.acPowerW > r.dcVoltageV * r.dcCurrentA + 1) bad.push(`ac>dc ${r.panelId} ${r.ts}`);
      maxAc.set(r.panelId, Math.max(maxAc.get(r.panelId) ?? 0, r.acPowerW));
    }
    expect(bad).toEqual([]);
    // The hottest readings are the sunniest ones (NOCT): compare the means of the top and bottom irradiance deciles.
    const sorted = parsed.filter((r) => r.status === 'OK').sort((a, b) => a.irradianceWm2 - b.irradianceWm2);
    const mean = (xs: SolarRecord[]) => xs.reduce((s, r) => s + r.panelTempC, 0) / xs.length;
    const tenth = Math.floor(sorted.length / 10);
    expect(mean(sorted.slice(-tenth)) - mean(sorted.slice(0, tenth))).toBeGreaterThan(15);
    for (const v of maxAc.values()) expect(v).toBeLessThanOrEqual(6200);
  });
});

describe('injected anomalies: the list is exact', () => {
  it.each(['unicorn', 'solar'] as const)(
    '%s: spikes, gaps and faults are where the list says and nowhere else',
    (profile) => {
      const f = generateFleet({
        profile,
        devices: 6,
        start: START,
        durationMs: profile === 'solar' ? 10 * 86_400_000 : 3_600_000,
        seed: 11,
        anomalies:
          profile === 'solar'
            ? {
                spikesPerDeviceHour: 0.2,
                gapsPerDeviceHour: 0.05,
                faultsPerDeviceHour: 0.05,
                soilingPerDeviceDay: 0,
                stepDownsPerDeviceDay: 0,
              }
            : { spikesPerDeviceHour: 4, gapsPerDeviceHour: 2, faultsPerDeviceHour: 2 },
      });
      const recs = all(f);
      const interval = f.intervalMs;
      const key = (id: string, t: number) => `${id}@${t}`;
      const byKey = new Map(recs.map((r) => [key(r.deviceId, r.eventTimeMs), JSON.parse(r.json)]));
      const spikeKeys = new Set<string>();
      const faultKeys = new Set<string>();
      for (const a of f.anomalies) {
        const s = Date.parse(a.start);
        const e = Date.parse(a.end);
        if (a.kind === 'spike') {
          expect(s).toBe(e);
          const r = byKey.get(key(a.deviceId, s));
          expect(r?.[a.metric!]).toBe(a.value);
          spikeKeys.add(key(a.deviceId, s));
        } else if (a.kind === 'gap') {
          expect((e - s) / interval + 1).toBeGreaterThanOrEqual(3);
          for (let t = s; t <= e; t += interval) expect(byKey.has(key(a.deviceId, t))).toBe(false);
          expect(byKey.has(key(a.deviceId, s - interval))).toBe(true);
          expect(byKey.has(key(a.deviceId, e + interval))).toBe(true);
        } else {
          for (let t = s; t <= e; t += interval) {
            const r = byKey.get(key(a.deviceId, t));
            if (profile === 'solar') expect(r.status).toBe(a.code);
            else expect(r.HealthPoints).toBe(a.value);
            faultKeys.add(key(a.deviceId, t));
          }
        }
      }
      expect(new Set(f.anomalies.map((a) => a.kind))).toEqual(new Set(['spike', 'gap', 'fault']));
      // Nothing else is abnormal. Unicorns: every other reading is below half the smallest spike. Panels:
      // a spiked reading reports more AC than its own DC side delivers, or more than the inverter's limit;
      // no other reading does.
      const minSpike = new Map<string, number>();
      for (const a of f.anomalies) {
        if (a.kind === 'spike') minSpike.set(a.deviceId, Math.min(minSpike.get(a.deviceId) ?? Infinity, a.value!));
      }
      expect(minSpike.size).toBeGreaterThan(0);
      const inverter = new Map(f.devices.map((d) => [d.deviceId, d.inverterRatedW ?? 0]));
      const unexpected: string[] = [];
      for (const r of recs) {
        const k = key(r.deviceId, r.eventTimeMs);
        const obj = byKey.get(k);
        const spiky =
          profile === 'solar'
            ? obj.acPowerW > obj.dcVoltageV * obj.dcCurrentA + 1 || obj.acPowerW > inverter.get(r.deviceId)!
            : obj.Distance >= (minSpike.get(r.deviceId) ?? Infinity) / 2;
        if (spiky !== spikeKeys.has(k)) unexpected.push(`spike ${k}`);
        const abnormal = profile === 'solar' ? obj.status !== 'OK' : obj.HealthPoints < 50;
        if (abnormal !== faultKeys.has(k)) unexpected.push(`fault ${k}`);
      }
      expect(unexpected).toEqual([]);
    },
  );

  it('anomalies: false injects none', () => {
    const f = generateFleet({
      profile: 'solar',
      devices: 20,
      start: START,
      durationMs: 10 * 86_400_000,
      seed: 1,
      anomalies: false,
    });
    expect(f.expectedRecords).toBe(20 * 288 * 10);
    expect(f.anomalies).toEqual([]);
    const recs = all(f);
    expect(recs.length).toBe(20 * 288 * 10);
    expect(recs.filter((r) => !r.json.includes('"status":"OK"'))).toEqual([]);
  });
});
