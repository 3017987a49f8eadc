import type { ServerResponse } from 'node:http';
import type { RegistryEntry } from '../shared/device-registry';
import type { DeviceStateRecord } from '../storage/table-layout';
import { perHourEstimate, scanReadUnits } from './cost';
import type { HealthSource, PipelineHealth } from './health-source';
import type { StateSource } from './state-source';
import { type CostReport, type DevicesMessage, type DeviceView, encodeDevices } from './wire';

/**
 * The server's one reader of live state, shared by every open page: it scans the device-state table
 * once per refresh (only while a page is connected), keeps the fleet in memory, and pushes what changed
 * as server-sent events. Ten open tabs cost what one costs.
 */
export interface LiveHubOptions {
  readonly state: Pick<StateSource, 'devices'>;
  readonly registry: () => Promise<readonly RegistryEntry[]>;
  readonly health: HealthSource;
  /** Device-state scan cadence. */
  readonly refreshMs: number;
  /** Health cadence (CloudWatch has one datapoint a minute: 60 s on AWS). */
  readonly healthMs: number;
  /** Registry re-read cadence. @default 300_000 */
  readonly registryMs?: number;
  readonly log?: (line: string) => void;
}

/** The reading fields the page shows per profile (the rest stays in the table). */
const SHOWN: Record<string, readonly string[]> = {
  unicorn: ['HealthPoints', 'MagicPoints'],
  solar: ['acPowerW', 'panelTempC'],
};

export function deviceView(d: DeviceStateRecord, reg: RegistryEntry | undefined, v: number): DeviceView {
  const r = d.reading;
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  const values: Record<string, number | string> = {};
  for (const k of SHOWN[d.profile] ?? Object.keys(r)) {
    const x = r[k];
    if (typeof x === 'number' || typeof x === 'string') values[k] = x;
  }
  return {
    id: d.deviceId,
    profile: d.profile,
    status: d.status,
    lastSeen: d.lastEventTimeMs,
    // Unicorns report their position; panels are placed by the registry.
    lat: num(r.Latitude) ?? reg?.latitude ?? null,
    lon: num(r.Longitude) ?? reg?.longitude ?? null,
    ...(reg ? { site: reg.site, ratedPowerW: reg.ratedPowerW } : {}),
    values,
    v,
  };
}

function registeredOnly(reg: RegistryEntry, v: number): DeviceView {
  return {
    id: reg.panelId,
    profile: 'solar',
    status: 'NO_DATA',
    lastSeen: null,
    lat: reg.latitude,
    lon: reg.longitude,
    site: reg.site,
    ratedPowerW: reg.ratedPowerW,
    values: {},
    v,
  };
}

const same = (a: DeviceView, b: DeviceView) =>
  a.lastSeen === b.lastSeen && a.status === b.status && a.lat === b.lat && a.lon === b.lon && a.site === b.site;

export class LiveHub {
  private readonly devices = new Map<string, DeviceView>();
  private version = 0;
  private refreshedAt: string | null = null;
  private registry = new Map<string, RegistryEntry>();
  private registryReadAt = 0;
  private lastHealth: PipelineHealth | undefined;
  private readonly clients = new Set<ServerResponse>();
  private timers: NodeJS.Timeout[] = [];
  private refreshing?: Promise<void>;
  private readonly started = new Date().toISOString();
  private readonly cost = { deviceScans: 0, scanReadUnits: 0, lastScanReadUnits: 0, chartReadUnits: 0 };
  private readonly athena = { queries: 0, bytes: 0, usd: 0 };
  private closed = false;
  private lastSnapshot: DevicesMessage | undefined;

  constructor(private readonly o: LiveHubOptions) {}

  /**
   * The whole fleet as of the last refresh. Only the first call waits for a scan: a page that loads an
   * older snapshot connects to the event stream with its version and gets what changed since at once
   * (connecting starts a refresh), so a page load never waits on a full scan of a large fleet.
   */
  async snapshot(): Promise<DevicesMessage> {
    if (!this.refreshedAt) await this.refresh();
    // One encoding per version, shared by every page that loads (the server also keeps its bytes).
    if (this.lastSnapshot?.version !== this.version) {
      this.lastSnapshot = {
        version: this.version,
        full: true,
        devices: encodeDevices(this.devices.values()),
        refreshedAt: this.refreshedAt,
      };
    }
    return this.lastSnapshot;
  }

  /** A page's event stream: first what changed since `since`, then every change, health, and cost. */
  connect(res: ServerResponse, since: number): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.write('retry: 3000\n\n');
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTimers();
    });
    const changed = [...this.devices.values()].filter((d) => d.v > since);
    if (changed.length > 0 || since < this.version) {
      send(res, 'devices', {
        version: this.version,
        full: false,
        devices: encodeDevices(changed),
        refreshedAt: this.refreshedAt,
      });
    }
    if (this.lastHealth) send(res, 'health', this.lastHealth);
    send(res, 'cost', this.costReport());
    if (this.timers.length === 0) this.startTimers();
  }

  /** Read units spent on charts (the server's Query calls), for the cost report. */
  noteChartRead(readUnits: number): void {
    this.cost.chartReadUnits += readUnits;
  }

  noteQuery(bytes: number, usd: number): void {
    this.athena.queries++;
    this.athena.bytes += bytes;
    this.athena.usd += usd;
    this.broadcast('cost', this.costReport());
  }

  costReport(): CostReport {
    const metricsPerCall =
      this.o.health.billable.calls > 0
        ? Math.round(this.o.health.billable.metricsRequested / this.o.health.billable.calls)
        : 0;
    const estimate = perHourEstimate({
      refreshMs: this.o.refreshMs,
      scanReadUnits: this.cost.lastScanReadUnits,
      healthMs: this.o.healthMs,
      metricsPerHealthCall: metricsPerCall,
    });
    return {
      since: this.started,
      ...this.cost,
      cloudwatchCalls: this.o.health.billable.calls,
      metricsRequested: this.o.health.billable.metricsRequested,
      athenaQueries: this.athena.queries,
      athenaBytesScanned: this.athena.bytes,
      athenaUsd: this.athena.usd,
      perHourUsd: estimate.usd,
      perHourText: estimate.text,
    };
  }

  close(): void {
    this.closed = true;
    this.stopTimers();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  private startTimers(): void {
    const every = (ms: number, fn: () => Promise<unknown>) => {
      let running = false;
      const tick = () => {
        if (running || this.closed) return;
        running = true;
        fn()
          .catch((err: Error) => this.o.log?.(`dashboard: ${err.message}`))
          .finally(() => {
            running = false;
          });
      };
      tick();
      this.timers.push(setInterval(tick, ms));
    };
    every(this.o.refreshMs, () => this.refresh());
    every(this.o.healthMs, () => this.readHealth());
  }

  private stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private async readHealth(): Promise<void> {
    this.lastHealth = await this.o.health.read();
    this.broadcast('health', this.lastHealth);
  }

  /** One scan; devices whose reading, status or position changed get a new version and are pushed. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        if (Date.now() - this.registryReadAt > (this.o.registryMs ?? 300_000)) {
          this.registry = new Map((await this.o.registry()).map((e) => [e.panelId, e]));
          this.registryReadAt = Date.now();
        }
        const { devices, cost } = await this.o.state.devices();
        const units = cost.readUnits > 0 ? cost.readUnits : scanReadUnits(JSON.stringify(devices).length);
        this.cost.deviceScans++;
        this.cost.scanReadUnits += units;
        this.cost.lastScanReadUnits = units;
        const next = this.version + 1;
        const changed: DeviceView[] = [];
        const seen = new Set<string>();
        const consider = (view: DeviceView) => {
          seen.add(view.id);
          const old = this.devices.get(view.id);
          if (old && same(old, view)) return;
          this.devices.set(view.id, view);
          changed.push(view);
        };
        for (const d of devices)
          consider(deviceView(d, d.profile === 'solar' ? this.registry.get(d.deviceId) : undefined, next));
        for (const reg of this.registry.values()) if (!seen.has(reg.panelId)) consider(registeredOnly(reg, next));
        this.refreshedAt = new Date().toISOString();
        if (changed.length > 0) {
          this.version = next;
          this.broadcast('devices', {
            version: next,
            full: false,
            devices: encodeDevices(changed),
            refreshedAt: this.refreshedAt,
          });
        }
        this.broadcast('cost', this.costReport());
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const frame = frameOf(event, data);
    for (const c of this.clients) c.write(frame);
  }
}

function frameOf(event: string, data: unknown): string {
  // JSON has no raw newlines, so one data line per frame.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function send(res: ServerResponse, event: string, data: unknown): void {
  res.write(frameOf(event, data));
}
