#!/usr/bin/env -S npx tsx
import { Command, InvalidArgumentError, Option } from 'commander';
import { CostInputError, estimate, formatReport, METERING_FILE, toJson } from '../lib/cost';
import { updateDocs } from '../lib/cost/docs';
import { WORKLOADS } from '../lib/cost/workload';

/** `npm run cost`: wiring only; the model lives in lib/cost. */
const number = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('a number');
  return n;
};

const program = new Command('iot-cost')
  .description('What the synthesized stack (cdk.out) costs a month for a workload, on AWS list prices.')
  .addOption(new Option('--workload <name>', 'named workload').choices(Object.keys(WORKLOADS)).default('solar-fleet'))
  .option('--region <region>', 'price table (lib/cost/prices.ts)', 'us-east-1')
  .option('--cdk-out <dir>', 'cloud assembly to price', 'cdk.out')
  .option('--from-run [file]', `per-reading counts measured by an embedded run (default ${METERING_FILE})`)
  .addOption(new Option('--compare <architecture>', 'also price another architecture').choices(['tutorial']))
  .addOption(new Option('--format <format>', 'output').choices(['table', 'json']).default('table'))
  .option('--devices <n>', 'devices in the fleet', number)
  .option('--interval <seconds>', 'seconds between two readings of one device', number)
  .option('--copies <n>', 'extra copies the firmware sends of each reading', number)
  .option('--dedupe', 'copies are dropped at the edge before Kinesis')
  .option('--record-bytes <n>', 'bytes of one reading as JSON', number)
  .option('--readings-per-record <n>', 'readings packed into one Kinesis record (KPL aggregation)', number)
  .option('--queries-per-month <n>', 'Athena queries a month', number)
  .option('--query-days <n>', 'days of archive each query reads', number)
  .option('--update-docs', 'rewrite the cost figures in docs/deploy.md and the README from the model')
  .addHelpText(
    'after',
    '\nExamples: npm run cost -- --workload solar-fleet --compare tutorial | npm run cost -- --from-run',
  );

program.parse();
const o = program.opts<{
  workload: string;
  region: string;
  cdkOut: string;
  fromRun?: string | true;
  compare?: 'tutorial';
  format: 'table' | 'json';
  devices?: number;
  interval?: number;
  copies?: number;
  dedupe?: boolean;
  recordBytes?: number;
  readingsPerRecord?: number;
  queriesPerMonth?: number;
  queryDays?: number;
  updateDocs?: boolean;
}>();

try {
  if (o.updateDocs) {
    const changed = updateDocs(process.cwd());
    process.stdout.write(changed.length > 0 ? `updated ${changed.join(', ')}\n` : 'docs already match the model\n');
    process.exit(0);
  }
  const { report, compare } = estimate({
    workload: o.workload,
    region: o.region,
    cdkOut: o.cdkOut,
    fromRun: o.fromRun === true ? METERING_FILE : o.fromRun,
    compare: o.compare,
    flags: {
      devices: o.devices,
      intervalSeconds: o.interval,
      copies: o.copies,
      dedupeAtEdge: o.dedupe,
      recordBytes: o.recordBytes,
      readingsPerKinesisRecord: o.readingsPerRecord,
      queriesPerMonth: o.queriesPerMonth,
      queryDays: o.queryDays,
    },
  });
  const text =
    o.format === 'json' ? JSON.stringify(toJson(report, compare), null, 2) : formatReport(report, compare).join('\n');
  process.stdout.write(`${text}\n`);
} catch (err) {
  if (!(err instanceof CostInputError)) throw err;
  process.stderr.write(`npm run cost: ${err.message}\n`);
  process.exitCode = 2;
}
