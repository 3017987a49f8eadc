import { archiveTables, type GlueTableDef, NAMED_QUERIES, rawTableName } from '../../lib/catalog';
import { glueDatabaseName } from '../../lib/config';
import { PROFILES } from '../../lib/core/profiles';
import { tablesFromAssembly } from '../../lib/local/athena/services';
import { type Assembly, type CfnTemplate, Resolver } from '../../lib/local/template';
import { synthesize } from '../cdk/helpers';

/** The synthesized stacks, read back through the runtime's one CloudFormation resolver. */
function deployedTables(overrides: Record<string, unknown>): { tables: GlueTableDef[]; bucket: string; db: string } {
  const s = synthesize(overrides);
  const templates = [
    [s.stacks.state, s.state],
    [s.stacks.analytics, s.analytics],
    [s.stacks.pipeline, s.pipeline],
  ] as const;
  const stacks = templates.map(([stack, template]) => ({
    stackName: stack.stackName,
    dir: '.',
    template: template.toJSON() as CfnTemplate,
    assets: new Map<string, string>(),
  }));
  const assembly: Assembly = { dir: '.', stacks };
  const resolver = new Resolver(assembly, {
    region: 'us-east-1',
    accountId: '000000000000',
    endpoint: 'http://127.0.0.1',
  });
  const tables = tablesFromAssembly(assembly, resolver);
  const bucket = /^s3:\/\/([^/]+)\//.exec(tables[0].location)![1];
  return { tables, bucket, db: glueDatabaseName(s.config.stage) };
}

describe.each([false, true])('the template tables are the catalog module output (parquet=%s)', (parquet) => {
  const deployed = deployedTables({ 'iot:parquet': parquet });

  test('every table, field by field', () => {
    const expected = archiveTables({
      bucketName: deployed.bucket,
      databaseName: deployed.db,
      profiles: PROFILES,
      parquet,
    });
    const byName = (ts: GlueTableDef[]) => [...ts].sort((a, b) => a.tableName.localeCompare(b.tableName));
    expect(byName(deployed.tables)).toEqual(byName(expected).map((t) => JSON.parse(JSON.stringify(t))));
  });

  test('one raw table per profile, over the archive bucket the state stack created', () => {
    const names = deployed.tables.map((t) => t.tableName);
    for (const p of PROFILES) expect(names).toContain(rawTableName(p));
    expect(names.includes('archive_schema')).toBe(parquet);
    const raw = deployed.tables.find((t) => t.tableName === 'solar_raw')!;
    expect(raw.serde).toMatch(parquet ? /Parquet/ : /JsonSerDe/);
    expect(raw.parameters?.['projection.year.range']).toBe('2024,2050');
  });
});

test('the projection range and the database follow the settings', () => {
  const [t] = archiveTables({
    bucketName: 'b',
    databaseName: 'db',
    profiles: PROFILES,
    parquet: false,
    projectionYears: { from: 2030, to: 2031 },
  });
  expect(t).toMatchObject({ databaseName: 'db', location: `s3://b/raw/profile=${PROFILES[0].name}/` });
  expect(t.parameters?.['projection.year.range']).toBe('2030,2031');
});

test('named query names are unique and kebab-case', () => {
  const names = NAMED_QUERIES.map((q) => q.name);
  expect(new Set(names).size).toBe(names.length);
  for (const n of names) expect(n).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
});
