import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { baseClientConfig } from '../../lib/shared/aws-clients';
import { waitForStreamActive } from '../../lib/shared/kinesis-shards';

// kinesalite has no types; it is the real Kinesis wire protocol on 127.0.0.1.
// eslint-disable-next-line
const kinesalite = require('kinesalite') as (o: Record<string, number>) => Server;

export interface Kinesalite {
  readonly endpoint: string;
  readonly client: KinesisClient;
  createStream(name: string, shards: number): Promise<void>;
  close(): Promise<void>;
}

export async function startKinesalite(): Promise<Kinesalite> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new KinesisClient(baseClientConfig({ endpoint, region: 'us-east-1' }));
  return {
    endpoint,
    client,
    async createStream(name, shards) {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      await waitForStreamActive(client, name);
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface PutEntry {
  readonly Data: string;
  readonly PartitionKey: string;
}

/** Decides, per PutRecords entry, whether the proxy fails it (and with which code) instead of forwarding it. */
export type FailurePolicy = (entry: PutEntry, nowMs: number) => string | undefined;

export interface FailingProxy {
  readonly endpoint: string;
  /** Entries the proxy failed, by error code. */
  readonly failedByCode: Record<string, number>;
  close(): Promise<void>;
}

/**
 * A small HTTP proxy in front of kinesalite that fails chosen PutRecords entries the way Kinesis does:
 * the failed entries are not forwarded (so they are not stored), and the response carries an
 * ErrorCode at their positions. Everything else passes through untouched.
 */
export async function startFailingProxy(upstream: string, policy: FailurePolicy): Promise<FailingProxy> {
  const target = new URL(upstream);
  const failedByCode: Record<string, number> = {};
  const forward = (path: string, headers: Record<string, string | string[] | undefined>, body: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>(
      (resolve, reject) => {
        const req = request(
          {
            host: target.hostname,
            port: target.port,
            path,
            method: 'POST',
            headers: { ...headers, 'content-length': body.length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }),
            );
          },
        );
        req.on('error', reject);
        req.end(body);
      },
    );
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      let body = Buffer.concat(chunks);
      const isPut = String(req.headers['x-amz-target'] ?? '').endsWith('.PutRecords');
      const failures: (string | undefined)[] = [];
      if (isPut) {
        const parsed = JSON.parse(body.toString('utf8')) as { Records: PutEntry[]; StreamName: string };
        const now = Date.now();
        const keep: PutEntry[] = [];
        for (const e of parsed.Records) {
          const code = policy(e, now);
          failures.push(code);
          if (code) failedByCode[code] = (failedByCode[code] ?? 0) + 1;
          else keep.push(e);
        }
        if (keep.length === 0) {
          const out = {
            FailedRecordCount: failures.length,
            Records: failures.map((c) => ({ ErrorCode: c, ErrorMessage: `injected ${c}` })),
          };
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(out));
          return;
        }
        body = Buffer.from(JSON.stringify({ ...parsed, Records: keep }));
      }
      // Re-signing is not needed: kinesalite does not check signatures.
      const headers = { ...req.headers };
      delete headers.host;
      try {
        const up = await forward(req.url ?? '/', headers, body);
        let out = up.body;
        if (isPut && up.status === 200) {
          const parsed = JSON.parse(out.toString('utf8')) as { FailedRecordCount: number; Records: object[] };
          let i = 0;
          const merged = failures.map((c) =>
            c ? { ErrorCode: c, ErrorMessage: `injected ${c}` } : parsed.Records[i++],
          );
          out = Buffer.from(
            JSON.stringify({
              FailedRecordCount: parsed.FailedRecordCount + failures.filter(Boolean).length,
              Records: merged,
            }),
          );
        }
        const h: Record<string, string | string[] | undefined> = {
          ...up.headers,
          'content-length': String(out.length),
        };
        delete h['transfer-encoding'];
        res.writeHead(up.status, h);
        res.end(out);
      } catch (err) {
        res.writeHead(502);
        res.end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failedByCode,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
