import { readdirSync, readFileSync } from 'node:fs';
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

/** Linux's USER_HZ, the unit of /proc/<pid>/stat's utime and stime, on every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, ms) used so far by the live processes below this one (Linux /proc), this one
 * too with `includeSelf`, and only those whose command matches `command` when given: what a benchmark's
 * own processes spent, which the machine's other work does not add to. A process that exited meanwhile
 * is missed (the benchmarks keep theirs alive while measuring).
 */
export function processTreeCpuMs(options: { readonly includeSelf?: boolean; readonly command?: RegExp } = {}): number {
  const parentOf = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Fields after the command, which is in parentheses and may hold spaces.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(name), Number(f[1]));
      if (options.command && !options.command.test(readFileSync(`/proc/${name}/comm`, 'utf8'))) continue;
      ticks.set(Number(name), Number(f[11]) + Number(f[12]));
    } catch {
      // the process ended while we looked
    }
  }
  const counted = (pid: number): boolean => {
    if (pid === process.pid) return options.includeSelf === true;
    for (let p = parentOf.get(pid); p !== undefined && p > 1; p = parentOf.get(p)) if (p === process.pid) return true;
    return false;
  };
  let total = 0;
  for (const [pid, t] of ticks) if (counted(pid)) total += t;
  return (total * 1000) / CLOCK_TICKS_PER_SECOND;
}
