import { Match } from 'aws-cdk-lib/assertions';
import { NAMED_QUERIES, type NamedQuerySpec } from '../../lib/catalog';
import { unionColumns } from '../../lib/constructs/archive-catalog';
import { PROFILES, solarProfile, unicornProfile } from '../../lib/core/profiles';
import { OUTPUT_KEYS } from '../../lib/shared/stack-target';
import { only, type Synthesized, synthesize } from './helpers';

const QUERIES: NamedQuerySpec[] = [
  { name: 'dedup-raw', description: 'Deduplicated raw records', sql: 'SELECT 1', params: [] },
  { name: 'per-minute', description: 'Per-minute aggregates', sql: "SELECT '{{device}}'", params: [] },
];

let json: Synthesized;
let parquet: Synthesized;
beforeAll(() => {
  json = synthesize({}, { namedQueries: QUERIES });
  parquet = synthesize({ 'iot:parquet': true, 'iot:stage': 'prod-eu', 'iot:athenaScanLimitGiB': 100 });
});

const bucketRef = { 'Fn::ImportValue': Match.stringLikeRegexp('ExportsOutputRefArchiveBucket') };
const s3Url = (suffix: string) => ({ 'Fn::Join': ['', ['s3://', bucketRef, suffix]] });
const tableNamed = (s: Synthesized, name: string) => {
  const found = Object.values(s.analytics.findResources('AWS::Glue::Table')).filter(
    (t) => t.Properties.TableInput.Name === name,
  );
  expect(found).toHaveLength(1);
  return found[0].Properties.TableInput;
};

describe('Glue catalog', () => {
  test('one database per stage, named so Athena needs no quoting', () => {
    json.analytics.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'iot_telemetry_dev' } });
    parquet.analytics.hasResourceProperties('AWS::Glue::Database', {
      DatabaseInput: { Name: 'iot_telemetry_prod_eu' },
    });
  });

  test('JSON: a raw table per profile, the untyped records, the quarantine, the solar registry, no schema table', () => {
    const names = Object.values(json.analytics.findResources('AWS::Glue::Table')).map(
      (t) => t.Properties.TableInput.Name,
    );
    expect(names.sort()).toEqual(['quarantine', 'solar_raw', 'solar_registry', 'unicorn_raw', 'untyped_raw']);
    expect(PROFILES.map((p) => p.name).sort()).toEqual(['solar', 'unicorn']);
  });

  test('untyped_raw: every column a string, over the untyped and unknown partitions of raw/ only', () => {
    const input = tableNamed(json, 'untyped_raw');
    expect(input.StorageDescriptor.Columns.length).toBeGreaterThan(10);
    for (const c of input.StorageDescriptor.Columns) expect(c.Type).toBe('string');
    expect(input.PartitionKeys[0]).toEqual({ Name: 'profile', Type: 'string' });
    expect(input.Parameters).toMatchObject({
      'projection.profile.type': 'enum',
      'projection.profile.values': 'unicorn_untyped,solar_untyped,unknown',
    });
    expect(JSON.stringify(input.Parameters['storage.location.template'])).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's projection template, literally
      '/raw/profile=${profile}/year=${year}/month=${month}/day=${day}/hour=${hour}/',
    );
    // With Parquet, Firehose converts these records with the archive schema: the table reads its types.
    const parquetInput = tableNamed(parquet, 'untyped_raw');
    expect(parquetInput.StorageDescriptor.Columns.map((c: { Type: string }) => c.Type)).toContain('double');
  });

  test.each([
    ['unicorn_raw', 'unicorn'],
    ['solar_raw', 'solar'],
  ])('%s: hourly partition projection over raw/profile=%s/', (table, profile) => {
    const input = tableNamed(json, table);
    expect(input.PartitionKeys).toEqual([
      { Name: 'year', Type: 'int' },
      { Name: 'month', Type: 'int' },
      { Name: 'day', Type: 'int' },
      { Name: 'hour', Type: 'int' },
    ]);
    json.analytics.hasResourceProperties('AWS::Glue::Table', {
      TableInput: {
        Name: table,
        TableType: 'EXTERNAL_TABLE',
        Parameters: Match.objectEquals({
          EXTERNAL: 'TRUE',
          classification: 'json',
          'projection.enabled': 'true',
          'projection.year.type': 'integer',
          'projection.year.range': '2024,2050',
          'projection.month.type': 'integer',
          'projection.month.range': '1,12',
          'projection.month.digits': '2',
          'projection.day.type': 'integer',
          'projection.day.range': '1,31',
          'projection.day.digits': '2',
          'projection.hour.type': 'integer',
          'projection.hour.range': '0,23',
          'projection.hour.digits': '2',
          'storage.location.template': s3Url(
            `/raw/profile=${profile}/year=\${year}/month=\${month}/day=\${day}/hour=\${hour}/`,
          ),
        }),
        StorageDescriptor: {
          Location: s3Url(`/raw/profile=${profile}/`),
          InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          SerdeInfo: {
            SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            Parameters: Match.objectLike({ 'case.insensitive': 'true' }),
          },
        },
      },
    });
  });

  test("the unicorn table has the workshop's columns, lower-cased", () => {
    const columns = tableNamed(json, 'unicorn_raw').StorageDescriptor.Columns;
    expect(columns.map((c: { Name: string; Type: string }) => [c.Name, c.Type])).toEqual([
      ['name', 'string'],
      ['statustime', 'string'],
      ['latitude', 'double'],
      ['longitude', 'double'],
      ['distance', 'double'],
      ['healthpoints', 'int'],
      ['magicpoints', 'int'],
    ]);
    const solar = tableNamed(json, 'solar_raw').StorageDescriptor.Columns.map((c: { Name: string }) => c.Name);
    expect(solar).toEqual(solarProfile.archiveColumns.map((c) => c.name.toLowerCase()));
  });

  test('the solar registry table reads registry/profile=solar/ as NDJSON, without partitions', () => {
    const input = tableNamed(json, 'solar_registry');
    expect(input.PartitionKeys).toEqual([]);
    expect(input.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name)).toEqual([
      'panelid',
      'site',
      'latitude',
      'longitude',
      'ratedpowerw',
    ]);
    json.analytics.hasResourceProperties('AWS::Glue::Table', {
      TableInput: { Name: 'solar_registry', StorageDescriptor: { Location: s3Url('/registry/profile=solar/') } },
    });
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
  });

  test('the quarantine table reads the aggregator NDJSON lines, projected by day', () => {
    const input = tableNamed(json, 'quarantine');
    expect(input.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name)).toEqual([
      'reason',
      'arrivaltime',
      'shardid',
      'sequencenumber',
      'subsequencenumber',
      'partitionkey',
      'data',
      'encoding',
    ]);
    expect(input.PartitionKeys.map((k: { Name: string }) => k.Name)).toEqual(['year', 'month', 'day']);
    json.analytics.hasResourceProperties('AWS::Glue::Table', {
      TableInput: {
        Name: 'quarantine',
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.day.digits': '2',
          'storage.location.template': s3Url(`/quarantine/year=\${year}/month=\${month}/day=\${day}/`),
        }),
        StorageDescriptor: { SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' } },
      },
    });
  });

  test('Parquet: raw tables switch to the Parquet SerDe and the union schema table exists', () => {
    for (const table of ['unicorn_raw', 'solar_raw']) {
      const input = tableNamed(parquet, table);
      expect(input.Parameters.classification).toBe('parquet');
      expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
        'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
      );
      expect(input.Parameters['projection.enabled']).toBe('true');
    }
    const schema = tableNamed(parquet, 'archive_schema');
    const names = schema.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name);
    const expected = [...unicornProfile.archiveColumns, ...solarProfile.archiveColumns].map((c) =>
      c.name.toLowerCase(),
    );
    expect(names).toEqual([...new Set(expected)]);
    // The quarantine stays JSON: the aggregator writes it, not Firehose.
    expect(tableNamed(parquet, 'quarantine').Parameters.classification).toBe('json');
  });

  test('the union schema refuses one column with two types', () => {
    const clash = {
      ...solarProfile,
      name: 'clash',
      archiveColumns: [{ name: 'Name', type: 'int' as const, comment: '' }],
    };
    expect(() => unionColumns([unicornProfile, clash])).toThrow(/"name" is string in one profile and int in clash/);
  });
});

describe('Athena workgroup', () => {
  test('enforced configuration: SSE-S3 results in its own bucket, scan cutoff, automatic engine version', () => {
    json.analytics.hasResourceProperties('AWS::Athena::WorkGroup', {
      RecursiveDeleteOption: true,
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'AUTO' },
        ResultConfiguration: {
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          OutputLocation: {
            'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^WorkgroupResults') }, '/results/']],
          },
        },
      },
    });
    parquet.analytics.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({ BytesScannedCutoffPerQuery: 100 * 1024 ** 3 }),
    });
  });

  test('the results bucket is encrypted, private, TLS only and expires results after 30 days', () => {
    const bucket = only(json.analytics, 'AWS::S3::Bucket').Properties;
    expect(bucket.BucketName).toBeUndefined();
    expect(
      bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm,
    ).toBe('AES256');
    expect(bucket.PublicAccessBlockConfiguration.RestrictPublicBuckets).toBe(true);
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ ExpirationInDays: 30, Status: 'Enabled' }),
    );
    json.analytics.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('one named query per NAMED_QUERIES entry, in the workgroup and database', () => {
    json.analytics.resourceCountIs('AWS::Athena::NamedQuery', QUERIES.length);
    for (const query of QUERIES) {
      json.analytics.hasResourceProperties('AWS::Athena::NamedQuery', {
        Name: query.name,
        Description: query.description,
        QueryString: query.sql,
        Database: 'iot_telemetry_dev',
        WorkGroup: { Ref: Match.stringLikeRegexp('^Workgroup') },
      });
    }
    parquet.analytics.resourceCountIs('AWS::Athena::NamedQuery', NAMED_QUERIES.length);
  });

  test('named query names must stay distinct after normalisation', () => {
    const dup = [QUERIES[0], { ...QUERIES[0], name: 'dedup_raw' }];
    expect(() => synthesize({ 'iot:stage': 'dup' }, { namedQueries: dup })).toThrow(/clashes/);
  });
});

test('outputs: Glue database and workgroup names', () => {
  const outputs = json.analytics.toJSON().Outputs;
  expect(outputs[OUTPUT_KEYS.glueDatabase].Value).toEqual({ Ref: expect.stringMatching(/^CatalogDatabase/) });
  expect(outputs[OUTPUT_KEYS.athenaWorkgroup].Value).toEqual({ Ref: expect.stringMatching(/^Workgroup/) });
});
