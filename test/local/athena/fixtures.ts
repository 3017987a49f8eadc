import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { archiveTables, type GlueTableDef } from '../../../lib/catalog';
import { PROFILES } from '../../../lib/core/profiles';
import { type JsonProtocolService, ServiceError } from '../../../lib/local/service';
import { type ClientTarget, s3ClientConfig } from '../../../lib/shared/aws-clients';

// s3rver ships no types; the constructor options and run()/close() are all the tests use.
// biome-ignore lint/suspicious/noExplicitAny: untyped CommonJS module
const S3rver: any = require('s3rver');

export interface S3Fixture {
  readonly target: ClientTarget;
  readonly s3: S3Client;
  readonly dir: string;
  close(): Promise<void>;
}

/** A real S3 wire protocol on 127.0.0.1, port chosen by the OS, stored in a temporary directory. */
export async function startS3(buckets: readonly string[]): Promise<S3Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'athena-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
  const addr = await server.run();
  const target: ClientTarget = { endpoint: `http://127.0.0.1:${addr.port}`, region: 'us-east-1' };
  const s3 = new S3Client(s3ClientConfig(target));
  for (const b of buckets) await s3.send(new CreateBucketCommand({ Bucket: b }));
  return {
    target,
    s3,
    dir,
    async close() {
      s3.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The Firehose prefix of an arrival time: `raw/profile=P/year=YYYY/month=MM/day=DD/hour=HH/`. */
export function rawPrefix(profile: string, arrivalMs: number): string {
  const d = new Date(arrivalMs);
  return `raw/profile=${profile}/year=${d.getUTCFullYear()}/month=${pad(d.getUTCMonth() + 1)}/day=${pad(d.getUTCDate())}/hour=${pad(d.getUTCHours())}/`;
}

/**
 * Writes NDJSON lines grouped by arrival hour as Firehose would (gzip objects under hourly prefixes).
 * `lines` carry their own arrival time; one object per hour and `chunk` lines.
 */
export async function putArchive(
  s3: S3Client,
  bucket: string,
  profile: string,
  lines: Iterable<{ arrivalMs: number; json: string }>,
  options: { gzip?: boolean } = {},
): Promise<{ objects: number; bytes: number }> {
  const byPrefix = new Map<string, string[]>();
  for (const l of lines) {
    const p = rawPrefix(profile, l.arrivalMs);
    const arr = byPrefix.get(p);
    if (arr) arr.push(l.json);
    else byPrefix.set(p, [l.json]);
  }
  let objects = 0;
  let bytes = 0;
  const gzip = options.gzip ?? true;
  const puts: Promise<unknown>[] = [];
  for (const [prefix, arr] of byPrefix) {
    const body = Buffer.from(`${arr.join('\n')}\n`);
    const data = gzip ? gzipSync(body) : body;
    bytes += data.length;
    objects++;
    puts.push(
      s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `${prefix}firehose-${objects}${gzip ? '.gz' : ''}`, Body: data }),
      ),
    );
    if (puts.length >= 8) await Promise.all(puts.splice(0));
  }
  await Promise.all(puts);
  return { objects, bytes };
}

/** The stack's tables (JSON archive) over a test bucket and database: the catalog module's own output. */
export function catalogTables(bucket: string, database: string, parquet = false): GlueTableDef[] {
  return archiveTables({ bucketName: bucket, databaseName: database, profiles: PROFILES, parquet });
}

/** A minimal stand-in for the runtime's router: X-Amz-Target → service, AWS JSON error shapes. */
export function serve(services: readonly JsonProtocolService[]): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const [prefix, operation] = target.split('.');
      const service = services.find((s) => s.targetPrefixes.includes(prefix));
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (!service) return reply(400, { __type: 'UnknownOperationException', message: target });
      try {
        const input = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
        reply(200, await service.handle(operation, input));
      } catch (err) {
        if (err instanceof ServiceError) reply(err.statusCode, { __type: err.type, message: err.message });
        else reply(500, { __type: 'InternalServerException', message: (err as Error).message });
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
