import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDashboard } from '../lib/dashboard/server';
import { embeddedTarget } from '../lib/dashboard/target';
import { startRuntime } from '../lib/local/runtime';
import { baseClientConfig, s3ClientConfig } from '../lib/shared/aws-clients';
import { writeRegistry } from '../lib/shared/device-registry';
import { registryEntries } from '../lib/simulator/device-registry';
import { generateFleet } from '../lib/simulator/generate';
import { deviceStateItem } from '../lib/storage/table-layout';
import { launchChromium } from '../test/support/browser';
import { type BenchReport, fmt, median } from './report';

/**
 * The dashboard with 30,000 panels in headless Chromium (WebGL on SwiftShader, no GPU): time to first
 * render (navigation to the map idle with every panel drawn) and frame times while the fleet updates
 * (1,000 panels changed per second, pushed over server-sent events) and the map pans every frame.
 * The device state is written straight into the embedded stack's table (the pipeline is measured by
 * the end-to-end section), so the figures are the dashboard's own.
 */
const PANELS = 30_000;
const UNICORNS = 20;
const CHANGED_PER_SECOND = 1_000;
const UPDATE_SECONDS = 10;

export async function runDashboardBench(): Promise<BenchReport> {
  const runtime = await startRuntime({ dataDir: null, port: 0, stackFile: null, analytics: false });
  const target = runtime.target();
  const ddb = new DynamoDBClient(baseClientConfig(target));
  const doc = DynamoDBDocumentClient.from(ddb);
  const browser = await launchChromium();
  let dashboard: Awaited<ReturnType<typeof startDashboard>> | undefined;
  try {
    const now = Date.now();
    const fleet = generateFleet({ profile: 'solar', devices: PANELS, start: new Date(now), durationMs: 0, seed: 1 });
    const s3 = new S3Client(s3ClientConfig(target));
    await writeRegistry(s3, target.archiveBucket!, registryEntries(fleet));
    s3.destroy();
    const item = (id: string, i: number, t: number) =>
      deviceStateItem(
        i < UNICORNS
          ? {
              deviceId: `Unicorn-${i}`,
              profile: 'unicorn',
              status: 'OK',
              lastEventTimeMs: t,
              lastEventId: 0,
              reading: {
                Latitude: 40.7 + i * 0.01,
                Longitude: -74 + (t % 1000) / 1e5,
                HealthPoints: 150,
                MagicPoints: 150,
              },
            }
          : {
              deviceId: id,
              profile: 'solar',
              status: i % 97 === 0 ? 'FAULT_GRID' : 'OK',
              lastEventTimeMs: t,
              lastEventId: i,
              reading: {
                acPowerW: (i * 37 + t / 1000) % 4000,
                panelTempC: 40,
                energyWh: 10,
                ts: new Date(t).toISOString(),
              },
            },
      );
    const ids = fleet.devices.map((d) => d.deviceId);
    const put = async (indices: number[], t: number) => {
      const batches: number[][] = [];
      for (let i = 0; i < indices.length; i += 25) batches.push(indices.slice(i, i + 25));
      for (let b = 0; b < batches.length; b += 8) {
        await Promise.all(
          batches.slice(b, b + 8).map((batch) =>
            doc.send(
              new BatchWriteCommand({
                RequestItems: {
                  [target.deviceStateTable!]: batch.map((i) => ({ PutRequest: { Item: item(ids[i], i, t) } })),
                },
              }),
            ),
          ),
        );
      }
    };
    const log = (line: string) => process.stderr.write(`  dashboard bench: ${line}\n`);
    log(`writing ${fmt(PANELS)} device states...`);
    const loadStarted = Date.now();
    await put(
      ids.map((_, i) => i),
      now - 60_000,
    );
    const loadMs = Date.now() - loadStarted;

    dashboard = await startDashboard({ target: embeddedTarget(target), port: 0, refreshMs: 1000, healthMs: 5000 });
    const scanStarted = Date.now();
    await dashboard.hub.snapshot(); // the server's first scan, before the page asks (measured apart)
    const scanMs = Date.now() - scanStarted;
    const snapshotBytes = (
      await fetch(`${dashboard.url}api/devices`, { headers: { 'x-dashboard-request': '1' } }).then((r) =>
        r.arrayBuffer(),
      )
    ).byteLength;

    log('first render x3, then updates...');
    const renders: number[] = [];
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
    for (let run = 0; run < 3; run++) {
      await page.goto(dashboard.url);
      await page.waitForSelector('body[data-map-ready="true"]', { timeout: 60_000 });
      renders.push(
        await page.evaluate(
          () => (window as never as { dashboard: { marks: Record<string, number> } }).dashboard.marks.firstRender,
        ),
      );
    }
    const drawn = await page.evaluate(() => {
      const map = (window as never as { dashboard: { map: { querySourceFeatures(s: string): unknown[] } } }).dashboard
        .map;
      return new Set(map.querySourceFeatures('devices').map((f) => (f as { properties: { id: string } }).properties.id))
        .size;
    });

    // Frame times: pan every frame while 1,000 panels change per second.
    // Strings, not functions: tsx compiles functions with a helper (__name) that the page does not have.
    await page.evaluate(`(() => {
      window.frames_ = [];
      window.stopFrames = false;
      let last = performance.now();
      const tick = (t) => {
        window.frames_.push(t - last);
        last = t;
        window.dashboard.map.panBy([2, 0], { duration: 0 });
        if (!window.stopFrames) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    })()`);
    const versionBefore = await page.evaluate(
      () => (window as never as { dashboard: { version: number } }).dashboard.version,
    );
    for (let s = 0; s < UPDATE_SECONDS; s++) {
      const started = Date.now();
      const changed = Array.from({ length: CHANGED_PER_SECOND }, (_, k) => (s * CHANGED_PER_SECOND + k * 29) % PANELS);
      await put(changed, Date.now());
      const wait = 1000 - (Date.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await new Promise((r) => setTimeout(r, 1500));
    const { frames, version } = (await page.evaluate(
      '(() => { window.stopFrames = true; return { frames: window.frames_.slice(5), version: window.dashboard.version }; })()',
    )) as { frames: number[]; version: number };
    const sorted = [...frames].sort((a, b) => a - b);
    const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    const fps = (frames.length / frames.reduce((a, b) => a + b, 0)) * 1000;
    const firstRender = median(renders);
    const cost = dashboard.hub.costReport();
    const lines = [
      `${fmt(PANELS)} panels + ${UNICORNS} unicorns in the device-state table (written in ${(loadMs / 1000).toFixed(1)} s), registry in the archive bucket`,
      `server: one Scan of the table ${fmt(scanMs)} ms (dynalite), snapshot ${fmt(Math.round(snapshotBytes / 1024))} KB gzipped, page bundle built in ${fmt(dashboard.assets.buildMs)} ms`,
      `time to first render (navigation -> map idle with the fleet drawn), median of ${renders.length}: ${fmt(Math.round(firstRender))} ms (runs: ${renders.map((r) => Math.round(r)).join(', ')} ms); ${fmt(drawn)} devices on the map`,
      `during updates (${fmt(CHANGED_PER_SECOND)} panels changed per second for ${UPDATE_SECONDS} s, ${version - versionBefore} pushes, map panning every frame): ${fps.toFixed(1)} fps; frame time median ${p(0.5).toFixed(1)} ms, p95 ${p(0.95).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms, ${frames.filter((f) => f > 33.4).length} of ${frames.length} frames over 33 ms`,
      `one scan of this fleet: ${cost.lastScanReadUnits.toFixed(1)} RRU; ${cost.perHourText.replace(/^.*?: /, 'at the AWS default cadence (30 s) an hour costs ')}`,
    ];
    return {
      title: 'Dashboard (30,000 panels, headless Chromium, SwiftShader WebGL)',
      lines,
      figures: {
        firstRenderMs: Math.round(firstRender),
        fps: Math.round(fps * 10) / 10,
        frameMedianMs: Math.round(p(0.5) * 10) / 10,
        frameP95Ms: Math.round(p(0.95) * 10) / 10,
        scanMs,
        snapshotKB: Math.round(snapshotBytes / 1024),
        scanReadUnits: cost.lastScanReadUnits,
      },
    };
  } finally {
    await browser.close();
    await dashboard?.close();
    ddb.destroy();
    await runtime.stop();
  }
}

if (require.main === module) {
  runDashboardBench().then(
    (r) => {
      console.log(`## ${r.title}`);
      for (const l of r.lines) console.log(l);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
