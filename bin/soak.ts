#!/usr/bin/env -S npx tsx
import { Command, InvalidArgumentError } from 'commander';
import { LocalRuntimeError } from '../lib/local/errors';
import { formatSoakReport, runSoak } from '../lib/local/soak';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** `npm run soak -- --minutes N`: wiring only; the soak lives in lib/local/soak.ts. */
const minutes = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 1 || n > 24 * 60) throw new InvalidArgumentError('minutes between 1 and 1440');
  return n;
};
const say = (line: string) => process.stderr.write(`${line}\n`);

new Command('iot-soak')
  .description('Fault-injection soak of the embedded runtime (loopback only; stops by itself).')
  .option('--minutes <n>', 'how long the fleets produce while faults are injected', minutes, 2)
  .option('--seed <n>', 'workload seed', Number, 11)
  .showHelpAfterError()
  .action(async (o: { minutes: number; seed: number }) => {
    const report = await runSoak({ minutes: o.minutes, seed: o.seed, log: say });
    process.stdout.write(`${formatSoakReport(report).join('\n')}\n`);
    process.exit(report.verdict === 'PASS' ? 0 : 1);
  })
  .parseAsync(process.argv)
  .catch((err: Error) => {
    say(`Error: ${err.message}`);
    if (!(err instanceof LocalRuntimeError)) say(String(err.stack));
    process.exit(2);
  });
