#!/usr/bin/env -S npx tsx
/**
 * Stream consumer, like the workshop's ./consumer: `npm run consume -- --stream NAME`.
 * Wiring only: flags -> consumeStream (lib/simulator/consumer.ts).
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { Command } from 'commander';
import { baseClientConfig } from '../lib/shared/aws-clients';
import { parseDurationFlag, parsePositiveInt } from '../lib/simulator/cli-options';
import { consumeStream, formatConsumed } from '../lib/simulator/consumer';
import { SimulationError } from '../lib/simulator/errors';
import { checkStream, describeTarget, explainKinesisError, resolveStreamTarget } from '../lib/simulator/target';

// The AWS SDK warns on every run that its 2027 releases need Node 22; the output is for the user's data.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const program = new Command('consume')
  .description("Prints the records of a Kinesis stream, all shards, as they arrive (the workshop's ./consumer).")
  .option('--stream <name>', "stream name (default: the embedded stack's or the outputs file's)")
  .option('--endpoint <url>', 'Kinesis endpoint (embedded runtime, LocalStack)')
  .option('--region <region>', 'AWS region')
  .option('--outputs <file>', 'read the stream from a `cdk deploy --outputs-file` file')
  .option('--aws', 'ignore .local/stack.json: --stream alone means your AWS account')
  .option(
    '--from <position>',
    'where to start in each shard: trim_horizon (oldest kept) or latest (new only)',
    'trim_horizon',
  )
  .option('--raw', "print each record's data only, one per line (NDJSON for JSON records)")
  .option('--count <n>', 'stop after N records')
  .option('--timeout <dur>', 'stop when nothing arrived for this long, e.g. 10s')
  .addHelpText('after', '\nExample:\n  npm run consume -- --stream wildrydes --from latest\n');

async function main(): Promise<void> {
  program.parse();
  const f = program.opts() as Record<string, string | boolean | undefined>;
  const from = String(f.from).toUpperCase();
  if (from !== 'TRIM_HORIZON' && from !== 'LATEST') {
    throw new SimulationError(`--from "${f.from}": use trim_horizon or latest.`);
  }
  const target = resolveStreamTarget({
    stream: f.stream as string | undefined,
    endpoint: f.endpoint as string | undefined,
    region: f.region as string | undefined,
    outputs: f.outputs as string | undefined,
    aws: f.aws === true,
    purpose: 'read',
  });
  const client = new KinesisClient(baseClientConfig(target));
  await checkStream(client, target);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  process.stderr.write(`Reading ${describeTarget(target)} from ${from} (Ctrl-C to stop)\n`);
  try {
    const summary = await consumeStream({
      client,
      streamName: target.streamName,
      from,
      count: f.count ? parsePositiveInt('--count', f.count as string) : undefined,
      idleTimeoutMs: f.timeout ? parseDurationFlag('--timeout', f.timeout as string) : undefined,
      signal: controller.signal,
      onRecord: (r) => process.stdout.write(`${formatConsumed(r, f.raw === true)}\n`),
    });
    process.stderr.write(
      `${summary.records} records from ${summary.shards} shards (stopped by ${summary.stoppedBy})\n`,
    );
  } catch (err) {
    if (err instanceof SimulationError) throw err;
    throw explainKinesisError(err, target);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`consume: ${(err as Error)?.message ?? String(err)}\n`);
  if (process.env.DEBUG) console.error(err);
  process.exit(err instanceof SimulationError ? err.exitCode : 1);
});
