/**
 * Simulator benchmark: generation rate in memory, and send rate into kinesalite on 127.0.0.1 next to a
 * bare PutRecords loop sending the same pre-built batches in the same run (the emulator's ceiling).
 * Run alone with `npx tsx bench/simulator.ts`, or through `npm run bench`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { baseClientConfig } from '../lib/shared/aws-clients';
import { generateFleet } from '../lib/simulator/generate';
import { runSimulation } from '../lib/simulator/run';

const ROUNDS = 5;
const START = new Date('2026-06-01T00:00:00.000Z');

function generationRate(
  profile: 'unicorn' | 'solar',
  devices: number,
  durationMs: number,
): { perSec: number; n: number } {
  const fleet = generateFleet({ profile, devices, start: START, durationMs, seed: 1 });
  // Warm up the JIT on a first pass, then time a second one.
  let n = 0;
  let bytes = 0;
  for (const r of fleet.records()) bytes += r.json.length;
  const t0 = performance.now();
  for (const r of fleet.records()) {
    n++;
    bytes += r.json.length;
  }
  const ms = performance.now() - t0;
  if (bytes < 0) console.log(bytes); // keep the loop observable
  return { perSec: (n * 1000) / ms, n };
}

/** The same unicorn record built with JSON.stringify of an object, for the template-string comparison. */
function stringifyRate(n: number): number {
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    bytes += JSON.stringify({
      Name: 'Shadowfax',
      StatusTime: new Date(1_780_000_000_000 + i).toISOString().replace('T', ' ').slice(0, 23),
      Latitude: 40.7484 + i * 1e-7,
      Longitude: -73.9857,
      Distance: 29.5,
      HealthPoints: 150,
      MagicPoints: 151,
    }).length;
  }
  const ms = performance.now() - t0;
  if (bytes < 0) console.log(bytes);
  return (n * 1000) / ms;
}

/**
 * kinesalite in its own process, as the embedded runtime runs it: the producer's CPU and the emulator's
 * are then not the same thread, so the comparison measures the sender, not who got the event loop.
 */
async function startKinesalite(): Promise<{ endpoint: string; client: KinesisClient; close: () => Promise<void> }> {
  const script =
    "require('kinesalite')({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 })" +
    ".listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); });";
  const child = spawn(process.execPath, ['-e', script], {
    cwd: join(__dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`kinesalite exited (${code})`)));
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new KinesisClient(baseClientConfig({ endpoint, region: 'us-east-1' }));
  return {
    endpoint,
    client,
    close: async () => {
      client.destroy();
      child.removeAllListeners('exit');
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function createStream(client: KinesisClient, name: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  for (;;) {
    const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** PutRecords of pre-built 500-record batches, `concurrency` requests at a time, no retry logic. */
async function bareLoop(
  client: KinesisClient,
  stream: string,
  batches: PutRecordsRequestEntry[][],
  concurrency: number,
) {
  let next = 0;
  let sent = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        const res = await client.send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
        sent += batch.length - (res.FailedRecordCount ?? 0);
      }
    }),
  );
  return (sent * 1000) / (performance.now() - t0);
}

export async function runSimulatorBench(
  options: { sendOnly?: boolean } = {},
): Promise<{ title: string; lines: string[]; figures: Record<string, number> }> {
  const skip = { perSec: 0, n: 0 };
  const unicorn = options.sendOnly ? skip : generationRate('unicorn', 1000, 2_000_000); // ~2 M records
  const solar = options.sendOnly ? skip : generationRate('solar', 30_000, 86_400_000 / 2); // 30,000 panels, half a day
  const stringify = options.sendOnly ? 0 : stringifyRate(500_000);

  const devices = 500;
  const count = 30_000;
  const concurrency = 4;
  const seed = 3;
  const start = new Date(Date.now() - 3_600_000);
  const fleet = generateFleet({ profile: 'unicorn', devices, start, durationMs: 3_600_000, seed });
  const batches: PutRecordsRequestEntry[][] = [];
  let current: PutRecordsRequestEntry[] = [];
  let built = 0;
  for (const r of fleet.records()) {
    if (built++ >= count) break;
    current.push({ PartitionKey: r.deviceId, Data: Buffer.from(r.json) });
    if (current.length === 500) {
      batches.push(current);
      current = [];
    }
  }
  if (current.length > 0) batches.push(current);

  const k = await startKinesalite();
  const bare: number[] = [];
  const sim: number[] = [];
  try {
    // Alternate the two so the emulator's state grows evenly under both.
    for (let round = 0; round < ROUNDS; round++) {
      await createStream(k.client, `bare-${round}`, 4);
      bare.push(await bareLoop(k.client, `bare-${round}`, batches, concurrency));
      await createStream(k.client, `sim-${round}`, 4);
      const s = await runSimulation({
        profiles: ['unicorn'],
        devices,
        count,
        rate: 'max',
        seed,
        start,
        maxInFlight: concurrency,
        anomalies: true,
        target: { endpoint: k.endpoint, region: 'us-east-1', streamName: `sim-${round}` },
      });
      if (s.sent !== count) throw new Error(`simulator sent ${s.sent} of ${count}`);
      sim.push((s.sent * 1000) / s.elapsedMs);
    }
  } finally {
    await k.close();
  }
  // The machine is shared: compare each simulator run with the bare run just before it, take the median.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const bareRate = median(bare);
  const simRate = median(sim);
  const ratio = median(sim.map((x, i) => x / bare[i]));
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  return {
    title: 'Simulator',
    lines: [
      ...(options.sendOnly
        ? []
        : [
            `generation, unicorns (1,000 devices): ${fmt(unicorn.perSec)} records/s over ${fmt(unicorn.n)} records (target >= 1,000,000)`,
            `generation, solar (30,000 panels): ${fmt(solar.perSec)} records/s over ${fmt(solar.n)} records`,
            `  for comparison, JSON.stringify of a unicorn object with a Date per record: ${fmt(stringify)} records/s`,
          ]),
      `send into kinesalite (own process on 127.0.0.1, 4 shards, ${concurrency} requests in flight, ${fmt(count)} unicorn records):`,
      `  bare PutRecords loop, pre-built 500-record batches: ${fmt(bareRate)} records/s median (runs: ${bare.map(fmt).join(', ')})`,
      `  simulator (generate + batch + send, rate max):      ${fmt(simRate)} records/s median (runs: ${sim.map(fmt).join(', ')})`,
      `  ratio simulator / bare: ${ratio.toFixed(2)}, median of the paired runs (target >= 0.9)`,
    ],
    figures: {
      generationUnicornPerSec: Math.round(unicorn.perSec),
      generationSolarPerSec: Math.round(solar.perSec),
      stringifyUnicornPerSec: Math.round(stringify),
      sendBarePerSec: Math.round(bareRate),
      sendSimulatorPerSec: Math.round(simRate),
      sendRatio: Number(ratio.toFixed(3)),
    },
  };
}

if (require.main === module) {
  runSimulatorBench({ sendOnly: process.argv.includes('--send-only') }).then(
    (r) => {
      console.log(`# ${r.title}`);
      for (const l of r.lines) console.log(l);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
