import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ImportError } from '../../lib/import/errors';
import { runImport } from '../../lib/import/run';
import { startS3rver, type TestS3 } from '../support/emulators';
import { MemoryStore } from '../support/memory-store';
import { BAD_LINES, gzipped, history, ndjson, referenceAggregates, solarCsv } from './fixtures';

/** Bad input: a clear refusal before anything is written, or a quarantine with a reason; nothing valid lost. */
describe('import: bad input', () => {
  let s3: TestS3;
  const dir = mkdtempSync(join(tmpdir(), 'import-bad-'));
  const lines = history(1, 2).filter((l) => l.includes('panelId'));
  let n = 0;
  const run = async (
    files: Record<string, Buffer>,
    bucket = 'archive',
    scanThreads?: number,
    scanFoldBytes?: number,
  ) => {
    const inputs = join(dir, `in-${++n}`);
    mkdirSync(inputs);
    for (const [name, body] of Object.entries(files)) writeFileSync(join(inputs, name), body);
    const store = new MemoryStore();
    const warnings: string[] = [];
    const summary = await runImport({
      inputs: [inputs],
      s3: s3.client,
      bucket,
      format: 'json',
      store,
      stateDir: join(dir, `state-${n}`),
      chunkBytes: 16 * 1024,
      scanThreads,
      scanFoldBytes,
      warn: (l) => warnings.push(l),
    });
    return { summary, store, warnings };
  };
  const keys = async (bucket: string) =>
    ((await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key as string);

  beforeAll(async () => {
    s3 = await startS3rver(['archive', 'refused']);
  });
  afterAll(async () => {
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['a .gz that is not gzip', { 'a.ndjson.gz': ndjson(lines) }, /named \.gz but not gzip-compressed; rename it/],
    ['gzip without .gz', { 'a.ndjson': gzipped(lines) }, /gzip-compressed but not named \.gz/],
    ['CSV named .ndjson', { 'a.ndjson': solarCsv(lines) }, /not NDJSON .*name a CSV file \*\.csv/],
    ['JSON named .csv', { 'a.csv': ndjson(lines) }, /named \.csv but holds JSON/],
    [
      'a CSV without the seq column',
      { 'a.csv': Buffer.from(solarCsv(lines).toString().replace(/,seq/, ',sequence')) },
      /lacks seq required by the solar profile/,
    ],
    ['a CSV of no profile', { 'a.csv': Buffer.from('x,y\n1,2\n') }, /names no known profile/],
  ])('refuses %s with what to do, writing nothing', async (_name, files, message) => {
    await expect(run({ ...files, 'good.ndjson': ndjson(lines) }, 'refused')).rejects.toThrow(ImportError);
    await expect(run(files, 'refused')).rejects.toThrow(message);
    expect(await keys('refused')).toEqual([]);
  });

  it('a truncated gzip: the records before the break are imported, the rest reported, the partial line quarantined', async () => {
    const whole = gzipped(lines);
    const { summary, store, warnings } = await run({
      'a.ndjson.gz': whole.subarray(0, Math.floor(whole.length * 0.6)),
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/a\.ndjson\.gz: truncated gzip: the records before the break were imported.*re-export/);
    expect(summary.filesWithErrors).toHaveLength(1);
    const imported = Object.keys(store.snapshot()).length;
    expect(imported).toBeGreaterThan(lines.length / 3);
    expect(imported).toBeLessThan(lines.length);
    expect(summary.publish.eventsAdded + summary.scan.invalid).toBe(summary.scan.records);
  });

  it('bad records are quarantined with their reasons, every valid one (NDJSON and CSV) aggregated', async () => {
    const half = Math.floor(lines.length / 2);
    const { summary, store } = await run({
      'a.ndjson': ndjson([...lines.slice(0, half), ...BAD_LINES]),
      'b.csv': solarCsv(lines.slice(half)),
    });
    expect(summary.scan.invalidByReason).toEqual({
      invalid_json: 1,
      unknown_profile: 1,
      timestamp_too_old: 1,
      timestamp_in_future: 1,
    });
    const ref = referenceAggregates(lines);
    const got = store.snapshot();
    expect(Object.keys(got).sort()).toEqual(
      Object.keys(ref)
        .map((k) => k)
        .sort(),
    );
    // This import's quarantine object (the truncated-gzip case above wrote its own to the same bucket).
    const q = (await keys('archive')).filter((k) => k.startsWith('quarantine/') && k.includes(summary.importId));
    expect(q).toHaveLength(1);
    const body = await s3.client.send(new GetObjectCommand({ Bucket: 'archive', Key: q[0] }));
    const reasons = (await (body.Body as { transformToString(): Promise<string> }).transformToString())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).reason)
      .sort();
    expect(reasons).toEqual(['invalid_json', 'timestamp_in_future', 'timestamp_too_old', 'unknown_profile']);
  });

  it('scan workers, and days folded at publish rather than during the scan, give exactly what the import thread gives', async () => {
    // Bad lines and copies of them: a copy of a rejected line is rejected again, in its place.
    const files = {
      'a.ndjson': ndjson([...lines, ...BAD_LINES, ...lines.slice(0, 50), ...BAD_LINES]),
      'b.ndjson': ndjson(lines),
    };
    const inThread = await run(files, 'archive', 0);
    const others = [await run(files, 'archive', 1), await run(files, 'archive', 2), await run(files, 'archive', 0, 0)];
    for (const other of others) {
      expect(other.summary.scan).toEqual(inThread.summary.scan);
      expect(other.summary.publish).toEqual(inThread.summary.publish);
      expect(other.store.snapshot()).toEqual(inThread.store.snapshot());
    }
  });
});
