import type { DashboardConfig, DevicesMessage, MinutesResponse } from '../../lib/dashboard/wire';

/** Calls to the dashboard server (same origin). The header marks them as the page's own (see server.ts). */
async function get<T>(path: string, params: Record<string, string> = {}): Promise<T> {
  const qs = new URLSearchParams(params).toString();
  const res = await fetch(qs ? `${path}?${qs}` : path, { headers: { 'x-dashboard-request': '1' } });
  const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok) throw new Error((body as { error?: string }).error ?? `${res.status} ${res.statusText}`);
  return body as T;
}

export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: readonly (string | null)[][];
  readonly dataScanned: string;
  readonly dataScannedInBytes: number;
  readonly costUsd: number;
  readonly engineMs: number;
  readonly truncated?: boolean;
  readonly description?: string;
}

export const api = {
  config: () => get<DashboardConfig>('/api/config'),
  devices: () => get<DevicesMessage>('/api/devices'),
  /** `hours` of minutes up to `toMs` (the device's last reading: a fleet replaying history is not "now"). */
  minutes: (device: string, hours: number, toMs?: number) =>
    get<MinutesResponse>('/api/minutes', {
      device,
      hours: String(hours),
      ...(toMs !== undefined ? { to: String(toMs) } : {}),
    }),
  raw: (device: string, profile: string, minute: string) =>
    get<QueryResult & { minute: string }>('/api/raw', { device, profile, minute }),
  finding: (name: string, params: Record<string, string>) => get<QueryResult>('/api/findings', { name, ...params }),
};

/** `$0.000048` for small amounts, `$0.0123` otherwise. */
export function formatUsd(usd: number): string {
  return usd < 0.01 ? `$${usd.toFixed(6)}` : `$${usd.toFixed(4)}`;
}
