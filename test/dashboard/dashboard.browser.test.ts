/// <reference lib="dom" />
/// <reference types="geojson" />
// (The functions passed to page.evaluate run in the browser: DOM types for this file.)
import { request } from 'node:http';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { Browser, Page } from 'playwright-core';
import { minuteStart, parseTimestamp } from '../../lib/core/time';
import { CONTENT_SECURITY_POLICY } from '../../lib/dashboard/server';
import { type DevicesMessage, type DeviceView, encodeDevices } from '../../lib/dashboard/wire';
import { baseClientConfig } from '../../lib/shared/aws-clients';
import { launchChromium } from '../support/browser';
import { COPIES, type DashboardStack, INVALID, startDashboardStack, UNICORNS, XSS_NAME } from './fixture';

/**
 * The dashboard in a real browser (system Chromium, WebGL on SwiftShader) on the embedded stack with
 * known readings: what the page shows must be what went in.
 */
jest.setTimeout(120_000);

let stack: DashboardStack;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const dialogs: string[] = [];

interface RenderedPoint {
  id: string;
  lon: number;
  lat: number;
  x: number;
  y: number;
}

/** Features MapLibre actually drew in a layer, with their screen positions. */
function rendered(layer: string): Promise<RenderedPoint[]> {
  return page.evaluate((l) => {
    const map = (window as never as { dashboard: { map: import('maplibre-gl').Map } }).dashboard.map;
    return map.queryRenderedFeatures({ layers: [l] }).map((f) => {
      const [lon, lat] = (f.geometry as GeoJSON.Point).coordinates;
      const p = map.project([lon, lat]);
      return { id: f.properties.id as string, lon, lat, x: p.x, y: p.y };
    });
  }, layer);
}

/** Screen positions of coordinates on the current map view. */
function project(lonLats: [number, number][]): Promise<{ x: number; y: number }[]> {
  return page.evaluate((ll) => {
    const map = (window as never as { dashboard: { map: import('maplibre-gl').Map } }).dashboard.map;
    return ll.map((c) => {
      const p = map.project(c as [number, number]);
      return { x: p.x, y: p.y };
    });
  }, lonLats);
}

const lastReading = (name: string) => stack.unicorns.filter((r) => r.Name === name).at(-1)!;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startDashboardStack(), launchChromium()]);
  page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(stack.dashboard.url);
  await page.waitForSelector('body[data-map-ready="true"]', { timeout: 60_000 });
}, 170_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('fleet dashboard in headless Chromium', () => {
  it('draws the map with WebGL under SwiftShader', async () => {
    const gl = await page.evaluate(() => {
      const canvas = document.querySelector('#map canvas') as HTMLCanvasElement;
      const ctx = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
      return { renderer: ctx?.getParameter(ctx.RENDERER) as string, width: canvas.width };
    });
    expect(gl.width).toBeGreaterThan(300);
    expect(gl.renderer).toBeTruthy();
    // The basemap is drawn: land and sea pixels differ on the screenshot.
    const png = await page.locator('#map').screenshot();
    expect(png.length).toBeGreaterThan(10_000);
  });

  it('shows every unicorn on the map at its last position, drawn in the unicorn colour', async () => {
    const points = await rendered('unicorns');
    expect(points.map((p) => p.id).sort()).toEqual([...UNICORNS].sort());
    // Vector tiles quantize coordinates: compare where each is drawn with where its last reading projects.
    const expected = await project(points.map((p) => [lastReading(p.id).Longitude, lastReading(p.id).Latitude]));
    points.forEach((p, i) => {
      expect(Math.hypot(p.x - expected[i].x, p.y - expected[i].y)).toBeLessThan(1.5);
    });
    const shown = points.filter((p) => p.x > 5 && p.y > 5 && p.x < 700 && p.y < 500);
    expect(shown.length).toBeGreaterThan(0);
    const box = (await page.locator('#map').boundingBox())!;
    for (const p of shown) {
      const pixel = await page.screenshot({ clip: { x: box.x + p.x - 1, y: box.y + p.y - 1, width: 3, height: 3 } });
      const rgb = await page.evaluate(async (b64) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const c = document.createElement('canvas');
        c.width = 3;
        c.height = 3;
        const ctx = c.getContext('2d')!;
        ctx.drawImage(img, 0, 0);
        return Array.from(ctx.getImageData(1, 1, 1, 1).data.slice(0, 3));
      }, pixel.toString('base64'));
      // UNICORN_COLOR #a21caf = (162, 28, 175)
      expect(Math.abs(rgb[0] - 162) + Math.abs(rgb[1] - 28) + Math.abs(rgb[2] - 175)).toBeLessThan(60);
    }
  });

  it('places the panels at their registry positions', async () => {
    const points = await page.evaluate(() => {
      const map = (window as never as { dashboard: { map: import('maplibre-gl').Map } }).dashboard.map;
      return map
        .querySourceFeatures('panels')
        .filter((f) => f.properties.p === 'solar')
        .map((f) => f.properties.id as string);
    });
    expect([...new Set(points)].sort()).toEqual([...stack.panels].sort());
    const list = await page.locator('#device-list button[data-device^="SP-"] .site').allTextContents();
    expect(list).toHaveLength(stack.panels.length);
    expect(list.every((s) => s.length > 0)).toBe(true);
  });

  it('lists every device as text and renders an HTML-like name as text', async () => {
    await expect(page.locator('#device-count').textContent()).resolves.toContain(
      `${UNICORNS.length + stack.panels.length} devices`,
    );
    const names = await page.locator('#device-list .name').allTextContents();
    expect(names).toEqual(expect.arrayContaining([...UNICORNS, ...stack.panels]));
    expect(await page.locator('img').count()).toBe(0);
    const label = page.locator('.unicorn-label', { hasText: XSS_NAME });
    await expect(label.count()).resolves.toBe(1);
    expect(dialogs).toEqual([]);
    await page.fill('#search', 'onerror');
    await expect(page.locator('#device-list .name').allTextContents()).resolves.toEqual([XSS_NAME]);
    await page.fill('#search', '');
  });

  it('shows the per-minute aggregates of a unicorn: three minutes, their distances and vital signs', async () => {
    await page.click('#device-list button[data-device="Shadowfax"]');
    await page.waitForSelector('#minutes-summary[data-minutes]');
    expect(await page.getAttribute('#minutes-summary', 'data-minutes')).toBe('3');
    const charts = page.locator('#charts figure.chart');
    await expect(charts.count()).resolves.toBe(3);
    expect(await charts.first().getAttribute('data-points')).toBe('3');
    const readings = stack.unicorns.filter((r) => r.Name === 'Shadowfax');
    const byMinute = new Map<number, typeof readings>();
    for (const r of readings) {
      const m = minuteStart(parseTimestamp(r.StatusTime));
      byMinute.set(m, [...(byMinute.get(m) ?? []), r]);
    }
    const header = await page.locator('#minutes table thead th').allTextContents();
    const rows = await page
      .locator('#minutes table tbody tr')
      .evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    expect(rows).toHaveLength(3);
    const col = (name: string) => header.indexOf(name);
    for (const row of rows) {
      const minute = Date.parse(`${row[0].replace(' ', 'T')}:00Z`);
      const rs = byMinute.get(minute)!;
      expect(Number(row[col('Distance')])).toBeCloseTo(
        rs.reduce((s, r) => s + r.Distance, 0),
        6,
      );
      expect(Number(row[col('MinHealthPoints')])).toBe(Math.min(...rs.map((r) => r.HealthPoints)));
      expect(Number(row[col('MaxMagicPoints')])).toBe(Math.max(...rs.map((r) => r.MagicPoints)));
      expect(Number(row[col('RecordCount')])).toBe(rs.length);
    }
  });

  it("reads a minute's raw readings from the archive through Athena, copies counted, with its cost", async () => {
    await page.locator('#minutes .raw-button').first().click();
    await page.waitForSelector('#raw-figures', { timeout: 60_000 });
    const figures = await page.textContent('#raw-figures');
    expect(figures).toMatch(/^3 rows · data scanned .+ · \$0\.\d+ at \$5 per TB/);
    const header = await page.locator('#raw table thead th').allTextContents();
    const copies = await page
      .locator('#raw table tbody tr')
      .evaluateAll((trs, i) => trs.map((tr) => tr.querySelectorAll('td')[i].textContent), header.indexOf('copies'));
    expect(copies).toEqual(Array(3).fill(String(COPIES)));
  });

  it('shows the pipeline counters of what went in', async () => {
    const counter = (k: string) => page.locator(`#health-counters dd[data-counter="${k}"]`);
    const unique = stack.recordsSent - INVALID.length;
    await expect(counter('recordsIn').textContent()).resolves.toBe(stack.recordsSent.toLocaleString('en-US'));
    expect(await counter('duplicatesDropped').textContent()).toBe(
      ((unique * (COPIES - 1)) / COPIES).toLocaleString('en-US'),
    );
    expect(await counter('invalidRecords').textContent()).toBe(String(INVALID.length));
    expect(await counter('failureQueue').textContent()).toBe('0');
    expect(Number(await counter('firehoseObjects').textContent())).toBeGreaterThan(0);
    expect(await page.textContent('#health-reasons')).toContain('invalid_json: 1');
    expect(await page.textContent('#cost')).toMatch(/per hour on AWS/);
  });

  it('runs a named query as a finding and shows its rows, bytes scanned and cost', async () => {
    await page.selectOption('#finding-name', 'unicorn-duplicates');
    await page.click('#finding-run');
    await page.waitForSelector('#finding-figures[data-rows]', { timeout: 60_000 });
    expect(await page.textContent('#finding-figures')).toMatch(
      /unicorn-duplicates: 3 rows · data scanned .+ · \$0\.\d+/,
    );
    const header = await page.locator('#finding-result thead th').allTextContents();
    const row = await page
      .locator('#finding-result tbody tr', { hasText: 'Shadowfax' })
      .evaluate((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent));
    const n = stack.unicorns.filter((r) => r.Name === 'Shadowfax').length;
    expect(Number(row[header.indexOf('messages')])).toBe(n);
    expect(Number(row[header.indexOf('records')])).toBe(n * COPIES);
    expect(Number(row[header.indexOf('extra_copies')])).toBe(n * (COPIES - 1));
  });

  it('moves a unicorn when a new reading arrives (pushed over server-sent events)', async () => {
    const before = lastReading('Bucephalus');
    const moved = { ...before, Latitude: before.Latitude + 0.02, Longitude: before.Longitude + 0.02, HealthPoints: 77 };
    moved.StatusTime = new Date(Date.now() - 2000).toISOString().replace('T', ' ').replace('Z', '');
    const kinesis = new KinesisClient(baseClientConfig(stack.runtime.target()));
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: stack.runtime.info.streamName,
        Records: [{ Data: Buffer.from(JSON.stringify(moved)), PartitionKey: moved.Name }],
      }),
    );
    kinesis.destroy();
    // The label (a DOM marker) moves with the same pushed update as the circle.
    await page.waitForFunction(
      (name) => document.querySelector(`.unicorn-label[data-device="${name}"]`)?.textContent?.includes('HP 77'),
      'Bucephalus',
      { timeout: 30_000 },
    );
    await page.waitForTimeout(500); // the worker applies the diff to the source
    const [target] = await project([[moved.Longitude, moved.Latitude]]);
    const drawn = (await rendered('unicorns')).find((p) => p.id === 'Bucephalus')!;
    expect(Math.hypot(drawn.x - target.x, drawn.y - target.y)).toBeLessThan(1.5);
    const item = await page.locator('#device-list button[data-device="Bucephalus"] .seen').textContent();
    expect(item).toBe(`${moved.StatusTime.slice(11, 19)} UTC`);
  });

  it('logged no console errors and opened no dialog', () => {
    expect(consoleErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});

describe('a large fleet on the map', () => {
  // 500 panels at one site (10 of them faulted) and one far away: the page's snapshot request is answered
  // with this fleet (the edge of the page); map, worker, grouping and drawing are the real ones.
  const SITE = { lon: -77.04, lat: -12.05 };
  const fleet: DeviceView[] = [
    ...Array.from({ length: 500 }, (_, i) => ({
      id: `BIG-${String(i).padStart(3, '0')}`,
      profile: 'solar',
      status: i % 50 === 0 ? 'FAULT_GRID' : 'OK',
      lastSeen: Date.now(),
      lat: SITE.lat + ((i % 23) - 11) * 0.004,
      lon: SITE.lon + (Math.floor(i / 23) - 11) * 0.004,
      site: 'Lima',
      ratedPowerW: 3000,
      values: { acPowerW: 1500, panelTempC: 30 },
      v: 1,
    })),
    { id: 'FAR-1', profile: 'solar', status: 'OK', lastSeen: Date.now(), lat: -1.31, lon: 36.84, values: {}, v: 1 },
  ];

  it('groups the panels of a site while zoomed out and draws every one of them zoomed in', async () => {
    const big = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
    const errors: string[] = [];
    big.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    big.on('pageerror', (e) => errors.push(e.message));
    try {
      const message: DevicesMessage = { version: 1, full: true, devices: encodeDevices(fleet), refreshedAt: null };
      await big.route('**/api/devices', (route) => route.fulfill({ json: message }));
      await big.goto(stack.dashboard.url);
      await big.waitForSelector('body[data-map-ready="true"]', { timeout: 60_000 });
      const panels = () =>
        big.evaluate(() => {
          const map = (window as never as { dashboard: { map: import('maplibre-gl').Map } }).dashboard.map;
          return map.querySourceFeatures('panels').map((f) => ({ ...f.properties }) as Record<string, unknown>);
        });
      const zoomedOut = await panels();
      const group = zoomedOut.find((f) => f.cluster === true);
      expect(group).toMatchObject({ point_count: 500, faults: 10, silent: 0 });
      expect(zoomedOut.some((f) => f.id === 'FAR-1')).toBe(true); // alone: drawn as itself
      expect(zoomedOut.some((f) => typeof f.id === 'string' && f.id.startsWith('BIG-'))).toBe(false);
      await big.evaluate(
        (c) =>
          new Promise<void>((resolve) => {
            const map = (window as never as { dashboard: { map: import('maplibre-gl').Map } }).dashboard.map;
            map.jumpTo({ center: [c.lon, c.lat], zoom: 11.5 });
            map.once('idle', () => resolve());
          }),
        SITE,
      );
      const drawn = await big.evaluate(() => {
        const map = (window as never as { dashboard: { map: import('maplibre-gl').Map } }).dashboard.map;
        return map.queryRenderedFeatures({ layers: ['panels', 'panel-groups'] }).map((f) => f.properties.id as string);
      });
      expect(new Set(drawn).size).toBe(500);
      expect(drawn.every((id) => id?.startsWith('BIG-'))).toBe(true);
      // The list shows the fleet too (first 200 of 501 plus what the stack pushes), as text.
      expect(await big.locator('#device-list button[data-device^="BIG-"]').count()).toBeGreaterThan(100);
      expect(errors).toEqual([]);
    } finally {
      await big.close();
    }
  });

  it('draws the map at one pixel per CSS pixel on software WebGL, also on a HiDPI screen', async () => {
    const hidpi = await browser.newPage({ viewport: { width: 1000, height: 700 }, deviceScaleFactor: 2 });
    try {
      await hidpi.goto(stack.dashboard.url);
      await hidpi.waitForSelector('body[data-map-ready="true"]', { timeout: 60_000 });
      const ratio = await hidpi.evaluate(() => ({
        device: window.devicePixelRatio,
        map: (window as never as { dashboard: { map: import('maplibre-gl').Map } }).dashboard.map.getPixelRatio(),
      }));
      expect(ratio).toEqual({ device: 2, map: 1 });
    } finally {
      await hidpi.close();
    }
  });
});

describe('dashboard server security', () => {
  const call = (path: string, options: { method?: string; host?: string; headers?: Record<string, string> } = {}) =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>(
      (resolve, reject) => {
        const url = new URL(path, stack.dashboard.url);
        const req = request(
          {
            host: '127.0.0.1',
            port: url.port,
            path: url.pathname + url.search,
            method: options.method ?? 'GET',
            headers: { host: options.host ?? url.host, ...options.headers },
          },
          (res) => {
            let body = '';
            res.on('data', (c) => {
              body += c;
            });
            res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
          },
        );
        req.on('error', reject);
        req.end();
      },
    );

  it('listens on 127.0.0.1 only', () => {
    expect(new URL(stack.dashboard.url).hostname).toBe('127.0.0.1');
  });

  it('serves the page with a CSP that allows no inline script or style, and no CORS', async () => {
    const res = await call('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.body).not.toMatch(/<script>|<script(?![^>]*src=)/);
  });

  it('refuses other hosts (DNS rebinding), writes, preflights, and API calls without its header', async () => {
    expect((await call('/', { host: 'attacker.example:80' })).status).toBe(421);
    expect((await call('/api/devices', { method: 'POST', headers: { 'x-dashboard-request': '1' } })).status).toBe(405);
    const preflight = await call('/api/findings', {
      method: 'OPTIONS',
      headers: { origin: 'https://attacker.example' },
    });
    expect(preflight.status).toBe(405);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect((await call('/api/findings?name=unicorn-gaps')).status).toBe(403);
    const ok = await call('/api/devices', { headers: { 'x-dashboard-request': '1' } });
    expect(ok.status).toBe(200);
  });

  it('runs only the listed named queries, with checked parameters', async () => {
    const h = { 'x-dashboard-request': '1' };
    const other = await call('/api/findings?name=solar-deduplicated', { headers: h });
    expect(other.status).toBe(400);
    expect(JSON.parse(other.body).error).toMatch(/not a finding/);
    const bad = await call(`/api/findings?name=unicorn-gaps&from=${encodeURIComponent("2026-01-01' OR 1=1 --")}`, {
      headers: h,
    });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/from=.* is not valid/);
  });
});
