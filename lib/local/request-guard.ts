import type { IncomingHttpHeaders } from 'node:http';
import { dirname } from 'node:path';

/**
 * What the endpoint refuses before routing, so a process or a web page on this machine cannot use it
 * to escape the data directory or act without the SDK's signature:
 * - a `Host` other than `127.0.0.1` or `localhost` (with the endpoint's own port, if any): DNS rebinding;
 * - an `Origin` (or a browser's `Sec-Fetch-Site`) that is not in the allowlist: web pages, including
 *   form POSTs that need no CORS preflight;
 * - a path, query value or `x-amz-copy-source` whose decoded segments contain `..` (raw, percent-encoded
 *   or encoded several times), or that does not decode: s3rver joins keys to file paths unchecked.
 * Unsigned S3 requests and form-POST `key` fields are checked by the router (they need the routing
 * decision and the body); their predicates are here.
 */
export interface RequestGuardOptions {
  /** The endpoint's port: a `Host` naming another port is refused. */
  readonly port: number;
  /** Browser origins allowed to call the endpoint (e.g. a dashboard served on 127.0.0.1); default none. */
  readonly allowedOrigins?: readonly string[];
}

export interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

const LOCAL_HOST = /^(127\.0\.0\.1|localhost)(?::(\d{1,5}))?$/i;
/** Decoding rounds before a value that still changes is refused as too deeply encoded. */
const MAX_DECODE_ROUNDS = 4;

export function checkRequest(
  req: { readonly headers: IncomingHttpHeaders; readonly url?: string },
  options: RequestGuardOptions,
): Refusal | undefined {
  const host = LOCAL_HOST.exec(req.headers.host ?? '');
  if (!host || (host[2] !== undefined && Number(host[2]) !== options.port)) {
    return {
      status: 403,
      code: 'InvalidHost',
      message: `Host "${req.headers.host ?? ''}" refused: the embedded runtime answers only 127.0.0.1 or localhost on port ${options.port}.`,
    };
  }
  const origin = req.headers.origin;
  const fetchSite = req.headers['sec-fetch-site'];
  const browser = origin !== undefined || (fetchSite !== undefined && fetchSite !== 'none');
  if (browser && !(origin !== undefined && (options.allowedOrigins ?? []).includes(origin))) {
    return {
      status: 403,
      code: 'OriginNotAllowed',
      message: `Browser request from origin "${origin ?? fetchSite}" refused: allow it with the runtime's allowedOrigins option.`,
    };
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const values = [path];
  if (q >= 0) {
    for (const part of url.slice(q + 1).split('&')) {
      const eq = part.indexOf('=');
      values.push(eq < 0 ? part : part.slice(eq + 1));
    }
  }
  const copySource = req.headers['x-amz-copy-source'];
  if (typeof copySource === 'string') values.push(copySource);
  for (const value of values) {
    const problem = pathProblem(value.replace(/\+/g, ' '));
    if (problem) return { status: 400, code: 'InvalidURI', message: `${problem}: refused by the embedded runtime.` };
  }
  return undefined;
}

/** Why a key or path is refused: a `..` segment after any number of percent-decodings, or bad encoding. */
export function pathProblem(raw: string): string | undefined {
  let value = raw;
  for (let round = 0; round <= MAX_DECODE_ROUNDS; round++) {
    if (value.split(/[/\\]/).some((segment) => segment === '..')) return 'a path segment is ".."';
    let next: string;
    try {
      next = decodeURIComponent(value);
    } catch {
      return 'malformed percent-encoding';
    }
    if (next === value) return undefined;
    value = next;
  }
  return 'encoded more than 4 times';
}

/** SigV4 in the Authorization header or a presigned query: anything else is unsigned. */
export function isSigV4Signed(req: { readonly headers: IncomingHttpHeaders; readonly url?: string }): boolean {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('AWS4-HMAC-SHA256 ')) return true;
  const query = (req.url ?? '').split('?')[1] ?? '';
  return new URLSearchParams(query).get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256';
}

/**
 * The `key` fields of an S3 form POST, parsed with the very parser s3rver uses (its busboy), so the
 * check cannot disagree with the server about where a field starts or ends.
 */
export function formPostKeys(headers: IncomingHttpHeaders, body: Buffer): Promise<string[]> {
  const s3rverDir = dirname(require.resolve('s3rver/package.json'));
  // biome-ignore lint/suspicious/noExplicitAny: busboy 0.3 ships no types
  const Busboy = require(require.resolve('busboy', { paths: [s3rverDir] })) as any;
  return new Promise((resolve, reject) => {
    const keys: string[] = [];
    const parser = new Busboy({ headers });
    parser.on('field', (name: string, value: string) => {
      if (name === 'key') keys.push(value);
    });
    parser.on('file', (_name: string, file: NodeJS.ReadableStream) => file.resume());
    parser.once('finish', () => resolve(keys));
    parser.once('error', reject);
    parser.end(body);
  });
}
