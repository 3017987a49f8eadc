/**
 * A small SQL tokenizer shared by the Trino→DuckDB translator and the partition-predicate extractor.
 * Hand-written because no maintained CJS package parses Trino SQL into tokens with positions, and a
 * tokenizer is what keeps the translation away from regular expressions over raw text (which break on
 * string literals, quoted identifiers and comments).
 */
export type TokenKind = 'ident' | 'qident' | 'string' | 'number' | 'op' | 'punct' | 'ws' | 'comment';

export interface Token {
  readonly kind: TokenKind;
  /** Source text (for `qident` and `string`: including the quotes). */
  readonly text: string;
  /** Lower-cased identifier, unquoted `qident` content, or unescaped string content. */
  readonly value: string;
  readonly pos: number;
}

export class SqlSyntaxError extends Error {}

const OPERATORS = ['<>', '!=', '>=', '<=', '||', '->', '=>', '::', '<', '>', '=', '+', '-', '*', '/', '%'];

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  const push = (kind: TokenKind, start: number, end: number, value?: string) => {
    const text = sql.slice(start, end);
    tokens.push({ kind, text, value: value ?? text, pos: start });
  };
  while (i < n) {
    const c = sql[i];
    const start = i;
    if (/\s/.test(c)) {
      while (i < n && /\s/.test(sql[i])) i++;
      push('ws', start, i);
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      push('comment', start, i);
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new SqlSyntaxError(`Unterminated comment at position ${start}`);
      i = end + 2;
      push('comment', start, i);
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new SqlSyntaxError(`Unterminated string literal at position ${start}`);
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += sql[i++];
      }
      push('string', start, i, value);
    } else if (c === '"' || c === '`') {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new SqlSyntaxError(`Unterminated quoted identifier at position ${start}`);
        if (sql[i] === c) {
          if (sql[i + 1] === c) {
            value += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += sql[i++];
      }
      // Trino folds even quoted identifiers to lower case.
      push('qident', start, i, value.toLowerCase());
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      while (i < n && /[0-9]/.test(sql[i])) i++;
      if (sql[i] === '.' && /[0-9]/.test(sql[i + 1] ?? '')) {
        i++;
        while (i < n && /[0-9]/.test(sql[i])) i++;
      } else if (sql[i] === '.' && !/[a-zA-Z_]/.test(sql[i + 1] ?? '')) {
        i++;
      }
      if ((sql[i] === 'e' || sql[i] === 'E') && /[-+0-9]/.test(sql[i + 1] ?? '')) {
        i += 2;
        while (i < n && /[0-9]/.test(sql[i])) i++;
      }
      push('number', start, i);
    } else if (/[A-Za-z_$]/.test(c)) {
      while (i < n && /[A-Za-z0-9_$]/.test(sql[i])) i++;
      push('ident', start, i, sql.slice(start, i).toLowerCase());
    } else {
      const op = OPERATORS.find((o) => sql.startsWith(o, i));
      if (op) {
        i += op.length;
        push('op', start, i);
      } else if ('(),.;[]?{}'.includes(c)) {
        i++;
        push('punct', start, i);
      } else {
        throw new SqlSyntaxError(`Unexpected character ${JSON.stringify(c)} at position ${start}`);
      }
    }
  }
  return tokens;
}

/** Index of the `)` (or `]`) that closes the bracket at `open`. */
export function matchingClose(tokens: readonly Token[], open: number): number {
  const o = tokens[open].text;
  const close = o === '(' ? ')' : ']';
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== 'punct') continue;
    if (t.text === o) depth++;
    else if (t.text === close && --depth === 0) return i;
  }
  throw new SqlSyntaxError(`Unbalanced ${o} at position ${tokens[open].pos}`);
}

/** Splits `tokens[from, to)` at top-level commas. */
export function splitTopLevel(tokens: readonly Token[], from: number, to: number, sep = ','): [number, number][] {
  const parts: [number, number][] = [];
  let depth = 0;
  let start = from;
  for (let i = from; i < to; i++) {
    const t = tokens[i];
    if (t.kind === 'punct' && (t.text === '(' || t.text === '[')) depth++;
    else if (t.kind === 'punct' && (t.text === ')' || t.text === ']')) depth--;
    else if (depth === 0 && t.kind === 'punct' && t.text === sep) {
      parts.push([start, i]);
      start = i + 1;
    }
  }
  parts.push([start, to]);
  return parts;
}

export const isWord = (t: Token | undefined, ...words: string[]): boolean =>
  t !== undefined && t.kind === 'ident' && words.includes(t.value);

export const isPunct = (t: Token | undefined, p: string): boolean =>
  t !== undefined && t.kind === 'punct' && t.text === p;

/** Next index at or after `i` that is not whitespace or a comment (or `tokens.length`). */
export function skipWs(tokens: readonly Token[], i: number): number {
  while (i < tokens.length && (tokens[i].kind === 'ws' || tokens[i].kind === 'comment')) i++;
  return i;
}

/** Previous index at or before `i` that is not whitespace or a comment (or -1). */
export function skipWsBack(tokens: readonly Token[], i: number): number {
  while (i >= 0 && (tokens[i].kind === 'ws' || tokens[i].kind === 'comment')) i--;
  return i;
}

export function quoteString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
