import { formatNumber, h } from './dom';

/** A plain table of query results or aggregates (text cells only). */
export function resultTable(
  columns: readonly string[],
  rows: readonly (readonly (string | number | null)[])[],
  options: { caption?: string; maxRows?: number; className?: string; rowAction?: (i: number) => HTMLElement } = {},
): HTMLElement {
  const shown = rows.slice(0, options.maxRows ?? rows.length);
  return h(
    'table',
    { class: options.className ?? 'result' },
    options.caption ? h('caption', {}, options.caption) : null,
    h(
      'thead',
      {},
      h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)), options.rowAction ? h('th', {}, '') : null),
    ),
    h(
      'tbody',
      {},
      ...shown.map((r, i) =>
        h(
          'tr',
          {},
          ...r.map((v) => h('td', {}, typeof v === 'number' ? formatNumber(v, 2) : (v ?? 'NULL'))),
          options.rowAction ? h('td', {}, options.rowAction(i)) : null,
        ),
      ),
    ),
  );
}
