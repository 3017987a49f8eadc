import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateStreamCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { CheckpointStore } from '../../lib/local/checkpoints';
import { type Emulators, startEmulators } from '../../lib/local/emulators';
import { KinesisEventSourceMapping } from '../../lib/local/kinesis-esm';
import type { InvokeResult } from '../../lib/local/lambda-host';
import type { MappingPlan } from '../../lib/local/stack-plan';
import { baseClientConfig } from '../../lib/shared/aws-clients';
import { waitForStreamActive } from '../../lib/shared/kinesis-shards';
import { sleep } from '../../lib/shared/sleep';

/** ESM semantics against real kinesalite, with fixture handlers invoked in-process. */
interface Rec {
  kinesis: { sequenceNumber: string; data: string; approximateArrivalTimestamp: number };
}
interface Ev {
  Records: Rec[];
  window?: { start: string; end: string };
  state?: Record<string, unknown>;
  isFinalInvokeForWindow?: boolean;
  isWindowTerminatedEarly?: boolean;
  shardId?: string;
}

const ok = (value: unknown): InvokeResult => ({ ok: true, value, durationMs: 1 });
const err = (msg: string): InvokeResult => ({
  ok: false,
  error: { errorType: 'Error', errorMessage: msg },
  durationMs: 1,
});
const text = (r: Rec) => Buffer.from(r.kinesis.data, 'base64').toString();

describe('local Kinesis event source mapping', () => {
  let dir: string;
  let emulators: Emulators;
  let kinesis: KinesisClient;
  let n = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'esm-'));
    emulators = await startEmulators({ scratchDir: dir });
    kinesis = new KinesisClient(baseClientConfig({ endpoint: emulators.kinesis.url, region: 'us-east-1' }));
  });
  afterAll(async () => {
    kinesis?.destroy();
    await emulators?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function stream(): Promise<string> {
    const name = `s${++n}`;
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
    await waitForStreamActive(kinesis, name); // CREATING until kinesalite's next tick, which load can delay
    return name;
  }
  async function put(name: string, values: string[]): Promise<void> {
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: name,
        Records: values.map((v) => ({ Data: Buffer.from(v), PartitionKey: 'k' })),
      }),
    );
  }
  function mapping(streamName: string, over: Partial<MappingPlan>): MappingPlan {
    return {
      logicalId: 'M',
      functionName: 'fn',
      streamName,
      streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`,
      startingPosition: 'TRIM_HORIZON',
      batchSize: 100,
      maxBatchingWindowSeconds: 0,
      tumblingWindowSeconds: 0,
      reportBatchItemFailures: false,
      bisectOnError: false,
      maxRetryAttempts: -1,
      maxRecordAgeSeconds: -1,
      enabled: true,
      ...over,
    };
  }
  function esm(
    m: MappingPlan,
    invoke: (e: Ev) => Promise<InvokeResult>,
    extra: { file?: string; dlq?: string[] } = {},
  ) {
    return new KinesisEventSourceMapping({
      mapping: m,
      kinesis,
      invoke: (e) => invoke(e as Ev),
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
      context: { streamArn: m.streamArn, region: 'us-east-1', accountId: '000000000000' },
      checkpoints: new CheckpointStore(extra.file),
      onFailure: extra.dlq ? (body) => void extra.dlq!.push(body) : undefined,
      pollIntervalMs: 30,
      closeGraceMs: 200,
      retryBaseMs: 10,
    });
  }
  async function until(cond: () => boolean, ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out');
      await sleep(25);
    }
  }

  it('tumbling windows: arrival-time windows, state carried, one final invoke per window with the full state', async () => {
    const name = await stream();
    const events: Ev[] = [];
    const m = esm(mapping(name, { tumblingWindowSeconds: 1, batchSize: 3 }), async (e) => {
      events.push(JSON.parse(JSON.stringify(e)));
      const seen = [...((e.state?.seen as string[]) ?? []), ...e.Records.map(text)];
      return ok({ state: { seen }, batchItemFailures: [] });
    });
    await m.start();
    await put(name, ['a1', 'a2', 'a3', 'a4', 'a5']);
    await sleep(1100);
    await put(name, ['b1', 'b2']);
    const since = Date.now();
    await until(() => m.drained(since));
    await m.stop();

    const finals = events.filter((e) => e.isFinalInvokeForWindow);
    const all = finals.flatMap((e) => e.state!.seen as string[]);
    expect(all).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2']);
    for (const f of finals) {
      expect(f.Records).toEqual([]);
      expect(f.isWindowTerminatedEarly).toBe(false);
      const start = Date.parse(f.window!.start);
      expect(start % 1000).toBe(0);
      expect(Date.parse(f.window!.end) - start).toBe(1000);
      // every record delivered in this window arrived inside it
      const inWindow = events.filter((e) => !e.isFinalInvokeForWindow && e.window!.start === f.window!.start);
      for (const r of inWindow.flatMap((e) => e.Records)) {
        const t = r.kinesis.approximateArrivalTimestamp * 1000;
        expect(t).toBeGreaterThanOrEqual(start);
        expect(t).toBeLessThan(start + 1000);
      }
      expect(inWindow.every((e) => e.Records.length <= 3 && e.shardId === 'shardId-000000000000')).toBe(true);
    }
    expect(m.stats.windowsClosed).toBe(finals.length);
  });

  it('ends a window early when the returned state exceeds 1 MB and continues it with fresh state', async () => {
    const name = await stream();
    const events: Ev[] = [];
    const m = esm(mapping(name, { tumblingWindowSeconds: 60, batchSize: 2 }), async (e) => {
      events.push({ ...e, state: { size: JSON.stringify(e.state).length } });
      if (e.isFinalInvokeForWindow) return ok({ state: {} });
      return ok({ state: { big: 'x'.repeat(700_000) + (e.state?.big ?? '') } });
    });
    await m.start();
    await put(name, ['1', '2', '3', '4', '5', '6']);
    await until(() => events.filter((e) => !e.isFinalInvokeForWindow).length >= 3);
    await m.stop();
    const early = events.find((e) => e.isWindowTerminatedEarly)!;
    expect(early.isFinalInvokeForWindow).toBe(true);
    expect(early.state!.size).toBeGreaterThan(1024 * 1024);
    const afterEarly = events[events.indexOf(early) + 1];
    expect(afterEarly.window).toEqual(early.window);
    expect(afterEarly.state!.size).toBe(2); // `{}`
  });

  it('retries a failed final invoke until it succeeds before going on', async () => {
    const name = await stream();
    let finalFailures = 0;
    const order: string[] = [];
    const m = esm(mapping(name, { tumblingWindowSeconds: 1 }), async (e) => {
      if (e.isFinalInvokeForWindow && finalFailures < 3) {
        finalFailures++;
        return err('final failed');
      }
      order.push(e.isFinalInvokeForWindow ? `final:${(e.state!.n as number) ?? 0}` : e.Records.map(text).join(''));
      return ok({ state: { n: ((e.state?.n as number) ?? 0) + e.Records.length } });
    });
    await m.start();
    await put(name, ['a', 'b']);
    await sleep(1100);
    await put(name, ['c']);
    const since = Date.now();
    await until(() => m.drained(since));
    await m.stop();
    expect(finalFailures).toBe(3);
    expect(order).toEqual(['ab', 'final:2', 'c', 'final:1']);
  });

  it('ReportBatchItemFailures checkpoints at the first failed sequence number', async () => {
    const name = await stream();
    const batches: string[][] = [];
    let failed = false;
    const m = esm(mapping(name, { reportBatchItemFailures: true, batchSize: 10 }), async (e) => {
      batches.push(e.Records.map(text));
      const idx = e.Records.findIndex((r) => text(r) === 'r4');
      if (!failed && idx >= 0) {
        failed = true;
        const seq = (i: number) => ({ itemIdentifier: e.Records[i].kinesis.sequenceNumber });
        return ok({ batchItemFailures: [seq(idx + 2), seq(idx)] });
      }
      return ok({ batchItemFailures: [] });
    });
    await m.start();
    await put(name, ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
    const since = Date.now() + 100;
    await until(() => m.drained(since));
    await m.stop();
    expect(batches).toEqual([
      ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'],
      ['r4', 'r5', 'r6', 'r7'],
    ]);
    expect(m.stats.recordsCommitted).toBe(7);
  });

  it('bisects a failing batch, retries, then sends the poison record to the on-failure destination', async () => {
    const name = await stream();
    const delivered: string[] = [];
    const dlq: string[] = [];
    const m = esm(
      mapping(name, { bisectOnError: true, maxRetryAttempts: 2, batchSize: 8 }),
      async (e) => {
        const values = e.Records.map(text);
        if (values.includes('poison')) return err('boom');
        delivered.push(...values);
        return ok(null);
      },
      { dlq },
    );
    await m.start();
    await put(name, ['v1', 'v2', 'v3', 'poison', 'v5', 'v6', 'v7', 'v8']);
    const since = Date.now() + 100;
    await until(() => m.drained(since) && dlq.length > 0);
    await m.stop();
    expect(delivered.sort()).toEqual(['v1', 'v2', 'v3', 'v5', 'v6', 'v7', 'v8']);
    expect(dlq).toHaveLength(1);
    const failure = JSON.parse(dlq[0]);
    expect(failure.requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 });
    expect(failure.KinesisBatchInfo).toMatchObject({ shardId: 'shardId-000000000000', batchSize: 1 });
    expect(failure.KinesisBatchInfo.startSequenceNumber).toBe(failure.KinesisBatchInfo.endSequenceNumber);
    expect(failure.KinesisBatchInfo.streamArn).toBe(m.options.mapping.streamArn);
    expect(m.stats.bisections).toBe(3); // 8 -> 4 -> 2 -> 1
  });

  it('discards records older than MaximumRecordAgeInSeconds', async () => {
    const name = await stream();
    const dlq: string[] = [];
    const m = esm(mapping(name, { maxRecordAgeSeconds: 1 }), async () => err('always'), { dlq });
    await m.start();
    await put(name, ['old1', 'old2']);
    await until(() => dlq.length > 0);
    await m.stop();
    const failure = JSON.parse(dlq[0]);
    expect(failure.requestContext.condition).toBe('RecordAgeExceeded');
    expect(failure.KinesisBatchInfo.batchSize).toBe(2);
    expect(m.stats.recordsDiscarded).toBe(2);
  });

  it('resumes from the persisted checkpoint and window state after a restart', async () => {
    const name = await stream();
    const file = join(dir, `cp-${name}.json`);
    const seen: string[] = [];
    let finalState: string[] = [];
    const handler = async (e: Ev) => {
      const acc = [...((e.state?.acc as string[]) ?? []), ...e.Records.map(text)];
      if (e.isFinalInvokeForWindow) finalState = acc;
      seen.push(...e.Records.map(text));
      return ok({ state: { acc } });
    };
    const m1 = esm(mapping(name, { tumblingWindowSeconds: 3, batchSize: 2 }), handler, { file });
    await m1.start();
    await put(name, ['x1', 'x2', 'x3']);
    await until(() => seen.length >= 2);
    await m1.stop();
    await put(name, ['x4']);
    const m2 = esm(mapping(name, { tumblingWindowSeconds: 3, batchSize: 2 }), handler, { file });
    await m2.start();
    const since = Date.now();
    await until(() => m2.drained(since));
    await m2.stop();
    expect(new Set(seen)).toEqual(new Set(['x1', 'x2', 'x3', 'x4']));
    // the window's final state spans both runs (the arrival times may straddle a window boundary)
    expect(finalState.length).toBeGreaterThan(0);
    expect(finalState).toEqual([...finalState].sort());
  });
});
