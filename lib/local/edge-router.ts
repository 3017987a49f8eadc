import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sleep } from '../shared/sleep';
import { LocalRuntimeError } from './errors';
import type { UpstreamLimiter } from './limits';
import { checkRequest, formPostKeys, isSigV4Signed, pathProblem, type Refusal } from './request-guard';
import { type JsonProtocolService, ServiceError } from './service';

/**
 * The runtime's single endpoint (LocalStack's "edge port" contract): any SDK or the AWS CLI pointed at
 * one URL reaches every emulated service. A request is routed by its X-Amz-Target prefix when it has
 * one, else by the service name in its SigV4 credential scope (header or presigned query); a request
 * with neither is S3's and refused as unsigned. Every request first passes request-guard.ts (Host,
 * Origin, `..` segments). Emulators get the raw bytes with the original Host header, because s3rver
 * recomputes the signature over it. Until the runtime says it is ready, and while an emulator is being
 * restarted, requests get 503 with Retry-After (SDKs retry that; they do not retry a 400).
 */
export interface EdgeRouterOptions {
  /** Emulator base URLs by SigV4 service name: kinesis, dynamodb, s3 (more can be set once started). */
  readonly upstreams: Readonly<Record<string, string>>;
  /** In-process JSON-protocol services (SQS, Athena, Glue). */
  readonly services: readonly JsonProtocolService[];
  readonly port?: number;
  readonly host?: string;
  /** Answer 503 + Retry-After to everything but health until `markReady()`; default false (ready at once). */
  readonly startNotReady?: boolean;
  /** Browser origins allowed (e.g. a dashboard on 127.0.0.1); default none: any `Origin` is refused. */
  readonly allowedOrigins?: readonly string[];
  /** AWS's throughput limits in front of the emulators (limits.ts); default none. */
  readonly limiter?: UpstreamLimiter;
}

/** Largest S3 form POST the router buffers to check its `key` field. */
const MAX_FORM_POST_BYTES = 64 * 1024 * 1024;
const RETRY_AFTER_SECONDS = 1;
/** How long a request waits for its emulator to come back (below the SDKs' 30 s request timeout). */
const UPSTREAM_WAIT_MS = 20_000;

const TARGET_SERVICES: Readonly<Record<string, string>> = {
  Kinesis_20131202: 'kinesis',
  DynamoDB_20120810: 'dynamodb',
};

export interface EdgeRouter {
  readonly url: string;
  readonly port: number;
  /** Requests routed, by service, since start. */
  readonly counts: Readonly<Record<string, number>>;
  addService(service: JsonProtocolService): void;
  setUpstream(service: string, url: string): void;
  /** While set, requests for the service get 503 + Retry-After with this reason (an emulator restarting). */
  setUnavailable(service: string, reason: string | undefined): void;
  /** Ends the start-up 503s. */
  markReady(): void;
  /** What `GET /_local/health` reports besides the routing counts. */
  setHealth(report: () => Record<string, unknown>): void;
  /** True when an in-process service answers this X-Amz-Target prefix. */
  hasService(targetPrefix: string): boolean;
  close(): Promise<void>;
}

export async function startEdgeRouter(options: EdgeRouterOptions): Promise<EdgeRouter> {
  const host = options.host ?? '127.0.0.1';
  const services = [...options.services];
  const upstreams: Record<string, string> = { ...options.upstreams };
  const counts: Record<string, number> = {};
  const unavailable = new Map<string, string>();
  let ready = !options.startNotReady;
  let health: () => Record<string, unknown> = () => ({ status: 'running' });
  let port = options.port ?? 0;
  const server = createServer((req, res) => {
    route(req, res).catch((err: Error) => sendError(res, 500, 'InternalFailure', err.message));
  });
  server.keepAliveTimeout = 65_000;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = checkRequest(req, { port, allowedOrigins: options.allowedOrigins });
    if (refused) return refuse(res, refused);
    if (req.url === '/_local/health') {
      return sendJson(res, 200, { ...health(), ready, services: Object.keys(upstreams), counts });
    }
    if (!ready) return retryLater(res, 'the embedded runtime is starting');
    const target = header(req, 'x-amz-target');
    if (target) {
      const prefix = target.split('.')[0];
      const service = services.find((s) => s.targetPrefixes.includes(prefix));
      if (service) {
        count(prefix);
        return dispatchJson(service, target.slice(prefix.length + 1), req, res);
      }
      const upstream = TARGET_SERVICES[prefix];
      if (upstream && upstreams[upstream]) return forward(upstream, req, res);
      return unknown(res, prefix);
    }
    const name = scopeService(req) ?? 's3';
    if (!upstreams[name]) return unknown(res, name);
    if (name === 's3' && !isSigV4Signed(req)) {
      return refuse(res, {
        status: 403,
        code: 'AccessDenied',
        message: 'Unsigned S3 request refused: sign it with SigV4 (any AWS SDK or the AWS CLI, access key S3RVER).',
      });
    }
    if (name === 's3' && req.method === 'POST' && /^multipart\/form-data/i.test(header(req, 'content-type') ?? '')) {
      return forwardFormPost(req, res);
    }
    return forward(name, req, res);
  }

  /**
   * Sends a request to its emulator. The body is read first so that a request the emulator never
   * answered (it died; the supervisor restarts it) is sent again once it is back: in-flight work is
   * retried here, within the SDKs' 30 s request timeout, instead of surfacing as an error.
   */
  async function forward(name: string, req: IncomingMessage, res: ServerResponse, body?: Buffer): Promise<void> {
    count(name);
    let payload = body ?? (await readBody(req)) ?? Buffer.alloc(0);
    const operation = header(req, 'x-amz-target')?.split('.')[1] ?? '';
    const decision = options.limiter?.admit(name, operation, payload) ?? { kind: 'forward' };
    if (decision.kind === 'refuse') return refuse(res, decision.refusal, header(req, 'content-type'));
    if (decision.kind === 'respond') return sendJson(res, 200, decision.body, header(req, 'content-type'));
    let onBody: ((b: Buffer) => Buffer) | undefined;
    if (decision.kind === 'partial') {
      payload = decision.body;
      onBody = decision.merge;
    } else if (decision.onResponse) {
      const observe = decision.onResponse;
      onBody = (b) => {
        observe(b);
        return b;
      };
    }
    const deadline = Date.now() + UPSTREAM_WAIT_MS;
    for (;;) {
      if (!unavailable.has(name)) {
        const outcome = await proxy(upstreams[name], req, res, payload, onBody);
        if (outcome === 'answered') return;
      }
      if (Date.now() > deadline) return retryLater(res, unavailable.get(name) ?? `${name} emulator unreachable`);
      await sleep(100);
    }
  }

  /** A browser-style S3 upload: its `key` is in the body, so it is read and checked before s3rver sees it. */
  async function forwardFormPost(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, MAX_FORM_POST_BYTES);
    if (!body) return sendError(res, 413, 'EntityTooLarge', 'form POST larger than 64 MiB');
    let keys: string[];
    try {
      keys = await formPostKeys(req.headers, body);
    } catch (err) {
      return sendError(res, 400, 'MalformedPOSTRequest', `form POST does not parse: ${(err as Error).message}`);
    }
    for (const key of keys) {
      const problem = pathProblem(key);
      if (problem) return refuse(res, { status: 400, code: 'InvalidArgument', message: `form POST key: ${problem}` });
    }
    return forward('s3', req, res, body);
  }

  function count(name: string): void {
    counts[name] = (counts[name] ?? 0) + 1;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new LocalRuntimeError(
            `port ${options.port} is in use: stop the other process (LocalStack?) or pass --port <free port>`,
          ),
        );
      } else reject(err);
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    counts,
    addService: (s) => services.push(s),
    hasService: (prefix) => services.some((s) => s.targetPrefixes.includes(prefix)),
    setUpstream: (service, url) => {
      upstreams[service] = url;
      unavailable.delete(service);
    },
    setUnavailable: (service, reason) => {
      if (reason === undefined) unavailable.delete(service);
      else unavailable.set(service, reason);
    },
    markReady: () => {
      ready = true;
    },
    setHealth: (report) => {
      health = report;
    },
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The service in `Credential=AKID/date/region/<service>/aws4_request`, from the header or a presigned URL. */
export function scopeService(req: Pick<IncomingMessage, 'headers' | 'url'>): string | undefined {
  const auth = req.headers.authorization;
  const fromHeader = typeof auth === 'string' ? /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth) : null;
  if (fromHeader) return fromHeader[1];
  const query = (req.url ?? '').split('?')[1];
  if (!query) return undefined;
  const credential = new URLSearchParams(query).get('X-Amz-Credential');
  return credential?.split('/')[3];
}

async function dispatchJson(
  service: JsonProtocolService,
  operation: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let input: Record<string, unknown>;
  try {
    input = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return sendError(res, 400, 'SerializationException', 'Request body is not valid JSON');
  }
  const contentType = header(req, 'content-type') ?? 'application/x-amz-json-1.1';
  try {
    const output = await service.handle(operation, input);
    sendJson(res, 200, output ?? {}, contentType);
  } catch (err) {
    if (err instanceof ServiceError) return sendError(res, err.statusCode, err.type, err.message, contentType);
    sendError(res, 500, 'InternalFailure', (err as Error).message, contentType);
  }
}

/** The whole body, or undefined past `limit` bytes. */
async function readBody(req: IncomingMessage, limit = Number.POSITIVE_INFINITY): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** `unreachable`: no response came (connection refused or reset before headers); the request may be resent. */
function proxy(
  upstream: string,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  /** Rewrites (or just reads) the emulator's response body; the response is then buffered. */
  onBody?: (upstream: Buffer) => Buffer,
): Promise<'answered' | 'unreachable'> {
  return new Promise((resolve) => {
    const url = new URL(upstream);
    const headers = { ...req.headers, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    const out = request({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers }, (up) => {
      if (onBody) {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const original = Buffer.concat(chunks);
          const text = onBody(original);
          const h: Record<string, string | string[] | undefined> = {
            ...up.headers,
            'content-length': String(text.length),
          };
          if (text !== original) delete h['x-amz-crc32']; // the SDK checks it against the body
          res.writeHead(up.statusCode ?? 502, h);
          res.end(text);
          resolve('answered');
        });
        up.on('error', () => {
          res.destroy();
          resolve('answered');
        });
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
      up.on('end', () => resolve('answered'));
      up.on('error', () => {
        res.destroy(); // the emulator died mid-response: the client sees a reset and retries
        resolve('answered');
      });
    });
    out.on('error', () => {
      if (res.headersSent) {
        res.destroy();
        resolve('answered');
      } else resolve('unreachable');
    });
    out.end(body);
  });
}

function retryLater(res: ServerResponse, reason: string): void {
  if (!res.headersSent) res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
  sendError(res, 503, 'ServiceUnavailable', `${reason}; retry in ${RETRY_AFTER_SECONDS} s`);
}

function refuse(res: ServerResponse, refusal: Refusal, contentType?: string): void {
  sendError(res, refusal.status, refusal.code, refusal.message, contentType);
}

function unknown(res: ServerResponse, service: string): void {
  sendError(
    res,
    400,
    'UnknownServiceException',
    `The embedded runtime does not emulate the service "${service}". It serves: Kinesis, DynamoDB, S3, SQS, Athena, Glue.`,
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/x-amz-json-1.1') {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, type: string, message: string, contentType?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.setHeader('x-amzn-query-error', `${type};Sender`);
  sendJson(res, status, { __type: type, message }, contentType);
}
