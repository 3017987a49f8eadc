import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type EdgeRouter, startEdgeRouter } from '../../lib/local/edge-router';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { pathProblem } from '../../lib/local/request-guard';
import { baseClientConfig, s3ClientConfig } from '../../lib/shared/aws-clients';

/**
 * Attacks a process or a web page on the same machine could make against the endpoint, each sent to
 * the real router in front of the real s3rver: none may create a file outside the data directory,
 * none may act unsigned, from a foreign Host or from a web page. The SDK path keeps working.
 */
// s3rver does not verify SigV4 signatures, only the access key: this header is what a local attacker sends.
const SIGNED = {
  authorization:
    'AWS4-HMAC-SHA256 Credential=S3RVER/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00',
  'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
  'x-amz-date': new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, ''),
};

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

function send(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('edge router security: Host, Origin, signatures, no way out of the data directory', () => {
  let root: string;
  let dataDir: string;
  let emulators: Emulators;
  let router: EdgeRouter;
  let host: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'edge-sec-'));
    dataDir = join(root, 'data');
    mkdirSync(dataDir);
    emulators = await startEmulators({ dataDir });
    router = await startEdgeRouter({
      upstreams: { kinesis: emulators.kinesis.url, dynamodb: emulators.dynamodb.url, s3: emulators.s3.url },
      services: [],
      port: 0,
      allowedOrigins: ['http://127.0.0.1:9999'],
    });
    host = `127.0.0.1:${router.port}`;
    const s3 = new S3Client(s3ClientConfig({ endpoint: router.url, region: 'us-east-1' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'bkt' }));
    s3.destroy();
  });

  afterAll(async () => {
    await router?.close();
    await emulators?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const outsideDataDir = () => filesUnder(root).filter((f) => relative(dataDir, f).startsWith('..'));

  it.each([
    ['raw', '/bkt/../../../escaped-raw'],
    ['inside a key', '/bkt/a/../../../../escaped-inner'],
    ['percent-encoded', '/bkt/%2e%2e/%2e%2e/%2E%2E/escaped-pct'],
    ['encoded slashes', '/bkt/..%2f..%2f..%2fescaped-slash'],
    ['double-encoded', '/bkt/%252e%252e%252f%252e%252e%252f%252e%252e%252fescaped-double'],
    ['backslashes', '/bkt/..%5c..%5c..%5cescaped-backslash'],
  ])('refuses a signed PUT with a %s traversal and writes nothing outside the data dir', async (_kind, path) => {
    const reply = await send(router.url, 'PUT', path, { host, ...SIGNED }, 'pwned');
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).__type).toBe('InvalidURI');
    expect(outsideDataDir()).toEqual([]);
  });

  it('refuses a traversal in x-amz-copy-source', async () => {
    const reply = await send(router.url, 'PUT', '/bkt/copy', {
      host,
      ...SIGNED,
      'x-amz-copy-source': '/bkt/../../../etc/hostname',
    });
    expect(reply.status).toBe(400);
  });

  it('refuses a signed form POST whose key field traverses, and writes nothing', async () => {
    const boundary = 'xXx';
    const body = Buffer.from(
      [
        `--${boundary}`,
        'Content-Disposition: form-data; name="key"',
        '',
        '../../../escaped-form',
        `--${boundary}`,
        'Content-Disposition: form-data; name="file"; filename="x.txt"',
        'Content-Type: application/octet-stream',
        '',
        'pwned',
        `--${boundary}--`,
        '',
      ].join('\r\n'),
    );
    const reply = await send(
      router.url,
      'POST',
      '/bkt',
      { host, ...SIGNED, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    );
    expect(reply.status).toBe(400);
    expect(outsideDataDir()).toEqual([]);
  });

  it.each([
    ['list', 'GET', '/bkt'],
    ['write', 'PUT', '/bkt/unsigned'],
    ['delete', 'DELETE', '/bkt/unsigned'],
  ])('refuses an unsigned S3 %s', async (_what, method, path) => {
    const reply = await send(router.url, method, path, { host }, method === 'PUT' ? 'x' : undefined);
    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.body).__type).toBe('AccessDenied');
  });

  it.each(['evil.example', `evil.example:${0}`, '127.0.0.1.nip.io', `127.0.0.1:1`])(
    'refuses Host %s (DNS rebinding)',
    async (badHost) => {
      const reply = await send(router.url, 'GET', '/bkt', { host: badHost, ...SIGNED });
      expect(reply.status).toBe(403);
      expect(JSON.parse(reply.body).__type).toBe('InvalidHost');
    },
  );

  it('accepts localhost with the endpoint port', async () => {
    const reply = await send(router.url, 'GET', '/bkt', { host: `localhost:${router.port}`, ...SIGNED });
    expect(reply.status).toBe(200);
  });

  it('refuses a browser request from an unknown Origin (form POST, no preflight) and allows a listed one', async () => {
    const evil = await send(
      router.url,
      'POST',
      '/',
      { host, origin: 'http://evil.example', 'content-type': 'text/plain', ...SIGNED },
      'Action=ListStreams',
    );
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).__type).toBe('OriginNotAllowed');
    const fetchSite = await send(router.url, 'GET', '/bkt', { host, 'sec-fetch-site': 'cross-site', ...SIGNED });
    expect(fetchSite.status).toBe(403);
    const listed = await send(router.url, 'GET', '/bkt', { host, origin: 'http://127.0.0.1:9999', ...SIGNED });
    expect(listed.status).toBe(200);
  });

  it('the SDKs keep working: a key with dots that are not a segment, Kinesis', async () => {
    const s3 = new S3Client(s3ClientConfig({ endpoint: router.url, region: 'us-east-1' }));
    await s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'raw/a..b/file...gz', Body: 'ok' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'raw/a..b/file...gz' }));
    expect(await got.Body?.transformToString()).toBe('ok');
    s3.destroy();
    const kinesis = new KinesisClient(baseClientConfig({ endpoint: router.url, region: 'us-east-1' }));
    expect((await kinesis.send(new ListStreamsCommand({}))).StreamNames).toEqual([]);
    kinesis.destroy();
    expect(outsideDataDir()).toEqual([]);
  });
});

describe('edge router while starting', () => {
  it('answers 503 with Retry-After until ready, so an SDK started with the runtime retries instead of failing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-start-'));
    const emulators = await startEmulators({ scratchDir: dir });
    const router = await startEdgeRouter({ upstreams: {}, services: [], port: 0, startNotReady: true });
    try {
      const early = await send(router.url, 'POST', '/', {
        host: `127.0.0.1:${router.port}`,
        'x-amz-target': 'Kinesis_20131202.ListStreams',
        'content-type': 'application/x-amz-json-1.1',
      });
      expect(early.status).toBe(503);
      expect(early.headers['retry-after']).toBe('1');
      const kinesis = new KinesisClient(baseClientConfig({ endpoint: router.url, region: 'us-east-1' }));
      const call = kinesis.send(new ListStreamsCommand({}));
      setTimeout(() => {
        router.setUpstream('kinesis', emulators.kinesis.url);
        router.markReady();
      }, 300);
      expect((await call).StreamNames).toEqual([]);
      kinesis.destroy();
    } finally {
      await router.close();
      await emulators.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pathProblem', () => {
  it.each([
    ['raw/profile=solar/year=2026/x.gz', undefined],
    ['a..b/...', undefined],
    ['..', 'a path segment is ".."'],
    ['a/%2E%2E', 'a path segment is ".."'],
    ['%25252e%25252e', 'a path segment is ".."'],
    ['%E0%A4%A', 'malformed percent-encoding'],
  ])('%s -> %s', (value, problem) => {
    expect(pathProblem(value)).toBe(problem);
  });
});
