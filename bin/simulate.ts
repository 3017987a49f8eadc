#!/usr/bin/env -S npx tsx
/**
 * Device simulator: `npm run simulate -- [options]`. Wiring only: flags -> runSimulation (lib/simulator/run.ts).
 */
import { Command, Option } from 'commander';
import {
  parseDelayFlag,
  parseDurationFlag,
  parsePerProfile,
  parsePositiveInt,
  parsePositiveNumber,
  parseProfiles,
  parseRate,
  parseStart,
  reproduceCommand,
  summaryText,
} from '../lib/simulator/cli-options';
import { SimulationError } from '../lib/simulator/errors';
import { progressReporter } from '../lib/simulator/progress';
import { runSimulation, type SimulationOptions } from '../lib/simulator/run';
import { resolveStreamTarget } from '../lib/simulator/target';

// The AWS SDK warns on every run that its 2027 releases need Node 22; the output is for the user's data.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const program = new Command('simulate')
  .description(
    'Simulates Wild Rydes unicorns and solar panels and sends their readings to a Kinesis stream (or writes NDJSON).\n' +
      'Target: --outputs FILE, or the running embedded stack (.local/stack.json), or --stream/--endpoint/--region, or --out.',
  )
  .option('-p, --profile <list>', 'device fleet(s): unicorn, solar, or unicorn,solar', 'unicorn')
  .option(
    '-n, --devices <n|profile=n,...>',
    'devices per profile, e.g. 10 or unicorn=5,solar=30000 (default: 1 unicorn, 100 panels)',
  )
  .option('--name <name...>', "unicorn name(s), like the workshop producer's -name (one unicorn per name)")
  .option(
    '--interval <dur|profile=dur,...>',
    'simulated time between two readings of a device (default: unicorn 1s, solar 5m)',
  )
  .option(
    '--rate <n|max>',
    'unique records per second for the whole run (sets the speed), or max: as fast as the target takes ' +
      '(the default with --out and no --speed or --duration)',
  )
  .option('--speed <n>', 'simulated time runs N times faster than the clock (default 1: live data; with --out: max)')
  .option('--duration <dur>', 'wall-clock run time, e.g. 30s, 10m, 2h (default: until Ctrl-C, at most 24 h of events)')
  .option('--sim-duration <dur>', 'simulated span instead of --duration, e.g. 1d (with --speed, --rate max or --out)')
  .option('--count <n>', 'stop after N unique messages (all profiles together)')
  .option(
    '--start <iso>',
    'simulated start time (default: with --seed, a minute of 2025 drawn from the seed; ' +
      'without, so that the last event time is the end of the run)',
  )
  .option(
    '--seed <n>',
    'random seed: the same command with the same seed gives byte-identical records ' +
      '(default: random; the summary prints the command that reproduces the run)',
  )
  .option('--no-anomalies', 'no injected spikes, gaps or faults')
  .option('--clear-sky', 'solar: the sun alone, no clouds, rain or sensor noise (default: per-site weather)')
  .option('--anomalies-file <path>', 'write the injected anomalies (spikes, gaps, faults) as JSON to this file')
  .option(
    '--duplicates <k>',
    'the retry bug: send each message K extra times, identical (the solar firmware sends 10)',
    '0',
  )
  .option(
    '--delay <spec>',
    'when the copies go out: immediate, seconds (1-30 s), minutes (1-10 min), or MIN-MAX like 2s-45s',
    'immediate',
  )
  .option(
    '--reorder [window]',
    'hold every message back by a random 0..window (default 30s) so messages overtake each other',
  )
  .option('--dedupe', 'edge gateway that drops the copies before Kinesis (bounded memory, see docs/simulator.md)')
  .option('--dedupe-window <dur>', 'how long the gateway remembers a message', '10m')
  .option('--dedupe-max-keys <n>', 'most messages the gateway remembers at once', '500000')
  .option('--stream <name>', "Kinesis stream name (the workshop's -stream)")
  .option('--endpoint <url>', 'Kinesis endpoint: the embedded runtime, LocalStack (http://127.0.0.1:4566), ...')
  .option('--region <region>', "AWS region (default: the target file's, AWS_REGION, or us-east-1)")
  .option('--outputs <file>', 'read the stream from a `cdk deploy --outputs-file` file')
  .option('--aws', 'ignore .local/stack.json: --stream alone means your AWS account')
  .option(
    '--out <file|->',
    'write NDJSON to a file (or - for stdout) instead of sending; as fast as possible unless --rate, --speed or --duration paces it',
  )
  .option('--max-in-flight <n>', 'concurrent PutRecords requests', '4')
  .option('--json', 'print the summary as JSON (on stdout, or stderr with --out -)')
  .addOption(new Option('--progress-interval <ms>').default('1000').hideHelp())
  .addHelpText(
    'after',
    '\nExamples:\n' +
      '  npm run simulate -- --name Bucephalus --stream wildrydes          # the workshop producer\n' +
      '  npm run simulate -- --profile solar --devices 300 --sim-duration 1d --speed 288 --duplicates 10 --delay seconds --dedupe\n' +
      '  npm run simulate -- --profile unicorn,solar --count 10000 --out data.ndjson --anomalies-file anomalies.json\n' +
      '  npm run simulate -- --profile solar --devices 40 --count 400 --duplicates 10 --seed 7 --out a.ndjson  # same bytes every time\n',
  );

type Flags = Record<string, string | boolean | string[] | undefined>;

function buildOptions(f: Flags): SimulationOptions {
  const names = f.name as string[] | undefined;
  let profiles = parseProfiles(f.profile as string);
  if (names && names.length > 0 && !profiles.includes('unicorn')) profiles = ['unicorn', ...profiles];
  const devices = f.devices
    ? parsePerProfile('--devices', f.devices as string, (fl, t) => parsePositiveInt(fl, t))
    : undefined;
  const interval = f.interval ? parsePerProfile('--interval', f.interval as string, parseDurationFlag) : undefined;
  const reorder =
    f.reorder === undefined ? 0 : f.reorder === true ? 30_000 : parseDurationFlag('--reorder', f.reorder as string);
  const out = f.out as string | undefined;
  return {
    profiles,
    devices,
    names,
    intervalMs: typeof interval === 'number' ? Object.fromEntries(profiles.map((p) => [p, interval])) : interval,
    rate: f.rate ? parseRate(f.rate as string) : undefined,
    speed: f.speed ? parsePositiveNumber('--speed', f.speed as string) : undefined,
    durationMs: f.duration ? parseDurationFlag('--duration', f.duration as string) : undefined,
    simDurationMs: f.simDuration ? parseDurationFlag('--sim-duration', f.simDuration as string) : undefined,
    count: f.count ? parsePositiveInt('--count', f.count as string) : undefined,
    start: f.start ? parseStart(f.start as string) : undefined,
    seed: f.seed ? parsePositiveInt('--seed', f.seed as string, true) : undefined,
    anomalies: f.anomalies !== false,
    solarWeather: f.clearSky ? 'clear-sky' : 'cloudy',
    anomaliesFile: f.anomaliesFile as string | undefined,
    duplicates: parsePositiveInt('--duplicates', f.duplicates as string, true),
    delay: parseDelayFlag(f.delay as string),
    reorderMs: reorder,
    dedupe: f.dedupe
      ? {
          windowMs: parseDurationFlag('--dedupe-window', f.dedupeWindow as string),
          maxKeys: parsePositiveInt('--dedupe-max-keys', f.dedupeMaxKeys as string),
        }
      : false,
    maxInFlight: parsePositiveInt('--max-in-flight', f.maxInFlight as string),
    progressIntervalMs: parsePositiveInt('--progress-interval', f.progressInterval as string),
    ...(out !== undefined
      ? { out: out === '-' ? process.stdout : out }
      : {
          target: resolveStreamTarget({
            stream: f.stream as string | undefined,
            endpoint: f.endpoint as string | undefined,
            region: f.region as string | undefined,
            outputs: f.outputs as string | undefined,
            aws: f.aws === true,
          }),
        }),
  };
}

async function main(): Promise<void> {
  program.parse();
  const flags = program.opts() as Flags;
  const options = buildOptions(flags);
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write('\nAborted without flushing.\n');
      process.exit(130);
    }
    process.stderr.write(`\n${sig}: flushing what is buffered (press Ctrl-C again to abort)...\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = progressReporter();
  const args = process.argv.slice(2);
  try {
    const summary = await runSimulation(options, {
      signal: controller.signal,
      onProgress: progress.onProgress,
      onStart: (plan) => {
        if (!plan.seedGiven) {
          process.stderr.write(`Seed ${plan.seed} (drawn at random): reproduce with ${reproduceCommand(args, plan)}\n`);
        }
      },
    });
    progress.stop();
    const toStderr = flags.out === '-';
    const reproduce = reproduceCommand(args, summary);
    const text = flags.json ? JSON.stringify({ ...summary, reproduce }, null, 2) : summaryText(summary, reproduce);
    (toStderr || !flags.json ? process.stderr : process.stdout).write(`${text}\n`);
    process.exitCode = summary.failed > 0 ? 1 : 0;
  } finally {
    progress.stop();
  }
}

main().catch((err: unknown) => {
  if (err instanceof SimulationError) {
    process.stderr.write(`simulate: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`simulate: ${(err as Error)?.message ?? String(err)}\n`);
  if (process.env.DEBUG) console.error(err);
  process.exit(1);
});
