import { type GlueTableDef, JSON_SERDE, storageFormat } from '../../catalog';
import { type JsonProtocolService, ServiceError } from '../service';

const notFound = (message: string) => new ServiceError('EntityNotFoundException', message);

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

/** The Glue Data Catalog reads the tools use (GetDatabase(s), GetTable(s)), from the stack's table definitions. */
export class GlueService implements JsonProtocolService {
  readonly targetPrefixes = ['AWSGlue'];
  private readonly created = Date.now() / 1000;

  constructor(private readonly tables: readonly GlueTableDef[]) {}

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'GetDatabase':
        return { Database: this.database(String(input.Name ?? '')) };
      case 'GetDatabases':
        return { DatabaseList: this.databaseNames().map((n) => this.database(n)) };
      case 'GetTable': {
        const db = this.database(String(input.DatabaseName ?? ''));
        const t = this.tables.find((x) => x.databaseName === db.Name && x.tableName === input.Name);
        if (!t) throw notFound(`Table ${String(input.Name)} not found.`);
        return { Table: this.describe(t) };
      }
      case 'GetTables': {
        const db = this.database(String(input.DatabaseName ?? ''));
        const pattern =
          typeof input.Expression === 'string' && input.Expression !== '' ? glob(input.Expression) : undefined;
        return {
          TableList: this.tables
            .filter((t) => t.databaseName === db.Name && (!pattern || pattern.test(t.tableName)))
            .map((t) => this.describe(t)),
        };
      }
      default:
        throw new ServiceError(
          'UnknownOperationException',
          `Operation ${operation} is not supported by the embedded Glue`,
        );
    }
  }

  async close(): Promise<void> {}

  private databaseNames(): string[] {
    return [...new Set(this.tables.map((t) => t.databaseName))].sort();
  }

  private database(name: string) {
    if (!this.databaseNames().includes(name)) throw notFound(`Database ${name} not found.`);
    return { Name: name, CatalogId: '000000000000', CreateTime: this.created };
  }

  private describe(t: GlueTableDef) {
    const format = storageFormat(t);
    return {
      Name: t.tableName,
      DatabaseName: t.databaseName,
      CatalogId: '000000000000',
      TableType: 'EXTERNAL_TABLE',
      CreateTime: this.created,
      Parameters: { EXTERNAL: 'TRUE', ...(t.parameters ?? {}) },
      PartitionKeys: t.partitionKeys.map((c) => ({ Name: c.name, Type: c.type })),
      StorageDescriptor: {
        Columns: t.columns.map((c) => ({ Name: c.name, Type: c.type, ...(c.comment ? { Comment: c.comment } : {}) })),
        Location: t.location,
        InputFormat: t.inputFormat ?? FORMATS[format].InputFormat,
        OutputFormat: FORMATS[format].OutputFormat,
        Compressed: false,
        SerdeInfo: {
          SerializationLibrary:
            t.serde ?? (format === 'json' ? JSON_SERDE : 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'),
          Parameters: t.serdeParameters ?? {},
        },
      },
    };
  }
}

/** Glue's GetTables Expression is a regular-expression-like pattern where `*` matches anything. */
function glob(expression: string): RegExp {
  const parts = expression.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^(${parts.join('.*')})$`);
}
