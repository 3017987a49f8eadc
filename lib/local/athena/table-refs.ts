import { isPunct, isWord, SqlSyntaxError, skipWs, skipWsBack, type Token, tokenize } from './sql-tokens';

/**
 * Finds where a query reads catalog tables, and the WHERE conjuncts that restrict each read to some
 * partitions. The engine lists only the S3 prefixes those conjuncts allow, which is what Athena's
 * partition projection does, and why a query restricted to one day reads one day.
 *
 * Soundness over cleverness: a conjunct is used for pruning only when it is ANDed into the WHERE clause
 * of the SELECT that scans the table directly, references nothing but that table's partition columns,
 * and the table is not on the nullable side of an outer join. Anything else reads all partitions.
 */
export interface TableRef {
  /** Token index range of the table name as written (`t`, `db.t`, `"db"."t"`, `awsdatacatalog.db.t`). */
  readonly start: number;
  readonly end: number;
  readonly database?: string;
  readonly table: string;
  /** The alias written after the table, if any. */
  readonly alias?: string;
  /** WHERE conjuncts (Trino text, qualifiers stripped) usable to prune this table's partitions. */
  readonly partitionConjuncts: readonly { readonly sql: string; readonly columns: readonly string[] }[];
}

const CLAUSE_END = new Set([
  'where',
  'group',
  'order',
  'having',
  'limit',
  'union',
  'except',
  'intersect',
  'window',
  'offset',
  'fetch',
  'select',
  'on',
  'using',
]);
const NOT_ALIAS = new Set([
  ...CLAUSE_END,
  'join',
  'cross',
  'left',
  'right',
  'inner',
  'full',
  'outer',
  'natural',
  'tablesample',
  'as',
]);
const NON_COLUMN_WORDS = new Set([
  'and',
  'or',
  'not',
  'between',
  'in',
  'is',
  'null',
  'true',
  'false',
  'like',
  'escape',
  'case',
  'when',
  'then',
  'else',
  'end',
  'distinct',
  'from',
  'current_date',
  'current_timestamp',
]);

export function findTableRefs(
  sql: string,
  isTable: (database: string | undefined, table: string) => boolean,
): { tokens: Token[]; refs: TableRef[] } {
  const tokens = tokenize(sql);
  const ctes = cteNames(tokens);
  const refs: TableRef[] = [];
  const depthAt: number[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    depthAt[i] = depth;
    if (isPunct(tokens[i], '(')) depth++;
    else if (isPunct(tokens[i], ')')) depth--;
  }
  // state per depth: inside a FROM list or not
  const inFrom: boolean[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const d = depthAt[i];
    if (isPunct(t, '(')) inFrom[d + 1] = false;
    if (isWord(t, 'from', 'join')) inFrom[d] = true;
    else if (t.kind === 'ident' && CLAUSE_END.has(t.value)) inFrom[d] = false;
    if (!(t.kind === 'ident' || t.kind === 'qident') || !inFrom[d]) continue;
    const prev = tokens[skipWsBack(tokens, i - 1)];
    if (!(isWord(prev, 'from', 'join') || isPunct(prev, ','))) continue;
    if (t.kind === 'ident' && (NOT_ALIAS.has(t.value) || t.value === 'unnest' || t.value === 'lateral')) continue;
    // Qualified name: up to three parts.
    const parts = [t.value];
    let end = i + 1;
    while (isPunct(tokens[end], '.') && (tokens[end + 1]?.kind === 'ident' || tokens[end + 1]?.kind === 'qident')) {
      parts.push(tokens[end + 1].value);
      end += 2;
    }
    if (isPunct(tokens[skipWs(tokens, end)], '(')) continue; // table function
    const table = parts[parts.length - 1];
    const database = parts.length >= 2 ? parts[parts.length - 2] : undefined;
    if (parts.length === 3 && parts[0] !== 'awsdatacatalog') continue;
    if (database === undefined && ctes.has(table)) continue;
    if (!isTable(database, table)) {
      refs.push({ start: i, end, database, table, partitionConjuncts: [] });
      i = end - 1;
      continue;
    }
    let alias: string | undefined;
    let a = skipWs(tokens, end);
    if (isWord(tokens[a], 'as')) a = skipWs(tokens, a + 1);
    const at = tokens[a];
    if (at && (at.kind === 'qident' || (at.kind === 'ident' && !NOT_ALIAS.has(at.value)))) alias = at.value;
    const names = new Set([table, ...(alias ? [alias] : [])]);
    refs.push({ start: i, end, database, table, alias, partitionConjuncts: whereConjuncts(tokens, depthAt, i, names) });
    i = end - 1;
  }
  return { tokens, refs };
}

function cteNames(tokens: readonly Token[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== 'ident' && t.kind !== 'qident') continue;
    let j = skipWs(tokens, i + 1);
    if (isPunct(tokens[j], '(')) {
      let d = 0;
      for (; j < tokens.length; j++) {
        if (isPunct(tokens[j], '(')) d++;
        else if (isPunct(tokens[j], ')') && --d === 0) break;
      }
      j = skipWs(tokens, j + 1);
    }
    if (isWord(tokens[j], 'as') && isPunct(tokens[skipWs(tokens, j + 1)], '(')) names.add(t.value);
  }
  return names;
}

/** The WHERE clause of the SELECT whose FROM holds token `at`, split into partition-only conjuncts. */
function whereConjuncts(
  tokens: readonly Token[],
  depthAt: readonly number[],
  at: number,
  names: ReadonlySet<string>,
): { sql: string; columns: string[] }[] {
  const d = depthAt[at];
  // Outer joins at this level: the table could be on the nullable side; do not prune.
  for (let i = at; i >= 0 && depthAt[i] >= d; i--) {
    if (depthAt[i] === d && isWord(tokens[i], 'select')) break;
    if (depthAt[i] === d && isWord(tokens[i], 'left', 'right', 'full')) return [];
  }
  let where = -1;
  let i = at;
  for (; i < tokens.length && depthAt[i] >= d; i++) {
    if (depthAt[i] !== d) continue;
    if (isPunct(tokens[i], ')')) break;
    if (isWord(tokens[i], 'left', 'right', 'full')) return [];
    if (isWord(tokens[i], 'where')) {
      where = i;
      break;
    }
    if (isWord(tokens[i], 'group', 'order', 'having', 'limit', 'union', 'except', 'intersect', 'window')) return [];
  }
  if (where < 0) return [];
  let end = where + 1;
  for (; end < tokens.length && depthAt[end] >= d; end++) {
    if (depthAt[end] !== d) continue;
    if (isPunct(tokens[end], ')')) break;
    if (isWord(tokens[end], 'group', 'order', 'having', 'limit', 'union', 'except', 'intersect', 'window')) break;
  }
  const out: { sql: string; columns: string[] }[] = [];
  for (const [a, b] of splitAnd(tokens, depthAt, where + 1, end)) {
    const c = partitionOnly(tokens, a, b, names);
    if (c) out.push(c);
  }
  return out;
}

/** Splits at top-level AND, leaving `BETWEEN x AND y` intact. */
function splitAnd(tokens: readonly Token[], depthAt: readonly number[], from: number, to: number): [number, number][] {
  const d = depthAt[from];
  const parts: [number, number][] = [];
  let start = from;
  let pendingBetween = 0;
  for (let i = from; i < to; i++) {
    if (depthAt[i] !== d) continue;
    if (isWord(tokens[i], 'between')) pendingBetween++;
    else if (isWord(tokens[i], 'and')) {
      if (pendingBetween > 0) pendingBetween--;
      else {
        parts.push([start, i]);
        start = i + 1;
      }
    }
  }
  parts.push([start, to]);
  return parts;
}

/** The conjunct's text with qualifiers stripped, if it references only the table's partition-like columns. */
function partitionOnly(
  tokens: readonly Token[],
  from: number,
  to: number,
  names: ReadonlySet<string>,
): { sql: string; columns: string[] } | undefined {
  const columns = new Set<string>();
  let text = '';
  let afterAs = false;
  for (let i = from; i < to; i++) {
    const t = tokens[i];
    if (isWord(t, 'select')) return undefined;
    if (t.kind === 'punct' && t.text !== '.') afterAs = false;
    if (t.kind !== 'ident' && t.kind !== 'qident') {
      text += t.kind === 'comment' ? ' ' : t.text;
      continue;
    }
    const next = tokens[skipWs(tokens, i + 1)];
    const prev = tokens[skipWsBack(tokens, i - 1)];
    if (isWord(t, 'as')) afterAs = true;
    // qualifier: `s.year` → `year` when `s` is the table or its alias
    if (isPunct(next, '.') && tokens[i + 1] === next) {
      if (!names.has(t.value)) return undefined;
      i++; // skip the dot
      continue;
    }
    const literalKeyword = t.kind === 'ident' && next?.kind === 'string';
    const intervalUnit = t.kind === 'ident' && prev?.kind === 'string';
    const isFunction = t.kind === 'ident' && isPunct(next, '(');
    if (
      t.kind === 'ident' &&
      (afterAs || literalKeyword || intervalUnit || isFunction || NON_COLUMN_WORDS.has(t.value) || t.value === 'as')
    ) {
      text += t.text;
      continue;
    }
    columns.add(t.value);
    text += t.kind === 'qident' ? `"${t.value}"` : t.value;
  }
  if (columns.size === 0) return undefined;
  return { sql: text.trim(), columns: [...columns] };
}

/**
 * Refuses a string literal where a relation goes (`FROM '/etc/passwd'`, `JOIN '**\/*.json'`, `FROM t, 'x.csv'`):
 * Trino's grammar has no such relation, while DuckDB reads it as a file (a replacement scan) — the way out
 * of the archive. Same message as Athena's parser gives.
 */
export function refuseStringRelations(sql: string, tokens: readonly Token[]): void {
  const inFrom: boolean[] = [false];
  // Parentheses of a call (`extract(year FROM '...')`, `trim(BOTH ' ' FROM x)`): FROM there is no relation.
  const isCall: boolean[] = [false];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (isPunct(t, '(')) {
      const before = tokens[skipWsBack(tokens, i - 1)];
      depth++;
      inFrom[depth] = false;
      isCall[depth] = before !== undefined && before.kind === 'ident' && !NOT_CALLEE.has(before.value);
      continue;
    }
    if (isPunct(t, ')')) {
      depth--;
      continue;
    }
    if (isWord(t, 'from', 'join') && !isCall[depth]) inFrom[depth] = true;
    else if (t.kind === 'ident' && CLAUSE_END.has(t.value)) inFrom[depth] = false;
    if (t.kind !== 'string') continue;
    // `FROM ('x.csv')`, `FROM (('x'))`: the parenthesised form is the same relation.
    let p = skipWsBack(tokens, i - 1);
    let d = depth;
    while (p >= 0 && isPunct(tokens[p], '(') && !isCall[d]) {
      p = skipWsBack(tokens, p - 1);
      d--;
    }
    const prev = tokens[p];
    if (!inFrom[d] || isCall[d] || !(isWord(prev, 'from', 'join') || isPunct(prev, ','))) continue;
    const before = sql.slice(0, t.pos);
    const line = before.split('\n').length;
    const column = t.pos - before.lastIndexOf('\n');
    throw new SqlSyntaxError(
      `line ${line}:${column}: mismatched input '${t.text}'. Expecting: '(', 'LATERAL', 'UNNEST', <identifier>`,
    );
  }
}

/** Words before `(` that open a subquery or a list, not a call. */
const NOT_CALLEE = new Set([
  'from',
  'join',
  'lateral',
  'in',
  'exists',
  'as',
  'on',
  'and',
  'or',
  'not',
  'where',
  'select',
  'having',
  'by',
  'with',
  'values',
  'union',
  'all',
  'distinct',
  'then',
  'else',
  'when',
  'case',
  'using',
  'except',
  'intersect',
  'any',
  'some',
]);
