/**
 * What the server sends the page (JSON over HTTP and server-sent events). Types only: the browser
 * bundle imports them too, so both sides agree at compile time.
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
  readonly devices: readonly DeviceView[];
  readonly refreshedAt: string | null;
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
