#!/usr/bin/env -S npx tsx
import { Command, InvalidArgumentError } from 'commander';
import { estimate, oneLine, recommendedLine, recommendedStack, recommendedSummary } from '../lib/cost';
import { DEFAULT_PORT, startDashboard } from '../lib/dashboard/server';
import { embeddedTarget } from '../lib/dashboard/target';
import { formatDemoSummary, runDemo } from '../lib/local/demo';
import { LocalRuntimeError } from '../lib/local/errors';
import { startRuntime } from '../lib/local/runtime';

// The AWS SDK warns on every run that its 2027 releases need Node 22; the output is for the user's data.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** `npm run local` (up) and `npm start` (demo): wiring only; the runtime lives in lib/local. */
const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number (0 = any free port)');
  return n;
};
const say = (line: string) => process.stderr.write(`${line}\n`);

const program = new Command('iot-local')
  .description('The embedded runtime: the synthesized CDK stack on local emulators, one endpoint, no Docker.')
  .showHelpAfterError();

program
  .command('up')
  .description('Bring the stack up and keep it running until Ctrl-C; writes .local/stack.json.')
  .option('--port <port>', 'endpoint port (0 = any free port)', port, 4566)
  .option('--fresh', 'delete the data in .local/data before starting', false)
  .option('--data-dir <dir>', 'where the emulators keep their data', '.local/data')
  .option('--tumbling-window <seconds>', "override the mappings' tumbling window (template: 60 s)", Number)
  .option('--firehose-buffer <seconds>', 'override the Firehose buffering interval', Number)
  .option('--no-limits', "turn off AWS's Kinesis shard limits and provisioned DynamoDB capacity (benchmarks)")
  .action(
    async (o: {
      port: number;
      fresh: boolean;
      dataDir: string;
      tumblingWindow?: number;
      firehoseBuffer?: number;
      limits: boolean;
    }) => {
      const runtime = await startRuntime({
        port: o.port,
        fresh: o.fresh,
        dataDir: o.dataDir,
        limits: o.limits,
        overrides: { tumblingWindowSeconds: o.tumblingWindow, firehoseBufferSeconds: o.firehoseBuffer },
        log: say,
      });
      process.stdout.write(`${JSON.stringify(runtime.info, null, 2)}\n`);
      say(`Embedded stack running at ${runtime.endpoint}; description in .local/stack.json. Ctrl-C to stop.`);
      say(
        `Try: npm run simulate -- --profile solar --duplicates 10   |   aws --endpoint-url ${runtime.endpoint} kinesis list-streams`,
      );
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = () => {
          if (stopping) {
            say('Second interrupt: exiting now (data may need a replay at the next start).');
            process.exit(130);
          }
          stopping = true;
          say('Stopping (finishing in-flight batches, delivering Firehose buffers)...');
          runtime.stop().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        // A component that kept dying: the runtime stopped itself and said what failed.
        runtime.supervision.failed.then(() => runtime.stop().then(() => process.exit(1)));
      });
      say('Stopped.');
    },
  );

program
  .command('demo')
  .description('Run both fleets through the whole pipeline for about a minute, drain, print a summary.')
  .option('--port <port>', 'endpoint port (default 4566, or any free port when it is taken)', port)
  .option('--duration <seconds>', 'how long the fleets produce', Number, 40)
  .option('--seed <n>', 'simulation seed', Number, 42)
  .option('--keep', 'keep the stack up after the summary and serve the dashboard on it (Ctrl-C stops both)', false)
  .option('--dashboard-port <port>', 'with --keep: the dashboard port (taken: a free one)', port, DEFAULT_PORT)
  .action(async (o: { port?: number; duration: number; seed: number; keep: boolean; dashboardPort: number }) => {
    const options = {
      durationMs: o.duration * 1000,
      seed: o.seed,
      log: say,
      keep: o.keep,
      priceRun: (run: Parameters<typeof estimate>[0]['fromRun']) =>
        [
          oneLine(estimate({ workload: 'solar-fleet', fromRun: run }).report),
          recommendedLine(
            estimate({ workload: 'solar-fleet', fromRun: run, stack: recommendedStack('.', 'us-east-1') }).report,
            recommendedSummary(),
          ),
        ].join('\n'),
    };
    let summary: Awaited<ReturnType<typeof runDemo>>;
    try {
      summary = await runDemo({ ...options, port: o.port ?? 4566 });
    } catch (err) {
      if (o.port !== undefined || !(err instanceof LocalRuntimeError) || !/is in use/.test(err.message)) throw err;
      say('Port 4566 is taken (another runtime or LocalStack?): using a free port for the demo.');
      summary = await runDemo({ ...options, port: 0 });
    }
    process.stdout.write(`${formatDemoSummary(summary).join('\n')}\n`);
    const runtime = summary.runtime;
    if (!runtime) return;
    const dashboard = await startDashboard({
      target: embeddedTarget(runtime.target()),
      port: o.dashboardPort,
      log: say,
    });
    say(`\nThe demo's stack stays up at ${runtime.endpoint} (.local/stack.json); its data goes when it stops.`);
    say(`Dashboard: ${dashboard.url}`);
    say('Ctrl-C stops the dashboard and the stack.');
    await new Promise<void>((resolve) => {
      const stop = () => {
        say('Stopping...');
        void dashboard.close().then(() => runtime.stop().then(resolve, resolve));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  });

program.parseAsync(process.argv).catch((err: Error) => {
  const known = err instanceof LocalRuntimeError || ['SimulationError', 'TargetError'].includes(err.constructor.name);
  say(`Error: ${err.message}`);
  if (!known) say(process.env.DEBUG ? String(err.stack) : '(set DEBUG=1 for the stack trace)');
  process.exit(1);
});
