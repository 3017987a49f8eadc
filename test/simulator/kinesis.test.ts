import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { readAggregate } from '../../lib/core/kpl';
import { baseClientConfig } from '../../lib/shared/aws-clients';
import { openShardRanges, ShardReader, shardIndexOf } from '../../lib/shared/kinesis-shards';
import { consumeStream } from '../../lib/simulator/consumer';
import { SimulationError } from '../../lib/simulator/errors';
import { KinesisSender, type SenderEntry } from '../../lib/simulator/kinesis-sender';
import { runSimulation } from '../../lib/simulator/run';
import { type Kinesalite, startFailingProxy, startKinesalite } from './kinesis-fixtures';
import { simulateCli, VirtualClock } from './sim-fixtures';

let k: Kinesalite;
const tmp = mkdtempSync(join(tmpdir(), 'sim-kinesis-'));

beforeAll(async () => {
  k = await startKinesalite();
});
afterAll(async () => {
  await k.close();
});

const entries = (n: number, prefix: string): SenderEntry[] =>
  Array.from({ length: n }, (_, i) => ({
    partitionKey: `dev-${i % 17}`,
    data: Buffer.from(JSON.stringify({ id: `${prefix}-${i}`, device: `dev-${i % 17}`, i })),
  }));

async function readBack(stream: string, count: number): Promise<{ key: string; text: string }[]> {
  const out: { key: string; text: string }[] = [];
  const summary = await consumeStream({
    client: k.client,
    streamName: stream,
    count,
    idleTimeoutMs: 10_000, // it stops at `count`; the timeout only ends a read that came up short (slow under a full test run)
    pollMs: 50,
    onRecord: (r) =>
      out.push({
        key: r.partitionKey,
        // Aggregates are binary: kept byte for byte (latin1), plain records as text.
        text: Buffer.from(r.data).toString(Buffer.from(r.data)[0] === 0xf3 ? 'latin1' : 'utf8'),
      }),
  });
  expect(summary.records).toBe(out.length);
  return out;
}

const sorted = (xs: string[]) => [...xs].sort();

async function sendAll(sender: KinesisSender, list: SenderEntry[]): Promise<void> {
  for (const e of list) {
    const p = sender.put(e);
    if (p) await p;
  }
  await sender.close();
}

describe('KinesisSender against kinesalite', () => {
  it('batches within the limits; the consumer reads back exactly what was sent, in order per device', async () => {
    await k.createStream('plain', 3);
    const list = entries(1800, 'plain');
    const sender = new KinesisSender({ client: k.client, streamName: 'plain', lingerMs: 10 });
    await sendAll(sender, list);
    const s = sender.stats();
    expect(s).toMatchObject({ sent: 1800, retries: 0, failed: 0, buffered: 0, inFlight: 0 });
    expect(s.requests).toBeGreaterThanOrEqual(4); // 500 records per request at most
    const got = await readBack('plain', 1800);
    expect(sorted(got.map((r) => r.text))).toEqual(sorted(list.map((e) => Buffer.from(e.data).toString())));
    // One device's records stay in order on its shard.
    const dev3 = got.filter((r) => r.key === 'dev-3').map((r) => JSON.parse(r.text).i);
    expect(dev3).toEqual([...dev3].sort((a, b) => a - b));
  });

  it('retries only the entries Kinesis reported failed: none lost, none doubled', async () => {
    await k.createStream('partial', 2);
    const attempts = new Map<string, number>();
    // Fails the first attempt of about a third of the records, as a partial PutRecords failure.
    const proxy = await startFailingProxy(k.endpoint, (e) => {
      const n = (attempts.get(e.Data) ?? 0) + 1;
      attempts.set(e.Data, n);
      const h = createHash('sha1').update(e.Data).digest()[0];
      return n === 1 && h % 3 === 0 ? 'InternalFailure' : undefined;
    });
    try {
      const client = new KinesisClient(baseClientConfig({ endpoint: proxy.endpoint, region: 'us-east-1' }));
      const list = entries(1200, 'partial');
      const sender = new KinesisSender({ client, streamName: 'partial', lingerMs: 10, baseDelayMs: 5, maxDelayMs: 50 });
      await sendAll(sender, list);
      client.destroy();
      const s = sender.stats();
      expect(proxy.failedByCode.InternalFailure).toBeGreaterThan(200);
      expect(s.retries).toBe(proxy.failedByCode.InternalFailure);
      expect(s).toMatchObject({ sent: 1200, failed: 0, throttles: 0 });
      expect(s.errors).toEqual({ InternalFailure: proxy.failedByCode.InternalFailure });
      const got = await readBack('partial', 1200);
      expect(sorted(got.map((r) => r.text))).toEqual(sorted(list.map((e) => Buffer.from(e.data).toString())));
    } finally {
      await proxy.close();
    }
  });

  it('ProvisionedThroughputExceeded slows the producer down instead of hammering', async () => {
    await k.createStream('throttled', 1);
    // A shard-like limit: at most 500 records per rolling second get through. The sender's first round (4
    // concurrent requests of 500) always exceeds it, however slow the machine; a limit above one round's
    // size was not reached at all when a loaded machine spread the round over more than a second.
    const window: number[] = [];
    const proxy = await startFailingProxy(k.endpoint, (_e, now) => {
      while (window.length > 0 && window[0] <= now - 1000) window.shift();
      if (window.length >= 500) return 'ProvisionedThroughputExceededException';
      window.push(now);
      return undefined;
    });
    try {
      const client = new KinesisClient(baseClientConfig({ endpoint: proxy.endpoint, region: 'us-east-1' }));
      const list = entries(3000, 'throttled');
      const sender = new KinesisSender({
        client,
        streamName: 'throttled',
        lingerMs: 5,
        baseDelayMs: 20,
        maxDelayMs: 500,
      });
      const t0 = Date.now();
      await sendAll(sender, list);
      client.destroy();
      const s = sender.stats();
      expect(s.sent).toBe(3000);
      expect(s.failed).toBe(0);
      expect(s.throttles).toBe(proxy.failedByCode.ProvisionedThroughputExceededException);
      expect(s.throttles).toBeGreaterThan(0);
      // The sender lowered its limit (a counter, not a 20 ms sample of a limit that is lifted again once it is well above the rate).
      expect(s.rateLimitCuts).toBeGreaterThan(0);
      // Hammering would re-send most records many times; adapting keeps the re-sends below the record count.
      expect(s.throttles).toBeLessThan(3000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(5000); // 3,000 records at 500/s
      const got = await readBack('throttled', 3000);
      expect(new Set(got.map((r) => r.text)).size).toBe(3000);
      expect(got).toHaveLength(3000);
    } finally {
      await proxy.close();
    }
  });
});

describe('runSimulation against kinesalite', () => {
  const base = {
    profiles: ['unicorn', 'solar'] as const,
    devices: { unicorn: 3, solar: 20 },
    rate: 'max' as const,
    count: 400,
    seed: 5,
    start: new Date('2026-06-01T06:00:00.000Z'),
  };

  it('the stream receives exactly the NDJSON the same run writes to a file, retry-bug copies included', async () => {
    await k.createStream('sim', 2);
    const file = join(tmp, 'sim.ndjson');
    const anomaliesFile = join(tmp, 'anomalies.json');
    const opts = { ...base, profiles: [...base.profiles], duplicates: 2, delay: 'seconds' as const, reorderMs: 2000 };
    const toFile = await runSimulation({ ...opts, out: file, anomaliesFile });
    const toStream = await runSimulation({
      ...opts,
      target: { endpoint: k.endpoint, region: 'us-east-1', streamName: 'sim' },
    });
    expect(toFile).toMatchObject({ produced: 400, duplicatesInjected: 800, sent: 1200, failed: 0 });
    expect(toStream).toMatchObject({ produced: 400, duplicatesInjected: 800, sent: 1200, failed: 0, retries: 0 });
    expect(toStream.perProfile.unicorn!.produced + toStream.perProfile.solar!.produced).toBe(400);
    expect(JSON.parse(JSON.stringify(toStream))).toEqual(toStream); // plain JSON
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1200);
    const got = await readBack('sim', 1200);
    expect(sorted(got.map((r) => r.text))).toEqual(sorted(lines));
    // Partition key = device id.
    for (const r of got) {
      const obj = JSON.parse(r.text);
      expect(r.key).toBe(obj.Name ?? obj.panelId);
    }
    expect(Array.isArray(JSON.parse(readFileSync(anomaliesFile, 'utf8')))).toBe(true);
  });

  it('edge dedupe drops every copy before Kinesis', async () => {
    await k.createStream('deduped', 1);
    const s = await runSimulation({
      ...base,
      profiles: ['solar'],
      devices: 30,
      count: 300,
      duplicates: 10,
      delay: 'seconds',
      dedupe: true,
      target: { endpoint: k.endpoint, region: 'us-east-1', streamName: 'deduped' },
    });
    expect(s).toMatchObject({ produced: 300, duplicatesInjected: 3000, droppedAtEdge: 3000, sent: 300 });
    expect(s.dedupe).toMatchObject({ forwarded: 300, dropped: 3000 });
    const got = await readBack('deduped', 300);
    expect(new Set(got.map((r) => r.text)).size).toBe(300);
  });

  it('--aggregate on several shards packs each aggregate for one shard, as the KPL does', async () => {
    await k.createStream('packed4', 4);
    const s = await runSimulation({
      ...base,
      profiles: ['solar'],
      devices: 40,
      count: 800,
      aggregate: { maxBytes: 25_600, lingerMs: 86_400_000 },
      target: { endpoint: k.endpoint, region: 'us-east-1', streamName: 'packed4' },
    });
    const ranges = await openShardRanges(k.client, 'packed4');
    expect(ranges).toHaveLength(4);
    let readings = 0;
    const shardsOfDevice = new Map<string, Set<string>>();
    for (const [i, range] of ranges.entries()) {
      const reader = new ShardReader(k.client, 'packed4', range.shardId, { type: 'TRIM_HORIZON' });
      for (let empty = 0; empty < 3; ) {
        const { records } = await reader.read(1000);
        if (records.length === 0) empty++;
        for (const r of records) {
          const bytes = Buffer.from(r.data);
          const view = readAggregate(bytes);
          if (!view.ok) throw new Error(view.problem);
          // every reading inside belongs to the shard its aggregate went to
          for (const pk of view.pkIndex.map((x) => view.partitionKeys[x])) {
            expect(shardIndexOf(ranges, pk)).toBe(i);
            shardsOfDevice.set(pk, (shardsOfDevice.get(pk) ?? new Set()).add(range.shardId));
          }
          readings += view.dataStart.length;
        }
      }
    }
    expect(readings).toBe(800);
    expect(s.aggregation!.records).toBeGreaterThanOrEqual(4); // one open aggregate per shard at least
    for (const shards of shardsOfDevice.values()) expect(shards.size).toBe(1);
  });

  it('--aggregate packs the deduplicated readings into KPL records of at most 25 KB', async () => {
    await k.createStream('packed', 1);
    const s = await runSimulation({
      ...base,
      profiles: ['solar'],
      devices: 30,
      count: 600,
      duplicates: 10,
      delay: 'seconds',
      aggregate: { maxBytes: 25_600, lingerMs: 86_400_000 },
      target: { endpoint: k.endpoint, region: 'us-east-1', streamName: 'packed' },
    });
    expect(s).toMatchObject({ produced: 600, droppedAtEdge: 6000 });
    const a = s.aggregation!;
    expect(a.readings).toBe(600);
    expect(a.records).toBe(s.sent);
    expect(a.records).toBeLessThan(10); // ~100 readings a record
    expect(a.putUnits).toBe(a.records);
    const got = await readBack('packed', a.records);
    const readings = got.flatMap((r) => {
      const view = readAggregate(Buffer.from(r.text, 'latin1'));
      if (!view.ok) throw new Error(view.problem);
      return view.dataStart.map((start, i) => Buffer.from(r.text, 'latin1').toString('utf8', start, view.dataEnd[i]));
    });
    expect(new Set(readings).size).toBe(600);
    for (const r of got) expect(Buffer.byteLength(r.text, 'latin1') + r.key.length).toBeLessThanOrEqual(25_600);
    await expect(
      runSimulation({ ...base, profiles: ['solar'], count: 1, aggregate: true, out: join(tmp, 'x.ndjson') }),
    ).rejects.toThrow(/--aggregate/);
  });

  it('an abort mid-run flushes what was produced and reports it', async () => {
    await k.createStream('aborted', 1);
    const controller = new AbortController();
    const progress: number[] = [];
    setTimeout(() => controller.abort(), 1500);
    const t0 = Date.now();
    const s = await runSimulation(
      {
        profiles: ['unicorn'],
        devices: 20,
        durationMs: 60_000,
        seed: 1,
        target: { endpoint: k.endpoint, region: 'us-east-1', streamName: 'aborted' },
        progressIntervalMs: 200,
      },
      { signal: controller.signal, onProgress: (p) => progress.push(p.produced) },
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(s.interrupted).toBe(true);
    expect(s.produced).toBeGreaterThan(10);
    expect(s.produced).toBeLessThan(20 * 10);
    expect(s.sent).toBe(s.produced);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    const got = await readBack('aborted', s.sent);
    expect(got).toHaveLength(s.sent);
    // Live data at speed 1: event times are not in the future.
    for (const r of got) expect(Date.parse(`${JSON.parse(r.text).StatusTime}Z`)).toBeLessThanOrEqual(Date.now());
  });

  it('sending to a stream stays paced by default (live data at speed 1)', async () => {
    await k.createStream('paced', 1);
    const clock = new VirtualClock();
    const s = await runSimulation({
      profiles: ['unicorn'],
      devices: 2,
      count: 10,
      seed: 4,
      clock,
      target: { endpoint: k.endpoint, region: 'us-east-1', streamName: 'paced' },
    });
    expect(s).toMatchObject({ speed: 1, sent: 10 });
    // 2 unicorns, 1 reading a second: 10 readings span about 5 s of (virtual) wall time.
    expect(clock.sleeps.length).toBeGreaterThanOrEqual(4);
    expect(clock.monotonicMs()).toBeGreaterThan(3_900);
  });

  it('a missing stream and an unreachable endpoint get a message that says what to do', async () => {
    const run = (endpoint: string) =>
      runSimulation({
        profiles: ['unicorn'],
        count: 1,
        rate: 'max',
        target: { endpoint, region: 'us-east-1', streamName: 'nope' },
      });
    await expect(run(k.endpoint)).rejects.toThrow(SimulationError);
    await expect(run(k.endpoint)).rejects.toThrow(
      /Stream "nope" not found at http:\/\/127\.0\.0\.1:\d+\. List the streams with: aws kinesis list-streams/,
    );
    await expect(run('http://127.0.0.1:9')).rejects.toThrow(
      /Cannot reach http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)[\s\S]*npm run local/,
    );
  });
});

describe('bin/simulate.ts', () => {
  const cli = (args: string[]) => simulateCli(args, tmp);

  it('prints a clear error, no stack trace, and exits non-zero for a missing stream or an unknown profile', async () => {
    const missing = await cli(['--stream', 'nope', '--endpoint', k.endpoint, '--count', '1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/simulate: Stream "nope" not found/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const pony = await cli(['--profile', 'pony', '--out', '-']);
    expect(pony.code).toBe(2);
    expect(pony.stderr).toMatch(/Unknown profile "pony"/);
  });

  it('runs the workshop producer command and prints a JSON summary', async () => {
    await k.createStream('wildrydes', 1);
    const r = await cli([
      '--name',
      'Bucephalus',
      '--stream',
      'wildrydes',
      '--endpoint',
      k.endpoint,
      '--count',
      '5',
      '--rate',
      'max',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ produced: 5, sent: 5, perProfile: { unicorn: { devices: 1, produced: 5 } } });
    const got = await readBack('wildrydes', 5);
    expect(got.every((x) => JSON.parse(x.text).Name === 'Bucephalus' && x.key === 'Bucephalus')).toBe(true);
  });
});
