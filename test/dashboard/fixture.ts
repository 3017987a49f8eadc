import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { REGISTRY_KEY } from '../../lib/catalog/registry-table';
import type { UnicornRecord } from '../../lib/core/profiles/records';
import { minuteStart } from '../../lib/core/time';
import { type Dashboard, startDashboard } from '../../lib/dashboard/server';
import { embeddedTarget } from '../../lib/dashboard/target';
import { type LocalRuntime, startRuntime } from '../../lib/local/runtime';
import { baseClientConfig, s3ClientConfig } from '../../lib/shared/aws-clients';
import { writeRegistry } from '../../lib/shared/device-registry';
import { registryEntries } from '../../lib/simulator/device-registry';
import { generateFleet } from '../../lib/simulator/generate';

/**
 * Known readings through the embedded stack (real template, real aggregator, Athena on the archive),
 * then the dashboard on it. Three unicorns, one of them named like an HTML injection, with hand-made
 * readings over three minutes; six panels from the simulator with their registry; every record sent
 * twice (copies), plus one invalid record.
 */
export const XSS_NAME = '<img src=x onerror=alert(1)>';
export const UNICORNS = ['Shadowfax', 'Bucephalus', XSS_NAME] as const;
export const COPIES = 2;
export const INVALID = ['not json at all'];

/** A reading in the workshop's format, as the record contract defines it. */
export type UnicornReading = UnicornRecord;

const workshopTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** Readings every 20 s over three whole minutes ending two minutes ago. */
export function unicornReadings(now = Date.now()): UnicornReading[] {
  const first = minuteStart(now) - 5 * 60_000;
  const out: UnicornReading[] = [];
  UNICORNS.forEach((name, u) => {
    for (let i = 0; i < 9; i++) {
      out.push({
        Name: name,
        StatusTime: workshopTime(first + i * 20_000 + u * 1000),
        Latitude: 40.74 + u * 0.03 + i * 0.001,
        Longitude: -74.0 + u * 0.04 - i * 0.001,
        Distance: 10 + i,
        HealthPoints: 150 - i - u * 10,
        MagicPoints: 140 + i,
      });
    }
  });
  return out;
}

export interface DashboardStack {
  readonly runtime: LocalRuntime;
  readonly dashboard: Dashboard;
  readonly unicorns: readonly UnicornReading[];
  readonly panels: readonly string[];
  /** Records put on the stream: copies and the invalid one included. */
  readonly recordsSent: number;
  stop(): Promise<void>;
}

export async function startDashboardStack(options: { panels?: number } = {}): Promise<DashboardStack> {
  // The runtime keeps logs beside the data directory: a fresh parent keeps this run's EMF log its own.
  const root = mkdtempSync(join(tmpdir(), 'dashboard-e2e-'));
  const dataDir = join(root, 'data');
  const runtime = await startRuntime({
    cwd: join(__dirname, '..', '..'),
    dataDir,
    port: 0,
    stackFile: null,
    overrides: {
      tumblingWindowSeconds: 2,
      firehoseBufferSeconds: 1,
      maxBatchingWindowSeconds: 0.2,
      pollIntervalMs: 100,
    },
  });
  let dashboard: Dashboard | undefined;
  try {
    const target = runtime.target();
    const unicorns = unicornReadings();
    const fleet = generateFleet({
      profile: 'solar',
      devices: options.panels ?? 6,
      start: new Date(minuteStart(Date.now()) - 30 * 60_000),
      durationMs: 25 * 60_000,
      seed: 11,
      anomalies: false,
    });
    const s3 = new S3Client(s3ClientConfig(target));
    await writeRegistry(s3, target.archiveBucket!, REGISTRY_KEY, registryEntries(fleet));
    s3.destroy();
    const records: { data: string; key: string }[] = [];
    for (const r of unicorns) for (let c = 0; c < COPIES; c++) records.push({ data: JSON.stringify(r), key: r.Name });
    for (const r of fleet.records()) for (let c = 0; c < COPIES; c++) records.push({ data: r.json, key: r.deviceId });
    for (const bad of INVALID) records.push({ data: bad, key: 'invalid' });
    const kinesis = new KinesisClient(baseClientConfig(target));
    for (let i = 0; i < records.length; i += 500) {
      const out = await kinesis.send(
        new PutRecordsCommand({
          StreamName: target.streamName,
          Records: records.slice(i, i + 500).map((r) => ({ Data: Buffer.from(r.data), PartitionKey: r.key })),
        }),
      );
      if (out.FailedRecordCount) throw new Error(`${out.FailedRecordCount} records not put`);
    }
    kinesis.destroy();
    await runtime.drain({ timeoutMs: 90_000, flush: true });
    dashboard = await startDashboard({
      target: embeddedTarget(runtime.target()),
      port: 0,
      refreshMs: 1000,
      healthMs: 1000,
    });
    const d = dashboard;
    return {
      runtime,
      dashboard: d,
      unicorns,
      panels: fleet.devices.map((p) => p.deviceId),
      recordsSent: records.length,
      stop: async () => {
        await d.close();
        await runtime.stop();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await dashboard?.close();
    await runtime.stop();
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
