import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { REGISTRY_KEY } from '../../lib/catalog/registry-table';
import { hourRange } from '../../lib/dashboard/archive-source';
import { perHourEstimate } from '../../lib/dashboard/cost';
import { healthFromResults, healthQueries } from '../../lib/dashboard/health-source';
import { LiveHub } from '../../lib/dashboard/hub';
import { embeddedTarget } from '../../lib/dashboard/target';
import { type DeviceView, decodeDevices, encodeDevices } from '../../lib/dashboard/wire';
import { mergeRegistry, parseRegistry, readRegistry, serializeRegistry } from '../../lib/shared/device-registry';
import { publishRegistry, registryEntries, registryFileFor } from '../../lib/simulator/device-registry';
import { generateFleet } from '../../lib/simulator/generate';
import { runSimulation } from '../../lib/simulator/run';
import { SITE_NAMES, SITES } from '../../lib/simulator/solar-model';
import type { DeviceStateRecord } from '../../lib/storage/table-layout';
import { deviceStateFromItem, deviceStateItem } from '../../lib/storage/table-layout';
import { startS3rver } from '../support/emulators';

describe('solar device registry', () => {
  const fleet = generateFleet({
    profile: 'solar',
    devices: 50,
    start: new Date('2026-06-01T00:00:00Z'),
    durationMs: 0,
    seed: 3,
  });

  it('lists each simulated panel where the model placed it, at its nearest site, with its rating', () => {
    const entries = registryEntries(fleet);
    expect(entries.map((e) => e.panelId)).toEqual(fleet.devices.map((d) => d.deviceId));
    entries.forEach((e, i) => {
      expect(e.latitude).toBeCloseTo(fleet.devices[i].latitude, 3);
      expect(e.longitude).toBeCloseTo(fleet.devices[i].longitude, 3);
      expect(e.ratedPowerW).toBe(fleet.devices[i].ratedPowerW);
      const site = SITES[SITE_NAMES.indexOf(e.site as (typeof SITE_NAMES)[number])];
      expect(Math.abs(site.latitude - e.latitude)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(site.longitude - e.longitude)).toBeLessThanOrEqual(0.5);
    });
    expect(SITE_NAMES).toHaveLength(SITES.length);
  });

  it('round-trips through NDJSON and rejects bad lines with a reason, keeping the rest', () => {
    const entries = registryEntries(fleet).slice(0, 3);
    const text = `${serializeRegistry(entries)}not json\n{"panelId":"X","site":"Y","latitude":95,"longitude":0,"ratedPowerW":1}\n`;
    const parsed = parseRegistry(text);
    expect(parsed.entries).toEqual(entries);
    expect(parsed.rejected).toEqual([
      { line: 4, reason: 'invalid_json' },
      { line: 5, reason: 'out_of_range:latitude' },
    ]);
  });

  it('merges a run into the registry: its panels replaced, earlier panels kept', () => {
    const [a, b] = registryEntries(fleet);
    const merged = mergeRegistry([a, b], [{ ...b, site: 'Moved' }]);
    expect(merged).toEqual([a, { ...b, site: 'Moved' }]);
    expect(registryFileFor('out/data.ndjson')).toBe('out/data.devices.ndjson');
    expect(registryFileFor('data.json')).toBe('data.json.devices.ndjson');
  });
});

describe('table layout', () => {
  it('reads back the device-state item it writes', () => {
    const s: DeviceStateRecord = {
      deviceId: 'SP-1',
      profile: 'solar',
      status: 'OK',
      lastEventTimeMs: 1_700_000_000_000,
      lastEventId: 42,
      reading: { acPowerW: 12.5 },
    };
    expect(deviceStateFromItem(deviceStateItem(s))).toEqual(s);
    expect(deviceStateFromItem({ Name: 'x' })).toBeUndefined();
  });
});

describe('archive partitions for a raw minute', () => {
  it('prunes by year, month, day and hour of arrival', () => {
    const sql = hourRange(Date.parse('2026-12-31T23:55:00Z'), Date.parse('2027-01-01T01:55:00Z'));
    expect(sql).toContain('year BETWEEN 2026 AND 2027');
    expect(sql).toContain('year * 100 + month BETWEEN 202612 AND 202701');
    expect(sql).toContain('BETWEEN 20261231 AND 20270101');
    expect(sql).toContain('BETWEEN 2026123123 AND 2027010101');
  });
});

describe('pipeline health from CloudWatch', () => {
  const target = {
    ...embeddedTarget({ region: 'us-east-1', source: 'test' }),
    kind: 'cloud' as const,
    functionName: 'fn',
    deliveryStream: 'ds',
    dlqUrl: 'https://sqs.us-east-1.amazonaws.com/123/failures',
  };

  it('asks for every counter in one GetMetricData request, each with its resource dimension', () => {
    const q = healthQueries(target);
    expect(q.map((x) => x.Id)).toEqual([
      'recordsIn',
      'duplicatesDropped',
      'invalidRecords',
      'lateRecords',
      'aggregatesWritten',
      'windowStateDiscarded',
      'reasons',
      'iteratorAgeMs',
      'firehoseRecords',
      'firehoseSuccess',
      'failureQueue',
    ]);
    expect(q.find((x) => x.Id === 'failureQueue')?.MetricStat?.Metric?.Dimensions).toEqual([
      { Name: 'QueueName', Value: 'failures' },
    ]);
    expect(q.find((x) => x.Id === 'recordsIn')?.MetricStat?.Metric?.Dimensions).toEqual([
      { Name: 'service', Value: 'iot-aggregator-dev' },
    ]);
    expect(q.find((x) => x.Id === 'reasons')?.Expression).toContain('MetricName="InvalidRecords"');
  });

  it('sums counters over the hour and takes the newest iterator age and queue depth', () => {
    const results: MetricDataResult[] = [
      { Id: 'recordsIn', Values: [10, 20] },
      { Id: 'iteratorAgeMs', Values: [1500, 9000] },
      { Id: 'failureQueue', Values: [] },
      { Id: 'reasons', Label: 'invalid_json', Values: [2, 1] },
    ];
    const h = healthFromResults(results);
    expect(h.counters.recordsIn).toBe(30);
    expect(h.counters.iteratorAgeMs).toBe(1500);
    expect(h.counters.failureQueue).toBeNull();
    expect(h.counters.lateRecords).toBe(0);
    expect(h.invalidByReason).toEqual({ invalid_json: 3 });
  });

  it('states what an hour of an open dashboard costs', () => {
    // 30,000 panels at ~300 bytes: ~2,200 KB-units of 4 KB, 0.5 RRU each, every 30 s; 17 metrics a minute.
    const e = perHourEstimate({ refreshMs: 30_000, scanReadUnits: 1100, healthMs: 60_000, metricsPerHealthCall: 17 });
    expect(e.usd).toBeCloseTo((120 * 1100 * 0.125) / 1e6 + (60 * 17 * 0.01) / 1000, 9);
    expect(e.text).toContain('120 device-state scans');
  });
});

describe('live hub', () => {
  const state = (devices: DeviceStateRecord[]) => ({
    devices: async () => ({ devices, cost: { readUnits: 0.5, requests: 1 } }),
  });
  const unicorn = (t: number, lat: number): DeviceStateRecord => ({
    deviceId: 'Shadowfax',
    profile: 'unicorn',
    status: 'OK',
    lastEventTimeMs: t,
    lastEventId: 0,
    reading: { Latitude: lat, Longitude: -74, HealthPoints: 150, MagicPoints: 150 },
  });

  it('keeps the fleet, bumps the version only for devices that changed, and adds registered panels', async () => {
    let current = [unicorn(1000, 40.7)];
    const hub = new LiveHub({
      state: { devices: () => state(current).devices() },
      registry: async () => [{ panelId: 'SP-1', site: 'Lima', latitude: -12, longitude: -77, ratedPowerW: 3000 }],
      health: { read: async () => ({}) as never, billable: { calls: 0, metricsRequested: 0 } },
      refreshMs: 0,
      healthMs: 60_000,
    });
    const first = await hub.snapshot();
    expect(decodeDevices(first.devices).map((d) => [d.id, d.status, d.lat])).toEqual([
      ['Shadowfax', 'OK', 40.7],
      ['SP-1', 'NO_DATA', -12],
    ]);
    const v1 = first.version;
    await hub.refresh();
    const again = await hub.snapshot();
    expect(again.version).toBe(v1);
    current = [unicorn(2000, 40.8)];
    await hub.refresh();
    const moved = await hub.snapshot();
    expect(moved.version).toBe(v1 + 1);
    const fleet = decodeDevices(moved.devices);
    expect(fleet.find((d) => d.id === 'Shadowfax')).toMatchObject({ lat: 40.8, lastSeen: 2000, v: v1 + 1 });
    expect(fleet.find((d) => d.id === 'SP-1')?.v).toBe(v1);
    expect(hub.costReport().deviceScans).toBe(3);
    hub.close();
  });
});

describe('devices on the wire (columns)', () => {
  it('decodes to exactly the devices encoded, fields absent where they were absent', () => {
    const views: DeviceView[] = [
      {
        id: 'Shadowfax',
        profile: 'unicorn',
        status: 'OK',
        lastSeen: 5,
        lat: 40.7,
        lon: -74,
        values: { HealthPoints: 150, MagicPoints: 3 },
        v: 2,
      },
      {
        id: 'SP-1',
        profile: 'solar',
        status: 'NO_DATA',
        lastSeen: null,
        lat: -12,
        lon: -77,
        site: 'Lima',
        ratedPowerW: 3000,
        values: {},
        v: 1,
      },
      {
        id: '<img src=x onerror=alert(1)>',
        profile: 'solar',
        status: 'FAULT_GRID',
        lastSeen: 9,
        lat: null,
        lon: null,
        values: { acPowerW: 0, note: 'x' },
        v: 3,
      },
    ];
    const columns = encodeDevices(views);
    expect(columns.words).toEqual(['unicorn', 'OK', 'solar', 'NO_DATA', 'Lima', 'FAULT_GRID']);
    expect(columns.values.HealthPoints).toEqual([150, null, null]);
    expect(decodeDevices(JSON.parse(JSON.stringify(columns)))).toEqual(views);
    expect(decodeDevices(encodeDevices([]))).toEqual([]);
  });
});

describe('the simulator writes the registry', () => {
  it('beside an --out file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'registry-'));
    try {
      const out = join(dir, 'data.ndjson');
      const summary = await runSimulation({ profiles: ['solar'], devices: 4, count: 4, rate: 'max', seed: 5, out });
      expect(summary.registry).toBe(`4 panels in ${join(dir, 'data.devices.ndjson')}`);
      const parsed = parseRegistry(readFileSync(join(dir, 'data.devices.ndjson'), 'utf8'));
      expect(parsed.entries.map((e) => e.panelId)).toEqual(['SP-000001', 'SP-000002', 'SP-000003', 'SP-000004']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('into the archive bucket (s3rver), merging with what is there', async () => {
    const s3 = await startS3rver(['archive']);
    try {
      const destination = { kind: 'bucket' as const, bucket: 'archive', endpoint: s3.endpoint, region: 'us-east-1' };
      const fleet = (devices: number, seed: number) =>
        generateFleet({ profile: 'solar', devices, start: new Date(), durationMs: 0, seed });
      expect(await publishRegistry([fleet(3, 1)], destination)).toBe(3);
      expect(await publishRegistry([fleet(1, 2)], destination)).toBe(1);
      const reg = await readRegistry(s3.client, 'archive', REGISTRY_KEY);
      expect(reg.entries.map((e) => e.panelId)).toEqual(['SP-000001', 'SP-000002', 'SP-000003']);
      expect(reg.entries[0]).toEqual(registryEntries(fleet(1, 2))[0]);
    } finally {
      await s3.stop();
    }
  });
});
