import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { REGISTRY_KEY } from '../catalog/registry-table';
import { profileByName } from '../core/profiles';
import { baseClientConfig, s3ClientConfig } from '../shared/aws-clients';
import { readRegistry } from '../shared/device-registry';
import { ArchiveSource, FINDINGS, FindingError } from './archive-source';
import { buildPageAssets, type PageAssets } from './bundle';
import { CloudWatchHealth, EmbeddedHealth, type HealthSource } from './health-source';
import { LiveHub } from './hub';
import { findNamedQuery, ParamError } from './query-port';
import { StateSource } from './state-source';
import type { DashboardTarget } from './target';
import type { DashboardConfig, MinutesResponse } from './wire';

/**
 * The dashboard's HTTP server: 127.0.0.1 only, read-only (GET), no CORS, a strict Content-Security-Policy
 * (no inline script or style; MapLibre's worker from this origin), and a Host check against DNS rebinding.
 * The browser gets data, never credentials: every AWS call is made here with the server's SDK clients.
 */
export interface DashboardOptions {
  readonly target: DashboardTarget;
  /** @default 4580; taken -> a free port */
  readonly port?: number;
  /** Device-state scan cadence. @default 5 s embedded, 30 s cloud */
  readonly refreshMs?: number;
  /** Health cadence. @default 5 s embedded, 60 s cloud (CloudWatch's resolution) */
  readonly healthMs?: number;
  readonly rawSlackHours?: number;
  /** Project root (web/dashboard/). @default the repository this file is in */
  readonly root?: string;
  readonly log?: (line: string) => void;
}

export interface Dashboard {
  readonly url: string;
  readonly hub: LiveHub;
  readonly assets: PageAssets;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 4580;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  // MapLibre's tile worker: a module script from this server.
  "worker-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
};

/** Requests the page makes to /api/* carry this header: a cross-site form or image cannot set it (no CORS here). */
export const API_HEADER = 'x-dashboard-request';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const t = options.target;
  const log = options.log ?? (() => undefined);
  const embedded = t.kind === 'embedded';
  const refreshMs = options.refreshMs ?? (embedded ? 5_000 : 30_000);
  const healthMs = options.healthMs ?? (embedded ? 5_000 : 60_000);
  const ddb = new DynamoDBClient(baseClientConfig(t));
  const s3 = new S3Client(s3ClientConfig(t));
  const sqs = new SQSClient(baseClientConfig(t));
  const athena = new AthenaClient(baseClientConfig(t));
  const cloudwatch = new CloudWatchClient(baseClientConfig(t));
  const destroy = () => {
    for (const c of [ddb, s3, sqs, athena, cloudwatch]) c.destroy();
  };

  const state = new StateSource(ddb, { aggregates: t.aggregatesTable!, deviceState: t.deviceStateTable! });
  const health: HealthSource = embedded ? new EmbeddedHealth(t, s3, sqs) : new CloudWatchHealth(t, cloudwatch);
  const archive = new ArchiveSource({
    athena,
    workgroup: t.athenaWorkgroup,
    database: t.glueDatabase,
    rawSlackHours: options.rawSlackHours,
  });
  const hub = new LiveHub({
    state,
    health,
    refreshMs,
    healthMs,
    log,
    registry: async () => {
      if (!t.archiveBucket) return [];
      const reg = await readRegistry(s3, t.archiveBucket, REGISTRY_KEY);
      if (reg.rejected.length > 0)
        log(
          `device registry: ${reg.rejected.length} lines ignored (first: line ${reg.rejected[0].line}, ${reg.rejected[0].reason})`,
        );
      return reg.entries;
    },
  });
  let assets: PageAssets;
  try {
    assets = await buildPageAssets(options.root ?? `${__dirname}/../..`);
  } catch (err) {
    destroy();
    throw err;
  }
  const config: DashboardConfig = {
    kind: t.kind,
    source: t.source,
    region: t.region,
    endpoint: t.endpoint ?? null,
    refreshMs,
    healthMs,
    findings: FINDINGS.map((name) => {
      const q = findNamedQuery(name);
      return { name, description: q.description, params: q.params };
    }),
  };

  let port = 0;
  let snapshotBody: (EncodedBody & { message: unknown }) | undefined;
  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      const status =
        err instanceof HttpError ? err.status : err instanceof FindingError || err instanceof ParamError ? 400 : 502;
      if (status >= 500) log(`dashboard: ${req.url}: ${err.message}`);
      if (!res.headersSent) json(res, status, { error: err.message });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) throw new HttpError(421, 'Unknown host.');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      throw new HttpError(405, 'The dashboard is read-only: GET only.');
    }
    const url = new URL(req.url ?? '/', `http://${host}`);
    const path = url.pathname;
    if (!path.startsWith('/api/')) {
      const file = assets.files.get(path === '/index.html' ? '/' : path);
      if (!file) throw new HttpError(404, 'Not found.');
      res.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return;
    }
    if (path === '/api/events') {
      hub.connect(res, Number(url.searchParams.get('since') ?? 0) || 0);
      return;
    }
    if (req.headers[API_HEADER] !== '1') throw new HttpError(403, `API requests need the ${API_HEADER} header.`);
    const q = (name: string) => url.searchParams.get(name) ?? '';
    switch (path) {
      case '/api/config':
        return json(res, 200, config);
      case '/api/devices': {
        // Encoded and compressed once per version of the fleet, whatever the number of page loads.
        const snapshot = await hub.snapshot();
        if (snapshotBody?.message !== snapshot) snapshotBody = { message: snapshot, ...encodeBody(snapshot) };
        return send(res, 200, snapshotBody, req);
      }
      case '/api/cost':
        return json(res, 200, hub.costReport());
      case '/api/minutes': {
        const device = deviceParam(q('device'));
        const hours = Math.min(168, Math.max(1, Number(q('hours')) || 24));
        const to = Number(q('to')) || Date.now() + 60_000;
        const from = to - hours * 3_600_000;
        const { minutes, cost } = await state.minutes(device, from, to);
        hub.noteChartRead(cost.readUnits);
        const body: MinutesResponse = {
          deviceId: device,
          profile: minutes[0]?.profile ?? '',
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          minutes: minutes.map((m) => ({ t: m.minuteStartMs, metrics: m.metrics })),
          readUnits: cost.readUnits,
        };
        return json(res, 200, body, req);
      }
      case '/api/raw': {
        const device = deviceParam(q('device'));
        const profile = q('profile');
        if (!profileByName(profile)) throw new HttpError(400, 'profile must be unicorn or solar.');
        const minute = Date.parse(q('minute'));
        const result = await archive.rawMinute(device, profile, minute);
        hub.noteQuery(result.dataScannedInBytes, result.costUsd);
        return json(res, 200, result);
      }
      case '/api/findings': {
        const params: Record<string, string> = {};
        for (const [k, v] of url.searchParams) if (k !== 'name') params[k] = v;
        const result = await archive.finding(q('name'), params);
        hub.noteQuery(result.dataScannedInBytes, result.costUsd);
        return json(res, 200, result);
      }
      default:
        throw new HttpError(404, 'No such API.');
    }
  }

  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        server.off('listening', onListening);
        reject(err);
      };
      const onListening = () => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(p, '127.0.0.1');
    });
  const wanted = options.port ?? DEFAULT_PORT;
  try {
    await listen(wanted);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || wanted === 0) {
      destroy();
      throw err;
    }
    log(`Port ${wanted} is taken: using a free port.`);
    await listen(0);
  }
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    hub,
    assets,
    close: async () => {
      hub.close();
      await closeServer(server);
      destroy();
    },
  };
}

function deviceParam(v: string): string {
  if (v.length === 0 || v.length > 128) throw new HttpError(400, 'device must be a device id (1 to 128 characters).');
  return v;
}

interface EncodedBody {
  readonly raw: Buffer;
  /** Set when the body is large enough to be worth compressing. */
  readonly gzip?: Buffer;
}

function encodeBody(body: unknown, compress = true): EncodedBody {
  const raw = Buffer.from(JSON.stringify(body));
  // The fleet snapshot of 30,000 devices is ~2 MB of JSON; gzip makes it a few hundred KB.
  return compress && raw.length > 16_384 ? { raw, gzip: gzipSync(raw, { level: 4 }) } : { raw };
}

const acceptsGzip = (req?: IncomingMessage) => /\bgzip\b/.test(String(req?.headers['accept-encoding'] ?? ''));

/** `req` given: gzip when the client takes it and the body is large. */
function json(res: ServerResponse, status: number, body: unknown, req?: IncomingMessage): void {
  send(res, status, encodeBody(body, acceptsGzip(req)), req);
}

function send(res: ServerResponse, status: number, body: EncodedBody, req?: IncomingMessage): void {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  };
  const gzip = body.gzip !== undefined && acceptsGzip(req);
  const data = gzip ? body.gzip! : body.raw;
  if (gzip) headers['Content-Encoding'] = 'gzip';
  headers['Content-Length'] = String(data.length);
  res.writeHead(status, headers);
  res.end(data);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
