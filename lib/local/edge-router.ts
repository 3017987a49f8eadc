import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalRuntimeError } from './errors';
import { type JsonProtocolService, ServiceError } from './service';

/**
 * The runtime's single endpoint (LocalStack's "edge port" contract): any SDK or the AWS CLI pointed at
 * one URL reaches every emulated service. A request is routed by its X-Amz-Target prefix when it has
 * one, else by the service name in its SigV4 credential scope (header or presigned query); unsigned
 * requests without a target are S3's (browsers, curl). Emulators get the raw bytes with the original
 * Host header, because s3rver recomputes the signature over it.
 */
export interface EdgeRouterOptions {
  /** Emulator base URLs by SigV4 service name: kinesis, dynamodb, s3 (more can be set once started). */
  readonly upstreams: Readonly<Record<string, string>>;
  /** In-process JSON-protocol services (SQS, Athena, Glue). */
  readonly services: readonly JsonProtocolService[];
  readonly port?: number;
  readonly host?: string;
}

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
  /** True when an in-process service answers this X-Amz-Target prefix. */
  hasService(targetPrefix: string): boolean;
  close(): Promise<void>;
}

export async function startEdgeRouter(options: EdgeRouterOptions): Promise<EdgeRouter> {
  const host = options.host ?? '127.0.0.1';
  const services = [...options.services];
  const upstreams: Record<string, string> = { ...options.upstreams };
  const counts: Record<string, number> = {};
  const server = createServer((req, res) => {
    route(req, res).catch((err: Error) => sendError(res, 500, 'InternalFailure', err.message));
  });
  server.keepAliveTimeout = 65_000;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url === '/_local/health') {
      return sendJson(res, 200, { status: 'running', services: Object.keys(upstreams), counts });
    }
    const target = header(req, 'x-amz-target');
    if (target) {
      const prefix = target.split('.')[0];
      const service = services.find((s) => s.targetPrefixes.includes(prefix));
      if (service) {
        count(prefix);
        return dispatchJson(service, target.slice(prefix.length + 1), req, res);
      }
      const upstream = TARGET_SERVICES[prefix];
      if (upstream && upstreams[upstream]) {
        count(upstream);
        return proxy(upstreams[upstream], req, res);
      }
      return unknown(res, prefix);
    }
    const name = scopeService(req) ?? 's3';
    if (!upstreams[name]) return unknown(res, name);
    count(name);
    return proxy(upstreams[name], req, res);
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
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    counts,
    addService: (s) => services.push(s),
    hasService: (prefix) => services.some((s) => s.targetPrefixes.includes(prefix)),
    setUpstream: (service, url) => {
      upstreams[service] = url;
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

function proxy(upstream: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const url = new URL(upstream);
    const out = request(
      { host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', () => {
          res.destroy();
          resolve();
        });
      },
    );
    out.on('error', (err) => {
      if (!res.headersSent) sendError(res, 502, 'ServiceUnavailable', `emulator unreachable: ${err.message}`);
      else res.destroy();
      resolve();
    });
    req.pipe(out);
  });
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
