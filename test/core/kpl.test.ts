import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  AggregatePacker,
  EventWindow,
  emptyCounts,
  encodeAggregate,
  ingestBatch,
  isAggregate,
  isAggregateBase64,
  KPL_MAGIC,
  readAggregate,
  userRecords,
} from '../../lib/core';
import { quarantineKey, quarantineLines } from '../../lib/storage/quarantine';
import { panel, rawRecord, unicorn } from '../support/records';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('KPL aggregated records', () => {
  test('round trip: every user record comes back with its partition key, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ partitionKey: fc.string({ minLength: 1, maxLength: 20 }), data: fc.uint8Array() }), {
          minLength: 1,
          maxLength: 50,
        }),
        (records) => {
          const bytes = encodeAggregate(records);
          expect(isAggregate(bytes)).toBe(true);
          expect(isAggregateBase64(bytes.toString('base64'))).toBe(true);
          const view = readAggregate(bytes);
          if (!view.ok) throw new Error(view.problem);
          expect(view.count).toBe(records.length);
          for (let i = 0; i < view.count; i++) {
            expect(Buffer.from(bytes.subarray(view.dataStart[i], view.dataEnd[i]))).toEqual(
              Buffer.from(records[i].data),
            );
            expect(view.partitionKeys[view.pkIndex[i]]).toBe(records[i].partitionKey);
          }
        },
      ),
    );
  });

  test('the format is the published one: magic, protobuf, MD5 of the protobuf', () => {
    const bytes = encodeAggregate([{ partitionKey: 'a', data: Buffer.from('xy') }]);
    expect(bytes.subarray(0, 4)).toEqual(KPL_MAGIC);
    const protobuf = bytes.subarray(4, bytes.length - 16);
    // partition_key_table[0] = "a"; records[0] = { partition_key_index: 0, data: "xy" }
    expect([...protobuf]).toEqual([0x0a, 1, 0x61, 0x1a, 6, 0x08, 0, 0x1a, 2, 0x78, 0x79]);
    expect(bytes.subarray(bytes.length - 16)).toEqual(createHash('md5').update(protobuf).digest());
  });

  test('damage is named, never thrown: bad MD5, truncation, bad index', () => {
    const good = encodeAggregate([
      { partitionKey: 'a', data: json(unicorn('A', T0)) },
      { partitionKey: 'b', data: json(unicorn('B', T0)) },
    ]);
    const flipped = Buffer.from(good);
    flipped[10] ^= 1;
    expect(readAggregate(flipped)).toEqual({ ok: false, problem: 'bad_md5' });
    expect(readAggregate(good.subarray(0, 30))).toMatchObject({ ok: false });
    // A protobuf cut short, with a correct MD5 over what is left: truncated, not a crash.
    const cut = good.subarray(4, 20);
    const truncated = Buffer.concat([KPL_MAGIC, cut, createHash('md5').update(cut).digest()]);
    expect(readAggregate(truncated)).toEqual({ ok: false, problem: 'truncated' });
    const badIndex = Buffer.from([0x1a, 4, 0x08, 5, 0x1a, 0]);
    const withBadIndex = Buffer.concat([KPL_MAGIC, badIndex, createHash('md5').update(badIndex).digest()]);
    expect(readAggregate(withBadIndex)).toEqual({ ok: false, problem: 'bad_partition_key_index' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (garbage) => {
        const body = Buffer.from(garbage);
        const framed = Buffer.concat([KPL_MAGIC, body, createHash('md5').update(body).digest()]);
        expect(() => readAggregate(framed)).not.toThrow();
      }),
    );
  });

  test('userRecords passes plain and damaged records through whole, as the KCL does', () => {
    const plain = json(unicorn('A', T0));
    expect(userRecords(plain)).toEqual([{ data: plain, subSequenceNumber: 0 }]);
    const agg = encodeAggregate([
      { partitionKey: 'a', data: Buffer.from('1') },
      { partitionKey: 'a', data: Buffer.from('2') },
    ]);
    expect(userRecords(agg).map((u) => [Buffer.from(u.data).toString(), u.subSequenceNumber])).toEqual([
      ['1', 0],
      ['2', 1],
    ]);
  });

  test('the packer never passes its limit and shares partition keys', () => {
    const packer = new AggregatePacker(25 * 1024);
    const out: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      const reading = json(panel(`SP-${String(i % 300).padStart(6, '0')}`, T0 + i * 1000, i));
      if (packer.count > 0 && !packer.wouldFit(`SP-${i % 300}`, reading.length)) out.push(packer.take()!);
      packer.add(`SP-${i % 300}`, reading);
      expect(packer.size).toBeLessThanOrEqual(25 * 1024);
    }
    out.push(packer.take()!);
    expect(out.reduce((n, b) => n + (readAggregate(b) as { count: number }).count, 0)).toBe(1000);
    for (const b of out) expect(b.length).toBeLessThanOrEqual(25 * 1024);
    expect(out.length).toBeLessThan(15); // ~230-byte readings: ~100 per 25 KB record
  });
});

describe('the core de-aggregates', () => {
  test('KPL and plain records in one batch; a damaged aggregate is quarantined alone; bad user records keep their identity', () => {
    const good = encodeAggregate([
      { partitionKey: 'A', data: json(unicorn('A', T0)) },
      { partitionKey: 'B', data: Buffer.from('{not json') },
      { partitionKey: 'A', data: json(unicorn('A', T0)) }, // a copy inside the aggregate
      { partitionKey: 'P', data: json(panel('P', T0, 7)) },
    ]);
    const damaged = Buffer.from(good);
    damaged[damaged.length - 1] ^= 0xff;
    const records = [
      rawRecord(unicorn('C', T0), T0 + 1000),
      rawRecord(good, T0 + 1000, 'A'),
      rawRecord(damaged, T0 + 1000, 'A'),
      rawRecord(unicorn('A', T0), T0 + 1000), // a copy across records
      rawRecord(panel('P', T0 + 5000, 8), T0 + 6000),
    ];
    const counts = emptyCounts();
    const rejected = ingestBatch(records, new EventWindow(), counts);
    expect(counts).toMatchObject({ recordsIn: 8, aggregatesIn: 2, added: 4, duplicatesInWindow: 2, invalid: 2 });
    expect(counts.invalidByReason).toEqual({ invalid_json: 1, bad_aggregate: 1 });
    expect(rejected.map((r) => [r.reason, r.record.partitionKey, r.record.subSequenceNumber])).toEqual([
      ['invalid_json', 'B', 1],
      ['bad_aggregate', 'A', undefined],
    ]);
    const lines = quarantineLines(rejected, 'shardId-000000000000');
    expect(lines[0]).toMatchObject({ data: '{not json', encoding: 'utf8', subSequenceNumber: 1 });
    expect(lines[0].sequenceNumber).toBe(records[1].sequenceNumber);
    expect(lines[1]).toMatchObject({ encoding: 'base64', data: damaged.toString('base64'), subSequenceNumber: 0 });
    expect(quarantineKey('q/', 'shardId-000000000000', rejected)).toBe(
      `q/year=2026/month=11/day=22/shardId-000000000000-${records[1].sequenceNumber}.1-${records[2].sequenceNumber}.json`,
    );
  });

  test('a byte-identical aggregate (a retried PutRecords) counts all its readings as copies without reading them', () => {
    const agg = encodeAggregate([1, 2, 3].map((i) => ({ partitionKey: 'A', data: json(unicorn('A', T0 + i)) })));
    const first = rawRecord(agg, T0 + 1000);
    const window = new EventWindow();
    const counts = emptyCounts();
    ingestBatch([first, { ...first, sequenceNumber: 'again' }], window, counts);
    expect(counts).toMatchObject({ recordsIn: 6, added: 3, duplicatesInWindow: 3, invalid: 0 });
  });

  test('an aggregate over 1 MiB is too_large before it is decoded', () => {
    const big = { data: `84maw${'A'.repeat(1_500_000)}`, arrivalMs: T0, sequenceNumber: '1', partitionKey: 'k' };
    const counts = emptyCounts();
    expect(ingestBatch([big], new EventWindow(), counts).map((r) => r.reason)).toEqual(['too_large']);
  });
});
