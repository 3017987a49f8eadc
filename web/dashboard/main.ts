import 'maplibre-gl/dist/maplibre-gl.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import type { Topology } from 'topojson-specification';
// Natural Earth 1:110m from the world-atlas package, bundled (~100 KB): no request before the map starts.
import world from 'world-atlas/countries-110m.json';
import {
  type CostReport,
  type DashboardConfig,
  type DevicesMessage,
  type DeviceView,
  decodeDevices,
} from '../../lib/dashboard/wire';
import { api, formatUsd } from './api';
import { DeviceCharts } from './charts';
import { byId, formatNumber, formatTime, h, replace } from './dom';
import { DeviceList } from './list';
import { FleetMap, STATUS_COLORS, UNICORN_COLOR } from './map';
import { resultTable } from './tables';

/** The page: fleet map and list (live over server-sent events), a device's charts, pipeline health, findings. */
interface HealthMessage {
  readonly at: string;
  readonly source: string;
  readonly period: string;
  readonly counters: Record<string, number | null>;
  readonly invalidByReason: Record<string, number>;
}

const HEALTH_LABELS: readonly [string, string][] = [
  ['recordsIn', 'Records in'],
  ['duplicatesDropped', 'Copies dropped'],
  ['invalidRecords', 'Invalid (quarantined)'],
  ['lateRecords', 'Late'],
  ['aggregatesWritten', 'Aggregates written'],
  ['windowStateDiscarded', 'Window states discarded'],
  ['iteratorAgeMs', 'Iterator age (ms)'],
  ['firehoseObjects', 'Firehose deliveries (objects)'],
  ['firehoseRecords', 'Firehose records delivered'],
  ['firehoseSuccess', 'Firehose delivery success'],
  ['failureQueue', 'Failure queue (messages)'],
];

const devices = new Map<string, DeviceView>();
let version = 0;
let selected: string | null = null;
let config: DashboardConfig;
let fleetMap: FleetMap;
let charts: DeviceCharts;
let list: DeviceList;

/** What the page has done, for tests and benchmarks (read-only figures). */
const marks: Record<string, number> = {};
(window as unknown as { dashboard: unknown }).dashboard = {
  marks,
  get map() {
    return fleetMap?.map;
  },
  get deviceCount() {
    return devices.size;
  },
  get version() {
    return version;
  },
};

async function main(): Promise<void> {
  marks.start = performance.now();
  // The map (its worker, style and bundled basemap) starts at once; the fleet and the config download
  // meanwhile. Nothing on the map waits for the network until the fleet is handed to it.
  const snapshot = api.devices();
  const configured = api.config();
  snapshot.catch(() => undefined); // awaited below, where a failure is reported
  configured.catch(() => undefined);
  legend();
  fleetMap = new FleetMap(byId('map'), world as unknown as Topology, select);
  charts = new DeviceCharts(byId('charts'));
  list = new DeviceList(devices, select);
  list.listen();
  marks.mapStarted = performance.now();
  config = await configured;
  replace(
    byId('source'),
    `${config.kind === 'embedded' ? 'Embedded stack' : 'AWS'} · ${config.source}`,
    config.endpoint ? ` · ${config.endpoint}` : ` · ${config.region}`,
  );
  applyDevices(await snapshot);
  marks.data = performance.now();
  await fleetMap.loaded;
  marks.mapLoaded = performance.now();
  fleetMap.setAll([...devices.values()]);
  marks.setAll = performance.now();
  fleetMap.map.once('idle', () => {
    marks.firstRender = performance.now();
    document.body.dataset.mapReady = 'true';
  });
  findingsForm();
  connect();
}

function applyDevices(m: DevicesMessage): DeviceView[] {
  const changed = decodeDevices(m.devices);
  for (const d of changed) devices.set(d.id, d);
  version = Math.max(version, m.version);
  list.invalidate();
  if (selected && changed.some((d) => d.id === selected)) detailHeader(devices.get(selected)!);
  return changed;
}

function connect(): void {
  const status = byId('connection');
  const source = new EventSource(`/api/events?since=${version}`);
  source.addEventListener('open', () => replace(status, 'live'));
  source.addEventListener('error', () => replace(status, 'reconnecting…'));
  source.addEventListener('devices', (e) => {
    const changed = applyDevices(JSON.parse((e as MessageEvent).data) as DevicesMessage);
    fleetMap.update(changed);
    marks.lastUpdate = performance.now();
    replace(status, `live · updated ${formatTime(Date.now())}`);
  });
  source.addEventListener('health', (e) => showHealth(JSON.parse((e as MessageEvent).data) as HealthMessage));
  source.addEventListener('cost', (e) => showCost(JSON.parse((e as MessageEvent).data) as CostReport));
}

function legend(): void {
  const item = (color: string, label: string, kind = 'swatch') =>
    h('li', {}, h('span', { class: kind, 'data-color': color }), label);
  const ul = byId('legend');
  replace(
    ul,
    item(UNICORN_COLOR, 'unicorn'),
    item('#1e3a8a', 'panel, no output'),
    item('#facc15', 'panel at rated power'),
    item(STATUS_COLORS.DEGRADED, 'degraded'),
    item(STATUS_COLORS.FAULT_GRID, 'fault / low health'),
    item(STATUS_COLORS.NO_DATA, 'registered, no data yet'),
    item('#16a34a', 'group of panels (zoomed out; red ring: faults; click to zoom in)', 'swatch group'),
  );
  // Colours through the CSSOM (a style attribute would be inline style, which the CSP forbids).
  for (const s of ul.querySelectorAll<HTMLElement>('.swatch')) s.style.background = s.dataset.color ?? '';
}

function select(id: string): void {
  const d = devices.get(id);
  if (!d) return;
  selected = id;
  list.select(id);
  fleetMap.flyTo(d);
  detailHeader(d);
  void loadMinutes(d);
}

function detailHeader(d: DeviceView): void {
  replace(byId('detail-title'), d.id);
  const v = d.values;
  const facts =
    d.profile === 'unicorn'
      ? `health ${formatNumber(v.HealthPoints as number)}, magic ${formatNumber(v.MagicPoints as number)}`
      : `${formatNumber(v.acPowerW as number)} W of ${formatNumber(d.ratedPowerW)} W rated, ${formatNumber(v.panelTempC as number)} °C${d.site ? `, ${d.site}` : ''}`;
  replace(
    byId('detail-summary'),
    `${d.profile} · ${d.status} · last seen ${formatTime(d.lastSeen)}`,
    d.lastSeen !== null ? ` · ${facts}` : '',
    d.lat !== null ? ` · ${d.lat.toFixed(4)}, ${d.lon!.toFixed(4)}` : '',
  );
}

async function loadMinutes(d: DeviceView): Promise<void> {
  const box = byId('minutes');
  replace(box, 'Loading per-minute aggregates…');
  replace(byId('raw'));
  try {
    // The day up to the device's last reading, not up to now: a simulated or imported fleet lives in its own time.
    const data = await api.minutes(d.id, 24, d.lastSeen !== null ? d.lastSeen + 60_000 : undefined);
    if (selected !== d.id) return;
    const metrics = [...new Set(data.minutes.flatMap((m) => Object.keys(m.metrics)))].sort();
    charts.show(d.profile, data);
    const first = data.minutes[0]?.t ?? null;
    const last = data.minutes.at(-1)?.t ?? null;
    const recent = [...data.minutes].reverse();
    replace(
      box,
      h(
        'p',
        { id: 'minutes-summary', 'data-minutes': data.minutes.length },
        `${data.minutes.length} minutes with data in the 24 h up to its last reading`,
        first !== null ? ` (${formatTime(first)} – ${formatTime(last)})` : '',
        ` · ${formatNumber(data.readUnits, 1)} read units`,
      ),
      data.minutes.length > 0
        ? resultTable(
            ['minute (UTC)', ...metrics],
            recent.map((m) => [
              new Date(m.t).toISOString().slice(0, 16).replace('T', ' '),
              ...metrics.map((k) => m.metrics[k] ?? null),
            ]),
            {
              caption: 'Per-minute aggregates, newest first',
              maxRows: 60,
              className: 'result minutes',
              rowAction: (i) =>
                h(
                  'button',
                  { type: 'button', class: 'raw-button', 'data-minute': new Date(recent[i].t).toISOString() },
                  'raw readings',
                ),
            },
          )
        : null,
    );
    for (const b of box.querySelectorAll<HTMLButtonElement>('.raw-button')) {
      b.addEventListener('click', () => void loadRaw(d, b.dataset.minute!));
    }
  } catch (err) {
    replace(box, h('p', { class: 'error' }, `Could not read the aggregates: ${(err as Error).message}`));
  }
}

async function loadRaw(d: DeviceView, minute: string): Promise<void> {
  const box = byId('raw');
  replace(box, `Querying the archive for ${minute.slice(0, 16).replace('T', ' ')} UTC…`);
  try {
    const r = await api.raw(d.id, d.profile, minute);
    replace(
      box,
      h('h3', {}, `Raw readings of ${minute.slice(0, 16).replace('T', ' ')} UTC (from the archive)`),
      h('p', { class: 'figures', id: 'raw-figures' }, queryFigures(r.rows.length, r)),
      resultTable(r.columns, r.rows, { className: 'result raw' }),
    );
  } catch (err) {
    replace(box, h('p', { class: 'error' }, `Archive query failed: ${(err as Error).message}`));
  }
}

function queryFigures(rows: number, r: { dataScanned: string; costUsd: number; engineMs: number }): string {
  return `${rows} rows · data scanned ${r.dataScanned} · ${formatUsd(r.costUsd)} at $5 per TB (10 MB minimum) · ${r.engineMs} ms`;
}

function showHealth(m: HealthMessage): void {
  replace(byId('health-source'), `${m.source}; ${m.period}; as of ${formatTime(Date.parse(m.at))}.`);
  replace(
    byId('health-counters'),
    ...HEALTH_LABELS.flatMap(([key, label]) => {
      const v = m.counters[key];
      if (v === null || v === undefined) return [];
      return [
        h('dt', {}, label),
        h('dd', { 'data-counter': key }, key === 'firehoseSuccess' ? `${(v * 100).toFixed(1)} %` : formatNumber(v, 0)),
      ];
    }),
  );
  const reasons = Object.entries(m.invalidByReason).sort((a, b) => b[1] - a[1]);
  replace(
    byId('health-reasons'),
    ...(reasons.length === 0
      ? [h('li', {}, 'none')]
      : reasons.map(([reason, n]) => h('li', { 'data-reason': reason }, `${reason}: ${formatNumber(n, 0)}`))),
  );
}

function showCost(c: CostReport): void {
  replace(
    byId('cost'),
    c.perHourText,
    `. So far: ${c.deviceScans} scans (${formatNumber(c.scanReadUnits, 1)} RRU), charts ${formatNumber(c.chartReadUnits, 1)} RRU, `,
    `${c.cloudwatchCalls} GetMetricData calls, ${c.athenaQueries} Athena queries (${formatUsd(c.athenaUsd)}).`,
  );
}

function findingsForm(): void {
  const select = byId<HTMLSelectElement>('finding-name');
  const from = byId<HTMLInputElement>('finding-from');
  const to = byId<HTMLInputElement>('finding-to');
  // Default to the fleet's newest day, not today's: a simulated or imported fleet lives in its own time.
  let newest = 0;
  for (const d of devices.values()) newest = Math.max(newest, d.lastSeen ?? 0);
  const base = newest > 0 ? newest : Date.now();
  const day = (offset: number) => new Date(base + offset * 86_400_000).toISOString().slice(0, 10);
  from.value = day(-1);
  to.value = day(0);
  replace(select, ...config.findings.map((f) => h('option', { value: f.name }, f.name)));
  const describe = () =>
    replace(byId('finding-description'), config.findings.find((f) => f.name === select.value)?.description ?? '');
  select.addEventListener('change', describe);
  describe();
  byId<HTMLFormElement>('finding-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void runFinding(select.value, { from: from.value, to: to.value });
  });
}

async function runFinding(name: string, params: Record<string, string>): Promise<void> {
  const figures = byId('finding-figures');
  const result = byId('finding-result');
  const button = byId<HTMLButtonElement>('finding-run');
  button.disabled = true;
  replace(figures, `Running ${name}…`);
  replace(result);
  try {
    const r = await api.finding(name, params);
    replace(figures, `${name}: `, queryFigures(r.rows.length, r), r.truncated ? ' (first 500 rows)' : '');
    figures.dataset.rows = String(r.rows.length);
    replace(
      result,
      r.rows.length > 0 ? resultTable(r.columns, r.rows, { maxRows: 100 }) : h('p', {}, 'Nothing found.'),
    );
  } catch (err) {
    replace(figures, h('span', { class: 'error' }, `${name} failed: ${(err as Error).message}`));
  } finally {
    button.disabled = false;
  }
}

main().catch((err: Error) => {
  replace(byId('connection'), h('span', { class: 'error' }, `Could not start: ${err.message}`));
  console.error(err);
});
