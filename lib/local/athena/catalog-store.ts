import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { GlueColumn, GlueTableDef } from '../../catalog';

/** A partition registered in the catalog (ALTER TABLE ADD PARTITION, MSCK REPAIR, Glue CreatePartition). */
export interface PartitionDef {
  /** Values in partition-key order, as strings (Glue stores them so). */
  readonly values: readonly string[];
  /** `s3://bucket/prefix/` */
  readonly location: string;
}

export interface ViewDef {
  readonly databaseName: string;
  readonly viewName: string;
  /** The view's query, Trino text as written after `AS`. */
  readonly sql: string;
  readonly columns: readonly GlueColumn[];
}

export interface PreparedStatementDef {
  readonly workgroup: string;
  readonly name: string;
  readonly sql: string;
  readonly description?: string;
}

interface StoredCatalog {
  readonly version: 1;
  readonly databases: string[];
  readonly tables: GlueTableDef[];
  readonly partitions: Record<string, PartitionDef[]>;
  readonly views: ViewDef[];
  readonly prepared: PreparedStatementDef[];
}

const key = (database: string, name: string) => `${database.toLowerCase()}.${name.toLowerCase()}`;

/**
 * The embedded Glue Data Catalog: starts from the template's tables, then Athena DDL and the Glue API
 * change it, and every change is written to one JSON file in the data directory, so a restart keeps what
 * users created. The template's own tables are put back at every start (a dropped or altered stack table
 * comes back as a deploy would restore it on AWS); everything else stays as users left it.
 */
export class CatalogStore {
  private readonly databaseSet = new Set<string>();
  private readonly tableMap = new Map<string, GlueTableDef>();
  private readonly partitionMap = new Map<string, PartitionDef[]>();
  private readonly viewMap = new Map<string, ViewDef>();
  private readonly preparedMap = new Map<string, PreparedStatementDef>();
  /** The template's tables are not written to the file: the template is their source, at every start. */
  private readonly templateKeys = new Set<string>();

  /** @param file where the catalog persists; undefined keeps it in memory (the query tool, unit tests). */
  constructor(
    templateTables: readonly GlueTableDef[],
    private readonly file?: string,
  ) {
    this.databaseSet.add('default');
    if (file && existsSync(file)) {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredCatalog;
      for (const d of stored.databases) this.databaseSet.add(d);
      for (const t of stored.tables) this.tableMap.set(key(t.databaseName, t.tableName), t);
      for (const [k, p] of Object.entries(stored.partitions)) this.partitionMap.set(k, p);
      for (const v of stored.views) this.viewMap.set(key(v.databaseName, v.viewName), v);
      for (const p of stored.prepared ?? []) this.preparedMap.set(key(p.workgroup, p.name), p);
    }
    for (const t of templateTables) {
      this.databaseSet.add(t.databaseName);
      const k = key(t.databaseName, t.tableName);
      this.templateKeys.add(k);
      this.tableMap.set(k, t);
      this.viewMap.delete(k);
    }
    this.save();
  }

  databases(): string[] {
    return [...this.databaseSet].sort();
  }

  hasDatabase(name: string): boolean {
    return this.databaseSet.has(name.toLowerCase());
  }

  createDatabase(name: string): void {
    this.databaseSet.add(name.toLowerCase());
    this.save();
  }

  dropDatabase(name: string): void {
    this.databaseSet.delete(name.toLowerCase());
    this.save();
  }

  tables(database?: string): GlueTableDef[] {
    return [...this.tableMap.values()]
      .filter((t) => database === undefined || t.databaseName === database)
      .sort((a, b) => a.tableName.localeCompare(b.tableName));
  }

  table(database: string, name: string): GlueTableDef | undefined {
    return this.tableMap.get(key(database, name));
  }

  putTable(t: GlueTableDef): void {
    const k = key(t.databaseName, t.tableName);
    const before = this.tableMap.get(k);
    this.databaseSet.add(t.databaseName);
    this.tableMap.set(k, t);
    // A changed partition layout invalidates the registered partitions, as Glue keeps them per key list.
    if (before && before.partitionKeys.map((c) => c.name).join() !== t.partitionKeys.map((c) => c.name).join()) {
      this.partitionMap.delete(k);
    }
    this.save();
  }

  deleteTable(database: string, name: string): boolean {
    const k = key(database, name);
    const had = this.tableMap.delete(k);
    this.partitionMap.delete(k);
    this.save();
    return had;
  }

  partitions(database: string, name: string): PartitionDef[] {
    return [...(this.partitionMap.get(key(database, name)) ?? [])];
  }

  /** Adds partitions; an existing one (same values) is kept unless `replace`. Returns those added. */
  addPartitions(database: string, name: string, added: readonly PartitionDef[], replace = false): PartitionDef[] {
    const k = key(database, name);
    const list = this.partitionMap.get(k) ?? [];
    const out: PartitionDef[] = [];
    for (const p of added) {
      const at = list.findIndex((x) => x.values.join('\u0000') === p.values.join('\u0000'));
      if (at >= 0 && !replace) continue;
      if (at >= 0) list[at] = p;
      else list.push(p);
      out.push(p);
    }
    this.partitionMap.set(k, list);
    this.save();
    return out;
  }

  dropPartitions(database: string, name: string, values: readonly (readonly string[])[]): number {
    const k = key(database, name);
    const list = this.partitionMap.get(k) ?? [];
    const drop = new Set(values.map((v) => v.join('\u0000')));
    const kept = list.filter((p) => !drop.has(p.values.join('\u0000')));
    this.partitionMap.set(k, kept);
    this.save();
    return list.length - kept.length;
  }

  views(database?: string): ViewDef[] {
    return [...this.viewMap.values()].filter((v) => database === undefined || v.databaseName === database);
  }

  view(database: string, name: string): ViewDef | undefined {
    return this.viewMap.get(key(database, name));
  }

  putView(v: ViewDef): void {
    this.databaseSet.add(v.databaseName);
    this.viewMap.set(key(v.databaseName, v.viewName), v);
    this.save();
  }

  deleteView(database: string, name: string): boolean {
    const had = this.viewMap.delete(key(database, name));
    this.save();
    return had;
  }

  prepared(workgroup: string, name: string): PreparedStatementDef | undefined {
    return this.preparedMap.get(key(workgroup, name));
  }

  preparedStatements(workgroup: string): PreparedStatementDef[] {
    return [...this.preparedMap.values()].filter((p) => p.workgroup === workgroup);
  }

  putPrepared(p: PreparedStatementDef): void {
    this.preparedMap.set(key(p.workgroup, p.name), p);
    this.save();
  }

  deletePrepared(workgroup: string, name: string): boolean {
    const had = this.preparedMap.delete(key(workgroup, name));
    this.save();
    return had;
  }

  /** Written whole, to a temporary file renamed over the old one: a crash never leaves half a catalog. */
  private save(): void {
    if (!this.file) return;
    const stored: StoredCatalog = {
      version: 1,
      databases: this.databases(),
      tables: [...this.tableMap.entries()].filter(([k]) => !this.templateKeys.has(k)).map(([, t]) => t),
      partitions: Object.fromEntries(this.partitionMap),
      views: [...this.viewMap.values()],
      prepared: [...this.preparedMap.values()],
    };
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(stored, null, 1)}\n`);
    renameSync(tmp, this.file);
  }
}
