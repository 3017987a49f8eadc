import type { GlueColumn } from '../../catalog';
import { SqlSyntaxError, type Token, tokenize } from './sql-tokens';
import { UnsupportedSqlError } from './unsupported-sql';

/**
 * Athena's DDL and utility statements (Hive DDL for external tables, Trino for CTAS, views, INSERT,
 * EXPLAIN, PREPARE/EXECUTE), parsed into plain data for the engine to apply to the catalog. Hand-written
 * over the shared tokenizer: no maintained package parses Athena's mix of Hive and Trino DDL.
 * A statement this does not recognise is a query (`undefined`), left to the Trino→DuckDB translator.
 */
export interface QualifiedName {
  readonly database?: string;
  readonly name: string;
}

export interface PartitionSpec {
  /** Partition column → value, as written in `PARTITION (k = 'v', ...)`. */
  readonly values: Readonly<Record<string, string>>;
  readonly location?: string;
}

export type Statement =
  | ({ readonly kind: 'createTable' } & CreateTable)
  | ({ readonly kind: 'ctas' } & Ctas)
  | ({ readonly kind: 'insert'; readonly select: string; readonly columns?: readonly string[] } & QualifiedName)
  | ({ readonly kind: 'createView'; readonly orReplace: boolean; readonly select: string } & QualifiedName)
  | ({
      readonly kind: 'drop';
      readonly what: 'table' | 'view';
      readonly ifExists: boolean;
    } & QualifiedName)
  | { readonly kind: 'createDatabase'; readonly name: string; readonly ifNotExists: boolean }
  | { readonly kind: 'dropDatabase'; readonly name: string; readonly ifExists: boolean; readonly cascade: boolean }
  | ({
      readonly kind: 'addPartitions';
      readonly ifNotExists: boolean;
      readonly partitions: readonly PartitionSpec[];
    } & QualifiedName)
  | ({
      readonly kind: 'dropPartitions';
      readonly ifExists: boolean;
      readonly partitions: readonly PartitionSpec[];
    } & QualifiedName)
  | ({ readonly kind: 'msck' } & QualifiedName)
  | ({ readonly kind: 'showCreate'; readonly what: 'table' | 'view' } & QualifiedName)
  | ({ readonly kind: 'showPartitions' } & QualifiedName)
  | ({ readonly kind: 'showTblProperties' } & QualifiedName)
  | { readonly kind: 'showTables'; readonly database?: string; readonly pattern?: string }
  | { readonly kind: 'showViews'; readonly database?: string; readonly pattern?: string }
  | { readonly kind: 'explain'; readonly analyze: boolean; readonly query: string }
  | { readonly kind: 'prepare'; readonly name: string; readonly sql: string }
  | { readonly kind: 'execute'; readonly name: string; readonly using: readonly string[] }
  | { readonly kind: 'deallocate'; readonly name: string };

export interface CreateTable extends QualifiedName {
  readonly external: boolean;
  readonly ifNotExists: boolean;
  readonly columns: readonly GlueColumn[];
  readonly partitionKeys: readonly GlueColumn[];
  readonly comment?: string;
  readonly serde?: string;
  readonly serdeProperties: Readonly<Record<string, string>>;
  /** `STORED AS <format>` */
  readonly storedAs?: string;
  readonly inputFormat?: string;
  readonly outputFormat?: string;
  /** Hive `ROW FORMAT DELIMITED ...` (not supported: refused by the engine with its reason). */
  readonly delimited: boolean;
  readonly location?: string;
  readonly tblProperties: Readonly<Record<string, string>>;
}

export interface Ctas extends QualifiedName {
  readonly ifNotExists: boolean;
  /** `WITH (format = 'PARQUET', external_location = ..., partitioned_by = ARRAY[...], ...)` */
  readonly properties: Readonly<Record<string, string | readonly string[]>>;
  readonly select: string;
  readonly withData: boolean;
}

const ALTER_SUPPORTED =
  'ALTER TABLE supports ADD PARTITION and DROP PARTITION here; change columns or properties with the Glue UpdateTable API';

/** Parses an Athena DDL/utility statement, or returns undefined for a query (SELECT, WITH, VALUES, SHOW ..., DESCRIBE). */
export function parseStatement(sql: string): Statement | undefined {
  const all = tokenize(sql);
  const toks = all.filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
  while (toks.length > 0 && toks[toks.length - 1].kind === 'punct' && toks[toks.length - 1].text === ';') toks.pop();
  const c = new Cursor(sql, toks);
  if (c.word('create')) {
    const orReplace = c.words('or', 'replace');
    if (c.word('view')) return { kind: 'createView', orReplace, ...c.name(), select: c.rest('as') };
    if (c.word('database') || c.word('schema')) {
      const ifNotExists = c.words('if', 'not', 'exists');
      return { kind: 'createDatabase', ifNotExists, name: c.ident() };
    }
    const external = c.word('external');
    c.expect('table');
    const ifNotExists = c.words('if', 'not', 'exists');
    const name = c.name();
    if (!c.peekPunct('(') || c.isCtasAfterColumns()) return ctas(c, name, ifNotExists, external);
    return createTable(c, name, ifNotExists, external);
  }
  if (c.word('drop')) {
    if (c.word('database') || c.word('schema')) {
      const ifExists = c.words('if', 'exists');
      const name = c.ident();
      const cascade = c.word('cascade');
      c.word('restrict');
      return { kind: 'dropDatabase', name, ifExists, cascade };
    }
    const what = c.word('view') ? 'view' : c.expectWord('table');
    const ifExists = c.words('if', 'exists');
    return { kind: 'drop', what, ifExists, ...c.name() };
  }
  if (c.word('insert')) {
    c.expect('into');
    const name = c.name();
    let columns: string[] | undefined;
    if (c.peekPunct('(') && !c.peekWordAt(1, 'select', 'with', 'values')) {
      columns = c.list(() => c.ident());
    }
    return { kind: 'insert', ...name, columns, select: c.rest() };
  }
  if (c.word('alter')) {
    c.expect('table');
    const name = c.name();
    if (c.word('add')) {
      const ifNotExists = c.words('if', 'not', 'exists');
      const partitions: PartitionSpec[] = [];
      while (c.word('partition')) partitions.push(partitionSpec(c, true));
      if (partitions.length === 0) throw new UnsupportedSqlError(ALTER_SUPPORTED);
      c.end();
      return { kind: 'addPartitions', ...name, ifNotExists, partitions };
    }
    if (c.word('drop')) {
      const ifExists = c.words('if', 'exists');
      const partitions: PartitionSpec[] = [];
      do {
        c.expect('partition');
        partitions.push(partitionSpec(c, false));
      } while (c.punct(','));
      c.end();
      return { kind: 'dropPartitions', ...name, ifExists, partitions };
    }
    throw new UnsupportedSqlError(ALTER_SUPPORTED);
  }
  if (c.word('msck')) {
    c.expect('repair');
    c.expect('table');
    const name = c.name();
    c.end();
    return { kind: 'msck', ...name };
  }
  if (c.word('show')) {
    if (c.word('create')) {
      const what = c.word('view') ? 'view' : c.expectWord('table');
      const name = c.name();
      c.end();
      return { kind: 'showCreate', what, ...name };
    }
    if (c.word('partitions')) {
      const name = c.name();
      c.end();
      return { kind: 'showPartitions', ...name };
    }
    if (c.word('tblproperties')) {
      const name = c.name();
      return { kind: 'showTblProperties', ...name };
    }
    const tables = c.word('tables');
    if (tables || c.word('views')) {
      const database = c.word('in') || c.word('from') ? c.ident() : undefined;
      c.word('like');
      const pattern = c.optionalString();
      c.end();
      return { kind: tables ? 'showTables' : 'showViews', database, pattern };
    }
    return undefined;
  }
  if (c.word('explain')) {
    const analyze = c.word('analyze');
    c.word('verbose');
    if (c.peekPunct('(') && !c.peekWordAt(1, 'select', 'with', 'values')) {
      // EXPLAIN (TYPE LOGICAL|DISTRIBUTED|VALIDATE|IO, FORMAT TEXT|GRAPHVIZ|JSON): DuckDB has one plan shape.
      c.list(() => c.skipUntilCommaOrClose());
    }
    return { kind: 'explain', analyze, query: c.rest() };
  }
  if (c.word('prepare')) {
    const name = c.ident();
    c.expect('from');
    return { kind: 'prepare', name, sql: c.rest() };
  }
  if (c.word('execute')) {
    const name = c.ident();
    const using: string[] = [];
    if (c.word('using')) using.push(...c.restSplitTopLevel());
    return { kind: 'execute', name, using };
  }
  if (c.word('deallocate')) {
    c.expect('prepare');
    const name = c.ident();
    c.end();
    return { kind: 'deallocate', name };
  }
  return undefined;
}

function createTable(c: Cursor, name: QualifiedName, ifNotExists: boolean, external: boolean): Statement {
  const columns = c.list(() => c.column());
  const out: {
    -readonly [K in keyof CreateTable]?: CreateTable[K];
  } = { serdeProperties: {}, tblProperties: {}, partitionKeys: [], delimited: false };
  while (!c.done()) {
    if (c.word('comment')) out.comment = c.string();
    else if (c.words('partitioned', 'by')) out.partitionKeys = c.list(() => c.column());
    else if (c.words('clustered', 'by'))
      throw new UnsupportedSqlError('CLUSTERED BY (bucketing) is not supported by the embedded engine');
    else if (c.words('row', 'format')) {
      if (c.word('serde')) {
        out.serde = c.string();
        if (c.words('with', 'serdeproperties')) out.serdeProperties = c.properties();
      } else if (c.word('delimited')) {
        out.delimited = true;
        while (!c.done() && !c.peekWord('stored', 'location', 'tblproperties', 'comment')) c.skip();
      } else throw new SqlSyntaxError("Expected SERDE or DELIMITED after 'ROW FORMAT'");
    } else if (c.words('with', 'serdeproperties')) out.serdeProperties = c.properties();
    else if (c.words('stored', 'as')) {
      if (c.word('inputformat')) {
        out.inputFormat = c.string();
        c.expect('outputformat');
        out.outputFormat = c.string();
      } else out.storedAs = c.ident().toUpperCase();
    } else if (c.word('location')) out.location = c.string();
    else if (c.word('tblproperties')) out.tblProperties = c.properties();
    else throw new SqlSyntaxError(`line 1:${c.pos() + 1}: mismatched input '${c.peekText()}'`);
  }
  return { kind: 'createTable', ...(out as Omit<CreateTable, 'columns'>), ...name, ifNotExists, external, columns };
}

function ctas(c: Cursor, name: QualifiedName, ifNotExists: boolean, external: boolean): Statement {
  if (external)
    throw new SqlSyntaxError(
      'CREATE EXTERNAL TABLE ... AS is not valid: use CREATE TABLE ... WITH (external_location = ...) AS',
    );
  let properties: Record<string, string | string[]> = {};
  if (c.word('with')) properties = c.ctasProperties();
  const rest = c.rest('as');
  // `AS (SELECT ...) WITH [NO] DATA` or `AS SELECT ... WITH NO DATA`
  const m = /\bwith\s+(no\s+)?data\s*;?\s*$/i.exec(rest);
  const select = m ? rest.slice(0, m.index) : rest;
  return { kind: 'ctas', ...name, ifNotExists, properties, select, withData: !m?.[1] };
}

function partitionSpec(c: Cursor, withLocation: boolean): PartitionSpec {
  const values: Record<string, string> = {};
  c.list(() => {
    const k = c.ident();
    c.op('=');
    values[k] = c.literal();
  });
  const location = withLocation && c.word('location') ? c.string() : undefined;
  return { values, ...(location ? { location } : {}) };
}

class Cursor {
  private i = 0;

  constructor(
    private readonly sql: string,
    private readonly toks: readonly Token[],
  ) {}

  done(): boolean {
    return this.i >= this.toks.length;
  }

  pos(): number {
    return this.toks[this.i]?.pos ?? this.sql.length;
  }

  peekText(): string {
    return this.toks[this.i]?.text ?? '<EOF>';
  }

  peekWord(...w: string[]): boolean {
    const t = this.toks[this.i];
    return t?.kind === 'ident' && w.includes(t.value);
  }

  peekWordAt(offset: number, ...w: string[]): boolean {
    const t = this.toks[this.i + offset];
    return t?.kind === 'ident' && w.includes(t.value);
  }

  peekPunct(p: string): boolean {
    const t = this.toks[this.i];
    return t?.kind === 'punct' && t.text === p;
  }

  word(w: string): boolean {
    if (!this.peekWord(w)) return false;
    this.i++;
    return true;
  }

  /** All the words in sequence, or none consumed. */
  words(...w: string[]): boolean {
    for (const [k, x] of w.entries()) {
      const t = this.toks[this.i + k];
      if (!(t?.kind === 'ident' && t.value === x)) return false;
    }
    this.i += w.length;
    return true;
  }

  expectWord<W extends string>(w: W): W {
    this.expect(w);
    return w;
  }

  expect(w: string): void {
    if (!this.word(w)) this.fail(`'${w.toUpperCase()}'`);
  }

  punct(p: string): boolean {
    if (!this.peekPunct(p)) return false;
    this.i++;
    return true;
  }

  op(o: string): void {
    const t = this.toks[this.i];
    if (!(t?.kind === 'op' && t.text === o)) this.fail(`'${o}'`);
    this.i++;
  }

  skip(): void {
    this.i++;
  }

  end(): void {
    if (!this.done()) this.fail('end of statement');
  }

  ident(): string {
    const t = this.toks[this.i];
    if (!t || (t.kind !== 'ident' && t.kind !== 'qident')) this.fail('an identifier');
    this.i++;
    return t.value;
  }

  /** `name`, `db.name` or `catalog.db.name` (the catalog must be awsdatacatalog). */
  name(): QualifiedName {
    const parts = [this.ident()];
    while (this.punct('.')) parts.push(this.ident());
    if (parts.length > 3 || (parts.length === 3 && parts[0] !== 'awsdatacatalog'))
      throw new UnsupportedSqlError(`Catalog ${parts[0]} does not exist: the embedded catalog is awsdatacatalog`);
    const name = parts[parts.length - 1];
    return parts.length > 1 ? { database: parts[parts.length - 2], name } : { name };
  }

  string(): string {
    const t = this.toks[this.i];
    if (t?.kind !== 'string') this.fail('a string literal');
    this.i++;
    return t.value;
  }

  optionalString(): string | undefined {
    return this.toks[this.i]?.kind === 'string' ? this.string() : undefined;
  }

  /** A partition value: string or number literal (or a bare word such as true). */
  literal(): string {
    const t = this.toks[this.i];
    if (!t || !['string', 'number', 'ident'].includes(t.kind)) this.fail('a literal');
    this.i++;
    return t.value;
  }

  /** `( item, item, ... )` */
  list<T>(item: () => T): T[] {
    if (!this.punct('(')) this.fail("'('");
    const out: T[] = [];
    if (this.punct(')')) return out;
    do out.push(item());
    while (this.punct(','));
    if (!this.punct(')')) this.fail("',' or ')'");
    return out;
  }

  skipUntilCommaOrClose(): void {
    let depth = 0;
    while (!this.done()) {
      if (depth === 0 && (this.peekPunct(',') || this.peekPunct(')'))) return;
      if (this.peekPunct('(')) depth++;
      if (this.peekPunct(')')) depth--;
      this.i++;
    }
  }

  /** `name type [COMMENT '...']`; the type is the source text up to the next top-level `,` or `)`. */
  column(): GlueColumn {
    const name = this.ident();
    const start = this.pos();
    let depth = 0;
    let end = start;
    while (!this.done()) {
      const t = this.toks[this.i];
      if (depth === 0 && (this.peekPunct(',') || this.peekPunct(')') || this.peekWord('comment'))) break;
      if (t.kind === 'op' && t.text === '<') depth++;
      if (t.kind === 'op' && t.text === '>') depth--;
      if (this.peekPunct('(')) depth++;
      if (this.peekPunct(')')) depth--;
      end = t.pos + t.text.length;
      this.i++;
    }
    const type = this.sql.slice(start, end).replace(/\s+/g, '').toLowerCase();
    if (type === '') this.fail('a column type');
    const comment = this.word('comment') ? this.string() : undefined;
    return { name, type, ...(comment !== undefined ? { comment } : {}) };
  }

  /** `('k' = 'v', ...)` */
  properties(): Record<string, string> {
    const out: Record<string, string> = {};
    this.list(() => {
      const k = this.string();
      this.op('=');
      out[k] = this.string();
    });
    return out;
  }

  /** Trino table properties: `(name = 'v', name = ARRAY['a', 'b'], name = 5)` */
  ctasProperties(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    this.list(() => {
      const k = this.ident();
      this.op('=');
      if (this.word('array')) {
        if (!this.punct('[')) this.fail("'['");
        const values: string[] = [];
        if (!this.punct(']')) {
          do values.push(this.string().toLowerCase());
          while (this.punct(','));
          if (!this.punct(']')) this.fail("']'");
        }
        out[k] = values;
      } else out[k] = this.literal();
    });
    return out;
  }

  /** The source text from the current token (after the optional keyword `after`) to the end. */
  rest(after?: string): string {
    if (after) this.expect(after);
    if (this.done()) this.fail('a query');
    const text = this.sql.slice(this.pos()).trim().replace(/;\s*$/, '');
    this.i = this.toks.length;
    return text;
  }

  /** The rest split at top-level commas (EXECUTE ... USING a, b). */
  restSplitTopLevel(): string[] {
    const out: string[] = [];
    while (!this.done()) {
      const start = this.pos();
      this.skipUntilCommaOrClose();
      const end = this.done() ? this.sql.length : this.pos();
      out.push(this.sql.slice(start, end).trim().replace(/;\s*$/, ''));
      if (!this.punct(',')) break;
    }
    return out;
  }

  /** CREATE TABLE t (cols) ... vs CREATE TABLE t WITH (...) AS / CREATE TABLE t AS: a CTAS has no column list. */
  isCtasAfterColumns(): boolean {
    return false;
  }

  private fail(what: string): never {
    throw new SqlSyntaxError(`line 1:${this.pos() + 1}: mismatched input '${this.peekText()}'. Expecting: ${what}`);
  }
}
