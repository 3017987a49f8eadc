import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport, ttlCutoff } from '../../lib/import/run';
import { startS3rver, type TestS3 } from '../support/emulators';
import { MemoryStore } from '../support/memory-store';
import { history, ndjson, referenceAggregates, withCopies } from './fixtures';

/**
 * A table with a TTL keeps only its last days: the import archives every reading but writes to DynamoDB
 * only the minutes the table still keeps (an expired minute's item would be deleted within days, its
 * write paid for nothing: at a 7-day TTL, a year of history costs a week of writes).
 */
describe('import into a table with a TTL', () => {
  let s3: TestS3;
  const dir = mkdtempSync(join(tmpdir(), 'import-ttl-'));
  beforeAll(async () => {
    s3 = await startS3rver(['archive']);
  });
  afterAll(async () => {
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('archives every reading and writes only the minutes younger than the TTL', async () => {
    const lines = history(3, 4);
    mkdirSync(join(dir, 'in'));
    writeFileSync(join(dir, 'in', 'history.ndjson'), ndjson(withCopies(lines)));
    // "now" is 1.5 days after the history's last reading: with a 2-day TTL, its first day and a half have expired
    const end = Date.parse('2026-06-04T00:00:00.000Z');
    const now = end + 36 * 3_600_000;
    const cutoff = ttlCutoff(now, 2);
    expect(cutoff).toBe(Date.parse('2026-06-03T12:00:00.000Z'));
    const store = new MemoryStore();
    const summary = await runImport({
      inputs: [join(dir, 'in')],
      s3: s3.client,
      bucket: 'archive',
      format: 'json',
      store,
      aggregatesTtlDays: 2,
      now: () => now,
      stateDir: join(dir, 'state'),
    });
    const reference = referenceAggregates(lines);
    const kept = Object.keys(reference).filter((k) => Date.parse(k.split('|')[1]) >= cutoff);
    const expired = Object.keys(reference).filter((k) => Date.parse(k.split('|')[1]) < cutoff);
    expect(expired.length).toBeGreaterThan(0);
    expect(Object.keys(store.snapshot()).sort()).toEqual(kept.sort());
    for (const k of kept) expect(store.snapshot()[k].RecordCount).toBe(reference[k].RecordCount);
    const expiredEvents = expired.reduce((n, k) => n + reference[k].RecordCount, 0);
    expect(summary.publish.eventsPastTtl).toBe(expiredEvents);
    expect(summary.publish.archived).toBe(Object.values(reference).reduce((n, r) => n + r.RecordCount, 0));
    expect(summary.publish.deviceMinutesWritten).toBe(kept.length);
  });
});
