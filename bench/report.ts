import { cpus } from 'node:os';

/** What every benchmark section returns, so `npm run bench` can print and collect them uniformly. */
export interface BenchReport {
  readonly title: string;
  readonly lines: string[];
  readonly figures: Record<string, number>;
}

/** One line naming the machine the figures were measured on. */
export function machineLine(): string {
  const cpu = cpus();
  return `machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${process.platform}/${process.arch}`;
}

export function printReport(report: BenchReport): void {
  console.log(`\n## ${report.title}`);
  for (const line of report.lines) console.log(line);
}

/** Median of repeated timings: one slow run (GC, the other core busy) does not move it. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export const perSecond = (count: number, ms: number) => Math.round((count / ms) * 1000);
export const fmt = (n: number) => n.toLocaleString('en-US');
