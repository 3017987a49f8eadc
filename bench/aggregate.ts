import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { AggregatePacker, EventWindow, emptyCounts, ingestBatch, type RawRecord, readAggregate } from '../lib/core';
import { type BenchReport, fmt, machineLine, median, perSecond, printReport } from './report';

const UNIQUE = 100_000;
const DEVICES = 5_000;
const COPIES = 10;
const BATCH = 500;
const REPEATS = 7;
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

/** Workshop-format unicorn records (~170 bytes), each sent COPIES times, copies spread over the stream. */
function buildRecords(): { records: RawRecord[]; ndjson: string; avgBytes: number } {
  const unique: string[] = [];
  for (let i = 0; i < UNIQUE; i++) {
    const device = i % DEVICES;
    const ms = T0 + Math.floor(i / DEVICES) * 1000 + (device % 1000);
    const statusTime = new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
    unique.push(
      JSON.stringify({
        Name: `unicorn-${String(device).padStart(6, '0')}`,
        StatusTime: statusTime,
        Latitude: 40.749123 + (device % 97) / 1e4,
        Longitude: -73.985456 - (device % 89) / 1e4,
        Distance: 29 + ((i * 7) % 200) / 100,
        HealthPoints: 140 + (i % 21),
        MagicPoints: 130 + (i % 37),
      }),
    );
  }
  const records: RawRecord[] = [];
  let bytes = 0;
  // Copies arrive interleaved with other devices' records, the way the firmware's retries do.
  for (let copy = 0; copy < COPIES; copy++) {
    for (let i = 0; i < UNIQUE; i++) {
      const j = (i + copy * 7919) % UNIQUE;
      bytes += unique[j].length;
      records.push({
        data: Buffer.from(unique[j]).toString('base64'),
        arrivalMs: T0 + 3_600_000,
        sequenceNumber: String(records.length),
        partitionKey: 'k',
      });
    }
  }
  const ndjson = `${records.map((r) => Buffer.from(r.data, 'base64').toString('utf8')).join('\n')}\n`;
  return { records, ndjson, avgBytes: Math.round(bytes / records.length) };
}

/** KPL aggregated records of at most 25 KB (one PUT payload unit), packed the way the edge gateway packs. */
function packRecords(records: readonly RawRecord[]): RawRecord[] {
  const packer = new AggregatePacker(25 * 1024);
  const out: RawRecord[] = [];
  const push = () => {
    const data = packer.take();
    if (data)
      out.push({
        data: data.toString('base64'),
        arrivalMs: T0 + 3_600_000,
        sequenceNumber: String(out.length),
        partitionKey: 'k',
      });
  };
  for (const r of records) {
    const bytes = Buffer.from(r.data, 'base64');
    const device = JSON.parse(bytes.toString('utf8')).Name as string;
    if (packer.count > 0 && !packer.wouldFit(device, bytes.length)) push();
    packer.add(device, bytes);
  }
  push();
  return out;
}

/** The bare floor for aggregates: base64 decode, walk the protobuf (no MD5), JSON.parse each user record. */
function bareKpl(records: readonly RawRecord[]): number {
  let fields = 0;
  for (const r of records) {
    const bytes = Buffer.from(r.data, 'base64');
    const view = walkWithoutMd5(bytes);
    for (let i = 0; i < view.length; i += 2) {
      fields += JSON.parse(bytes.toString('utf8', view[i], view[i + 1])).HealthPoints > 0 ? 1 : 0;
    }
  }
  return fields;
}

/** User-record offsets of an aggregate, trusting it (what a bare loop would do): pairs of start, end. */
function walkWithoutMd5(bytes: Buffer): number[] {
  const out: number[] = [];
  const end = bytes.length - 16;
  const varint = (p: { i: number }) => {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[p.i++];
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 128;
    }
  };
  const p = { i: 4 };
  while (p.i < end) {
    const tag = varint(p);
    const len = varint(p);
    if (tag >> 3 === 3) {
      const recEnd = p.i + len;
      while (p.i < recEnd) {
        const t = varint(p);
        if ((t & 7) === 0) varint(p);
        else {
          const l = varint(p);
          if (t >> 3 === 3) out.push(p.i, p.i + l);
          p.i += l;
        }
      }
    } else p.i += len;
  }
  return out;
}

function bareDecodeParse(records: readonly RawRecord[]): number {
  let fields = 0;
  for (const r of records)
    fields += JSON.parse(Buffer.from(r.data, 'base64').toString('utf8')).HealthPoints > 0 ? 1 : 0;
  return fields;
}

/** Lambda hands the function batches; they are cut before timing, as they arrive already cut. */
function toBatches(records: readonly RawRecord[]): RawRecord[][] {
  const batches: RawRecord[][] = [];
  for (let i = 0; i < records.length; i += BATCH) batches.push(records.slice(i, i + BATCH));
  return batches;
}

function fullPath(batches: readonly RawRecord[][], expectedUnique: number): number {
  const window = new EventWindow();
  const counts = emptyCounts();
  for (const batch of batches) ingestBatch(batch, window, counts);
  if (counts.added !== expectedUnique) throw new Error(`expected ${expectedUnique} events, got ${counts.added}`);
  return counts.added;
}

function time(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

async function duckdbGroupBy(ndjson: string): Promise<{ ms: number; groups: number }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-duckdb-'));
  const file = join(dir, 'records.ndjson');
  writeFileSync(file, ndjson);
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  // The workshop's KDA query, by event time instead of arrival time (and, like it, without dedup).
  const sql = `
    SELECT Name, date_trunc('minute', strptime(StatusTime, '%Y-%m-%d %H:%M:%S.%g')) AS minute,
           sum(Distance), min(MagicPoints), max(MagicPoints), min(HealthPoints), max(HealthPoints), count(*)
    FROM read_json('${file}', format = 'newline_delimited', columns = {
      Name: 'VARCHAR', StatusTime: 'VARCHAR', Latitude: 'DOUBLE', Longitude: 'DOUBLE',
      Distance: 'DOUBLE', HealthPoints: 'INTEGER', MagicPoints: 'INTEGER'})
    GROUP BY ALL`;
  const runs: { ms: number; groups: number }[] = [];
  try {
    for (let i = 0; i < REPEATS; i++) {
      const start = performance.now();
      const reader = await connection.runAndReadAll(sql);
      runs.push({ ms: performance.now() - start, groups: reader.currentRowCount });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
  return runs;
}

export async function runAggregateBench(): Promise<BenchReport> {
  const { records, ndjson, avgBytes } = buildRecords();
  const n = records.length;
  const batches = toBatches(records);
  // The same events without copies: the path every unique event takes (no copy to recognise).
  const uniqueRecords = records.slice(0, UNIQUE);
  const uniqueBatches = toBatches(uniqueRecords);
  // The same events packed into KPL aggregates (the edge gateway's --aggregate), 100 records a batch.
  const kplRecords = packRecords(uniqueRecords);
  const kplBatches: RawRecord[][] = [];
  for (let i = 0; i < kplRecords.length; i += 100) kplBatches.push(kplRecords.slice(i, i + 100));
  const perAggregate = UNIQUE / kplRecords.length;
  const check = readAggregate(Buffer.from(kplRecords[0].data, 'base64'));
  if (!check.ok) throw new Error('packed a bad aggregate');
  // Warm-up so the JIT has compiled the loops before timing.
  bareDecodeParse(records.slice(0, 50_000));
  bareKpl(kplRecords);
  fullPath(batches, UNIQUE);
  fullPath(uniqueBatches, UNIQUE);
  fullPath(kplBatches, UNIQUE);
  const bare: number[] = [];
  const full: number[] = [];
  const bareUnique: number[] = [];
  const fullUnique: number[] = [];
  const bareKplRuns: number[] = [];
  const fullKpl: number[] = [];
  // Each repetition times the full path right after its floor, so a pair sees the same machine: the
  // ratios below are medians of the pairs' ratios (other work on a shared machine moves both together).
  const ratio = (floor: number[], path: number[]) => median(floor.map((ms, i) => ms / path[i]));
  for (let i = 0; i < REPEATS; i++) {
    bare.push(time(() => bareDecodeParse(records)));
    full.push(time(() => fullPath(batches, UNIQUE)));
    bareUnique.push(time(() => bareDecodeParse(uniqueRecords)));
    fullUnique.push(time(() => fullPath(uniqueBatches, UNIQUE)));
    bareKplRuns.push(time(() => bareKpl(kplRecords)));
    fullKpl.push(time(() => fullPath(kplBatches, UNIQUE)));
  }
  const duck = await duckdbGroupBy(ndjson);
  const bareRate = perSecond(n, median(bare));
  const fullRate = perSecond(n, median(full));
  const bareUniqueRate = perSecond(UNIQUE, median(bareUnique));
  const fullUniqueRate = perSecond(UNIQUE, median(fullUnique));
  const duckRate = perSecond(n, median(duck.map((d) => d.ms)));
  const bareKplRate = perSecond(UNIQUE, median(bareKplRuns));
  const fullKplRate = perSecond(UNIQUE, median(fullKpl));
  const fullToBare = ratio(bare, full);
  const fullToBareUnique = ratio(bareUnique, fullUnique);
  const fullToBareKpl = ratio(bareKplRuns, fullKpl);
  // Readings per second of the KPL path against the plain floor's, pair by pair (per reading both).
  const fullKplToBarePlain = ratio(bareUnique, fullKpl);
  return {
    title: `Aggregation core (one core, medians of ${REPEATS} runs)`,
    lines: [
      machineLine(),
      `records: ${fmt(n)} base64 Kinesis records, ${avgBytes} bytes of JSON each on average, ${fmt(DEVICES)} unicorns, ${COPIES} copies of each of ${fmt(UNIQUE)} events`,
      `full path (decode + parse + validate + dedup + aggregate): ${fmt(fullRate)} records/s`,
      `bare floor (base64 decode + JSON.parse only):             ${fmt(bareRate)} records/s`,
      `DuckDB per-minute GROUP BY, 1 thread, no dedup:            ${fmt(duckRate)} records/s (${fmt(duck[0].groups)} groups)`,
      `full / bare = ${fullToBare.toFixed(2)}   full / DuckDB = ${(fullRate / duckRate).toFixed(2)}   (ratios: medians of paired runs)`,
      `  (copies are recognised byte for byte before parsing, which is why the full path can beat the bare loop)`,
      `same events without copies: full path ${fmt(fullUniqueRate)} records/s, bare ${fmt(bareUniqueRate)} records/s, full / bare = ${fullToBareUnique.toFixed(2)}`,
      `same events KPL-aggregated (${fmt(kplRecords.length)} records of <= 25 KB, ${perAggregate.toFixed(1)} readings each): full path ${fmt(fullKplRate)} readings/s (MD5 checked), bare (base64 + protobuf walk + JSON.parse) ${fmt(bareKplRate)} readings/s, full / bare = ${fullToBareKpl.toFixed(2)}; full KPL / bare plain = ${fullKplToBarePlain.toFixed(2)}`,
    ],
    figures: {
      fullRate,
      bareRate,
      duckRate,
      fullToBare,
      fullToDuck: fullRate / duckRate,
      fullUniqueRate,
      bareUniqueRate,
      fullToBareUnique,
      fullKplRate,
      bareKplRate,
      fullToBareKpl,
      fullKplToBarePlain,
    },
  };
}

if (require.main === module) {
  runAggregateBench().then(printReport, (err) => {
    console.error(err);
    process.exit(1);
  });
}
