import { createReadStream, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { createGunzip, gunzipSync, constants as zlibConstants } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import picomatch from 'picomatch';
import { ImportError } from './errors';

/** How a file's records are laid out, from its name; the content is checked against it (`sniffInput`). */
export type InputKind = 'ndjson' | 'csv';

export interface InputFile {
  /** Absolute local path or `s3://bucket/key`: the file's identity in the manifest. */
  readonly url: string;
  readonly size: number;
  readonly kind: InputKind;
  readonly gzip: boolean;
}

const EXTENSIONS: readonly [RegExp, InputKind, boolean][] = [
  [/\.(ndjson|jsonl|json)$/i, 'ndjson', false],
  [/\.(ndjson|jsonl|json)\.gz$/i, 'ndjson', true],
  [/\.csv$/i, 'csv', false],
  [/\.csv\.gz$/i, 'csv', true],
];

/** The layout a file name says, or undefined for a name the import does not read. */
export function kindOf(name: string): { kind: InputKind; gzip: boolean } | undefined {
  for (const [re, kind, gzip] of EXTENSIONS) if (re.test(name)) return { kind, gzip };
  return undefined;
}

const SUPPORTED = '.ndjson, .jsonl, .json, .csv, each optionally .gz';

/**
 * Every input file named by the specs (a file, a directory walked recursively, or a glob; local or
 * `s3://`), sorted and deduplicated, so the same command always sees the same list in the same order.
 */
export async function resolveInputs(specs: readonly string[], s3?: () => S3Client): Promise<InputFile[]> {
  const found = new Map<string, InputFile>();
  for (const spec of specs) {
    const files = spec.startsWith('s3://') ? await resolveS3(spec, s3) : resolveLocal(spec);
    if (files.length === 0) throw new ImportError(`${spec}: no input files there (looked for ${SUPPORTED}).`);
    for (const f of files) found.set(f.url, f);
  }
  return [...found.values()].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
}

function describe(url: string, size: number, explicit: boolean): InputFile | undefined {
  const k = kindOf(url);
  if (k === undefined) {
    if (explicit) throw new ImportError(`${url}: unknown file type; the import reads ${SUPPORTED}. Rename the file.`);
    return undefined;
  }
  return { url, size, ...k };
}

function resolveLocal(spec: string): InputFile[] {
  const scan = picomatch.scan(spec);
  if (!scan.isGlob) {
    const path = resolve(spec);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch {
      throw new ImportError(`${spec}: no such file or directory.`);
    }
    if (st.isFile()) return [describe(path, st.size, true) as InputFile];
    return walk(path).flatMap((p) => describe(p, statSync(p).size, false) ?? []);
  }
  const base = resolve(scan.base || '.');
  const match = picomatch(scan.glob, { dot: false });
  return walk(base)
    .filter((p) => match(relative(base, p)))
    .flatMap((p) => describe(p, statSync(p).size, false) ?? []);
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

export function parseS3Url(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new ImportError(`${url}: not an s3://bucket/key URL.`);
  return { bucket: m[1], key: m[2] };
}

async function resolveS3(spec: string, s3: (() => S3Client) | undefined): Promise<InputFile[]> {
  if (!s3) throw new ImportError(`${spec}: s3:// inputs need a target (an endpoint or AWS credentials).`);
  const client = s3();
  const { bucket, key } = parseS3Url(spec);
  const scan = picomatch.scan(key);
  const prefix = scan.isGlob ? (scan.base ? `${scan.base}/` : '') : key;
  const match = scan.isGlob ? picomatch(key) : undefined;
  const out: InputFile[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) {
      if (!o.Key || o.Key.endsWith('/')) continue;
      if (match && !match(o.Key)) continue;
      // A plain prefix names one object exactly, or a "directory" of them.
      if (!match && o.Key !== key && !key.endsWith('/') && key !== '' && !o.Key.startsWith(`${key}/`)) continue;
      const f = describe(`s3://${bucket}/${o.Key}`, o.Size ?? 0, !match && o.Key === key);
      if (f) out.push(f);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** The first bytes of a file (decompressed when gzip), to check it is what its name says. */
async function head(file: InputFile, s3: (() => S3Client) | undefined, n = 8192): Promise<Buffer> {
  let raw: Buffer;
  if (file.url.startsWith('s3://')) {
    const { bucket, key } = parseS3Url(file.url);
    const res = await (s3 as () => S3Client)().send(
      new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${n - 1}` }),
    );
    raw = Buffer.from(await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  } else {
    const fh = await open(file.url, 'r');
    try {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, 0);
      raw = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
  return raw;
}

const isGzipMagic = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * Checks a file's content against its name before anything is imported: a `.gz` that is not gzip, a
 * gzip without `.gz`, NDJSON that does not start with `{`, CSV that starts like JSON. Returns the first
 * decompressed bytes (the CSV header check reads them). Throws an `ImportError` saying what to do.
 */
export async function sniffInput(file: InputFile, s3?: () => S3Client): Promise<Buffer> {
  const raw = await head(file, s3);
  if (raw.length === 0) return raw;
  const gz = isGzipMagic(raw);
  if (file.gzip && !gz) {
    throw new ImportError(`${file.url}: named .gz but not gzip-compressed; rename it without .gz (or compress it).`);
  }
  if (!file.gzip && gz) throw new ImportError(`${file.url}: gzip-compressed but not named .gz; rename it to *.gz.`);
  let text: Buffer = raw;
  if (gz) {
    try {
      text = gunzipSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (err) {
      throw new ImportError(`${file.url}: not readable gzip (${(err as Error).message}); re-export the file.`);
    }
  }
  const first = text
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()[0];
  if (file.kind === 'ndjson' && first !== undefined && first !== '{') {
    const looks = first === '[' ? 'a JSON array' : /[A-Za-z"]/.test(first) ? 'CSV or text' : 'binary or text';
    throw new ImportError(
      `${file.url}: not NDJSON (starts with ${JSON.stringify(text.subarray(0, 16).toString('latin1'))}, looks like ${looks}); ` +
        'export one JSON object per line, or name a CSV file *.csv.',
    );
  }
  if (file.kind === 'csv' && (first === '{' || first === '[')) {
    throw new ImportError(`${file.url}: named .csv but holds JSON; rename it to *.ndjson.`);
  }
  return text;
}

/** A transform that drops the first `n` bytes: resuming inside a gzip stream, which cannot seek. */
function skipBytes(n: number): Transform {
  let left = n;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (left >= chunk.length) {
        left -= chunk.length;
        done();
      } else {
        const rest = left > 0 ? chunk.subarray(left) : chunk;
        left = 0;
        done(null, rest);
      }
    },
  });
}

/**
 * The file's (decompressed) bytes from offset `start`. Plain files seek (local) or read a range (S3);
 * gzip streams are inflated from the start and the first `start` bytes dropped.
 */
export async function openInput(
  file: InputFile,
  start: number,
  s3?: () => S3Client,
  onRawBytes?: (n: number) => void,
): Promise<Readable> {
  const highWaterMark = 4 << 20;
  let source: Readable;
  if (file.url.startsWith('s3://')) {
    const { bucket, key } = parseS3Url(file.url);
    const range = !file.gzip && start > 0 ? `bytes=${start}-` : undefined;
    if (range && start >= file.size) return Readable.from([]);
    const res = await (s3 as () => S3Client)().send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
    source = res.Body as Readable;
  } else {
    source = createReadStream(file.url, { start: file.gzip ? 0 : start, highWaterMark });
  }
  if (onRawBytes) {
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        onRawBytes(chunk.length);
        done(null, chunk);
      },
    });
    const raw = source;
    raw.on('error', (err) => counter.destroy(err));
    source = raw.pipe(counter);
  }
  if (!file.gzip) return source;
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  source.on('error', (err) => gunzip.destroy(err));
  const inflated = source.pipe(gunzip);
  if (start === 0) return inflated;
  const skipped = skipBytes(start);
  inflated.on('error', (err) => skipped.destroy(err));
  return inflated.pipe(skipped);
}
