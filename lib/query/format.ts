/** Output formats of the query tool: an aligned table for people, CSV and JSON for scripts and Power BI. */
export type OutputFormat = 'table' | 'csv' | 'json';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'csv', 'json'];

export interface Column {
  readonly name: string;
  readonly type: string;
}

type Row = readonly (string | null)[];

export function formatRows(format: OutputFormat, columns: readonly Column[], rows: readonly Row[]): string {
  switch (format) {
    case 'csv':
      return toCsv(
        columns.map((c) => c.name),
        rows,
      );
    case 'json':
      return `${JSON.stringify(toObjects(columns, rows), null, 2)}\n`;
    default:
      return toTable(columns, rows);
  }
}

/** RFC 4180 CSV; `quoteAll` quotes every field, as Athena's result files do. NULL is an empty field. */
export function toCsv(header: readonly string[], rows: readonly Row[], quoteAll = false): string {
  const field = (v: string | null) => {
    if (v === null) return '';
    return quoteAll || /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
  };
  const lines = [header.map(field).join(','), ...rows.map((r) => r.map(field).join(','))];
  return `${lines.join('\n')}\n`;
}

const NUMERIC = new Set(['tinyint', 'smallint', 'integer', 'bigint', 'double', 'real', 'decimal']);

/** Rows as objects; numbers become JSON numbers when that loses nothing (big integers stay strings). */
export function toObjects(columns: readonly Column[], rows: readonly Row[]): Record<string, unknown>[] {
  return rows.map((r) => {
    const o: Record<string, unknown> = {};
    columns.forEach((c, i) => {
      const v = r[i];
      if (v === null || v === undefined) o[c.name] = null;
      else if (c.type === 'boolean') o[c.name] = v === 'true';
      else if (NUMERIC.has(c.type)) {
        const n = Number(v);
        const exact = Number.isFinite(n) && (!/^-?\d+$/.test(v) || Number.isSafeInteger(n));
        o[c.name] = exact ? n : v;
      } else o[c.name] = v;
    });
    return o;
  });
}

/** An aligned text table; numbers right-aligned, NULL shown as NULL, long cells cut at 60 characters. */
export function toTable(columns: readonly Column[], rows: readonly Row[]): string {
  const cell = (v: string | null) => {
    const s = v === null ? 'NULL' : v.replace(/\s+/g, ' ');
    return s.length > 60 ? `${s.slice(0, 59)}…` : s;
  };
  const cells = rows.map((r) => r.map(cell));
  const widths = columns.map((c, i) => Math.max(c.name.length, ...cells.map((r) => r[i].length)));
  const line = (vals: string[], isHeader: boolean) =>
    vals
      .map((v, i) => (!isHeader && NUMERIC.has(columns[i].type) ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join(' | ')
      .trimEnd();
  const out = [
    line(
      columns.map((c) => c.name),
      true,
    ),
    widths.map((w) => '-'.repeat(w)).join('-+-'),
  ];
  for (const r of cells) out.push(line(r, false));
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return `${out.join('\n')}\n`;
}
