import { PROFILES } from '../core/profiles';
import { REGISTRY_COLUMNS, REGISTRY_PREFIX, REGISTRY_TABLE } from '../simulator/device-registry';
import { QUARANTINE_COLUMNS } from '../storage/quarantine';

/**
 * A Glue table as the embedded engine needs it: the fields of an `AWS::Glue::Table` resource
 * (TableInput) with references already resolved. Plain data, so the runtime, the LocalStack mode and
 * the tests can all build one without a template parser.
 */
export interface GlueTableDef {
  readonly databaseName: string;
  readonly tableName: string;
  /** Glue (Hive) types: string, int, bigint, double, float, boolean, timestamp, date, decimal(p,s), ... */
  readonly columns: readonly GlueColumn[];
  readonly partitionKeys: readonly GlueColumn[];
  /** `s3://bucket/prefix/` */
  readonly location: string;
  /** Table parameters, including `projection.*` and `storage.location.template`. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** SerDe serialization library, e.g. `org.openx.data.jsonserde.JsonSerDe` or a Parquet SerDe. */
  readonly serde?: string;
  readonly serdeParameters?: Readonly<Record<string, string>>;
  readonly inputFormat?: string;
}

export interface GlueColumn {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

export type StorageFormat = 'json' | 'parquet';

export function storageFormat(t: GlueTableDef): StorageFormat {
  const hint = `${t.serde ?? ''} ${t.inputFormat ?? ''} ${t.parameters?.classification ?? ''}`.toLowerCase();
  if (hint.includes('parquet')) return 'parquet';
  if (hint.includes('json') || hint.trim() === '') return 'json';
  throw new Error(
    `Table ${t.databaseName}.${t.tableName}: only JSON and Parquet tables are supported (${hint.trim()})`,
  );
}

/** Glue/Hive column type to the DuckDB type the engine reads it as. */
export function duckDbType(glueType: string): string {
  const t = glueType.trim().toLowerCase();
  const simple: Record<string, string> = {
    string: 'VARCHAR',
    varchar: 'VARCHAR',
    char: 'VARCHAR',
    int: 'INTEGER',
    integer: 'INTEGER',
    bigint: 'BIGINT',
    smallint: 'SMALLINT',
    tinyint: 'TINYINT',
    double: 'DOUBLE',
    float: 'FLOAT',
    boolean: 'BOOLEAN',
    timestamp: 'TIMESTAMP',
    date: 'DATE',
    binary: 'BLOB',
  };
  if (simple[t]) return simple[t];
  if (/^(var)?char\(\d+\)$/.test(t)) return 'VARCHAR';
  const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return `DECIMAL(${dec[1]},${dec[2]})`;
  // Nested types are read as JSON text; json_extract_scalar() works on them.
  if (/^(array|map|struct)</.test(t)) return 'JSON';
  throw new Error(`Unsupported Glue column type: ${glueType}`);
}

/** `s3://bucket/prefix/` → bucket and prefix. */
export function parseS3Location(location: string): { bucket: string; prefix: string } {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(location.trim());
  if (!m) throw new Error(`Not an S3 location: ${location}`);
  const prefix = m[2] === '' || m[2].endsWith('/') ? m[2] : `${m[2]}/`;
  return { bucket: m[1], prefix };
}

export const JSON_SERDE = 'org.openx.data.jsonserde.JsonSerDe';

/**
 * The tables the stack defines, derived from the profiles and the archive layout in the team brief
 * (`raw/profile=<name>/year=/month=/day=/hour=/`, JSON, partition projection; `quarantine/` by day).
 * Used where no synthesized template is at hand (the LocalStack mode of the query tool).
 */
export function tablesFromProfiles(bucket: string, databaseName: string): GlueTableDef[] {
  const hourly = ['year', 'month', 'day', 'hour'];
  const projection = (keys: string[], template: string): Record<string, string> => {
    const p: Record<string, string> = {
      'projection.enabled': 'true',
      'storage.location.template': template,
      classification: 'json',
    };
    for (const k of keys) {
      p[`projection.${k}.type`] = 'integer';
      p[`projection.${k}.range`] = { year: '2020,2100', month: '1,12', day: '1,31', hour: '0,23' }[k] ?? '0,9999';
      if (k !== 'year') p[`projection.${k}.digits`] = '2';
    }
    return p;
  };
  const raw = PROFILES.map((profile) => {
    const location = `s3://${bucket}/raw/profile=${profile.name}/`;
    return {
      databaseName,
      tableName: `${profile.name}_raw`,
      columns: profile.archiveColumns.map((c) => ({ name: c.name.toLowerCase(), type: c.type, comment: c.comment })),
      partitionKeys: hourly.map((name) => ({ name, type: 'int' })),
      location,
      parameters: projection(hourly, `${location}${hourly.map((k) => `${k}=\${${k}}`).join('/')}/`),
      serde: JSON_SERDE,
    };
  });
  const daily = ['year', 'month', 'day'];
  const qLocation = `s3://${bucket}/quarantine/`;
  const quarantine: GlueTableDef = {
    databaseName,
    tableName: 'quarantine',
    columns: QUARANTINE_COLUMNS.map(({ name, type }) => ({ name, type })),
    partitionKeys: daily.map((name) => ({ name, type: 'int' })),
    location: qLocation,
    parameters: projection(daily, `${qLocation}${daily.map((k) => `${k}=\${${k}}`).join('/')}/`),
    serde: JSON_SERDE,
  };
  const registry: GlueTableDef = {
    databaseName,
    tableName: REGISTRY_TABLE,
    columns: REGISTRY_COLUMNS.map((c) => ({ name: c.name.toLowerCase(), type: c.type, comment: c.comment })),
    partitionKeys: [],
    location: `s3://${bucket}/${REGISTRY_PREFIX}`,
    parameters: { classification: 'json' },
    serde: JSON_SERDE,
  };
  return [...raw, quarantine, registry];
}

/**
 * Glue tables from a synthesized CloudFormation template (`cdk.out/<stack>.template.json`).
 * `resolve` turns a `{ Ref }`/`Fn::GetAtt` into its value (e.g. the archive bucket's name); `Fn::Join`
 * and `Fn::Sub` are evaluated here.
 */
export function tablesFromTemplate(template: unknown, resolve: (logicalIdOrAttr: string) => string): GlueTableDef[] {
  const resources = ((template as { Resources?: Record<string, { Type: string; Properties?: unknown }> }).Resources ??
    {}) as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  const value = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(value);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('Ref' in o) return resolve(String(o.Ref));
      if ('Fn::GetAtt' in o) return resolve((o['Fn::GetAtt'] as string[]).join('.'));
      if ('Fn::Join' in o) {
        const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
        return (value(parts) as unknown[]).join(sep);
      }
      if ('Fn::Sub' in o) {
        const arg = o['Fn::Sub'];
        const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [arg as string, {}];
        // `${!x}` is Fn::Sub's escape for a literal `${x}` (how templates write partition placeholders).
        return text.replace(/\$\{(!?)([^}]+)\}/g, (_m, bang: string, name: string) =>
          bang ? `\${${name}}` : name in vars ? String(value(vars[name])) : resolve(name),
        );
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, value(x)]));
    }
    return v;
  };
  const out: GlueTableDef[] = [];
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::Glue::Table') continue;
    const p = value(r.Properties) as {
      DatabaseName: string;
      TableInput: {
        Name: string;
        Parameters?: Record<string, string>;
        PartitionKeys?: { Name: string; Type: string }[];
        StorageDescriptor?: {
          Columns?: { Name: string; Type: string; Comment?: string }[];
          Location?: string;
          InputFormat?: string;
          SerdeInfo?: { SerializationLibrary?: string; Parameters?: Record<string, string> };
        };
      };
    };
    const sd = p.TableInput.StorageDescriptor ?? {};
    out.push({
      databaseName: p.DatabaseName,
      tableName: p.TableInput.Name,
      columns: (sd.Columns ?? []).map((c) => ({ name: c.Name.toLowerCase(), type: c.Type, comment: c.Comment })),
      partitionKeys: (p.TableInput.PartitionKeys ?? []).map((c) => ({ name: c.Name.toLowerCase(), type: c.Type })),
      location: sd.Location ?? '',
      parameters: p.TableInput.Parameters,
      serde: sd.SerdeInfo?.SerializationLibrary,
      serdeParameters: sd.SerdeInfo?.Parameters,
      inputFormat: sd.InputFormat,
    });
  }
  return out;
}
