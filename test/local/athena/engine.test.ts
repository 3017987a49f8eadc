import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { GlueTableDef } from '../../../lib/catalog';
import { AnalyticsEngine, QueryCancelled, QueryFailure } from '../../../lib/local/athena/engine';
import { tablesFromTemplateFile } from '../../../lib/local/athena/standalone';
import { ParquetWriter } from '../../../lib/local/parquet';
import { catalogTables, putArchive, rawPrefix, type S3Fixture, startS3 } from './fixtures';

const BUCKET = 'archive';
const DB = 'iot';
const HOUR = 3_600_000;
const START = Date.parse('2026-11-20T00:00:00Z');

/** Three panels, one reading every 10 minutes for 3 days, each message sent twice (the second a minute later). */
function solarLines(): { arrivalMs: number; json: string }[] {
  const out: { arrivalMs: number; json: string }[] = [];
  for (let t = START; t < START + 72 * HOUR; t += 10 * 60_000) {
    for (let p = 0; p < 3; p++) {
      const seq = (t - START) / 600_000;
      // Mixed-case keys, as devices send them: the JSON SerDe matches columns case-insensitively.
      const json = JSON.stringify({
        panelId: `SP-${p}`,
        ts: new Date(t + p * 1000).toISOString(),
        seq,
        acPowerW: 100 * p + (seq % 7),
        dcVoltageV: 350,
        dcCurrentA: 1.5,
        energyWh: 10 + p,
        panelTempC: 25,
        irradianceWm2: 500,
        status: 'OK',
      });
      out.push({ arrivalMs: t + 2000, json }, { arrivalMs: t + 62_000, json });
    }
  }
  return out;
}

let s3f: S3Fixture;
let engine: AnalyticsEngine;
let cacheDir: string;
let tables: GlueTableDef[];
const lines = solarLines();

beforeAll(async () => {
  s3f = await startS3([BUCKET]);
  await putArchive(s3f.s3, BUCKET, 'solar', lines);
  // The same records as Parquet, in a table like the stack's archive-schema table when parquet is on.
  const byHour = new Map<string, string[]>();
  for (const l of lines) {
    const k = rawPrefix('solarpq', l.arrivalMs);
    byHour.set(k, [...(byHour.get(k) ?? []), l.json]);
  }
  const solar = catalogTables(BUCKET, DB).find((t) => t.tableName === 'solar_raw')!;
  const parquetTable: GlueTableDef = {
    ...solar,
    tableName: 'solar_parquet',
    location: `s3://${BUCKET}/raw/profile=solarpq/`,
    parameters: {
      ...solar.parameters,
      'storage.location.template': `s3://${BUCKET}/raw/profile=solarpq/year=\${year}/month=\${month}/day=\${day}/hour=\${hour}/`,
    },
    serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
  };
  const writer = new ParquetWriter(parquetTable.columns);
  for (const [prefix, arr] of byHour) {
    const body = await writer.write(arr.map((json) => JSON.parse(json)));
    await s3f.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}part-0.parquet`, Body: body }));
  }
  await writer.close();
  tables = [...catalogTables(BUCKET, DB), parquetTable];
  cacheDir = mkdtempSync(join(tmpdir(), 'athena-cache-'));
  engine = await AnalyticsEngine.create({ s3: s3f.target, tables, cacheDir });
});

afterAll(async () => {
  await engine?.close();
  await s3f?.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

const q = (sql: string) => engine.execute(sql, { database: DB });

describe('embedded engine over the S3 API', () => {
  test('reads gzip NDJSON with case-insensitive keys into typed columns, partitions included', async () => {
    const r = await q(
      'SELECT panelid, count(*) AS n, count(DISTINCT seq) AS messages, max(acpowerw) AS maxp, min(year) AS y FROM solar_raw GROUP BY panelid ORDER BY panelid',
    );
    expect(r.columns).toEqual([
      { name: 'panelid', type: 'varchar' },
      { name: 'n', type: 'bigint' },
      { name: 'messages', type: 'bigint' },
      { name: 'maxp', type: 'double' },
      { name: 'y', type: 'integer' },
    ]);
    expect(r.rows).toEqual([
      ['SP-0', '864', '432', '6.0', '2026'],
      ['SP-1', '864', '432', '106.0', '2026'],
      ['SP-2', '864', '432', '206.0', '2026'],
    ]);
  });

  test('database-qualified names and the catalog prefix resolve to the same table', async () => {
    const a = await q('SELECT count(*) FROM iot.solar_raw');
    const b = await q('SELECT count(*) FROM awsdatacatalog.iot."solar_raw"');
    expect(a.rows).toEqual([['2592']]);
    expect(b.rows).toEqual(a.rows);
  });

  test('partition pruning: one day reads one day of objects; hour ranges and IN read less still', async () => {
    const all = await q('SELECT count(*) FROM solar_raw');
    const day = await q('SELECT count(*) FROM solar_raw WHERE year = 2026 AND month = 11 AND day = 21');
    const hours = await q('SELECT count(*) FROM solar_raw s WHERE s.day = 21 AND s.hour BETWEEN 10 AND 11');
    const inList = await q('SELECT count(*) FROM solar_raw WHERE day IN (20, 22) AND hour = 0');
    expect(all.objectsRead).toBe(72);
    expect(day.objectsRead).toBe(24);
    expect(hours.objectsRead).toBe(2);
    expect(inList.objectsRead).toBe(2);
    // 1 of 3 days; arrivals at +2 s and +62 s of each 10-minute reading stay within the reading's hour
    expect(day.rows).toEqual([['864']]);
    expect(hours.rows).toEqual([['72']]);
    expect(day.dataScannedInBytes).toBeGreaterThan(0);
    expect(day.dataScannedInBytes).toBeLessThan(all.dataScannedInBytes * 0.4);
    expect(hours.dataScannedInBytes).toBeLessThan(day.dataScannedInBytes / 10);
  });

  test('expressions over partition columns prune too (the named queries’ date-range filter)', async () => {
    const r = await q(
      `SELECT count(*) FROM solar_raw WHERE (year * 100 + month) * 100 + day BETWEEN CAST(date_format(TIMESTAMP '2026-11-21 00:00:00', '%Y%m%d') AS integer) AND 20261121`,
    );
    expect(r.objectsRead).toBe(24);
    expect(r.rows).toEqual([['864']]);
  });

  test('a predicate mixing partition and data columns does not prune, and the answer stays right', async () => {
    const r = await q(`SELECT count(*) FROM solar_raw WHERE day = 21 OR panelid = 'SP-0'`);
    expect(r.objectsRead).toBe(72);
    expect(r.rows).toEqual([[String(864 + (864 * 2) / 3)]]);
  });

  test('an outer join does not prune the nullable side (pruning must never change the answer)', async () => {
    const r = await q(
      `SELECT count(*) FROM (SELECT 'SP-0' AS p) d LEFT JOIN solar_raw s ON s.panelid = d.p WHERE s.day = 21 OR s.day IS NULL`,
    );
    expect(r.rows).toEqual([['288']]);
  });

  test('Parquet reads a small fraction of the bytes JSON needs for the same query and answer', async () => {
    const sql = (t: string) =>
      `SELECT panelid, sum(energywh) AS e FROM ${t} WHERE day = 21 GROUP BY panelid ORDER BY 1`;
    const json = await q(sql('solar_raw'));
    const parquet = await q(sql('solar_parquet'));
    expect(parquet.rows).toEqual(json.rows);
    expect(parquet.objectsRead).toBe(json.objectsRead);
    expect(parquet.dataScannedInBytes).toBeGreaterThan(0);
    // Only the chunks of the two columns read count, as Athena bills columnar scans.
    expect(parquet.dataScannedInBytes).toBeLessThan(json.dataScannedInBytes);
    const everything = await q('SELECT * FROM solar_parquet WHERE day = 21');
    expect(everything.dataScannedInBytes).toBeGreaterThan(parquet.dataScannedInBytes * 3);
  });

  test('an object replaced in S3 (new ETag) is read again, not served stale from the cache', async () => {
    const key = `${rawPrefix('unicorn', START)}replaced.json`;
    const put = (distance: number) =>
      s3f.s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: key,
          Body: `{"Name":"Shadowfax","StatusTime":"2026-11-20 00:00:01.000","Latitude":1,"Longitude":2,"Distance":${distance},"HealthPoints":150,"MagicPoints":151}\n`,
        }),
      );
    await put(29.5);
    expect((await q('SELECT sum(distance) FROM unicorn_raw')).rows).toEqual([['29.5']]);
    await put(31);
    expect((await q('SELECT sum(distance) FROM unicorn_raw')).rows).toEqual([['31.0']]);
  });

  test('malformed JSON fails like the SerDe (HIVE_BAD_DATA), or reads as NULLs with ignore.malformed.json', async () => {
    const prefix = 'quarantine/year=2026/month=11/day=20/';
    await s3f.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${prefix}bad.json`,
        Body: gzipSync('{"reason":"bad_json"}\nnot json\n'),
      }),
    );
    // The stack's tables set ignore.malformed.json: the bad line reads as NULLs.
    expect((await q('SELECT count(*), count(reason) FROM quarantine')).rows).toEqual([['2', '1']]);
    const strict = tables.map((t) =>
      t.tableName === 'quarantine' ? { ...t, serdeParameters: { 'case.insensitive': 'true' } } : t,
    );
    const otherCache = mkdtempSync(join(tmpdir(), 'athena-cache2-'));
    const other = await AnalyticsEngine.create({ s3: s3f.target, tables: strict, cacheDir: otherCache });
    try {
      await expect(other.execute('SELECT count(*) FROM quarantine', { database: DB })).rejects.toThrow(
        /^HIVE_BAD_DATA: .*line 2 of s3:\/\/archive\/quarantine/,
      );
    } finally {
      await other.close();
      rmSync(otherCache, { recursive: true, force: true });
    }
  });

  test('errors carry Athena error names', async () => {
    await expect(q('SELECT * FROM missing_table')).rejects.toThrow(
      "TABLE_NOT_FOUND: Table 'awsdatacatalog.iot.missing_table' does not exist",
    );
    await expect(q('SELECT no_such_column FROM solar_raw')).rejects.toThrow(/^SYNTAX_ERROR: /);
    await expect(q('SELECT histogram(seq) FROM solar_raw')).rejects.toThrow(
      /^NOT_SUPPORTED: The function histogram\(\) is not supported/,
    );
    await expect(q('SELECT CAST(panelid AS integer) FROM solar_raw')).rejects.toBeInstanceOf(QueryFailure);
  });

  test('SHOW TABLES and DESCRIBE answer from the catalog', async () => {
    // Sorted by name, as Athena lists Glue's tables.
    expect((await q('SHOW TABLES')).rows.map((r) => r[0])).toEqual([
      'quarantine',
      'solar_parquet',
      'solar_raw',
      'solar_registry',
      'unicorn_raw',
    ]);
    const d = await q('DESCRIBE solar_raw');
    expect(d.rows[0]).toEqual(['panelid', 'string', 'Panel id (device id)']);
    expect(d.rows.at(-1)).toEqual(['hour', 'int', 'Partition Key']);
  });

  test('an aborted query stops with QueryCancelled', async () => {
    const controller = new AbortController();
    const running = engine.execute(
      'SELECT count(*) FROM solar_raw a CROSS JOIN solar_raw b CROSS JOIN solar_raw c CROSS JOIN solar_raw d',
      { database: DB, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 300);
    await expect(running).rejects.toBeInstanceOf(QueryCancelled);
  });

  test('Glue tables from a synthesized template, with Refs resolved', () => {
    const template = {
      Resources: {
        Archive: { Type: 'AWS::S3::Bucket', Properties: {} },
        Db: { Type: 'AWS::Glue::Database', Properties: { DatabaseInput: { Name: 'from_template' } } },
        Table: {
          Type: 'AWS::Glue::Table',
          Properties: {
            DatabaseName: { Ref: 'Db' },
            TableInput: {
              Name: 'solar_raw',
              PartitionKeys: [{ Name: 'year', Type: 'int' }],
              Parameters: {
                'projection.enabled': 'true',
                // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
                'storage.location.template': { 'Fn::Sub': 's3://${Archive}/raw/profile=solar/year=${!year}/' },
              },
              StorageDescriptor: {
                Columns: [{ Name: 'panelId', Type: 'string' }],
                Location: { 'Fn::Join': ['', ['s3://', { Ref: 'Archive' }, '/raw/profile=solar/']] },
                SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
              },
            },
          },
        },
      },
    };
    const dir = mkdtempSync(join(tmpdir(), 'template-'));
    writeFileSync(join(dir, 'stack.template.json'), JSON.stringify(template));
    const [t] = tablesFromTemplateFile(join(dir, 'stack.template.json'), 'my-bucket', 'my_db');
    rmSync(dir, { recursive: true, force: true });
    expect(t).toMatchObject({
      databaseName: 'my_db',
      tableName: 'solar_raw',
      columns: [{ name: 'panelid', type: 'string' }],
      location: 's3://my-bucket/raw/profile=solar/',
      serde: 'org.openx.data.jsonserde.JsonSerDe',
    });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a partition projection placeholder
    expect(t.parameters?.['storage.location.template']).toBe('s3://my-bucket/raw/profile=solar/year=${year}/');
  });
});
