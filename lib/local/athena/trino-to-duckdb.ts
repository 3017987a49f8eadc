import {
  isPunct,
  isWord,
  matchingClose,
  quoteString,
  SqlSyntaxError,
  skipWs,
  skipWsBack,
  splitTopLevel,
  type Token,
  tokenize,
} from './sql-tokens';
import { refuseStringRelations } from './table-refs';
import { castType, jodaFormat, mysqlFormat, timestampLiteral } from './trino-formats';
import { KEYWORDS, NOT_FUNCTIONS, PASSTHROUGH, TIME_UNITS } from './trino-vocabulary';
import { UnsupportedSqlError, unsupported } from './unsupported-sql';

export { castType, jodaFormat, mysqlFormat, UnsupportedSqlError };

/**
 * Translates the Trino (Athena engine v3) SQL that analysts write into DuckDB SQL with the same meaning.
 *
 * Strategy: a whitelist. Every function call is either passed through (same name, same semantics in
 * DuckDB — checked by test/local/athena/trino-to-duckdb.test.ts), rewritten, or rejected with an
 * `UnsupportedSqlError` naming the construct. An unknown function is never guessed at: a query outside
 * the subset fails loudly instead of returning a wrong answer. The session settings the translation
 * relies on are in `DUCKDB_SESSION_SETTINGS` (UTC, Trino's integer division, NULLS LAST).
 */

/** Settings the engine applies to its DuckDB instance (GLOBAL, before it locks them) so that translated SQL behaves like Trino. */
export const DUCKDB_SESSION_SETTINGS = [
  "SET TimeZone = 'UTC'",
  'SET integer_division = true',
  "SET default_null_order = 'nulls_last'",
] as const;

export function translateTrinoToDuckDb(sql: string): string {
  let tokens: Token[] = tokenize(sql);
  // One statement; a trailing `;` is allowed as in the Athena console.
  let last = skipWsBack(tokens, tokens.length - 1);
  while (last >= 0 && isPunct(tokens[last], ';')) last = skipWsBack(tokens, last - 1);
  tokens = tokens.slice(0, last + 1);
  if (tokens.some((t) => isPunct(t, ';'))) throw new UnsupportedSqlError('Only one SQL statement per query is allowed');
  const first = tokens[skipWs(tokens, 0)];
  if (!first) throw new SqlSyntaxError('The query is empty');
  if (!isWord(first, 'select', 'with', 'values') && !isPunct(first, '(')) {
    unsupported(`The ${first.text.toUpperCase()} statement`);
  }
  refuseStringRelations(sql, tokens);
  tokens = nameUnnamedColumns(tokens);
  return new Emitter(tokens).emit(0, tokens.length).trim();
}

/** Athena names expression columns without an alias `_col0`, `_col1`, ... by position; DuckDB uses the text. */
function nameUnnamedColumns(tokens: Token[]): Token[] {
  let depth = 0;
  let select = -1;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (isPunct(t, '(')) depth++;
    else if (isPunct(t, ')')) depth--;
    else if (depth === 0 && isWord(t, 'select')) {
      select = i;
      break;
    }
  }
  if (select < 0) return tokens;
  let start = skipWs(tokens, select + 1);
  if (isWord(tokens[start], 'distinct', 'all')) start = start + 1;
  let end = tokens.length;
  depth = 0;
  for (let i = start; i < tokens.length; i++) {
    const t = tokens[i];
    if (isPunct(t, '(') || isPunct(t, '[')) depth++;
    else if (isPunct(t, ')') || isPunct(t, ']')) depth--;
    else if (
      depth === 0 &&
      isWord(t, 'from', 'where', 'group', 'having', 'order', 'limit', 'union', 'except', 'intersect', 'window')
    ) {
      end = i;
      break;
    }
  }
  const inserts: { at: number; alias: string }[] = [];
  splitTopLevel(tokens, start, end).forEach(([a, b], index) => {
    const items = [];
    for (let i = a; i < b; i++) if (tokens[i].kind !== 'ws' && tokens[i].kind !== 'comment') items.push(tokens[i]);
    if (items.length === 0) return;
    const lastT = items[items.length - 1];
    const prev = items[items.length - 2];
    const isName = (t: Token | undefined) =>
      t !== undefined && (t.kind === 'qident' || (t.kind === 'ident' && !KEYWORDS.has(t.value)));
    if (lastT.text === '*') return;
    if (items.length === 1 && isName(lastT)) return;
    if (isName(lastT) && prev && (isWord(prev, 'as') || isPunct(prev, '.') || isPunct(prev, ')') || isName(prev))) {
      return;
    }
    if (isName(lastT) && prev?.kind === 'string') return;
    inserts.push({ at: skipWsBack(tokens, b - 1) + 1, alias: `_col${index}` });
  });
  const out = [...tokens];
  for (const { at, alias } of inserts.reverse()) {
    out.splice(
      at,
      0,
      { kind: 'ws', text: ' ', value: ' ', pos: -1 },
      { kind: 'ident', text: 'AS', value: 'as', pos: -1 },
      { kind: 'ws', text: ' ', value: ' ', pos: -1 },
      { kind: 'qident', text: `"${alias}"`, value: alias, pos: -1 },
    );
  }
  return out;
}

class Emitter {
  constructor(private readonly t: readonly Token[]) {}

  emit(from: number, to: number): string {
    const t = this.t;
    let out = '';
    for (let i = from; i < to; i++) {
      const tok = t[i];
      switch (tok.kind) {
        case 'ws':
        case 'comment':
        case 'string':
        case 'number':
          out += tok.kind === 'comment' ? ' ' : tok.text;
          break;
        case 'qident':
          if (tok.value.startsWith('$')) unsupported(`The hidden column "${tok.value}"`);
          out += `"${tok.value.replace(/"/g, '""')}"`;
          break;
        case 'op':
          if (tok.text === '->') unsupported('A lambda expression (->)');
          if (tok.text === '=>') unsupported('A named argument (=>)');
          if (tok.text === '::') throw new SqlSyntaxError("'::' is not Trino syntax: use CAST(x AS type)");
          out += tok.text;
          break;
        case 'punct':
          if (tok.text === '?') unsupported('An execution parameter (?)');
          if (tok.text === '{' || tok.text === '}') {
            throw new SqlSyntaxError(`Unfilled placeholder near position ${tok.pos}: pass it with --param name=value`);
          }
          out += tok.text;
          break;
        case 'ident': {
          const r = this.word(i);
          out += r.text;
          i = r.next - 1;
          break;
        }
      }
    }
    return out;
  }

  /** Translates the identifier/keyword at `i`; returns the text and the index after what it consumed. */
  private word(i: number): { text: string; next: number } {
    const t = this.t;
    const tok = t[i];
    const v = tok.value;
    const n = skipWs(t, i + 1);
    const nextTok = t[n];
    if ((v === 'timestamp' || v === 'date' || v === 'time') && nextTok?.kind === 'string') {
      if (v === 'timestamp') return { text: timestampLiteral(nextTok.value), next: n + 1 };
      return { text: `${v.toUpperCase()} ${nextTok.text}`, next: n + 1 };
    }
    if (v === 'at' && isWord(nextTok, 'time')) {
      const z = skipWs(t, n + 1);
      const zone = skipWs(t, z + 1);
      if (!isWord(t[z], 'zone')) throw new SqlSyntaxError(`Expected AT TIME ZONE at position ${tok.pos}`);
      if (t[zone]?.kind === 'string' && /^(utc|z|\+00:00|gmt)$/i.test(t[zone].value))
        return { text: '', next: zone + 1 };
      return unsupported("AT TIME ZONE other than 'UTC' (the embedded engine runs in UTC)");
    }
    if (v === 'tablesample') unsupported('TABLESAMPLE');
    if (v === 'match_recognize') unsupported('MATCH_RECOGNIZE');
    if (v === 'ordinality') unsupported('UNNEST ... WITH ORDINALITY');
    if ((v === 'row' || v === 'map') && isPunct(nextTok, '(')) unsupported(`The ${v.toUpperCase()} constructor`);
    if (v.includes('$')) unsupported(`The identifier ${tok.text}`);
    if (isPunct(nextTok, '(') && !NOT_FUNCTIONS.has(v)) {
      const close = matchingClose(t, n);
      const before = t[skipWsBack(t, i - 1)];
      const after = t[skipWs(t, close + 1)];
      // `cte (a, b) AS (`, `AS t (a, b)`, `(VALUES ...) t (a, b)`: column lists, not calls.
      const cteColumns = isWord(after, 'as') && isPunct(t[skipWs(t, skipWs(t, close + 1) + 1)], '(');
      if (cteColumns || isWord(before, 'as') || isPunct(before, ')')) {
        return { text: v, next: n };
      }
      return { text: this.call(v, n, close), next: close + 1 };
    }
    if (v === 'current_timestamp' || v === 'current_date' || v === 'localtimestamp') {
      return { text: v === 'localtimestamp' ? 'CAST(current_timestamp AS TIMESTAMP)' : v, next: i + 1 };
    }
    return { text: v, next: i + 1 };
  }

  /** A function call `name(` at `open` ... `)` at `close`. */
  private call(name: string, open: number, close: number): string {
    const t = this.t;
    const inner = () => this.emit(open + 1, close);
    const ranges = splitTopLevel(t, open + 1, close).filter(([a, b]) => skipWs(t, a) < b);
    const args = () => ranges.map(([a, b]) => this.emit(a, b).trim());
    const literal = (k: number, what: string): string => {
      const r = ranges[k];
      const a = r && skipWs(t, r[0]);
      if (!r || t[a].kind !== 'string' || skipWs(t, a + 1) < r[1]) {
        throw new UnsupportedSqlError(`${name}() needs ${what} as a string literal in the embedded engine`);
      }
      return t[a].value;
    };
    const arity = (...allowed: number[]) => {
      if (!allowed.includes(ranges.length)) {
        throw new SqlSyntaxError(`${name}() takes ${allowed.join(' or ')} arguments, got ${ranges.length}`);
      }
    };
    const unit = (k: number) => {
      const u = literal(k, 'the unit').toLowerCase();
      if (!TIME_UNITS.has(u)) throw new SqlSyntaxError(`'${u}' is not a valid unit for ${name}()`);
      return u;
    };
    if (name === 'cast' || name === 'try_cast') return this.cast(name, open, close);
    if (name === 'extract') return this.extract(open, close);
    if (PASSTHROUGH.has(name)) {
      if (name === 'date_trunc') unit(0);
      return `${name}(${inner()})`;
    }
    switch (name) {
      case 'date_diff': {
        arity(3);
        const u = unit(0);
        const a = args();
        // DuckDB's date_diff counts boundaries crossed; Trino counts whole units elapsed, which is date_sub.
        return `date_sub('${u}', ${a[1]}, ${a[2]})`;
      }
      case 'date_add': {
        arity(3);
        const u = unit(0);
        const a = args();
        const small = ['millisecond', 'second', 'minute', 'hour'].includes(u);
        const count = `CAST(${u === 'quarter' ? `3 * (${a[1]})` : a[1]} AS ${small ? 'BIGINT' : 'INTEGER'})`;
        const fn = u === 'quarter' ? 'to_months' : `to_${u}s`;
        return `(${a[2]} + ${fn}(${count}))`;
      }
      case 'from_iso8601_timestamp':
      case 'from_iso8601_timestamp_nanos':
        arity(1);
        return `CAST(${args()[0]} AS TIMESTAMPTZ)`;
      case 'from_iso8601_date':
      case 'date':
        arity(1);
        return `CAST(${args()[0]} AS DATE)`;
      case 'to_iso8601':
        arity(1);
        return `strftime(CAST(${args()[0]} AS TIMESTAMPTZ), '%Y-%m-%dT%H:%M:%S.%gZ')`;
      case 'date_parse':
        arity(2);
        return `strptime(${args()[0]}, ${quoteString(mysqlFormat(literal(1, 'the format')))})`;
      case 'date_format':
        arity(2);
        return `strftime(${args()[0]}, ${quoteString(mysqlFormat(literal(1, 'the format')))})`;
      case 'parse_datetime':
        arity(2);
        return `CAST(strptime(${args()[0]}, ${quoteString(jodaFormat(literal(1, 'the format')))}) AS TIMESTAMPTZ)`;
      case 'format_datetime':
        arity(2);
        return `strftime(${args()[0]}, ${quoteString(jodaFormat(literal(1, 'the format')))})`;
      case 'to_unixtime':
        arity(1);
        return `epoch(${args()[0]})`;
      case 'from_unixtime':
        if (ranges.length > 1) unsupported('from_unixtime() with a time zone');
        arity(1);
        return `to_timestamp(${args()[0]})`;
      case 'with_timezone':
      case 'at_timezone': {
        arity(2);
        const zone = literal(1, 'the zone');
        if (!/^(utc|z|gmt)$/i.test(zone)) unsupported(`${name}() with a zone other than 'UTC'`);
        return `CAST(${args()[0]} AS TIMESTAMPTZ)`;
      }
      case 'current_timezone':
        return `'UTC'`;
      case 'approx_percentile':
        if (ranges.length === 3) unsupported('approx_percentile() with weights');
        arity(2);
        // Exact here: quantile_disc returns an element of the input like Trino's approximation, with no error.
        return `quantile_disc(${args().join(', ')})`;
      case 'approx_distinct':
        arity(1, 2);
        return `count(DISTINCT ${args()[0]})`;
      case 'max_by':
      case 'min_by': {
        arity(2, 3);
        const a = args();
        // Trino returns x even when x is NULL; DuckDB's arg_max skips such rows unless the _null variant is used.
        const fn = name === 'max_by' ? 'arg_max' : 'arg_min';
        return a.length === 3 ? `${fn}(${a.join(', ')})` : `${fn}_null(${a.join(', ')})`;
      }
      case 'arbitrary':
      case 'any_value':
        arity(1);
        return `any_value(${args()[0]})`;
      case 'every':
        arity(1);
        return `bool_and(${args()[0]})`;
      case 'count_if':
        arity(1);
        // DuckDB's count_if returns HUGEINT; Trino's returns BIGINT.
        return `count(CASE WHEN ${args()[0]} THEN 1 END)`;
      case 'greatest':
      case 'least': {
        const a = args();
        // Trino returns NULL when any argument is NULL; DuckDB skips NULLs.
        return `(CASE WHEN ${a.map((x) => `(${x}) IS NULL`).join(' OR ')} THEN NULL ELSE ${name}(${a.join(', ')}) END)`;
      }
      case 'concat':
        // Trino's concat is NULL when an argument is NULL; DuckDB's concat skips NULLs, `||` does not.
        return `(${args().join(' || ')})`;
      case 'replace': {
        arity(2, 3);
        const a = args();
        return `replace(${a[0]}, ${a[1]}, ${a[2] ?? "''"})`;
      }
      case 'regexp_like':
        arity(2);
        return `regexp_matches(${args().join(', ')})`;
      case 'regexp_extract': {
        arity(2, 3);
        const a = args();
        // Trino returns NULL when the pattern does not match; DuckDB returns ''.
        return `(CASE WHEN regexp_matches(${a[0]}, ${a[1]}) THEN regexp_extract(${a.join(', ')}) END)`;
      }
      case 'regexp_replace': {
        arity(2, 3);
        const a = args();
        const replacement = ranges.length === 3 ? literal(2, 'the replacement').replace(/\$(\d)/g, '\\$1') : '';
        return `regexp_replace(${a[0]}, ${a[1]}, ${quoteString(replacement)}, 'g')`;
      }
      case 'log': {
        arity(2);
        const a = args();
        return `(ln(${a[1]}) / ln(${a[0]}))`;
      }
      case 'truncate':
        arity(1);
        return `trunc(${args()[0]})`;
      case 'rand':
        arity(0);
        return 'random()';
      case 'if': {
        arity(2, 3);
        const a = args();
        return `(CASE WHEN ${a[0]} THEN ${a[1]}${a.length === 3 ? ` ELSE ${a[2]}` : ''} END)`;
      }
      case 'day_of_week':
      case 'dow':
        arity(1);
        return `isodow(${args()[0]})`;
      case 'day_of_year':
      case 'doy':
        arity(1);
        return `dayofyear(${args()[0]})`;
      case 'day_of_month':
        arity(1);
        return `day(${args()[0]})`;
      case 'week_of_year':
        arity(1);
        return `week(${args()[0]})`;
      case 'year_of_week':
      case 'yow':
        arity(1);
        return `isoyear(${args()[0]})`;
      case 'millisecond':
        arity(1);
        // DuckDB's millisecond() includes the seconds (0-59999).
        return `(millisecond(${args()[0]}) % 1000)`;
      case 'last_day_of_month':
        arity(1);
        return `last_day(${args()[0]})`;
      case 'cardinality':
        arity(1);
        return `len(${args()[0]})`;
      case 'contains':
        arity(2);
        return `list_contains(${args().join(', ')})`;
      case 'element_at':
        arity(2);
        return `list_extract(${args().join(', ')})`;
      case 'array_join':
        arity(2);
        return `array_to_string(${args().join(', ')})`;
      case 'split':
        arity(2);
        return `string_split(${args().join(', ')})`;
      case 'json_extract_scalar':
        arity(2);
        return `json_extract_string(${args().join(', ')})`;
      case 'is_nan':
        arity(1);
        return `isnan(${args()[0]})`;
      case 'is_finite':
        arity(1);
        return `isfinite(${args()[0]})`;
      case 'is_infinite':
        arity(1);
        return `isinf(${args()[0]})`;
      case 'nan':
        return `CAST('NaN' AS DOUBLE)`;
      case 'infinity':
        return `CAST('Infinity' AS DOUBLE)`;
      default:
        return unsupported(`The function ${name}()`);
    }
  }

  private cast(name: string, open: number, close: number): string {
    const t = this.t;
    let as = -1;
    let depth = 0;
    for (let i = open + 1; i < close; i++) {
      if (isPunct(t[i], '(') || isPunct(t[i], '[')) depth++;
      else if (isPunct(t[i], ')') || isPunct(t[i], ']')) depth--;
      else if (depth === 0 && isWord(t[i], 'as')) as = i;
    }
    if (as < 0) throw new SqlSyntaxError(`${name.toUpperCase()} needs AS <type> at position ${t[open].pos}`);
    const type = castType(
      t
        .slice(as + 1, close)
        .filter((x) => x.kind !== 'ws' && x.kind !== 'comment')
        .map((x) => x.value.toLowerCase())
        .join(' '),
    );
    return `${name.toUpperCase()}(${this.emit(open + 1, as).trim()} AS ${type})`;
  }

  private extract(open: number, close: number): string {
    const t = this.t;
    const f = skipWs(t, open + 1);
    const from = skipWs(t, f + 1);
    if (t[f]?.kind !== 'ident' || !isWord(t[from], 'from')) {
      throw new SqlSyntaxError(`EXTRACT needs (field FROM value) at position ${t[open].pos}`);
    }
    const fields: Record<string, string> = {
      year: 'year',
      quarter: 'quarter',
      month: 'month',
      week: 'week',
      day: 'day',
      day_of_month: 'day',
      day_of_week: 'isodow',
      dow: 'isodow',
      day_of_year: 'doy',
      doy: 'doy',
      year_of_week: 'isoyear',
      yow: 'isoyear',
      hour: 'hour',
      minute: 'minute',
      second: 'second',
    };
    const field = fields[t[f].value];
    if (!field) unsupported(`EXTRACT(${t[f].text.toUpperCase()} FROM ...)`);
    return `EXTRACT(${field} FROM ${this.emit(from + 1, close).trim()})`;
  }
}
