import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import {
  LOCAL_STACK_FILE,
  type StackTarget,
  TargetError,
  targetFromCdkOutputs,
  targetFromLocalStack,
} from '../shared/stack-target';
import { SimulationError } from './errors';

/** Where records go: a Kinesis stream (AWS when endpoint is undefined). */
export interface StreamTarget {
  readonly endpoint?: string;
  readonly region: string;
  readonly streamName: string;
  /** The stack's archive bucket, when known: the simulator writes the solar device registry there. */
  readonly archiveBucket?: string;
  /** Where the target came from, for messages (`--stream`, `.local/stack.json`, `cdk-outputs.json`). */
  readonly source?: string;
}

export interface TargetFlags {
  readonly stream?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly outputs?: string;
  /** Ignore `.local/stack.json`: `--stream` alone then means real AWS. */
  readonly aws?: boolean;
  readonly cwd?: string;
  /** The consumer reads: its advice names no `--out`. @default 'send' */
  readonly purpose?: 'send' | 'read';
}

const howToChoose = (purpose: 'send' | 'read') =>
  [
    `No target: choose the stream to ${purpose === 'send' ? 'send to' : 'read'} with one of`,
    '  npm run local                                   (start the embedded stack; then run this again)',
    '  --outputs cdk-outputs.json                      (after cdk deploy --outputs-file cdk-outputs.json)',
    '  --stream NAME [--region R]                      (a stream in your AWS account)',
    '  --stream NAME --endpoint http://127.0.0.1:4566  (LocalStack or any Kinesis-compatible endpoint)',
    ...(purpose === 'send'
      ? ['  --out FILE | --out -                            (write NDJSON instead of sending)']
      : []),
  ].join('\n');

function envRegion(): string | undefined {
  return process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
}

/**
 * Picks the stream from the flags: an outputs file, else the embedded stack's `.local/stack.json`
 * (unless `--aws`), else `--stream`/`--endpoint`/`--region` alone. Flags override file values.
 */
export function resolveStreamTarget(flags: TargetFlags): StreamTarget {
  let base: StackTarget | undefined;
  try {
    if (flags.outputs) base = targetFromCdkOutputs(flags.outputs);
    else if (!flags.aws && !flags.endpoint) base = targetFromLocalStack(flags.cwd);
  } catch (err) {
    if (err instanceof TargetError) throw new SimulationError(err.message);
    throw err;
  }
  const streamName = flags.stream ?? base?.streamName;
  if (!streamName) {
    if (base) throw new SimulationError(`${base.source} names no stream: give --stream NAME.`);
    throw new SimulationError(howToChoose(flags.purpose ?? 'send'));
  }
  const endpoint = flags.endpoint ?? (flags.aws ? undefined : base?.endpoint);
  return {
    endpoint,
    region: flags.region ?? base?.region ?? envRegion() ?? 'us-east-1',
    streamName,
    archiveBucket: base?.archiveBucket,
    source: flags.stream && !base ? '--stream' : (base?.source ?? LOCAL_STACK_FILE),
  };
}

export function describeTarget(t: StreamTarget): string {
  return `stream ${t.streamName} at ${t.endpoint ?? `AWS ${t.region}`}`;
}

/** Turns the SDK's errors into what the user should do about them. */
export function explainKinesisError(err: unknown, target: StreamTarget): SimulationError {
  const e = err as { name?: string; code?: string; message?: string };
  const where = target.endpoint ?? `AWS region ${target.region}`;
  const list = target.endpoint
    ? `aws kinesis list-streams --endpoint-url ${target.endpoint} --region ${target.region}`
    : `aws kinesis list-streams --region ${target.region}`;
  if (e?.name === 'ResourceNotFoundException') {
    return new SimulationError(
      `Stream "${target.streamName}" not found at ${where}. List the streams with: ${list}\n` +
        'Create one by starting the embedded stack (npm run local) or deploying (npx cdk deploy), or pass the right --stream.',
    );
  }
  const network = networkErrorCode(err);
  if (network) {
    return new SimulationError(
      `Cannot reach ${where} (${network}). Is the embedded stack running? Start it with: npm run local` +
        (target.endpoint ? '' : ' (or check your network and --region)'),
    );
  }
  if (
    e?.name === 'CredentialsProviderError' ||
    e?.name === 'UnrecognizedClientException' ||
    e?.name === 'InvalidSignatureException' ||
    e?.name === 'ExpiredTokenException'
  ) {
    return new SimulationError(
      `No valid AWS credentials for ${where} (${e.name}). Configure them (aws configure, AWS_PROFILE, or SSO login), ` +
        'or use --endpoint for a local stack.',
    );
  }
  if (e?.name === 'AccessDeniedException') {
    return new SimulationError(`Access denied to stream "${target.streamName}" at ${where}: ${e.message}`);
  }
  return new SimulationError(`Kinesis call to ${where} failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`);
}

const NETWORK_CODES = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'];

/**
 * The socket error behind an SDK error, if any. The SDK sometimes wraps it ("AWS SDK error wrapper for
 * Error: connect ECONNREFUSED ..."), keeping the code only in the message or the cause.
 */
export function networkErrorCode(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string }; message?: string };
  const direct = e?.code ?? e?.cause?.code;
  if (direct && NETWORK_CODES.includes(direct)) return direct;
  return NETWORK_CODES.find((c) => e?.message?.includes(c));
}

/** Checks that the stream exists and can take writes (waits briefly while it is being created). */
export async function checkStream(client: Pick<KinesisClient, 'send'>, target: StreamTarget): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    let status: string | undefined;
    let shards = 0;
    try {
      const res = await client.send(new DescribeStreamSummaryCommand({ StreamName: target.streamName }));
      status = res.StreamDescriptionSummary?.StreamStatus;
      shards = res.StreamDescriptionSummary?.OpenShardCount ?? 0;
    } catch (err) {
      throw explainKinesisError(err, target);
    }
    if (status === 'ACTIVE' || status === 'UPDATING') return shards;
    if (status !== 'CREATING' || attempt >= 20) {
      throw new SimulationError(`Stream "${target.streamName}" is ${status}: it cannot take records now.`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
