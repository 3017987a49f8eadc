import { createHash } from 'node:crypto';

/**
 * The KPL aggregated-record format (awslabs/amazon-kinesis-producer, `aggregation-format.md`): one
 * Kinesis record that carries many user records, so PUT payload units and Firehose's 5 KB rounding
 * stop scaling with readings.
 *
 *   4 bytes magic 0xF3 0x89 0x9A 0xC2 | protobuf (proto2) AggregatedRecord | 16 bytes MD5 of the protobuf
 *
 *   message AggregatedRecord { repeated string partition_key_table = 1; repeated string explicit_hash_key_table = 2;
 *                              repeated Record records = 3; }
 *   message Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
 *                    required bytes data = 3; repeated Tag tags = 4; }
 *   message Tag    { required string key = 1; optional string value = 2; }
 *
 * Written by hand, not with `aws-kinesis-agg` (its npm package pins protobufjs 7.2.4 and pulls async,
 * agentkeepalive and minimist, has a callback API over Lambda-event-shaped objects, and copies every
 * sub-record out) nor protobufjs (a generated codec builds an object and a Buffer per sub-record). The
 * aggregator's hot path needs the sub-records as offsets into the one decoded buffer, exact failure
 * reasons, and no allocation per reading; the format is three messages and two wire types, so a
 * varint walker of this size is the smaller dependency. One module, imported by the simulator's packer,
 * the aggregator core, the embedded Firehose and the tests.
 */
export const KPL_MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);
const MD5_BYTES = 16;
/** Magic + MD5: the bytes an aggregate spends around its protobuf. */
export const KPL_OVERHEAD_BYTES = KPL_MAGIC.length + MD5_BYTES;
/** Kinesis's largest record: data plus partition key, 1 MiB. */
export const KINESIS_MAX_RECORD_BYTES = 1024 * 1024;

/** The base64 of the magic starts with these 5 characters (`84maw`): an aggregate is told before decoding. */
const MAGIC_BASE64 = KPL_MAGIC.toString('base64').slice(0, 5);

/** True when base64 Kinesis data (as Lambda delivers it) is a KPL aggregate, by its first characters alone. */
export function isAggregateBase64(data: string): boolean {
  return data.length > 5 && data.startsWith(MAGIC_BASE64);
}

/** True when the bytes start with the KPL magic. JSON never does: 0xF3 0x89 0x9A 0xC2 is not UTF-8. */
export function isAggregate(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  return (
    end - start > KPL_OVERHEAD_BYTES &&
    bytes[start] === 0xf3 &&
    bytes[start + 1] === 0x89 &&
    bytes[start + 2] === 0x9a &&
    bytes[start + 3] === 0xc2
  );
}

/**
 * The sub-records of one aggregate as offsets into its buffer: sub-record i is
 * `buffer[dataStart[i], dataEnd[i])` with partition key `partitionKeys[pkIndex[i]]`.
 */
export interface AggregateView {
  readonly ok: true;
  readonly buffer: Uint8Array;
  readonly partitionKeys: readonly string[];
  readonly explicitHashKeys: readonly string[];
  readonly count: number;
  readonly dataStart: readonly number[];
  readonly dataEnd: readonly number[];
  readonly pkIndex: readonly number[];
}

/** Why bytes that carry the magic are not a usable aggregate (all quarantined as `bad_aggregate`). */
export type AggregateProblem = 'bad_md5' | 'truncated' | 'bad_protobuf' | 'bad_partition_key_index' | 'missing_data';

export interface AggregateFailure {
  readonly ok: false;
  readonly problem: AggregateProblem;
}

const fail = (problem: AggregateProblem): AggregateFailure => ({ ok: false, problem });

/**
 * Checks the MD5 and walks the protobuf of `bytes[start, end)` (which must start with the magic: see
 * `isAggregate`). Never throws; a damaged aggregate says how it is damaged.
 */
export function readAggregate(bytes: Uint8Array, start = 0, end = bytes.length): AggregateView | AggregateFailure {
  const reader = new AggregateReader();
  const problem = reader.read(bytes, start, end);
  if (problem !== undefined) return fail(problem);
  const keys = (starts: Int32Array, ends: Int32Array, n: number) =>
    Array.from({ length: n }, (_, i) => utf8(bytes, starts[i], ends[i]));
  return {
    ok: true,
    buffer: bytes,
    partitionKeys: keys(reader.keyStart, reader.keyEnd, reader.keyCount),
    explicitHashKeys: keys(reader.hashKeyStart, reader.hashKeyEnd, reader.hashKeyCount),
    count: reader.count,
    dataStart: Array.from(reader.dataStart.subarray(0, reader.count)),
    dataEnd: Array.from(reader.dataEnd.subarray(0, reader.count)),
    pkIndex: Array.from(reader.pkIndex.subarray(0, reader.count)),
  };
}

/**
 * `readAggregate` for the aggregator's hot path, reused from aggregate to aggregate: the sub-records'
 * offsets in typed arrays that grow as needed, and the partition-key table as byte ranges, decoded
 * only for the user record that needs its key (a quarantined one). No allocation per aggregate or
 * per reading; the answers (and the problems) are `readAggregate`'s, which is built on it.
 */
export class AggregateReader {
  buffer: Uint8Array = Buffer.alloc(0);
  /** User records read; record i is `buffer[dataStart[i], dataEnd[i])`, its key index `pkIndex[i]`. */
  count = 0;
  dataStart = new Int32Array(256);
  dataEnd = new Int32Array(256);
  pkIndex = new Float64Array(256);
  keyCount = 0;
  keyStart = new Int32Array(64);
  keyEnd = new Int32Array(64);
  hashKeyCount = 0;
  hashKeyStart = new Int32Array(4);
  hashKeyEnd = new Int32Array(4);
  /** Cursors over the aggregate and over one of its records, reused (a cursor per record was 48 bytes a reading). */
  private readonly outer = new Reader();
  private readonly inner = new Reader();

  /** Reads one aggregate; undefined when it checks out, else how it is damaged. */
  read(bytes: Uint8Array, start = 0, end = bytes.length): AggregateProblem | undefined {
    this.buffer = bytes;
    this.count = 0;
    this.keyCount = 0;
    this.hashKeyCount = 0;
    if (!isAggregate(bytes, start, end)) return 'truncated';
    const pbStart = start + KPL_MAGIC.length;
    const pbEnd = end - MD5_BYTES;
    const digest = createHash('md5').update(bytes.subarray(pbStart, pbEnd)).digest();
    for (let i = 0; i < MD5_BYTES; i++) if (digest[i] !== bytes[pbEnd + i]) return 'bad_md5';

    const r = this.outer.reset(bytes, pbStart, pbEnd);
    while (r.pos < pbEnd) {
      const tag = r.varint();
      if (tag < 0) return 'truncated';
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (wire !== 2) {
        if (!r.skip(wire)) return r.pos > pbEnd ? 'truncated' : 'bad_protobuf';
        continue;
      }
      const len = r.varint();
      if (len < 0 || r.pos + len > pbEnd) return 'truncated';
      const fieldStart = r.pos;
      r.pos += len;
      if (field === 1) this.addKey(fieldStart, r.pos);
      else if (field === 2) this.addHashKey(fieldStart, r.pos);
      else if (field === 3) {
        const problem = this.readRecord(bytes, fieldStart, r.pos);
        if (problem) return problem;
      }
    }
    for (let i = 0; i < this.count; i++) if (this.pkIndex[i] >= this.keyCount) return 'bad_partition_key_index';
    return undefined;
  }

  /** The partition key of user record i (decoded now). */
  partitionKey(i: number): string {
    const k = this.pkIndex[i];
    return utf8(this.buffer, this.keyStart[k], this.keyEnd[k]);
  }

  private readRecord(bytes: Uint8Array, start: number, end: number): AggregateProblem | undefined {
    const r = this.inner.reset(bytes, start, end);
    let pk = -1;
    let ds = -1;
    let de = -1;
    while (r.pos < end) {
      const tag = r.varint();
      if (tag < 0) return 'truncated';
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 1 && wire === 0) {
        pk = r.varint();
        if (pk < 0) return 'truncated';
      } else if (field === 3 && wire === 2) {
        const len = r.varint();
        if (len < 0 || r.pos + len > end) return 'truncated';
        ds = r.pos;
        de = r.pos + len;
        r.pos = de;
      } else if (!r.skip(wire)) return r.pos > end ? 'truncated' : 'bad_protobuf';
    }
    if (pk < 0) return 'bad_partition_key_index';
    if (ds < 0) return 'missing_data';
    if (this.count === this.dataStart.length) {
      this.dataStart = grown(this.dataStart);
      this.dataEnd = grown(this.dataEnd);
      this.pkIndex = grown(this.pkIndex);
    }
    this.dataStart[this.count] = ds;
    this.dataEnd[this.count] = de;
    this.pkIndex[this.count] = pk;
    this.count++;
    return undefined;
  }

  private addKey(start: number, end: number): void {
    if (this.keyCount === this.keyStart.length) {
      this.keyStart = grown(this.keyStart);
      this.keyEnd = grown(this.keyEnd);
    }
    this.keyStart[this.keyCount] = start;
    this.keyEnd[this.keyCount++] = end;
  }

  private addHashKey(start: number, end: number): void {
    if (this.hashKeyCount === this.hashKeyStart.length) {
      this.hashKeyStart = grown(this.hashKeyStart);
      this.hashKeyEnd = grown(this.hashKeyEnd);
    }
    this.hashKeyStart[this.hashKeyCount] = start;
    this.hashKeyEnd[this.hashKeyCount++] = end;
  }
}

/** The same values in an array of twice the length. */
function grown<T extends Int32Array | Float64Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

/** A protobuf cursor over `bytes[pos, end)`; -1 from `varint` means it ran off the end (or past 2^53). */
class Reader {
  private bytes: Uint8Array = EMPTY;
  pos = 0;
  private end = 0;

  reset(bytes: Uint8Array, pos: number, end: number): this {
    this.bytes = bytes;
    this.pos = pos;
    this.end = end;
    return this;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) return -1;
      const b = this.bytes[this.pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    return -1; // over 56 bits: no index or length of a 1 MiB record is that large
  }

  skip(wire: number): boolean {
    if (wire === 0) return this.varint() >= 0;
    if (wire === 1) this.pos += 8;
    else if (wire === 5) this.pos += 4;
    else if (wire === 2) {
      const len = this.varint();
      if (len < 0) return false;
      this.pos += len;
    } else return false; // groups (3, 4) and 6, 7 are not in this format
    return this.pos <= this.end;
  }
}

const EMPTY = new Uint8Array(0);

function utf8(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
}

/** One user record to pack. */
export interface UserRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

/** Encodes user records as one aggregate (partition keys shared through the table). */
export function encodeAggregate(records: readonly UserRecord[]): Buffer {
  const packer = new AggregatePacker(Number.MAX_SAFE_INTEGER);
  for (const r of records) packer.add(r.partitionKey, r.data);
  return packer.take() ?? Buffer.from(KPL_MAGIC);
}

/** The encoded size of a varint. */
function varintBytes(n: number): number {
  let bytes = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    bytes++;
  }
  return bytes;
}

function writeVarint(out: Buffer, pos: number, n: number): number {
  while (n >= 128) {
    out[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/**
 * Packs user records into aggregates of at most `maxBytes` (magic, protobuf and MD5; the outer
 * partition key is the first user record's). `wouldFit` tells whether one more record keeps it under
 * the limit, from sizes kept as records come (no trial encoding); `take` encodes and starts over.
 */
export class AggregatePacker {
  private readonly keys = new Map<string, number>();
  private readonly keyList: string[] = [];
  private readonly records: { readonly pk: number; readonly data: Uint8Array }[] = [];
  private bytes = KPL_OVERHEAD_BYTES;

  constructor(readonly maxBytes: number) {}

  get count(): number {
    return this.records.length;
  }

  /** Encoded size so far. */
  get size(): number {
    return this.bytes;
  }

  /** The outer record's partition key: the first user record's, as the KPL does. */
  get partitionKey(): string | undefined {
    return this.keyList[0];
  }

  /** Bytes that `add(partitionKey, data)` would add. */
  cost(partitionKey: string, dataBytes: number): number {
    let index = this.keys.get(partitionKey);
    let bytes = 0;
    if (index === undefined) {
      index = this.keyList.length;
      const keyBytes = Buffer.byteLength(partitionKey);
      bytes += 1 + varintBytes(keyBytes) + keyBytes;
    }
    const inner = 1 + varintBytes(index) + 1 + varintBytes(dataBytes) + dataBytes;
    return bytes + 1 + varintBytes(inner) + inner;
  }

  /** True when the record fits (an empty packer takes any record that fits an aggregate alone). */
  wouldFit(partitionKey: string, dataBytes: number): boolean {
    return this.bytes + this.cost(partitionKey, dataBytes) <= this.maxBytes;
  }

  add(partitionKey: string, data: Uint8Array): void {
    this.bytes += this.cost(partitionKey, data.byteLength);
    let index = this.keys.get(partitionKey);
    if (index === undefined) {
      index = this.keyList.length;
      this.keys.set(partitionKey, index);
      this.keyList.push(partitionKey);
    }
    this.records.push({ pk: index, data });
  }

  /** The aggregate of what was added (undefined when empty), and an empty packer. */
  take(): Buffer | undefined {
    if (this.records.length === 0) return undefined;
    const out = Buffer.allocUnsafe(this.bytes);
    KPL_MAGIC.copy(out, 0);
    let pos = KPL_MAGIC.length;
    for (const key of this.keyList) {
      const len = Buffer.byteLength(key);
      out[pos++] = (1 << 3) | 2;
      pos = writeVarint(out, pos, len);
      pos += out.write(key, pos, 'utf8');
    }
    for (const { pk, data } of this.records) {
      const inner = 1 + varintBytes(pk) + 1 + varintBytes(data.byteLength) + data.byteLength;
      out[pos++] = (3 << 3) | 2;
      pos = writeVarint(out, pos, inner);
      out[pos++] = (1 << 3) | 0;
      pos = writeVarint(out, pos, pk);
      out[pos++] = (3 << 3) | 2;
      pos = writeVarint(out, pos, data.byteLength);
      out.set(data, pos);
      pos += data.byteLength;
    }
    createHash('md5').update(out.subarray(KPL_MAGIC.length, pos)).digest().copy(out, pos);
    this.keys.clear();
    this.keyList.length = 0;
    this.records.length = 0;
    this.bytes = KPL_OVERHEAD_BYTES;
    return out;
  }
}

/**
 * A Kinesis record's user records, the way the KCL and Firehose see them: an aggregate whose MD5 and
 * protobuf check out gives its sub-records; anything else (plain data, or a damaged aggregate, which
 * the KCL passes on as it is) is one user record of its own.
 */
export function userRecords(bytes: Uint8Array): { readonly data: Uint8Array; readonly subSequenceNumber: number }[] {
  if (!isAggregate(bytes)) return [{ data: bytes, subSequenceNumber: 0 }];
  const view = readAggregate(bytes);
  if (!view.ok) return [{ data: bytes, subSequenceNumber: 0 }];
  const out: { data: Uint8Array; subSequenceNumber: number }[] = [];
  for (let i = 0; i < view.count; i++) {
    out.push({ data: bytes.subarray(view.dataStart[i], view.dataEnd[i]), subSequenceNumber: i });
  }
  return out;
}
