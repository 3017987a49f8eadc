import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AthenaClient,
  BatchGetNamedQueryCommand,
  GetNamedQueryCommand,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetWorkGroupCommand,
  ListNamedQueriesCommand,
  ListWorkGroupsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { GetDatabaseCommand, GetTableCommand, GetTablesCommand, GlueClient } from '@aws-sdk/client-glue';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { NAMED_QUERIES } from '../../../lib/catalog';
import { sandboxSettings } from '../../../lib/local/athena/engine';
import { EmbeddedAnalytics } from '../../../lib/local/athena/services';
import { runLocalQuery } from '../../../lib/local/athena/standalone';
import { runQueryCli } from '../../../lib/query/cli';
import { AthenaQueryError, queryCostUsd, runQuery } from '../../../lib/query/client';
import { baseClientConfig } from '../../../lib/shared/aws-clients';
import { catalogTables, putArchive, type S3Fixture, serve, startS3 } from './fixtures';

const BUCKET = 'archive';
const RESULTS = 'results';
const DB = 'iot';
const WG = 'iot-wg';

let s3f: S3Fixture;
let analytics: EmbeddedAnalytics;
let server: Server;
let endpoint: string;
let athena: AthenaClient;
let cacheDir: string;

beforeAll(async () => {
  s3f = await startS3([BUCKET, RESULTS]);
  const start = Date.parse('2026-11-20T00:00:00Z');
  const lines = [];
  for (let i = 0; i < 2500; i++) {
    const t = start + i * 1000;
    lines.push({
      arrivalMs: t + 500,
      json: `{"Name":"U${i % 5}","StatusTime":"${new Date(t).toISOString().replace('T', ' ').replace('Z', '')}","Latitude":40.7,"Longitude":-73.9,"Distance":30,"HealthPoints":150,"MagicPoints":${100 + (i % 50)}}`,
    });
  }
  await putArchive(s3f.s3, BUCKET, 'unicorn', lines);
  cacheDir = mkdtempSync(join(tmpdir(), 'athena-svc-cache-'));
  analytics = new EmbeddedAnalytics({
    s3: s3f.target,
    tables: catalogTables(BUCKET, DB),
    workgroups: [
      { name: WG, resultsBucket: RESULTS },
      { name: 'capped', bytesScannedCutoffPerQuery: 10 },
    ],
    namedQueries: NAMED_QUERIES,
    cacheDir,
  });
  server = await serve(analytics.services);
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  athena = new AthenaClient(baseClientConfig({ endpoint, region: 'us-east-1' }));
});

afterAll(async () => {
  athena?.destroy();
  await new Promise((r) => server?.close(r));
  await analytics?.close();
  await s3f?.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

async function waitFor(id: string) {
  for (;;) {
    const e = (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution!;
    if (!['QUEUED', 'RUNNING'].includes(e.Status!.State!)) return e;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Athena API over HTTP with the real SDK', () => {
  test('StartQueryExecution → GetQueryExecution → paginated GetQueryResults with a header row', async () => {
    const { QueryExecutionId: id } = await athena.send(
      new StartQueryExecutionCommand({
        QueryString: 'SELECT name, statustime, magicpoints FROM unicorn_raw ORDER BY statustime',
        QueryExecutionContext: { Database: DB },
        WorkGroup: WG,
      }),
    );
    const e = await waitFor(id!);
    expect(e.Status?.State).toBe('SUCCEEDED');
    expect(e.Statistics?.DataScannedInBytes).toBeGreaterThan(0);
    expect(e.Statistics?.EngineExecutionTimeInMillis).toBeGreaterThanOrEqual(0);
    expect(e.ResultConfiguration?.OutputLocation).toBe(`s3://${RESULTS}/${id}.csv`);
    expect(e.Status?.SubmissionDateTime).toBeInstanceOf(Date);

    const rows: string[][] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await athena.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }),
      );
      if (pages === 0) {
        expect(page.ResultSet?.ResultSetMetadata?.ColumnInfo?.map((c) => [c.Name, c.Type])).toEqual([
          ['name', 'varchar'],
          ['statustime', 'varchar'],
          ['magicpoints', 'integer'],
        ]);
      }
      rows.push(...(page.ResultSet?.Rows ?? []).map((r) => (r.Data ?? []).map((d) => d.VarCharValue ?? '')));
      token = page.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(3); // header + 2500 rows, 1000 per page
    expect(rows[0]).toEqual(['name', 'statustime', 'magicpoints']);
    expect(rows).toHaveLength(2501);
    expect(rows[1]).toEqual(['U0', '2026-11-20 00:00:00.000', '100']);

    // The result file is in the results bucket, as Athena writes it (every field quoted).
    const csv = await s3f.s3.send(new GetObjectCommand({ Bucket: RESULTS, Key: `${id}.csv` }));
    const text = await csv.Body!.transformToString();
    expect(text.split('\n')[0]).toBe('"name","statustime","magicpoints"');
    expect(text.trim().split('\n')).toHaveLength(2501);
  });

  test('a failed query reports FAILED with the error, and GetQueryResults refuses it', async () => {
    const { QueryExecutionId: id } = await athena.send(
      new StartQueryExecutionCommand({
        QueryString: 'SELECT nope FROM unicorn_raw',
        QueryExecutionContext: { Database: DB },
      }),
    );
    const e = await waitFor(id!);
    expect(e.Status?.State).toBe('FAILED');
    expect(e.Status?.StateChangeReason).toMatch(/^SYNTAX_ERROR: /);
    await expect(athena.send(new GetQueryResultsCommand({ QueryExecutionId: id }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
  });

  test('the workgroup’s bytes-scanned cutoff fails a query that reads more', async () => {
    const { QueryExecutionId: id } = await athena.send(
      new StartQueryExecutionCommand({
        QueryString: 'SELECT count(*) FROM unicorn_raw',
        WorkGroup: 'capped',
        QueryExecutionContext: { Database: DB },
      }),
    );
    const e = await waitFor(id!);
    expect(e.Status?.State).toBe('FAILED');
    expect(e.Status?.StateChangeReason).toMatch(/bytes scanned limit was exceeded/);
  });

  test('StopQueryExecution cancels a running query', async () => {
    const { QueryExecutionId: id } = await athena.send(
      new StartQueryExecutionCommand({
        QueryString: 'SELECT count(*) FROM unicorn_raw a CROSS JOIN unicorn_raw b CROSS JOIN unicorn_raw c',
        QueryExecutionContext: { Database: DB },
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
    await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    const e = await waitFor(id!);
    expect(e.Status?.State).toBe('CANCELLED');
  });

  test('request errors have AWS shapes', async () => {
    await expect(athena.send(new StartQueryExecutionCommand({ QueryString: ' ' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
    await expect(
      athena.send(new StartQueryExecutionCommand({ QueryString: 'SELECT 1', WorkGroup: 'nope' })),
    ).rejects.toThrow('WorkGroup nope is not found.');
    await expect(
      athena.send(new GetQueryResultsCommand({ QueryExecutionId: '00000000-0000-0000-0000-000000000000' })),
    ).rejects.toMatchObject({ name: 'InvalidRequestException' });
  });

  test('named queries and workgroups', async () => {
    const ids = (await athena.send(new ListNamedQueriesCommand({ WorkGroup: WG }))).NamedQueryIds!;
    expect(ids).toHaveLength(NAMED_QUERIES.length);
    const one = (await athena.send(new GetNamedQueryCommand({ NamedQueryId: ids[0] }))).NamedQuery!;
    expect(one.Name).toBe(NAMED_QUERIES[0].name);
    expect(one.QueryString).toBe(NAMED_QUERIES[0].sql);
    expect(one.Database).toBe(DB);
    const batch = await athena.send(new BatchGetNamedQueryCommand({ NamedQueryIds: [ids[1], 'missing'] }));
    expect(batch.NamedQueries?.map((q) => q.Name)).toEqual([NAMED_QUERIES[1].name]);
    expect(batch.UnprocessedNamedQueryIds?.[0].NamedQueryId).toBe('missing');
    const wgs = (await athena.send(new ListWorkGroupsCommand({}))).WorkGroups!.map((w) => w.Name);
    expect(wgs).toEqual(expect.arrayContaining([WG, 'capped', 'primary']));
    const wg = (await athena.send(new GetWorkGroupCommand({ WorkGroup: WG }))).WorkGroup!;
    expect(wg.Configuration?.ResultConfiguration?.OutputLocation).toBe(`s3://${RESULTS}/`);
  });

  test('Glue GetDatabase / GetTable / GetTables', async () => {
    const glue = new GlueClient(baseClientConfig({ endpoint, region: 'us-east-1' }));
    try {
      expect((await glue.send(new GetDatabaseCommand({ Name: DB }))).Database?.Name).toBe(DB);
      const t = (await glue.send(new GetTableCommand({ DatabaseName: DB, Name: 'solar_raw' }))).Table!;
      expect(t.StorageDescriptor?.Location).toBe(`s3://${BUCKET}/raw/profile=solar/`);
      expect(t.PartitionKeys?.map((k) => k.Name)).toEqual(['year', 'month', 'day', 'hour']);
      expect(t.Parameters?.['projection.enabled']).toBe('true');
      const list = (await glue.send(new GetTablesCommand({ DatabaseName: DB, Expression: '*_raw' }))).TableList!;
      expect(list.map((x) => x.Name).sort()).toEqual(['solar_raw', 'unicorn_raw']);
      await expect(glue.send(new GetTableCommand({ DatabaseName: DB, Name: 'x' }))).rejects.toMatchObject({
        name: 'EntityNotFoundException',
      });
    } finally {
      glue.destroy();
    }
  });
});

describe('the engine reads the archive and its cache only (issue 12, defect 2)', () => {
  // A file outside the archive that the query must not see: its content would come back as rows.
  let outside: string;
  beforeAll(() => {
    outside = mkdtempSync(join(tmpdir(), 'outside-archive-'));
    writeFileSync(join(outside, 'secret.csv'), 'token\nTOP-SECRET-42\n');
    writeFileSync(join(outside, 'package.json'), '{"name":"TOP-SECRET-42"}\n');
  });
  afterAll(() => rmSync(outside, { recursive: true, force: true }));

  async function run(sql: string) {
    const { QueryExecutionId: id } = await athena.send(
      new StartQueryExecutionCommand({ QueryString: sql, QueryExecutionContext: { Database: DB }, WorkGroup: WG }),
    );
    return waitFor(id!);
  }

  test.each([
    (dir: string) => `SELECT * FROM '${dir}/secret.csv'`,
    (dir: string) => `SELECT * FROM ('${dir}/secret.csv')`,
    (dir: string) => `SELECT count(*) FROM unicorn_raw u JOIN '${dir}/secret.csv' s ON true`,
    (dir: string) => `SELECT * FROM unicorn_raw, '${dir}/**/package.json'`,
    (dir: string) => `WITH x AS (SELECT * FROM '${dir}/secret.csv') SELECT * FROM x`,
  ])('a string-literal relation is refused as Athena’s parser refuses it: %s', async (query) => {
    const e = await run(query(outside));
    expect(e.Status?.State).toBe('FAILED');
    expect(e.Status?.StateChangeReason).toMatch(/^SYNTAX_ERROR: line 1:\d+: mismatched input '/);
  });

  test.each([
    (dir: string) => `SELECT * FROM read_csv('${dir}/secret.csv')`,
    (dir: string) => `SELECT * FROM read_text('${dir}/secret.csv')`,
    (dir: string) => `SELECT * FROM glob('${dir}/**')`,
    (dir: string) => `SELECT * FROM "${dir}/secret.csv"`,
  ])('table functions and quoted paths do not reach a file either: %s', async (query) => {
    const e = await run(query(outside));
    expect(e.Status?.State).toBe('FAILED');
    expect(e.Status?.StateChangeReason).not.toMatch(/TOP-SECRET/);
  });

  test('DuckDB itself is locked to the cache directory, whatever the translator lets through', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-cache-'));
    writeFileSync(join(dir, 'inside.csv'), 'a\n1\n');
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      for (const s of sandboxSettings(dir)) await conn.run(s);
      expect((await conn.runAndReadAll(`SELECT a FROM read_csv('${dir}/inside.csv')`)).getRows()).toEqual([[1n]]);
      for (const sql of [
        `SELECT * FROM '${outside}/secret.csv'`,
        `SELECT * FROM read_text('${outside}/secret.csv')`,
        `SELECT * FROM '${dir}/../${outside.split('/').pop()}/secret.csv'`,
        `COPY (SELECT 1) TO '${outside}/written.csv'`,
        `ATTACH '${outside}/x.duckdb'`,
      ]) {
        await expect(conn.run(sql)).rejects.toThrow(/Permission Error/);
      }
      await expect(conn.run('SET GLOBAL enable_external_access = true')).rejects.toThrow(/locked/);
      await expect(conn.run(`SET GLOBAL allowed_directories = ['/']`)).rejects.toThrow(/locked/);
    } finally {
      conn.closeSync();
      instance.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('query client core', () => {
  test('runQuery polls, pages and reports Athena’s figures and the cost', async () => {
    const states: string[] = [];
    const run = await runQuery(athena, {
      sql: 'SELECT name, count(*) AS n FROM unicorn_raw GROUP BY name ORDER BY name',
      workgroup: WG,
      database: DB,
      pollInitialMs: 10,
      onProgress: (s) => states.push(s),
    });
    expect(run.rows).toEqual([0, 1, 2, 3, 4].map((i) => [`U${i}`, '500']));
    expect(run.columns).toEqual([
      { name: 'name', type: 'varchar' },
      { name: 'n', type: 'bigint' },
    ]);
    expect(run.dataScannedInBytes).toBeGreaterThan(0);
    expect(run.costUsd).toBeCloseTo(queryCostUsd(10 * 1024 * 1024), 12); // small scans pay the 10 MB minimum
    expect(states.at(-1)).toBe('SUCCEEDED');
  });

  test('runQuery surfaces Athena’s error and stops the query when aborted', async () => {
    await expect(runQuery(athena, { sql: 'SELECT x FROM nowhere', database: DB, pollInitialMs: 10 })).rejects.toThrow(
      /TABLE_NOT_FOUND/,
    );
    const controller = new AbortController();
    const running = runQuery(athena, {
      sql: 'SELECT count(*) FROM unicorn_raw a CROSS JOIN unicorn_raw b CROSS JOIN unicorn_raw c',
      database: DB,
      signal: controller.signal,
      pollInitialMs: 10,
    });
    setTimeout(() => controller.abort(), 150);
    const err = (await running.catch((e) => e)) as AthenaQueryError;
    expect(err).toBeInstanceOf(AthenaQueryError);
    expect(err.state).toBe('CANCELLED');
    const e = await waitFor(err.queryExecutionId!);
    expect(e.Status?.State).toBe('CANCELLED');
  });

  test('cost: $5 per TB, 10 MB minimum, rounded up to the MB', () => {
    expect(queryCostUsd(0)).toBe(0);
    expect(queryCostUsd(1)).toBeCloseTo((10 / 1024 / 1024) * 5, 12);
    expect(queryCostUsd(1024 ** 4)).toBeCloseTo(5, 12);
    expect(queryCostUsd(20 * 1024 * 1024 + 1)).toBeCloseTo((21 / 1024 / 1024) * 5, 12);
  });
});

describe('the query tool', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s), tty: false } };
  };

  test('runs SQL against the endpoint and prints CSV plus Athena’s figures', async () => {
    const t = io();
    const code = await runQueryCli(
      { sql: 'SELECT count(*) AS n FROM unicorn_raw', endpoint, workgroup: WG, database: DB, format: 'csv' },
      t.io,
    );
    expect(code).toBe(0);
    expect(t.out.join('')).toBe('n\n2500\n');
    expect(t.err.join('')).toMatch(/data scanned [\d.]+ KB · engine time \d+ ms · cost \$0\.0000\d+/);
  });

  test('named query with --param, JSON output', async () => {
    const t = io();
    const code = await runQueryCli(
      {
        named: 'unicorn-fleet-trends',
        param: ['from=2026-11-20', 'to=2026-11-20', 'granularity=day'],
        endpoint,
        workgroup: WG,
        database: DB,
        format: 'json',
      },
      t.io,
    );
    expect(t.err.join('')).not.toMatch(/failed/i);
    expect(code).toBe(0);
    const rows = JSON.parse(t.out.join(''));
    expect(rows).toEqual([
      expect.objectContaining({
        period: '2026-11-20 00:00:00.000 UTC',
        distance: 75000,
        devices_reporting: 5,
        readings: 2500,
      }),
    ]);
  });

  test('Athena errors are shown as reported, with a non-zero exit; bad params are refused before any call', async () => {
    const t = io();
    expect(await runQueryCli({ sql: 'SELECT nope FROM unicorn_raw', endpoint, database: DB }, t.io)).toBe(1);
    expect(t.err.join('')).toMatch(/^Query failed: SYNTAX_ERROR: /);
    const u = io();
    expect(
      await runQueryCli({ named: 'solar-spikes', param: ['jump=1; DROP TABLE x'], endpoint, database: DB }, u.io),
    ).toBe(1);
    expect(u.err.join('')).toMatch(/Parameter jump="1; DROP TABLE x" is not valid/);
  });

  test('with no target it explains how to choose one', async () => {
    const t = io();
    const code = await runQueryCli({ sql: 'SELECT 1' }, { ...t.io, cwd: mkdtempSync(join(tmpdir(), 'no-stack-')) });
    expect(code).toBe(1);
    expect(t.err.join('')).toMatch(/No target to query[\s\S]*--outputs cdk-outputs\.json[\s\S]*--engine local/);
  });

  test('--engine local queries the archive through S3 alone (the LocalStack mode)', async () => {
    const t = io();
    const code = await runQueryCli(
      {
        sql: 'SELECT count(DISTINCT name) AS unicorns FROM unicorn_raw WHERE day = 20',
        engine: 'local',
        s3Endpoint: s3f.target.endpoint,
        bucket: BUCKET,
        database: DB,
        format: 'csv',
      },
      t.io,
      { local: runLocalQuery },
    );
    expect(t.err.join('')).toMatch(/data scanned/);
    expect(code).toBe(0);
    expect(t.out.join('')).toBe('unicorns\n5\n');
  });
});
