import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAggregateBench } from './aggregate';
import { runAthenaBench } from './athena';
import { runDashboardBench } from './dashboard';
import { runDetectionBench } from './detection';
import { E2E_READINGS, runEndToEndBench } from './end-to-end';
import { runImportBench } from './import';
import { type BenchReport, machineLine, printReport } from './report';
import { runSimulatorBench } from './simulator';

/**
 * `npm run bench`: every benchmark in one run on this machine, printed, and written to
 * `.bench/results.json`. Sections run one after the other so they do not compete for the cores.
 * `npm run bench -- aggregate simulator` runs only the named sections.
 */
const SECTIONS: Record<string, () => Promise<BenchReport>> = {
  aggregate: runAggregateBench,
  simulator: () => runSimulatorBench(),
  athena: runAthenaBench,
  detection: runDetectionBench,
  'end-to-end': () => runEndToEndBench(),
  'end-to-end-gateway': () => runEndToEndBench(E2E_READINGS, 'gateway'),
  'end-to-end-gateway-cold': () => runEndToEndBench(E2E_READINGS, 'gateway', false),
  dashboard: runDashboardBench,
  import: runImportBench,
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !(name in SECTIONS));
  if (unknown.length > 0) {
    console.error(`unknown section(s): ${unknown.join(', ')}; choose from ${Object.keys(SECTIONS).join(', ')}`);
    process.exit(2);
  }
  console.log(`# Benchmarks\n${machineLine()}`);
  const results: Record<string, BenchReport> = {};
  for (const [name, run] of Object.entries(SECTIONS)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    const report = await run();
    printReport(report);
    results[name] = report;
  }
  mkdirSync('.bench', { recursive: true });
  writeFileSync(join('.bench', 'results.json'), `${JSON.stringify({ machine: machineLine(), results }, null, 2)}\n`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
