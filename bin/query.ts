#!/usr/bin/env -S npx tsx
import { Command, InvalidArgumentError } from 'commander';
import { runLocalQuery } from '../lib/local/athena/standalone';
import { runQueryCli } from '../lib/query/cli';

// The AWS SDK warns on every run that its 2027 releases need Node 22; the tool's output is for answers.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const collect = (value: string, previous: string[]) => [...previous, value];
const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

const program = new Command()
  .name('query')
  .description(
    'Ad-hoc SQL (Athena/Trino dialect) over the raw archive: AWS Athena, the embedded runtime, or LocalStack S3.\n' +
      'Examples:\n' +
      '  npm run query -- "SELECT count(*) FROM solar_raw WHERE year = 2026 AND month = 11"\n' +
      '  npm run query -- --named solar-spikes --param from=2026-11-20 --param to=2026-11-21\n' +
      '  npm run query -- --outputs cdk-outputs.json --file q.sql --format csv --output out.csv',
  )
  .argument('[sql]', 'the query (or use --file / --named)')
  .option('-f, --file <file>', 'read the query from a file')
  .option('-n, --named <name>', 'run one of the stack’s named queries (see --list)')
  .option('-l, --list', 'list the named queries and their parameters')
  .option('-p, --param <name=value>', 'fill a {{name}} placeholder (repeatable)', collect, [])
  .option('--format <format>', 'table, csv or json', 'table')
  .option('-o, --output <file>', 'write the results to a file instead of stdout')
  .option('--outputs <file>', 'target the stack described by `cdk deploy --outputs-file` FILE')
  .option('--endpoint <url>', 'Athena endpoint (embedded runtime or another AWS-compatible endpoint)')
  .option('--region <region>', 'AWS region')
  .option('--workgroup <name>', 'Athena workgroup (default: the stack’s)')
  .option('--database <name>', 'Glue database (default: the stack’s)')
  .option('--engine <engine>', 'athena (AWS or the embedded runtime) or local (in-process engine over S3)', 'athena')
  .option('--s3-endpoint <url>', 'with --engine local: the S3 endpoint holding the archive (e.g. LocalStack)')
  .option('--bucket <name>', 'with --engine local: the archive bucket')
  .option('--template <file>', 'with --engine local: read the Glue tables from a synthesized template (cdk.out)')
  .option('--cache-dir <dir>', 'with --engine local: keep downloaded archive objects here between runs')
  .option('--max-rows <n>', 'stop reading results after N rows', positiveInt)
  .action(async (sql: string | undefined, opts) => {
    const controller = new AbortController();
    let interrupted = 0;
    const onSignal = () => {
      interrupted++;
      if (interrupted > 1) process.exit(130);
      process.stderr.write('\nCancelling the query (Ctrl-C again to quit at once)…\n');
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const code = await runQueryCli(
      { ...opts, sql },
      {
        stdout: (s) => process.stdout.write(s),
        stderr: (s) => process.stderr.write(s),
        tty: Boolean(process.stderr.isTTY),
        signal: controller.signal,
      },
      { local: runLocalQuery },
    );
    process.exitCode = code;
  });

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
});
