import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fillParams, findNamedQuery, rawTableName } from '../../lib/catalog';
import { solarProfile } from '../../lib/core/profiles';
import type { Manifest } from '../../lib/import/manifest';
import { athenaQuery } from '../../lib/local/pipeline-report';
import { type LocalRuntime, startRuntime } from '../../lib/local/runtime';
import { baseClientConfig } from '../../lib/shared/aws-clients';
import { chunksDone, finish, ROOT, runAndKill, scanTable, startImport } from './cli';
import { BAD_LINES, gzipped, history, ndjson, referenceAggregates, withCopies } from './fixtures';

/**
 * The import against the whole embedded stack, as a user runs it beside `npm run local`: the CLI finds
 * the running stack through `.local/stack.json` in its working directory, reads the archive format and
 * the raw tables' columns from the embedded Glue, writes the archive into the embedded S3 and the
 * aggregates into the embedded DynamoDB. It is SIGKILLed in the scan and in the publish and run again
 * until it completes; then the named queries (the catalog's SQL through the embedded Athena API) and
 * the aggregates table must both agree with a reference computed here from the deduplicated events.
 * (test/import/resume.test.ts kills it at more points, against bare emulators, and compares every
 * object and item with an uninterrupted import.)
 */
describe('npm run import into the embedded stack: killed, resumed, then queried', () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-embedded-'));
  const day = '2026-06-01';
  const unique = history(1, 5, new Date(`${day}T00:00:00.000Z`), 3);
  const copies = withCopies(unique);
  const reference = referenceAggregates(unique);
  const inputs = join(dir, 'export');
  const stateDir = join(dir, 'state');
  let runtime: LocalRuntime;
  let kills = 0;
  let items: Record<string, Record<string, unknown>>;

  const start = () => startImport([inputs, '--state-dir', stateDir, '--chunk-mb', '0.25', '--json'], dir);
  const kill = async (when: (m: Manifest) => boolean) => {
    if (await runAndKill(start, stateDir, when)) kills++;
  };

  beforeAll(async () => {
    runtime = await startRuntime({
      cwd: ROOT,
      dataDir: join(dir, 'data'),
      port: 0,
      stackFile: join(dir, '.local', 'stack.json'),
      meteringFile: null,
      limits: false, // the import writes device-minutes back to back, past the emulated provisioned capacity
    });
    mkdirSync(inputs);
    const half = Math.floor(copies.length / 2);
    writeFileSync(join(inputs, 'part-1.ndjson.gz'), gzipped([...copies.slice(0, half), ...BAD_LINES]));
    writeFileSync(join(inputs, 'part-2.ndjson'), ndjson(copies.slice(half)));

    await kill((m) => chunksDone(m) > 0);
    await kill((m) => m.published.length > 0);
    const last = await finish(start());
    if (last.code !== 0) throw new Error(`resumed import failed (${last.code}): ${last.stderr}`);

    const dynamo = new DynamoDBClient(baseClientConfig(runtime.target()));
    const rows = await scanTable(dynamo, runtime.info.aggregatesTable as string);
    dynamo.destroy();
    items = Object.fromEntries(rows.map((i) => [`${i.Name}|${i.StatusTime}`, i]));
  }, 170_000);

  afterAll(async () => {
    await runtime?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const query = async (name: string) => {
    const q = findNamedQuery(name);
    const [header, ...rows] = await athenaQuery(
      runtime.target(),
      fillParams(q.sql, q.params, { from: day, to: day, slack_hours: '0' }),
    );
    return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
  };

  it('was killed in the scan and in the publish', () => {
    expect(kills).toBe(2);
  });

  it('the aggregates table equals the reference from the deduplicated events', () => {
    expect(Object.keys(items).sort()).toEqual(Object.keys(reference).sort());
    for (const [key, row] of Object.entries(reference)) {
      expect([key, items[key].RecordCount]).toEqual([key, row.RecordCount]);
      for (const [name, v] of Object.entries(row)) {
        expect([key, name, items[key][name]]).toEqual([key, name, expect.closeTo(v, 6)]);
      }
    }
  });

  it('the named per-minute queries over the imported archive agree with the reference and the table', async () => {
    for (const [name, column, attribute] of [
      ['solar-per-minute', 'energywh', 'EnergyWh'],
      ['unicorn-per-minute', 'distance', 'Distance'],
    ] as const) {
      const rows = await query(name);
      const prefix = name.startsWith('solar') ? 'SP-' : '';
      const expected = Object.keys(reference).filter((k) => (prefix ? k.startsWith(prefix) : !k.startsWith('SP-')));
      expect(rows.map((r) => `${r.name}|${r.statustime}`).sort()).toEqual(expected.sort());
      for (const r of rows) {
        const key = `${r.name}|${r.statustime}`;
        expect([key, Number(r.recordcount)]).toEqual([key, reference[key].RecordCount]);
        expect([key, Number(r[column])]).toEqual([key, expect.closeTo(items[key][attribute] as number, 6)]);
      }
    }
  });

  it('the raw table holds each distinct solar reading once: copies dropped, invalid records not archived', async () => {
    const solar = unique.filter((l) => l.includes('"panelId"'));
    const [, [count]] = await athenaQuery(
      runtime.target(),
      `SELECT count(*) FROM ${rawTableName(solarProfile)} WHERE year = 2026 AND month = 6 AND day = 1`,
    );
    expect(Number(count)).toBe(solar.length);
  });
});
