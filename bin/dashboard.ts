#!/usr/bin/env -S npx tsx
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_PORT, startDashboard } from '../lib/dashboard/server';
import { resolveDashboardTarget } from '../lib/dashboard/target';
import { TargetError } from '../lib/shared/stack-target';

// The AWS SDK warns on every run that its 2027 releases need Node 22; the output is for the user.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** `npm run dashboard`: wiring only; the server lives in lib/dashboard. */
const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number (0 = any free port)');
  return n;
};
const seconds = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 1 || n > 3600) throw new InvalidArgumentError('seconds, 1 to 3600');
  return n * 1000;
};
const say = (line: string) => process.stderr.write(`${line}\n`);

const program = new Command('iot-dashboard')
  .description(
    'The fleet dashboard on http://127.0.0.1: live map, device list, per-minute charts, pipeline health, findings. Read-only.',
  )
  .option('--port <port>', `port on 127.0.0.1 (taken: a free one; 0 = any)`, port, DEFAULT_PORT)
  .option('--outputs <file>', 'a `cdk deploy --outputs-file` file: the stack on AWS (your AWS credentials)')
  .option('--endpoint <url>', 'with --outputs: LocalStack or another endpoint instead of AWS')
  .option('--region <region>', 'AWS region (default: the outputs file)')
  .option('--refresh <seconds>', 'device-state scan cadence (default 5 s embedded, 30 s AWS)', seconds)
  .option('--health <seconds>', 'pipeline health cadence (default 5 s embedded, 60 s AWS)', seconds)
  .option('--raw-slack-hours <hours>', 'arrival hours after a minute searched for its raw readings', Number, 2)
  .option('--metrics-namespace <ns>', 'custom metrics namespace (default: the stack default)')
  .option('--metrics-service <name>', "custom metrics' service dimension (default: iot-aggregator-<default stage>)")
  .action(
    async (o: {
      port: number;
      outputs?: string;
      endpoint?: string;
      region?: string;
      refresh?: number;
      health?: number;
      rawSlackHours: number;
      metricsNamespace?: string;
      metricsService?: string;
    }) => {
      const target = resolveDashboardTarget(o);
      const dashboard = await startDashboard({
        target,
        port: o.port,
        refreshMs: o.refresh,
        healthMs: o.health,
        rawSlackHours: o.rawSlackHours,
        log: say,
      });
      say(
        `Dashboard for ${target.source} (${target.kind === 'embedded' ? 'embedded stack' : 'AWS'}): ${dashboard.url}`,
      );
      say('Read-only; Ctrl-C to stop.');
      const stop = () => {
        void dashboard.close().then(() => process.exit(0));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
  );

program.parseAsync(process.argv).catch((err: Error) => {
  say(`Error: ${err.message}`);
  if (!(err instanceof TargetError)) say(process.env.DEBUG ? String(err.stack) : '(set DEBUG=1 for the stack trace)');
  process.exit(1);
});
