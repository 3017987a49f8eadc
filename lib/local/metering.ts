import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { itemBytes, type WireItem, writeUnits } from '../shared/dynamo-units';
import { logSize, readEmf } from './emf';
import type { FirehoseDelivery } from './firehose';
import type { InvokeResult, LambdaFunctionHost } from './lambda-host';
import type { MeteringSnapshot } from './metering-types';

export type { MeteringSnapshot } from './metering-types';

/**
 * Counts what an embedded run would be billed for, the way AWS bills it, for `npm run cost -- --from-run`.
 * It sits between the edge router and the emulators (one small proxy per service on 127.0.0.1), so the
 * router needs no change: Kinesis puts are sized per record (25 KB PUT units, 1 KB and 5 KB rounding);
 * DynamoDB requests ask the emulator for ConsumedCapacity (dynalite sizes items as DynamoDB does, old
 * and new item for a put) and a failed conditional put, which DynamoDB still bills, is sized from the
 * request with lib/shared/dynamo-units.ts; S3 requests are counted by method. Lambda invocations are
 * timed around the host, and the aggregator's own counts come from its EMF metrics.
 */
const KB = 1024;
const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
const statementCount = (input: Record<string, unknown>): number =>
  Array.isArray(input.Statements) ? input.Statements.length : 1;
const DYNAMO_READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);
/** Reads of one table that DynamoDB bills at a minimum even when they return nothing. */
const SINGLE_READS = new Set(['GetItem', 'Query', 'Scan']);
const KINESIS_PUTS = new Set(['PutRecord', 'PutRecords']);

interface Capacity {
  TableName?: string;
  CapacityUnits?: number;
}

export class Metering {
  private readonly startedAt = new Date().toISOString();
  private readonly servers: Server[] = [];
  /** Connections to the emulators, owned here so that close() leaves no socket behind. */
  private readonly agent = new Agent({ keepAlive: true });
  private readonly logOffsets = new Map<string, number>();
  private readonly kinesis = {
    records: 0,
    bytes: 0,
    putCalls: 0,
    putPayloadUnits: 0,
    onDemandBilledBytes: 0,
    firehoseBilledBytes: 0,
  };
  private readonly dynamodb = {
    writeUnits: 0,
    readUnits: 0,
    writeRequests: 0,
    readRequests: 0,
    batchedWrites: 0,
    batchCalls: 0,
    failedConditionalWrites: 0,
    byTable: {} as Record<string, { writeUnits: number; readUnits: number }>,
  };
  private readonly s3 = { puts: 0, gets: 0, putBytes: 0 };
  private readonly lambda = { invocations: 0, durationMs: 0, gbSeconds: 0, cpuMs: 0, memoryMb: 0 };

  /** Starts the metering proxies; returns the URLs to give the router instead of the emulators'. */
  async proxy(upstreams: { kinesis: string; dynamodb: string; s3: string }): Promise<typeof upstreams> {
    return {
      kinesis: await this.listen((req, res) => this.kinesisRequest(upstreams.kinesis, req, res)),
      dynamodb: await this.listen((req, res) => this.dynamoRequest(upstreams.dynamodb, req, res)),
      s3: await this.listen((req, res) => this.s3Request(upstreams.s3, req, res)),
    };
  }

  /** Invokes through the host, counting the invocation and its billed GB-seconds (1 ms granularity). */
  async invoke(host: LambdaFunctionHost, event: unknown): Promise<InvokeResult> {
    if (!this.logOffsets.has(host.logFile)) this.logOffsets.set(host.logFile, logSize(host.logFile));
    const result = await host.invoke(event);
    this.lambda.invocations++;
    this.lambda.durationMs += result.durationMs;
    this.lambda.gbSeconds += (Math.max(1, Math.ceil(result.durationMs)) / 1000) * (host.fn.memoryMb / 1024);
    this.lambda.cpuMs += result.cpuMs ?? result.durationMs;
    this.lambda.memoryMb = host.fn.memoryMb;
    return result;
  }

  snapshot(
    hosts: readonly LambdaFunctionHost[],
    deliveries: readonly FirehoseDelivery[],
    traffic?: string,
  ): MeteringSnapshot {
    const totals: Record<string, number> = {};
    let series = 0;
    let logBytes = 0;
    for (const h of hosts) {
      const offset = this.logOffsets.get(h.logFile) ?? logSize(h.logFile);
      logBytes += Math.max(0, logSize(h.logFile) - offset);
      const emf = readEmf(h.logFile, offset);
      for (const [k, v] of Object.entries(emf.totals)) totals[k] = (totals[k] ?? 0) + v;
      series += Object.keys(emf.totals).length;
      for (const values of Object.values(emf.byDimension)) series += Object.keys(values).length;
    }
    const n = (k: string) => totals[k] ?? 0;
    const firehose = { recordsIn: 0, objectsWritten: 0, bytesWritten: 0 };
    for (const d of deliveries) {
      firehose.recordsIn += d.stats.recordsIn;
      firehose.objectsWritten += d.stats.objectsWritten;
      firehose.bytesWritten += d.stats.bytesWritten;
    }
    return {
      version: 1,
      startedAt: this.startedAt,
      endedAt: new Date().toISOString(),
      kinesis: { ...this.kinesis },
      dynamodb: { ...this.dynamodb, byTable: structuredClone(this.dynamodb.byTable) },
      s3: { ...this.s3 },
      firehose,
      lambda: { ...this.lambda, logBytes },
      pipeline: {
        recordsIn: n('RecordsIn'),
        duplicatesDropped: n('DuplicatesDropped'),
        invalid: n('InvalidRecords'),
        late: n('LateRecords'),
        aggregatesWritten: n('AggregatesWritten'),
        uniqueReadings: Math.max(0, n('RecordsIn') - n('DuplicatesDropped') - n('InvalidRecords')),
        metricSeries: series,
      },
      ...(traffic ? { traffic } : {}),
    };
  }

  static write(file: string, snapshot: MeteringSnapshot): void {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(snapshot, null, 2)}\n`);
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  private async listen(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<string> {
    const server = createServer((req, res) => {
      handler(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
    });
    server.keepAliveTimeout = 65_000;
    this.servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  private async kinesisRequest(upstream: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const op = operation(req);
    if (!KINESIS_PUTS.has(op)) {
      await forward(this.agent, upstream, req, res);
      return;
    }
    const body = await readBody(req);
    const reply = await forward(this.agent, upstream, req, res, body);
    if (reply.status !== 200) return;
    const input = parse(body) as { Data?: string; Records?: { Data: string }[] } | undefined;
    const output = parse(reply.body) as { Records?: { ErrorCode?: string }[] } | undefined;
    const records = op === 'PutRecord' ? [{ Data: input?.Data ?? '' }] : (input?.Records ?? []);
    this.kinesis.putCalls++;
    records.forEach((r, i) => {
      if (output?.Records?.[i]?.ErrorCode) return;
      const bytes = Buffer.byteLength(r.Data, 'base64');
      this.kinesis.records++;
      this.kinesis.bytes += bytes;
      this.kinesis.putPayloadUnits += Math.max(1, Math.ceil(bytes / (25 * KB)));
      this.kinesis.onDemandBilledBytes += Math.max(1, Math.ceil(bytes / KB)) * KB;
      this.kinesis.firehoseBilledBytes += Math.max(1, Math.ceil(bytes / (5 * KB))) * 5 * KB;
    });
  }

  private async dynamoRequest(upstream: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const op = operation(req);
    const isWrite = DYNAMO_WRITES.has(op) || op === 'BatchExecuteStatement';
    if (!isWrite && !DYNAMO_READS.has(op)) {
      await forward(this.agent, upstream, req, res);
      return;
    }
    const raw = await readBody(req);
    const input = parse(raw) as Record<string, unknown> | undefined;
    if (!input) {
      await forward(this.agent, upstream, req, res, raw);
      return;
    }
    // Ask the emulator what DynamoDB would consume; the response keeps the extra field (its CRC covers it).
    const body = Buffer.from(
      JSON.stringify({ ...input, ReturnConsumedCapacity: input.ReturnConsumedCapacity ?? 'TOTAL' }),
    );
    const reply = await forward(this.agent, upstream, req, res, body);
    // A batch of statements is that many writes to DynamoDB (its units come back in ConsumedCapacity).
    const operations = op === 'BatchExecuteStatement' ? statementCount(input) : 1;
    if (isWrite) this.dynamodb.writeRequests += operations;
    else this.dynamodb.readRequests++;
    if (op === 'BatchExecuteStatement') {
      this.dynamodb.batchedWrites += operations;
      this.dynamodb.batchCalls++;
    }
    if (reply.status === 200) {
      const out = parse(reply.body) as { ConsumedCapacity?: Capacity | Capacity[]; Responses?: unknown } | undefined;
      if (op === 'BatchExecuteStatement') this.countFailedStatements(out?.Responses);
      const consumed = out?.ConsumedCapacity;
      for (const c of [consumed ?? []].flat()) {
        // DynamoDB bills a read request at least one read unit, half for an eventually consistent read,
        // even when it finds nothing; dynalite reports 0 for a Query of an empty partition.
        const floor = SINGLE_READS.has(op) ? (input.ConsistentRead === true ? 1 : 0.5) : 0;
        this.addUnits(c.TableName ?? '', Math.max(floor, c.CapacityUnits ?? 0), isWrite);
      }
      return;
    }
    const error = parse(reply.body) as { __type?: string } | undefined;
    if (isWrite && error?.__type?.endsWith('ConditionalCheckFailedException')) {
      // DynamoDB bills a failed conditional write; the emulator reports none, so size it from the request.
      this.dynamodb.failedConditionalWrites++;
      const item = input.Item as WireItem | undefined;
      this.addUnits(String(input.TableName ?? ''), item ? writeUnits(itemBytes(item)) : 1, true);
    }
  }

  /** Statements that failed their condition (an INSERT whose key exists): billed, and counted like failed puts. */
  private countFailedStatements(responses: unknown): void {
    for (const r of Array.isArray(responses) ? (responses as { Error?: { Code?: string } }[]) : []) {
      const code = r.Error?.Code;
      if (code === 'DuplicateItem' || code === 'ConditionalCheckFailed') this.dynamodb.failedConditionalWrites++;
    }
  }

  private addUnits(table: string, units: number, isWrite: boolean): void {
    this.dynamodb.byTable[table] ??= { writeUnits: 0, readUnits: 0 };
    const t = this.dynamodb.byTable[table];
    if (isWrite) {
      this.dynamodb.writeUnits += units;
      t.writeUnits += units;
    } else {
      this.dynamodb.readUnits += units;
      t.readUnits += units;
    }
  }

  private async s3Request(upstream: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'PUT' || req.method === 'POST') {
      this.s3.puts++;
      this.s3.putBytes += Number(req.headers['content-length'] ?? 0);
    } else if (req.method === 'GET') this.s3.gets++;
    await forward(this.agent, upstream, req, res);
  }
}

function operation(req: IncomingMessage): string {
  const target = req.headers['x-amz-target'];
  return String(Array.isArray(target) ? target[0] : (target ?? '')).split('.')[1] ?? '';
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function parse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Forwards to the emulator with the original headers. With `body` the request was read here (its
 * length may have changed) and the response is buffered for the caller; without, both are streamed.
 */
function forward(
  agent: Agent,
  upstream: string,
  req: IncomingMessage,
  res: ServerResponse,
  body?: Buffer,
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve) => {
    const url = new URL(upstream);
    const headers = { ...req.headers };
    if (body) headers['content-length'] = String(body.length);
    const out = request(
      { host: url.hostname, port: url.port, method: req.method, path: req.url, headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        const chunks: Buffer[] = [];
        if (body) up.on('data', (c: Buffer) => chunks.push(c));
        up.pipe(res);
        up.on('end', () => resolve({ status: up.statusCode ?? 502, body: Buffer.concat(chunks) }));
        up.on('error', () => {
          res.destroy();
          resolve({ status: 502, body: Buffer.alloc(0) });
        });
      },
    );
    out.on('error', (err) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ __type: 'ServiceUnavailable', message: `emulator unreachable: ${err.message}` }));
      } else res.destroy();
      resolve({ status: 502, body: Buffer.alloc(0) });
    });
    if (body) out.end(body);
    else req.pipe(out);
  });
}
