/**
 * What the server sends the page (JSON over HTTP and server-sent events). Types and the devices' pure
 * encoding only: the browser bundle imports this file too, so both sides agree at compile time.
 */
export interface DeviceView {
  readonly id: string;
  readonly profile: string;
  /** The device-state table's status; `NO_DATA` for a registered panel that has not reported yet. */
  readonly status: string;
  /** Event time of the latest reading, epoch ms; null when none. */
  readonly lastSeen: number | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly site?: string;
  readonly ratedPowerW?: number;
  /** The latest reading's fields the page shows (health and magic points; AC power, temperature). */
  readonly values: Readonly<Record<string, number | string>>;
  /** Change counter: the hub's version when this device last changed. */
  readonly v: number;
}

export interface DevicesMessage {
  readonly version: number;
  /** true: the whole fleet; false: only the devices changed since the version the client had. */
  readonly full: boolean;
  readonly devices: DeviceColumns;
  readonly refreshedAt: string | null;
}

/**
 * Devices on the wire, one array per field (element i of every array is device i): 30,000 devices as
 * ~1.9 MB of JSON instead of ~5.9 MB of objects whose keys repeat 30,000 times, parsed in a fraction of the
 * time. Repeated strings (profile, status, site) are indices into `words`.
 */
export interface DeviceColumns {
  readonly words: readonly string[];
  readonly id: readonly string[];
  readonly profile: readonly number[];
  readonly status: readonly number[];
  /** -1: no site (a unicorn, or a panel missing from the registry). */
  readonly site: readonly number[];
  readonly lastSeen: readonly (number | null)[];
  readonly lat: readonly (number | null)[];
  readonly lon: readonly (number | null)[];
  readonly ratedPowerW: readonly (number | null)[];
  readonly v: readonly number[];
  /** The shown reading fields by name; null where a device has no such field. */
  readonly values: Readonly<Record<string, readonly (number | string | null)[]>>;
}

export function encodeDevices(devices: Iterable<DeviceView>): DeviceColumns {
  const words: string[] = [];
  const index = new Map<string, number>();
  const word = (w: string) => {
    let i = index.get(w);
    if (i === undefined) {
      i = words.push(w) - 1;
      index.set(w, i);
    }
    return i;
  };
  const c = {
    words,
    id: [] as string[],
    profile: [] as number[],
    status: [] as number[],
    site: [] as number[],
    lastSeen: [] as (number | null)[],
    lat: [] as (number | null)[],
    lon: [] as (number | null)[],
    ratedPowerW: [] as (number | null)[],
    v: [] as number[],
    values: {} as Record<string, (number | string | null)[]>,
  };
  let n = 0;
  for (const d of devices) {
    c.id.push(d.id);
    c.profile.push(word(d.profile));
    c.status.push(word(d.status));
    c.site.push(d.site === undefined ? -1 : word(d.site));
    c.lastSeen.push(d.lastSeen);
    c.lat.push(d.lat);
    c.lon.push(d.lon);
    c.ratedPowerW.push(d.ratedPowerW ?? null);
    c.v.push(d.v);
    for (const [k, x] of Object.entries(d.values)) {
      c.values[k] ??= new Array<number | string | null>(n).fill(null);
      c.values[k][n] = x;
    }
    n++;
    for (const column of Object.values(c.values)) if (column.length < n) column.push(null);
  }
  return c;
}

export function decodeDevices(c: DeviceColumns): DeviceView[] {
  const keys = Object.keys(c.values);
  return c.id.map((id, i) => {
    const values: Record<string, number | string> = {};
    for (const k of keys) {
      const x = c.values[k][i];
      if (x !== null) values[k] = x;
    }
    const site = c.site[i];
    const rated = c.ratedPowerW[i];
    return {
      id,
      profile: c.words[c.profile[i]],
      status: c.words[c.status[i]],
      lastSeen: c.lastSeen[i],
      lat: c.lat[i],
      lon: c.lon[i],
      ...(site >= 0 ? { site: c.words[site] } : {}),
      ...(rated !== null ? { ratedPowerW: rated } : {}),
      values,
      v: c.v[i],
    };
  });
}

export interface MinuteRow {
  readonly t: number;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface MinutesResponse {
  readonly deviceId: string;
  readonly profile: string;
  readonly from: string;
  readonly to: string;
  readonly minutes: readonly MinuteRow[];
  readonly readUnits: number;
}

export interface FindingSpec {
  readonly name: string;
  readonly description: string;
  readonly params: readonly { readonly name: string; readonly description: string; readonly default?: string }[];
}

export interface CostReport {
  readonly since: string;
  readonly deviceScans: number;
  readonly scanReadUnits: number;
  /** Read units of the last full scan of the device-state table. */
  readonly lastScanReadUnits: number;
  readonly chartReadUnits: number;
  readonly cloudwatchCalls: number;
  readonly metricsRequested: number;
  readonly athenaQueries: number;
  readonly athenaBytesScanned: number;
  readonly athenaUsd: number;
  /** What an hour of this dashboard open costs at the current cadence and fleet size, USD (list prices). */
  readonly perHourUsd: number;
  readonly perHourText: string;
}

export interface DashboardConfig {
  readonly kind: 'embedded' | 'cloud';
  readonly source: string;
  readonly region: string;
  readonly endpoint: string | null;
  readonly refreshMs: number;
  readonly healthMs: number;
  readonly findings: readonly FindingSpec[];
}
