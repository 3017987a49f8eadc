import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { usd } from './format';
import { estimate } from './index';
import type { CostReport } from './model';
import { pricesFor } from './prices';
import { contextFlags, RECOMMENDED_SOLAR, recommendedStack } from './recommended';
import { WORKLOADS } from './workload';

/**
 * The cost figures in docs/deploy.md and the README, generated from the model so they cannot drift:
 * each document holds a block between `<!-- cost:<name> begin -->` and `<!-- cost:<name> end -->`;
 * `npm run cost -- --update-docs` rewrites the blocks and a test fails when they differ from the model.
 */
export interface DocBlock {
  readonly file: string;
  readonly name: string;
  readonly render: (ctx: DocContext) => string;
}

export interface DocContext {
  readonly reports: Readonly<Record<string, { stack: CostReport; tutorial: CostReport }>>;
  /** The recommended configuration priced with the recorded run's counts, and with the design's. */
  readonly recommended: {
    readonly measured: Readonly<Record<'solar-fleet' | 'solar-fleet-as-sent', CostReport>>;
    readonly design: CostReport;
  };
}

const money = (n: number) => `$${usd(n)}`;

function totals(ctx: DocContext): string {
  const rows = Object.entries(ctx.reports).map(
    ([name, r]) =>
      `| \`${name}\` | ${r.stack.workload.description} | ${money(r.stack.totalUsd)} | ${money(r.tutorial.totalUsd)} |`,
  );
  return [
    '| Workload | Traffic | This stack, per month | Classic tutorial architecture |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

function bill(r: CostReport): string {
  const rows = r.lines
    .filter((l) => l.usd >= 0.005)
    .map((l) => `| ${l.service} | ${l.what} | ${quantity(l.quantity)} ${l.countUnit} | ${money(l.usd)} |`);
  return [
    '| Service | What | Monthly quantity | Per month |',
    '|---|---|---|---|',
    ...rows,
    `| **Total** | | | **${money(r.totalUsd)}** |`,
  ].join('\n');
}

function dominant(r: CostReport): string {
  return r.dominant
    .map((l) => `- **${l.service}, ${l.what}**: ${money(l.usd)} a month. Lower it: ${l.lower}.`)
    .join('\n');
}

function priceList(): string {
  const p = pricesFor('us-east-1');
  const rows = Object.entries(p)
    .filter(([k]) => k !== 'region')
    .map(([key, v]) => {
      const price = v as { usd: number; unit: string; source: string; secondary?: boolean };
      return `| \`${key}\` | $${price.usd} per ${price.unit}${price.secondary ? ' (2°)' : ''} | ${price.source} |`;
    });
  return ['| Price | us-east-1 | Source |', '|---|---|---|', ...rows].join('\n');
}

function quantity(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })} million`;
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

export const DOC_BLOCKS: readonly DocBlock[] = [
  { file: 'README.md', name: 'recommended', render: recommended },
  {
    file: 'docs/deploy.md',
    name: 'deploy',
    render: (ctx) => {
      const solar = ctx.reports['solar-fleet'].stack;
      return [
        'What the stack as synthesized (the defaults of `cdk.json`) costs for each named workload, and what the',
        'classic tutorial architecture (Kinesis Data Analytics SQL, one DynamoDB write per raw record, raw JSON',
        'through Firehose, Athena scanning a year of data) costs for the same traffic:',
        '',
        totals(ctx),
        '',
        `The solar fleet (\`solar-fleet\`: ${solar.workload.description}), line by line`,
        '(`npm run cost -- --workload solar-fleet`):',
        '',
        bill(solar),
        '',
        'What dominates, and what would lower it:',
        '',
        dominant(solar),
        '',
        'The prices (lib/cost/prices.ts; 2° = from price compilations, the official table could not be read):',
        '',
        priceList(),
      ].join('\n');
    },
  },
  {
    file: 'README.md',
    name: 'readme',
    render: (ctx) => {
      const r = ctx.reports;
      const solar = r['solar-fleet'].stack;
      const top = solar.dominant.slice(0, 2);
      return [
        `For the solar fleet (${solar.workload.description}), \`npm run cost\` prices the synthesized stack at`,
        `**${money(solar.totalUsd)} a month** on us-east-1 list prices (the classic tutorial architecture:`,
        `${money(r['solar-fleet'].tutorial.totalUsd)}); the other reading of the fleet (\`solar-fleet-as-sent\`, 1 billion records a year`,
        `copies included) ${money(r['solar-fleet-as-sent'].stack.totalUsd)}, the workshop's unicorns ${money(r.workshop.stack.totalUsd)}. The largest lines:`,
        ...top.map((l) => `- **${l.service}, ${l.what}**: ${money(l.usd)} a month. Lower it: ${l.lower}.`),
        '- **Athena**: $5 per TB scanned, 10 MB minimum per query. Partition projection keeps a one-day query to that',
        `  day's objects (${money(solar.lines.find((l) => l.service === 'Athena')?.usd ?? 0)} a month for 100 one-day queries); Parquet with GZIP pages reads 15–57% of the bytes of GZIP JSON (measured below).`,
      ].join('\n');
    },
  },
];

export function docContext(cwd: string): DocContext {
  const reports: Record<string, { stack: CostReport; tutorial: CostReport }> = {};
  for (const name of Object.keys(WORKLOADS)) {
    const { report, compare } = estimate({ workload: name, compare: 'tutorial', cwd });
    reports[name] = { stack: report, tutorial: compare! };
  }
  const stack = recommendedStack(cwd, 'us-east-1');
  const measured = (name: 'solar-fleet' | 'solar-fleet-as-sent') =>
    estimate({ workload: name, stack, fromRun: RECOMMENDED_SOLAR.runFile, cwd }).report;
  return {
    reports,
    recommended: {
      measured: { 'solar-fleet': measured('solar-fleet'), 'solar-fleet-as-sent': measured('solar-fleet-as-sent') },
      design: estimate({
        workload: 'solar-fleet',
        stack,
        flags: { dedupeAtEdge: true, readingsPerKinesisRecord: RECOMMENDED_READINGS_PER_RECORD },
        cwd,
      }).report,
    },
  };
}

/** Readings per 25 KB KPL record at fleet scale (the gateway's largest aggregate: 128 readings of ~200 bytes). */
const RECOMMENDED_READINGS_PER_RECORD = 128;

function recommended(ctx: DocContext): string {
  const m = ctx.recommended.measured['solar-fleet'];
  const asSent = ctx.recommended.measured['solar-fleet-as-sent'];
  const d = ctx.recommended.design;
  const wru = /([0-9.]+) WRU/.exec(m.counts)?.[1] ?? '?';
  const c = RECOMMENDED_SOLAR.context;
  // What the default stack (minutes kept forever) pays for them after a year, from its own bill.
  const forever = ctx.reports['solar-fleet'].stack.lines.filter((l) =>
    /^aggregates storage|point-in-time/.test(l.what),
  );
  const growth = /\+([0-9.,]+ GB) a month/.exec(forever[0]?.what ?? '')?.[1] ?? '?';
  const foreverUsd = forever.reduce((sum, l) => sum + l.usd, 0);
  return [
    'For the solar fleet we recommend the edge gateway with KPL aggregation (`npm run simulate -- --aggregate`:',
    'copies dropped, readings packed per Kinesis record) and this stack configuration:',
    '',
    '```bash',
    `npx cdk deploy --all ${contextFlags(c)}`,
    '```',
    '',
    `- **Provisioned tables** with target tracking at ${c['iot:capacityTargetPercent']}% (\`iot:billingMode\`, \`iot:capacityTargetPercent\`), the most`,
    `  Application Auto Scaling allows, with a ${c['iot:tumblingWindowSeconds']} s window (\`iot:tumblingWindowSeconds\`) so that DynamoDB's burst capacity`,
    "  absorbs a window's writes: a panel reports every ~16 minutes, so a shorter window merges no fewer writes.",
    `- **A ${c['iot:firehoseBufferSeconds']} s archive buffer** (\`iot:firehoseBufferSeconds\`): 15 times fewer archive objects than 60 s (PUTs,`,
    '  dynamic-partitioning objects, Athena GETs); the archive trails the stream by up to 15 minutes, the tables do not.',
    `- **A ${c['iot:aggregatesTtlDays']}-day TTL on the minutes** (\`iot:aggregatesTtlDays\`): DynamoDB keeps the dashboard's day and a panel's backlog`,
    '  after a long weekend offline; the archive keeps every reading and Athena answers the history. Kept forever, the minutes',
    `  would add ${growth} a month: after a year, ${money(foreverUsd)} a month of storage and recovery alone.`,
    `- **No point-in-time recovery on the minutes** (\`iot:aggregatesPointInTimeRecovery=false\`): ${c['iot:aggregatesTtlDays']} days of derived`,
    '  data, which the archive recomputes (the per-minute named queries agree with the table digit for digit).',
    '  The device-state table keeps it.',
    '- **No CloudWatch dashboard** (`iot:cloudWatchDashboard=false`): every alarm stays; `npm run dashboard` shows',
    '  the pipeline health from CloudWatch.',
    '',
    `Priced with the counts of a recorded embedded run (\`${RECOMMENDED_SOLAR.runFile}\`: ${wru} write units per`,
    "unique reading, the Lambda priced from its CPU time at 512 MB's share of a vCPU), the bill is",
    `**${money(m.totalUsd)} a month** for \`solar-fleet\` and **${money(asSent.totalUsd)}** for \`solar-fleet-as-sent\``,
    `(the design estimate with ${RECOMMENDED_READINGS_PER_RECORD} readings per record: ${money(d.totalUsd)}). What is left:`,
    ...m.dominant.map((l) => `- ${l.service}, ${l.what}: ${money(l.usd)}.`),
    '',
    `Re-record the run: ${RECOMMENDED_SOLAR.reproduce.map((r) => (r.startsWith('npm') ? `\`${r}\`` : r)).join(', then ')}; copy`,
    `\`.local/metering.json\` to \`${RECOMMENDED_SOLAR.runFile}\` and run \`npm run docs:cost\`.`,
  ].join('\n');
}

const markers = (name: string) => [
  `<!-- cost:${name} begin (npm run cost -- --update-docs) -->`,
  `<!-- cost:${name} end -->`,
];

/** The block as the document has it, and as the model renders it. */
export function compareBlock(cwd: string, block: DocBlock, ctx: DocContext): { actual?: string; expected: string } {
  const text = readFileSync(join(cwd, block.file), 'utf8');
  const [begin, end] = markers(block.name);
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  const expected = block.render(ctx);
  if (from < 0 || to < from) return { expected };
  return { actual: text.slice(from + begin.length, to).trim(), expected };
}

/** Rewrites every block from the model; returns the files changed. */
export function updateDocs(cwd: string): string[] {
  const ctx = docContext(cwd);
  const changed: string[] = [];
  for (const block of DOC_BLOCKS) {
    const path = join(cwd, block.file);
    const text = readFileSync(path, 'utf8');
    const [begin, end] = markers(block.name);
    const from = text.indexOf(begin);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`${block.file} has no ${begin} ... ${end} block to fill.`);
    const next = `${text.slice(0, from + begin.length)}\n${block.render(ctx)}\n${text.slice(to)}`;
    if (next !== text) {
      writeFileSync(path, next);
      changed.push(block.file);
    }
  }
  return changed;
}
