import { type CfnGlueTableProperties, type GlueTableDef, JSON_SERDE, storageFormat, tableFromCfn } from '../../catalog';
import { type JsonProtocolService, ServiceError } from '../service';
import type { CatalogStore, PartitionDef, ViewDef } from './catalog-store';

const notFound = (message: string) => new ServiceError('EntityNotFoundException', message);
const invalidInput = (message: string) => new ServiceError('InvalidInputException', message);
const CATALOG_ID = '000000000000';

const FORMATS = {
  json: {
    InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
    OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  },
  parquet: {
    InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  },
} as const;

type TableInput = CfnGlueTableProperties['TableInput'] & { TableType?: string };

/**
 * The Glue Data Catalog API over the embedded catalog, the same one Athena DDL changes: databases,
 * tables (Athena views show as VIRTUAL_VIEW) and partitions, persisted by the catalog store.
 */
export class GlueService implements JsonProtocolService {
  readonly targetPrefixes = ['AWSGlue'];
  private readonly created = Date.now() / 1000;

  constructor(private readonly catalog: CatalogStore) {}

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    const dbName = () => this.database(String(input.DatabaseName ?? '')).Name;
    switch (operation) {
      case 'GetDatabase':
        return { Database: this.database(String(input.Name ?? '')) };
      case 'GetDatabases':
        return { DatabaseList: this.catalog.databases().map((n) => this.database(n)) };
      case 'CreateDatabase': {
        const name = String((input.DatabaseInput as { Name?: string } | undefined)?.Name ?? '');
        if (!/^[a-z0-9_]{1,255}$/i.test(name)) throw invalidInput(`Database name ${name} is not valid`);
        if (this.catalog.hasDatabase(name))
          throw new ServiceError('AlreadyExistsException', `Database already exists.`);
        this.catalog.createDatabase(name);
        return {};
      }
      case 'DeleteDatabase': {
        const name = this.database(String(input.Name ?? '')).Name;
        for (const t of this.catalog.tables(name)) this.catalog.deleteTable(name, t.tableName);
        for (const v of this.catalog.views(name)) this.catalog.deleteView(name, v.viewName);
        this.catalog.dropDatabase(name);
        return {};
      }
      case 'GetTable': {
        const db = dbName();
        return { Table: this.describeAny(db, String(input.Name ?? '')) };
      }
      case 'GetTables': {
        const db = dbName();
        const pattern =
          typeof input.Expression === 'string' && input.Expression !== '' ? glob(input.Expression) : undefined;
        const all = [
          ...this.catalog.tables(db).map((t) => this.describe(t)),
          ...this.catalog.views(db).map((v) => this.describeView(v)),
        ].sort((a, b) => a.Name.localeCompare(b.Name));
        return { TableList: all.filter((t) => !pattern || pattern.test(t.Name)) };
      }
      case 'CreateTable':
      case 'UpdateTable': {
        const db = dbName();
        const table = this.tableInput(db, input.TableInput);
        const exists = this.catalog.table(db, table.tableName) ?? this.catalog.view(db, table.tableName);
        if (operation === 'CreateTable' && exists)
          throw new ServiceError('AlreadyExistsException', `Table already exists.`);
        if (operation === 'UpdateTable' && !this.catalog.table(db, table.tableName))
          throw notFound(`Table ${table.tableName} not found.`);
        this.catalog.putTable(table);
        if (operation === 'CreateTable' && Array.isArray(input.PartitionIndexes) && input.PartitionIndexes.length > 0) {
          // Partition indexes only speed up GetPartitions on AWS; nothing to keep here.
        }
        return {};
      }
      case 'DeleteTable': {
        const db = dbName();
        const name = String(input.Name ?? '');
        if (!this.catalog.deleteTable(db, name) && !this.catalog.deleteView(db, name))
          throw notFound(`Table ${name} not found.`);
        return {};
      }
      case 'BatchDeleteTable': {
        const db = dbName();
        const names = (input.TablesToDelete as string[] | undefined) ?? [];
        const errors = names
          .filter((n) => !this.catalog.deleteTable(db, n) && !this.catalog.deleteView(db, n))
          .map((n) => ({
            TableName: n,
            ErrorDetail: { ErrorCode: 'EntityNotFoundException', ErrorMessage: `Table ${n} not found.` },
          }));
        return { Errors: errors };
      }
      case 'GetPartitions': {
        const t = this.table(dbName(), String(input.TableName ?? ''));
        return { Partitions: this.catalog.partitions(t.databaseName, t.tableName).map((p) => this.partition(t, p)) };
      }
      case 'GetPartition': {
        const t = this.table(dbName(), String(input.TableName ?? ''));
        const values = (input.PartitionValues as string[] | undefined) ?? [];
        const p = this.catalog
          .partitions(t.databaseName, t.tableName)
          .find((x) => x.values.join('\u0000') === values.join('\u0000'));
        if (!p) throw notFound('Partition not found.');
        return { Partition: this.partition(t, p) };
      }
      case 'CreatePartition':
      case 'BatchCreatePartition': {
        const t = this.table(dbName(), String(input.TableName ?? ''));
        const inputs = (
          operation === 'CreatePartition' ? [input.PartitionInput] : ((input.PartitionInputList as unknown[]) ?? [])
        ) as { Values?: string[]; StorageDescriptor?: { Location?: string } }[];
        const existing = new Set(
          this.catalog.partitions(t.databaseName, t.tableName).map((p) => p.values.join('\u0000')),
        );
        const errors: unknown[] = [];
        const add: PartitionDef[] = [];
        for (const p of inputs) {
          const values = p.Values ?? [];
          if (values.length !== t.partitionKeys.length) {
            const message = `The number of partition keys do not match the number of partition values`;
            if (operation === 'CreatePartition') throw invalidInput(message);
            errors.push({
              PartitionValues: values,
              ErrorDetail: { ErrorCode: 'InvalidInputException', ErrorMessage: message },
            });
            continue;
          }
          if (existing.has(values.join('\u0000'))) {
            if (operation === 'CreatePartition')
              throw new ServiceError('AlreadyExistsException', 'Partition already exists.');
            errors.push({
              PartitionValues: values,
              ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'Partition already exists.' },
            });
            continue;
          }
          const location =
            p.StorageDescriptor?.Location ??
            `${t.location}${t.partitionKeys.map((k, i) => `${k.name}=${values[i]}`).join('/')}/`;
          add.push({ values, location: location.endsWith('/') ? location : `${location}/` });
        }
        this.catalog.addPartitions(t.databaseName, t.tableName, add);
        return operation === 'CreatePartition' ? {} : { Errors: errors };
      }
      case 'DeletePartition': {
        const t = this.table(dbName(), String(input.TableName ?? ''));
        if (this.catalog.dropPartitions(t.databaseName, t.tableName, [(input.PartitionValues as string[]) ?? []]) === 0)
          throw notFound('Partition not found.');
        return {};
      }
      default:
        throw new ServiceError(
          'UnknownOperationException',
          `Operation ${operation} is not supported by the embedded Glue`,
        );
    }
  }

  async close(): Promise<void> {}

  private database(name: string) {
    if (!this.catalog.hasDatabase(name)) throw notFound(`Database ${name} not found.`);
    return { Name: name.toLowerCase(), CatalogId: CATALOG_ID, CreateTime: this.created };
  }

  private table(db: string, name: string): GlueTableDef {
    const t = this.catalog.table(db, name);
    if (!t) throw notFound(`Table ${name} not found.`);
    return t;
  }

  private describeAny(db: string, name: string) {
    const t = this.catalog.table(db, name);
    if (t) return this.describe(t);
    const v = this.catalog.view(db, name);
    if (v) return this.describeView(v);
    throw notFound(`Table ${name} not found.`);
  }

  /** A Glue TableInput to a table definition; the engine must be able to read what it accepts. */
  private tableInput(db: string, raw: unknown): GlueTableDef {
    const input = (raw ?? {}) as TableInput;
    if (!input.Name || !/^[a-z0-9_]{1,255}$/i.test(input.Name))
      throw invalidInput(`Table name ${String(input.Name)} is not valid`);
    if (input.TableType === 'VIRTUAL_VIEW')
      throw invalidInput('Views are created with Athena CREATE VIEW here (the Presto view encoding is not emulated)');
    const table = tableFromCfn({ DatabaseName: db, TableInput: { ...input, Name: input.Name.toLowerCase() } });
    if (!/^s3a?:\/\/[^/]+/.test(table.location))
      throw invalidInput(`StorageDescriptor.Location must be an s3:// URI (${table.location || 'none'})`);
    try {
      storageFormat(table);
    } catch (err) {
      throw invalidInput(`${(err as Error).message}: the embedded engine reads JSON SerDe and Parquet tables`);
    }
    return { ...table, location: table.location.endsWith('/') ? table.location : `${table.location}/` };
  }

  private describe(t: GlueTableDef) {
    const format = storageFormat(t);
    return {
      Name: t.tableName,
      DatabaseName: t.databaseName,
      CatalogId: CATALOG_ID,
      TableType: 'EXTERNAL_TABLE',
      CreateTime: this.created,
      ...(t.description ? { Description: t.description } : {}),
      Parameters: { EXTERNAL: 'TRUE', ...(t.parameters ?? {}) },
      PartitionKeys: t.partitionKeys.map((c) => ({ Name: c.name, Type: c.type })),
      StorageDescriptor: {
        Columns: t.columns.map((c) => ({ Name: c.name, Type: c.type, ...(c.comment ? { Comment: c.comment } : {}) })),
        Location: t.location,
        InputFormat: t.inputFormat ?? FORMATS[format].InputFormat,
        OutputFormat: t.outputFormat ?? FORMATS[format].OutputFormat,
        Compressed: false,
        SerdeInfo: {
          SerializationLibrary:
            t.serde ?? (format === 'json' ? JSON_SERDE : 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'),
          Parameters: t.serdeParameters ?? {},
        },
      },
    };
  }

  private describeView(v: ViewDef) {
    return {
      Name: v.viewName,
      DatabaseName: v.databaseName,
      CatalogId: CATALOG_ID,
      TableType: 'VIRTUAL_VIEW',
      CreateTime: this.created,
      Parameters: { presto_view: 'true', comment: 'Presto View' },
      ViewExpandedText: '/* Presto View */',
      ViewOriginalText: v.sql,
      PartitionKeys: [],
      StorageDescriptor: { Columns: v.columns.map((c) => ({ Name: c.name, Type: c.type })) },
    };
  }

  private partition(t: GlueTableDef, p: PartitionDef) {
    const d = this.describe(t);
    return {
      Values: p.values,
      DatabaseName: t.databaseName,
      TableName: t.tableName,
      CatalogId: CATALOG_ID,
      CreationTime: this.created,
      StorageDescriptor: { ...d.StorageDescriptor, Location: p.location },
    };
  }
}

/** Glue's GetTables Expression is a regular-expression-like pattern where `*` matches anything. */
function glob(expression: string): RegExp {
  const parts = expression.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^(${parts.join('.*')})$`);
}
