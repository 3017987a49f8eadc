import type { CostReport, LineItem } from './model';

/** The report as a text table: one row per line item, the total, the dominating lines and what lowers them. */
export function formatReport(r: CostReport, compare?: CostReport): string[] {
  const rows = r.lines.map((l) => [
    l.service,
    l.what,
    `${quantity(l.quantity)} ${l.countUnit}`,
    `${price(l.unitPrice)} / ${l.unit}`,
    usd(l.usd),
  ]);
  const header = ['service', 'what', 'monthly quantity', 'unit price', 'USD/month'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmtRow = (row: string[]) =>
    row.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  const out = [
    `${r.title} (${r.region} list prices)`,
    `workload: ${r.workload.description}; ${quantity(r.readingsPerMonth)} unique readings a month`,
    `counts: ${r.counts}`,
    '',
    fmtRow(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(fmtRow),
    '',
    `Total: ${usd(r.totalUsd)} USD a month`,
    '',
    'Dominating lines, and what would lower them:',
    ...r.dominant.map(
      (l, i) => `  ${i + 1}. ${l.service}, ${l.what}: ${usd(l.usd)} USD (${share(l, r)}). Lower it: ${l.lower}.`,
    ),
  ];
  if (r.notes.length > 0) out.push('', 'Notes:', ...r.notes.map((n) => `  - ${n}`));
  if (compare) {
    out.push('', ...formatReport(compare));
    out.push(
      '',
      `This stack: ${usd(r.totalUsd)} USD a month; the tutorial architecture: ${usd(compare.totalUsd)} USD a month (${(compare.totalUsd / Math.max(r.totalUsd, 1e-9)).toFixed(1)}x).`,
    );
  }
  return out;
}

/** One line: what this workload costs a month (the `npm start` summary's last line). */
export function oneLine(r: CostReport): string {
  const top = r.dominant.map((l) => `${l.service} ${l.what} ${usd(l.usd)}`).join('; ');
  return `At fleet scale (${r.workload.name}, ${quantity(r.readingsPerMonth)} readings a month) this traffic pattern costs ${usd(r.totalUsd)} USD a month on ${r.region} list prices (largest: ${top}). Details: npm run cost -- --from-run`;
}

/** The same run priced on the README's recommended configuration (`what`: lib/cost/recommended.ts). */
export function recommendedLine(r: CostReport, what: string): string {
  return (
    `The same traffic on the README's recommended configuration (${what}): ${usd(r.totalUsd)} USD a month; ` +
    'the recommended gateway (npm run simulate -- --aggregate) also drops the copies before Kinesis.'
  );
}

export function toJson(r: CostReport, compare?: CostReport): unknown {
  const strip = (x: CostReport) => ({
    title: x.title,
    region: x.region,
    workload: x.workload,
    readingsPerMonth: x.readingsPerMonth,
    counts: x.counts,
    lines: x.lines,
    totalUsd: x.totalUsd,
    dominant: x.dominant.map((l) => ({ service: l.service, what: l.what, usd: l.usd, lower: l.lower })),
    notes: x.notes,
  });
  return compare ? { ...strip(r), compare: strip(compare) } : strip(r);
}

const share = (l: LineItem, r: CostReport) => `${Math.round((l.usd / Math.max(r.totalUsd, 1e-9)) * 100)}%`;

export function usd(n: number): string {
  return n >= 100 ? n.toLocaleString('en-US', { maximumFractionDigits: 0 }) : n.toFixed(2);
}

function price(n: number): string {
  return n >= 0.01 ? `$${n}` : `$${n.toPrecision(3)}`;
}

function quantity(n: number): string {
  if (n === 0) return '0';
  if (n >= 1000) return Math.round(n).toLocaleString('en-US');
  if (n >= 1) return n.toLocaleString('en-US', { maximumFractionDigits: 1 });
  return n.toPrecision(2);
}
