import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import {
  CreateTableCommand,
  DeleteTableCommand,
  GetPartitionsCommand,
  GetTableCommand,
  GlueClient,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { EmbeddedAnalytics } from '../../../lib/local/athena/services';
import { baseClientConfig } from '../../../lib/shared/aws-clients';
import { catalogTables, type S3Fixture, serve, startS3 } from './fixtures';

const ARCHIVE = 'archive';
const RESULTS = 'results';
const WORKSHOP = 'workshop';
const DB = 'iot';
const WG = 'iot-wg';

/** The workshop's own DDL, verbatim but for the bucket. */
const WORKSHOP_DDL = `CREATE EXTERNAL TABLE IF NOT EXISTS wildrydes (
  Name string,
  StatusTime timestamp,
  Latitude float,
  Longitude float,
  Distance float,
  HealthPoints int,
  MagicPoints int
)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
LOCATION 's3://${WORKSHOP}/data/';`;

const unicorn = (name: string, second: number, magic: number) =>
  JSON.stringify({
    Name: name,
    StatusTime: `2017-06-02 18:43:${String(second).padStart(2, '0')}.123`,
    Latitude: 40.5,
    Longitude: -74.25,
    Distance: 12.5,
    HealthPoints: 150,
    MagicPoints: magic,
  });

let s3f: S3Fixture;
let dataDir: string;
let analytics: EmbeddedAnalytics;
let server: Server;
let endpoint: string;
let athena: AthenaClient;
let glue: GlueClient;

async function startServices(): Promise<void> {
  analytics = new EmbeddedAnalytics({
    s3: s3f.target,
    tables: catalogTables(ARCHIVE, DB),
    workgroups: [{ name: WG, resultsBucket: RESULTS }],
    defaultDatabase: DB,
    cacheDir: join(dataDir, 'athena-cache'),
    catalogFile: join(dataDir, 'glue-catalog.json'),
  });
  server = await serve(analytics.services);
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  athena = new AthenaClient(baseClientConfig({ endpoint, region: 'us-east-1' }));
  glue = new GlueClient(baseClientConfig({ endpoint, region: 'us-east-1' }));
}

async function stopServices(): Promise<void> {
  athena?.destroy();
  glue?.destroy();
  await new Promise((r) => server?.close(r));
  await analytics?.close();
}

beforeAll(async () => {
  s3f = await startS3([ARCHIVE, RESULTS, WORKSHOP]);
  dataDir = mkdtempSync(join(tmpdir(), 'athena-ddl-'));
  // The workshop's Firehose writes uncompressed NDJSON under yyyy/MM/dd/HH/.
  const put = (Key: string, lines: string[]) =>
    s3f.s3.send(new PutObjectCommand({ Bucket: WORKSHOP, Key, Body: `${lines.join('\n')}\n` }));
  await put('data/2017/06/02/18/wildrydes-1-2017-06-02-18-43-00-a', [
    unicorn('Shadowfax', 4, 100),
    unicorn('Bucephalus', 5, 110),
    unicorn('Shadowfax', 6, 120),
  ]);
  await put('data/2017/06/02/19/wildrydes-1-2017-06-02-19-00-00-b', [unicorn('Rocinante', 7, 130)]);
  // A Hive-partitioned copy (k=v prefixes) for MSCK REPAIR and ADD PARTITION.
  await put('part/dt=2017-06-02/a.json', [unicorn('Shadowfax', 1, 1), unicorn('Bucephalus', 2, 2)]);
  await put('part/dt=2017-06-03/b.json', [unicorn('Rocinante', 3, 3)]);
  await put('elsewhere/c.json', [unicorn('Pegasus', 4, 4)]);
  // One malformed line among good ones.
  await put('malformed/d.json', [unicorn('Shadowfax', 5, 5), '{"Name": "broken', unicorn('Bucephalus', 6, 6)]);
  await startServices();
});

afterAll(async () => {
  await stopServices();
  await s3f?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function execute(sql: string, parameters?: string[]): Promise<QueryExecution> {
  const { QueryExecutionId } = await athena.send(
    new StartQueryExecutionCommand({
      QueryString: sql,
      QueryExecutionContext: { Database: DB },
      WorkGroup: WG,
      ...(parameters ? { ExecutionParameters: parameters } : {}),
    }),
  );
  for (;;) {
    const e = (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId }))).QueryExecution!;
    if (!['QUEUED', 'RUNNING'].includes(e.Status!.State!)) return e;
    await new Promise((r) => setTimeout(r, 30));
  }
}

/** Runs a statement through the Athena API; its rows (header row dropped for DML), or the failure reason. */
async function run(
  sql: string,
  parameters?: string[],
): Promise<{ columns: string[]; types: string[]; rows: (string | null)[][] }> {
  const e = await execute(sql, parameters);
  if (e.Status?.State !== 'SUCCEEDED') throw new Error(e.Status?.StateChangeReason ?? String(e.Status?.State));
  const page = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: e.QueryExecutionId }));
  const info = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
  const rows = (page.ResultSet?.Rows ?? []).map((r) => (r.Data ?? []).map((d) => d.VarCharValue ?? null));
  return {
    columns: info.map((c) => c.Name!),
    types: info.map((c) => c.Type!),
    rows: e.StatementType === 'DML' && info.length > 0 ? rows.slice(1) : rows,
  };
}

const failure = async (sql: string) => {
  const e = await execute(sql);
  expect(e.Status?.State).toBe('FAILED');
  return e.Status?.StateChangeReason ?? '';
};

describe('the workshop, end to end through the Athena API (AWS SDK)', () => {
  test('its CREATE EXTERNAL TABLE, then SELECT * FROM wildrydes, answers the records the test put', async () => {
    const created = await execute(WORKSHOP_DDL);
    expect(created.Status?.State).toBe('SUCCEEDED');
    expect(created.StatementType).toBe('DDL');
    // IF NOT EXISTS: running it again is fine.
    expect((await execute(WORKSHOP_DDL)).Status?.State).toBe('SUCCEEDED');
    const r = await run('SELECT * FROM wildrydes ORDER BY statustime');
    expect(r.columns).toEqual([
      'name',
      'statustime',
      'latitude',
      'longitude',
      'distance',
      'healthpoints',
      'magicpoints',
    ]);
    expect(r.types).toEqual(['varchar', 'timestamp', 'real', 'real', 'real', 'integer', 'integer']);
    expect(r.rows).toEqual([
      ['Shadowfax', '2017-06-02 18:43:04.123', '40.5', '-74.25', '12.5', '150', '100'],
      ['Bucephalus', '2017-06-02 18:43:05.123', '40.5', '-74.25', '12.5', '150', '110'],
      ['Shadowfax', '2017-06-02 18:43:06.123', '40.5', '-74.25', '12.5', '150', '120'],
      ['Rocinante', '2017-06-02 18:43:07.123', '40.5', '-74.25', '12.5', '150', '130'],
    ]);
  });

  test('the timestamp column is a real timestamp: date arithmetic and filters work on it', async () => {
    const r = await run(
      "SELECT name, date_trunc('second', statustime) FROM wildrydes WHERE statustime > TIMESTAMP '2017-06-02 18:43:05' ORDER BY 2",
    );
    expect(r.rows).toEqual([
      ['Bucephalus', '2017-06-02 18:43:05.000'],
      ['Shadowfax', '2017-06-02 18:43:06.000'],
      ['Rocinante', '2017-06-02 18:43:07.000'],
    ]);
  });

  const aws = process.env.AWS_CLI ?? 'aws';
  const hasCli = (() => {
    try {
      require('node:child_process').execFileSync(aws, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  (hasCli ? test : test.skip)(
    'the same through the AWS CLI (skipped when `aws` is not installed)',
    async () => {
      const exec = promisify(execFile);
      const env = {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_PAGER: '',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      };
      const cli = async (...args: string[]) =>
        JSON.parse(
          (await exec(aws, ['--endpoint-url', endpoint, '--output', 'json', 'athena', ...args], { env })).stdout,
        );
      const { QueryExecutionId: id } = await cli(
        'start-query-execution',
        '--work-group',
        WG,
        '--query-execution-context',
        `Database=${DB}`,
        '--query-string',
        'SELECT name, count(*) AS n FROM wildrydes GROUP BY name ORDER BY name',
      );
      let state = 'QUEUED';
      while (state === 'QUEUED' || state === 'RUNNING') {
        state = (await cli('get-query-execution', '--query-execution-id', id)).QueryExecution.Status.State;
      }
      expect(state).toBe('SUCCEEDED');
      const res = await cli('get-query-results', '--query-execution-id', id);
      const rows = res.ResultSet.Rows.map((r: { Data: { VarCharValue?: string }[] }) =>
        r.Data.map((d) => d.VarCharValue),
      );
      expect(rows).toEqual([
        ['name', 'n'],
        ['Bucephalus', '1'],
        ['Rocinante', '1'],
        ['Shadowfax', '2'],
      ]);
    },
    60_000,
  );
  if (!hasCli) console.warn(`AWS CLI test skipped: '${aws}' is not on PATH (apt-get install -y awscli)`);
});

/**
 * Trino/Hive constructs with their expected answers, in order (later rows use what earlier DDL made):
 * [statement, expected rows (or a check), execution parameters].
 */
type Check = (string | null)[][] | ((r: Awaited<ReturnType<typeof run>>) => void);
const CONSTRUCTS: [string, Check, string[]?][] = [
  ['SHOW DATABASES', [['default'], [DB]]],
  ['CREATE DATABASE IF NOT EXISTS scratch', []],
  ['SHOW SCHEMAS', [['default'], [DB], ['scratch']]],
  [
    `CREATE EXTERNAL TABLE parted (name string, statustime timestamp, magicpoints int)
     PARTITIONED BY (dt string)
     ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' WITH SERDEPROPERTIES ('case.insensitive' = 'true')
     LOCATION 's3://${WORKSHOP}/part/'`,
    [],
  ],
  // Without projection, only registered partitions are read: none yet.
  ['SELECT count(*) FROM parted', [['0']]],
  ['SHOW PARTITIONS parted', []],
  [
    'MSCK REPAIR TABLE parted',
    (r) => expect(r.rows.map((x) => x[0])).toContain('Repair: Added partition to metastore parted:dt=2017-06-02'),
  ],
  ['SHOW PARTITIONS parted', [['dt=2017-06-02'], ['dt=2017-06-03']]],
  [
    'SELECT dt, count(*) FROM parted GROUP BY dt ORDER BY dt',
    [
      ['2017-06-02', '2'],
      ['2017-06-03', '1'],
    ],
  ],
  [`ALTER TABLE parted ADD PARTITION (dt = '2017-06-04') LOCATION 's3://${WORKSHOP}/elsewhere/'`, []],
  [`ALTER TABLE parted ADD IF NOT EXISTS PARTITION (dt = '2017-06-04')`, []],
  ["SELECT name FROM parted WHERE dt = '2017-06-04'", [['Pegasus']]],
  ["ALTER TABLE parted DROP PARTITION (dt = '2017-06-04')", []],
  ['SELECT count(*) FROM parted', [['3']]],
  [
    'SHOW CREATE TABLE wildrydes',
    (r) => {
      const ddl = r.rows.map((x) => x[0]).join('\n');
      expect(ddl).toContain('CREATE EXTERNAL TABLE `wildrydes`(');
      expect(ddl).toContain('`statustime` timestamp');
      expect(ddl).toContain("'org.apache.hive.hcatalog.data.JsonSerDe'");
      expect(ddl).toContain(`'s3://${WORKSHOP}/data/'`);
    },
  ],
  // Partition projection over the workshop's Firehose layout (yyyy/MM/dd/HH).
  [
    `CREATE EXTERNAL TABLE wildrydes_projected (name string, statustime timestamp, magicpoints int)
     PARTITIONED BY (year int, month int, day int, hour int)
     ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
     LOCATION 's3://${WORKSHOP}/data/'
     TBLPROPERTIES (
       'projection.enabled' = 'true',
       'projection.year.type' = 'integer', 'projection.year.range' = '2016,2018',
       'projection.month.type' = 'integer', 'projection.month.range' = '1,12', 'projection.month.digits' = '2',
       'projection.day.type' = 'integer', 'projection.day.range' = '1,31', 'projection.day.digits' = '2',
       'projection.hour.type' = 'integer', 'projection.hour.range' = '0,23', 'projection.hour.digits' = '2',
       'storage.location.template' = 's3://${WORKSHOP}/data/\${year}/\${month}/\${day}/\${hour}/'
     )`,
    [],
  ],
  [
    'SELECT hour, count(*) FROM wildrydes_projected WHERE year = 2017 AND day = 2 GROUP BY hour ORDER BY hour',
    [
      ['18', '3'],
      ['19', '1'],
    ],
  ],
  ['SHOW PARTITIONS wildrydes_projected', []],
  // information_schema
  [
    `SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = '${DB}' AND table_name LIKE 'wild%' ORDER BY 1`,
    [
      ['wildrydes', 'BASE TABLE'],
      ['wildrydes_projected', 'BASE TABLE'],
    ],
  ],
  [
    `SELECT column_name, data_type, ordinal_position FROM information_schema.columns WHERE table_schema = '${DB}' AND table_name = 'wildrydes' ORDER BY ordinal_position LIMIT 3`,
    [
      ['name', 'varchar', '1'],
      ['statustime', 'timestamp(3)', '2'],
      ['latitude', 'real', '3'],
    ],
  ],
  [
    "SELECT schema_name FROM information_schema.schemata WHERE schema_name IN ('iot', 'information_schema') ORDER BY 1",
    [['information_schema'], [DB]],
  ],
  // Hidden columns
  [
    'SELECT "$path", "$file_size", count(*) FROM wildrydes GROUP BY 1, 2 ORDER BY 1',
    (r) => {
      expect(r.columns).toEqual(['$path', '$file_size', '_col2']);
      expect(r.rows.map((x) => [x[0], x[2]])).toEqual([
        [`s3://${WORKSHOP}/data/2017/06/02/18/wildrydes-1-2017-06-02-18-43-00-a`, '3'],
        [`s3://${WORKSHOP}/data/2017/06/02/19/wildrydes-1-2017-06-02-19-00-00-b`, '1'],
      ]);
      expect(Number(r.rows[1][1])).toBe(unicorn('Rocinante', 7, 130).length + 1);
    },
  ],
  // EXPLAIN: DuckDB's plan
  ['EXPLAIN SELECT name FROM wildrydes WHERE magicpoints > 100', (r) => expect(r.columns).toEqual(['Query Plan'])],
  // Execution parameters and prepared statements
  ['SELECT count(*) FROM wildrydes WHERE name = ? AND magicpoints >= ?', [['1']], ["'Shadowfax'", '110']],
  ['PREPARE by_name FROM SELECT magicpoints FROM wildrydes WHERE name = ? ORDER BY 1', []],
  ["EXECUTE by_name USING 'Shadowfax'", [['100'], ['120']]],
  ['EXECUTE by_name', [['110']], ["'Bucephalus'"]],
  ['DEALLOCATE PREPARE by_name', []],
  // Views
  ["CREATE VIEW shadowfax AS SELECT name, magicpoints FROM wildrydes WHERE name = 'Shadowfax'", []],
  ['SELECT sum(magicpoints) FROM shadowfax', [['220']]],
  [
    "CREATE OR REPLACE VIEW shadowfax AS SELECT name, magicpoints * 2 AS double_magic FROM wildrydes WHERE name = 'Shadowfax'",
    [],
  ],
  ['SELECT v.double_magic FROM shadowfax v ORDER BY 1', [['200'], ['240']]],
  [
    'DESCRIBE shadowfax',
    [
      ['name', 'string', ''],
      ['double_magic', 'int', ''],
    ],
  ],
  ['SHOW VIEWS', [['shadowfax']]],
  ['SHOW CREATE VIEW shadowfax', (r) => expect(r.rows[0][0]).toBe(`CREATE VIEW awsdatacatalog.${DB}.shadowfax AS`)],
  ['DROP VIEW shadowfax', []],
  ['DROP VIEW IF EXISTS shadowfax', []],
  // CTAS: Parquet, partitioned, into the archive bucket; readable by the next query
  [
    `CREATE TABLE magic_by_name WITH (format = 'PARQUET', external_location = 's3://${ARCHIVE}/ctas/magic/', partitioned_by = ARRAY['name'])
     AS SELECT statustime, magicpoints, name FROM wildrydes`,
    [],
  ],
  [
    'SELECT name, sum(magicpoints), max(statustime) FROM magic_by_name GROUP BY name ORDER BY name',
    [
      ['Bucephalus', '110', '2017-06-02 18:43:05.123'],
      ['Rocinante', '130', '2017-06-02 18:43:07.123'],
      ['Shadowfax', '220', '2017-06-02 18:43:06.123'],
    ],
  ],
  ['SHOW PARTITIONS magic_by_name', [['name=Bucephalus'], ['name=Rocinante'], ['name=Shadowfax']]],
  ["INSERT INTO magic_by_name VALUES (TIMESTAMP '2017-06-02 20:00:00.000', 7, 'Pegasus')", []],
  ["SELECT magicpoints FROM magic_by_name WHERE name = 'Pegasus'", [['7']]],
  // CTAS without a location: under the workgroup's results location; JSON format
  ["CREATE TABLE scratch.names WITH (format = 'JSON') AS SELECT DISTINCT name FROM wildrydes", []],
  ['SELECT count(*) FROM scratch.names', [['3']]],
  // An external Parquet table over what CTAS wrote
  [
    `CREATE EXTERNAL TABLE magic_parquet (statustime timestamp, magicpoints int) PARTITIONED BY (name string)
     STORED AS PARQUET LOCATION 's3://${ARCHIVE}/ctas/magic/'`,
    [],
  ],
  ['MSCK REPAIR TABLE magic_parquet', (r) => expect(r.rows.length).toBe(5)],
  ['SELECT count(*) FROM magic_parquet', [['5']]],
  // Malformed JSON per the SerDe's settings
  [
    `CREATE EXTERNAL TABLE lenient (name string, magicpoints int) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
     WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true') LOCATION 's3://${WORKSHOP}/malformed/'`,
    [],
  ],
  [
    'SELECT name, magicpoints FROM lenient ORDER BY magicpoints NULLS FIRST',
    [
      [null, null],
      ['Shadowfax', '5'],
      ['Bucephalus', '6'],
    ],
  ],
  [
    `CREATE EXTERNAL TABLE strict (name string, magicpoints int) ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
     LOCATION 's3://${WORKSHOP}/malformed/'`,
    [],
  ],
  ["SHOW TABLES LIKE 'wild*|parted'", [['parted'], ['wildrydes'], ['wildrydes_projected']]],
  ['DROP TABLE strict', []],
  ['DROP TABLE IF EXISTS strict', []],
];

describe('Trino and Hive DDL and metadata constructs, with their answers, through the Athena API', () => {
  test.each(
    CONSTRUCTS.map(
      ([sql, check, params], i) => [i, sql.replace(/\s+/g, ' ').slice(0, 90), sql, check, params] as const,
    ),
  )('%i %s', async (_i, _title, sql, check, params) => {
    const r = await run(sql, params);
    if (typeof check === 'function') check(r);
    else expect(r.rows).toEqual(check);
  });

  test('CTAS wrote Parquet objects to S3, and INSERT one more', async () => {
    const listed = await s3f.s3.send(new ListObjectsV2Command({ Bucket: ARCHIVE, Prefix: 'ctas/magic/' }));
    const keys = (listed.Contents ?? []).map((c) => c.Key!);
    expect(keys.filter((k) => k.startsWith('ctas/magic/name=Shadowfax/'))).toHaveLength(1);
    expect(keys).toHaveLength(4);
    const body = await (
      await s3f.s3.send(new GetObjectCommand({ Bucket: ARCHIVE, Key: keys[0] }))
    ).Body!.transformToByteArray();
    expect(Buffer.from(body.slice(0, 4)).toString()).toBe('PAR1');
    const results = await s3f.s3.send(new ListObjectsV2Command({ Bucket: RESULTS, Prefix: 'tables/' }));
    expect((results.Contents ?? []).some((c) => c.Key!.endsWith('.json.gz'))).toBe(true);
  });

  test('HCatalog JSON without ignore.malformed.json fails on the malformed line (HIVE_BAD_DATA)', async () => {
    await run(
      `CREATE EXTERNAL TABLE strict2 (name string) ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe' LOCATION 's3://${WORKSHOP}/malformed/'`,
    );
    expect(await failure('SELECT count(*) FROM strict2')).toMatch(/^HIVE_BAD_DATA: .*line 2/);
  });

  test('the Glue API changes the same catalog: CreateTable, UpdateTable, GetPartitions, DeleteTable', async () => {
    await glue.send(
      new CreateTableCommand({
        DatabaseName: DB,
        TableInput: {
          Name: 'glue_made',
          TableType: 'EXTERNAL_TABLE',
          StorageDescriptor: {
            Columns: [{ Name: 'Name', Type: 'string' }],
            Location: `s3://${WORKSHOP}/data/`,
            SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
          },
        },
      }),
    );
    expect((await run('SELECT count(DISTINCT name) FROM glue_made')).rows).toEqual([['3']]);
    await glue.send(
      new UpdateTableCommand({
        DatabaseName: DB,
        TableInput: {
          Name: 'glue_made',
          StorageDescriptor: {
            Columns: [
              { Name: 'name', Type: 'string' },
              { Name: 'magicpoints', Type: 'int' },
            ],
            Location: `s3://${WORKSHOP}/data/`,
            SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
          },
        },
      }),
    );
    expect((await run('SELECT max(magicpoints) FROM glue_made')).rows).toEqual([['130']]);
    const parts = await glue.send(new GetPartitionsCommand({ DatabaseName: DB, TableName: 'parted' }));
    expect(parts.Partitions?.map((p) => p.Values)).toEqual([['2017-06-02'], ['2017-06-03']]);
    const t = await glue.send(new GetTableCommand({ DatabaseName: DB, Name: 'wildrydes' }));
    expect(t.Table?.StorageDescriptor?.SerdeInfo?.SerializationLibrary).toBe('org.apache.hive.hcatalog.data.JsonSerDe');
    await glue.send(new DeleteTableCommand({ DatabaseName: DB, Name: 'glue_made' }));
    expect(await failure('SELECT * FROM glue_made')).toMatch(/^TABLE_NOT_FOUND: /);
  });
});

describe('bad input answers with Athena-shaped errors', () => {
  test('a LOCATION in a bucket that does not exist', async () => {
    expect(
      await failure(
        "CREATE EXTERNAL TABLE nob (a string) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://no-such-bucket/x/'",
      ),
    ).toMatch(/^FAILED: .*The specified bucket does not exist: no-such-bucket/);
  });

  test('a LOCATION outside the endpoint (not s3://) never reaches the file system', async () => {
    for (const location of ['file:///etc/', '/etc/', 'hdfs://namenode/x/']) {
      expect(
        await failure(
          `CREATE EXTERNAL TABLE etc (a string) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION '${location}'`,
        ),
      ).toMatch(/^INVALID_TABLE_PROPERTY: Location .* is not an S3 location/);
    }
  });

  test('a SerDe nobody knows, and one Athena knows but the engine cannot read', async () => {
    expect(
      await failure(
        `CREATE EXTERNAL TABLE s1 (a string) ROW FORMAT SERDE 'com.example.NoSuchSerDe' LOCATION 's3://${WORKSHOP}/data/'`,
      ),
    ).toMatch(/^FAILED: .*Cannot validate serde: com.example.NoSuchSerDe/);
    expect(
      await failure(
        `CREATE EXTERNAL TABLE s2 (a string) ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' LOCATION 's3://${WORKSHOP}/data/'`,
      ),
    ).toMatch(/^NOT_SUPPORTED: SerDe org.apache.hadoop.hive.serde2.OpenCSVSerde is not supported/);
  });

  test('CTAS into a location that already has objects is refused (HIVE_PATH_ALREADY_EXISTS)', async () => {
    expect(
      await failure(`CREATE TABLE again WITH (external_location = 's3://${WORKSHOP}/data/') AS SELECT 1 AS x`),
    ).toMatch(
      /^HIVE_PATH_ALREADY_EXISTS: Target directory for table 'iot.again' already exists: s3:\/\/workshop\/data\//,
    );
    expect(await failure('SELECT * FROM again')).toMatch(/^TABLE_NOT_FOUND/);
  });

  test('CREATE TABLE that already exists, a column type Hive does not have, and unsupported DDL', async () => {
    expect(await failure(WORKSHOP_DDL.replace(' IF NOT EXISTS', ''))).toMatch(/AlreadyExistsException/);
    expect(
      await failure(
        `CREATE EXTERNAL TABLE t1 (a strung) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://${WORKSHOP}/x/'`,
      ),
    ).toMatch(/unsupported column type strung/);
    expect(await failure("CREATE TABLE t2 WITH (format = 'ORC') AS SELECT 1 AS x")).toMatch(
      /^NOT_SUPPORTED: CTAS format ORC/,
    );
    expect(await failure('ALTER TABLE wildrydes ADD COLUMNS (x int)')).toMatch(
      /^NOT_SUPPORTED: ALTER TABLE supports ADD PARTITION/,
    );
    expect(await failure('SELECT 1 WHERE 1 = ?')).toMatch(
      /^INVALID_PARAMETER_USAGE: Incorrect number of parameters: expected 1 but found 0/,
    );
  });

  test("DROP of the stack's own table: dropped now, back after a restart (the template restores it); user tables persist", async () => {
    const before = (await run('SELECT count(*) FROM quarantine')).rows;
    await run('DROP TABLE quarantine');
    expect(await failure('SELECT count(*) FROM quarantine')).toMatch(/^TABLE_NOT_FOUND/);
    await stopServices();
    expect(existsSync(join(dataDir, 'glue-catalog.json'))).toBe(true);
    await startServices();
    expect((await run('SELECT count(*) FROM quarantine')).rows).toEqual(before);
    // What users created survives the restart: tables, partitions, CTAS output.
    expect((await run('SELECT count(*) FROM wildrydes')).rows).toEqual([['4']]);
    expect((await run('SELECT count(*) FROM parted')).rows).toEqual([['3']]);
    expect((await run('SELECT count(*) FROM magic_by_name')).rows).toEqual([['5']]);
  });
});
