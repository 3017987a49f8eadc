import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { baseClientConfig, s3ClientConfig } from '../shared/aws-clients';
import { sleep } from '../shared/sleep';
import { OUTPUT_KEYS, type StackTarget, ttlDays } from '../shared/stack-target';
import { EmbeddedAnalytics, tablesFromAssembly } from './athena/services';
import { CheckpointStore } from './checkpoints';
import { type EdgeRouter, startEdgeRouter } from './edge-router';
import { type Emulators, startEmulators } from './emulators';
import { LocalRuntimeError } from './errors';
import { FirehoseDelivery } from './firehose';
import { KinesisEventSourceMapping } from './kinesis-esm';
import { LambdaFunctionHost } from './lambda-host';
import { AwsLimits, type LimitedStream } from './limits';
import { Metering } from './metering';
import { provision } from './provision';
import { LocalSqs, SQS_ACCOUNT } from './sqs';
import { planStack, type StackPlan } from './stack-plan';
import { Supervisor } from './supervisor';
import { synthesize, synthIsStale } from './synth';
import { type Assembly, loadAssembly } from './template';

/**
 * The embedded runtime: the synthesized stack brought up on emulators behind one endpoint, its
 * Lambda functions run under local event source mappings, its Firehose delivery run locally.
 */
export interface RuntimeOverrides {
  /** Replaces every mapping's TumblingWindowInSeconds (demos and tests; the template says 60). */
  readonly tumblingWindowSeconds?: number;
  readonly maxBatchingWindowSeconds?: number;
  /** Replaces the delivery streams' BufferingHints interval / size. */
  readonly firehoseBufferSeconds?: number;
  readonly firehoseBufferMiB?: number;
  readonly pollIntervalMs?: number;
  /** Grace after a window's end before it is closed at the tip of a shard (default 1000 ms). */
  readonly windowCloseGraceMs?: number;
  /** Replaces every function's Timeout (the soak's Lambda-timeout fault; the template says 60 s). */
  readonly lambdaTimeoutSeconds?: number;
}

export interface RuntimeOptions {
  /** Project root (cdk.json, sources); default process.cwd(). */
  readonly cwd?: string;
  /** Cloud assembly directory; default `<cwd>/cdk.out`. */
  readonly cdkOut?: string;
  /** `auto` synthesizes when cdk.out is missing or older than the sources; `never` only reads it. */
  readonly synth?: 'auto' | 'never';
  /** Persistent data root; default `<cwd>/.local/data`. `null` keeps everything in a temp dir removed at stop. */
  readonly dataDir?: string | null;
  /** Delete the data before starting. */
  readonly fresh?: boolean;
  /** Endpoint port; default 4566; 0 picks a free one. */
  readonly port?: number;
  readonly region?: string;
  /** Where to write the stack description; default `<cwd>/.local/stack.json`; null writes none. */
  readonly stackFile?: string | null;
  readonly overrides?: RuntimeOverrides;
  /** Extra environment for every local Lambda (e.g. LOCAL_FAULT_EVERY=5 for fault injection). */
  readonly lambdaEnv?: Readonly<Record<string, string>>;
  /** AWS's per-shard Kinesis limits and provisioned DynamoDB capacity (limits.ts); default true. */
  readonly limits?: boolean;
  /** Browser origins the endpoint accepts (e.g. a dashboard served on 127.0.0.1); default none. */
  readonly allowedOrigins?: readonly string[];
  /** Host the Athena/Glue services on the endpoint; default true. */
  readonly analytics?: boolean;
  /**
   * Where the billable counts of the run go at stop (`npm run cost -- --from-run`); default
   * `<cwd>/.local/metering.json` when a stack file is written, else none.
   */
  readonly meteringFile?: string | null;
  readonly log?: (line: string) => void;
}

/** `.local/stack.json`: the StackTarget fields plus what the local run adds. */
export interface LocalStackInfo extends Omit<StackTarget, 'source'> {
  readonly endpoint: string;
  readonly dlqUrl?: string;
  readonly athenaResultsBucket?: string;
  readonly deliveryStream?: string;
  readonly functionName?: string;
  readonly dataDir: string;
  /** Where the local Lambda functions' logs (with their EMF metrics) are: `<functionName>.log`. */
  readonly logDir: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly notRunLocally: readonly string[];
}

export class LocalRuntime {
  private stopping?: Promise<void>;

  constructor(
    readonly info: LocalStackInfo,
    readonly plan: StackPlan,
    readonly assembly: Assembly,
    readonly router: EdgeRouter,
    readonly sqs: LocalSqs,
    readonly mappings: readonly KinesisEventSourceMapping[],
    readonly deliveries: readonly FirehoseDelivery[],
    readonly functions: readonly LambdaFunctionHost[],
    private readonly closers: (() => Promise<void>)[],
    private readonly stackFile: string | null,
    readonly supervision: RuntimeSupervision,
    /** Billable counts so far (lib/local/metering.ts). */
    readonly metering: Metering,
  ) {}

  /** Each component's state (what `GET /_local/health` reports). */
  health(): Record<string, unknown> {
    return runtimeHealth(this.supervision.supervisor, this.functions);
  }

  /** What the run consumed so far, counted as AWS bills it. */
  meteringSnapshot(traffic?: string) {
    return this.metering.snapshot(this.functions, this.deliveries, traffic);
  }

  get endpoint(): string {
    return this.info.endpoint;
  }

  /** The target a client (SDK, simulator, query tool) uses for this runtime. */
  target(): StackTarget {
    return { ...this.info, source: this.stackFile ?? 'embedded runtime' };
  }

  /**
   * Waits until everything produced so far went through: every shard read to its tip, no batch in
   * flight, every tumbling window closed (final invoke done), every Firehose buffer delivered.
   * With `flush`, Firehose delivers without waiting for its buffering interval.
   */
  async drain(options: { timeoutMs?: number; flush?: boolean } = {}): Promise<number> {
    const started = Date.now();
    const deadline = started + (options.timeoutMs ?? 300_000);
    for (;;) {
      if (options.flush) for (const d of this.deliveries) d.requestFlush();
      if (this.mappings.every((m) => m.drained(started)) && this.deliveries.every((d) => d.drained(started))) {
        return Date.now() - started;
      }
      if (Date.now() > deadline) {
        throw new LocalRuntimeError(
          `the pipeline did not drain within ${Math.round((deadline - started) / 1000)} s (see the Lambda logs: ${this.functions.map((f) => f.logFile).join(', ')})`,
        );
      }
      await sleep(100);
    }
  }

  /** Stops in dependency order: pollers finish their in-flight call, Firehose delivers its buffer, then servers. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const close of [...this.closers].reverse()) {
        try {
          await close();
        } catch {
          // keep stopping the rest: an orphan process is worse than a lost error message
        }
      }
      if (this.stackFile && existsSync(this.stackFile)) {
        try {
          const written = JSON.parse(readFileSync(this.stackFile, 'utf8')) as { pid?: number; endpoint?: string };
          if (written.pid === process.pid && written.endpoint === this.info.endpoint) unlinkSync(this.stackFile);
        } catch {
          // a file rewritten by someone else is theirs
        }
      }
    })();
    return this.stopping;
  }
}

/** The supervisor, the emulators it watches, and how a runtime that gave up reports it. */
export interface RuntimeSupervision {
  readonly supervisor: Supervisor;
  readonly emulators: Emulators;
  /** Resolves with one line when a component failed for good and the runtime stopped itself. */
  readonly failed: Promise<string>;
}

/** The limiter, set once the streams' shard ranges are known (the endpoint is not ready before). */
class LimiterSlot {
  private inner?: AwsLimits;
  set(limits: AwsLimits): void {
    this.inner = limits;
  }
  get throttled(): Readonly<Record<string, number>> {
    return this.inner?.throttled ?? {};
  }
  admit(service: string, operation: string, body: Buffer) {
    return this.inner?.admit(service, operation, body) ?? { kind: 'forward' as const };
  }
}

async function awsLimits(plan: StackPlan, kinesisUrl: string, region: string): Promise<AwsLimits> {
  const kinesis = new KinesisClient(baseClientConfig({ endpoint: kinesisUrl, region }));
  try {
    const streams: LimitedStream[] = [];
    for (const s of plan.streams) {
      const out = await kinesis.send(new ListShardsCommand({ StreamName: s.name }));
      const shards = (out.Shards ?? []).map((sh) => ({
        shardId: sh.ShardId!,
        startingHashKey: BigInt(sh.HashKeyRange!.StartingHashKey!),
        endingHashKey: BigInt(sh.HashKeyRange!.EndingHashKey!),
      }));
      streams.push({ name: s.name, arn: s.arn, onDemand: s.onDemand, shards });
    }
    const tables = plan.tables.flatMap((t) => (t.provisioned ? [{ name: t.name, ...t.provisioned }] : []));
    return new AwsLimits(streams, tables);
  } finally {
    kinesis.destroy();
  }
}

function runtimeHealth(supervisor: Supervisor, functions: readonly LambdaFunctionHost[]): Record<string, unknown> {
  const components: Record<string, unknown> = { ...supervisor.health() };
  for (const f of functions) {
    components[`lambda:${f.fn.name}`] = {
      state: 'running',
      restarts: f.crashes,
      environments: f.environments.length,
    };
  }
  return { status: supervisor.status(), components };
}

export async function startRuntime(options: RuntimeOptions = {}): Promise<LocalRuntime> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const log = options.log ?? (() => undefined);
  const region = options.region ?? 'us-east-1';
  const overrides = options.overrides ?? {};
  const cdkOut = resolve(cwd, options.cdkOut ?? 'cdk.out');
  if ((options.synth ?? 'auto') === 'auto' && synthIsStale(cwd, cdkOut)) synthesize(cwd, cdkOut, log);
  const assembly = loadAssembly(cdkOut);

  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const c of [...closers].reverse()) await c().catch(() => undefined);
  };
  try {
    const temp = options.dataDir === null ? mkdtempSync(join(tmpdir(), 'iot-local-')) : undefined;
    if (temp) closers.push(async () => rmSync(temp, { recursive: true, force: true }));
    const dataDir = temp ?? resolve(cwd, options.dataDir ?? join('.local', 'data'));
    if (options.fresh && !temp) rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true });

    const limiter = options.limits === false ? undefined : new LimiterSlot();
    // The endpoint first: a port in use fails in milliseconds, before any emulator starts. It answers
    // 503 + Retry-After until everything behind it is up and provisioned.
    const router = await startEdgeRouter({
      upstreams: {},
      services: [],
      port: options.port ?? 4566,
      startNotReady: true,
      allowedOrigins: options.allowedOrigins,
      limiter,
    });
    closers.push(() => router.close());
    const endpoint = router.url;
    const plan = planStack(assembly, { region, accountId: SQS_ACCOUNT, endpoint });

    let runtime: LocalRuntime | undefined;
    let reportFailure: (line: string) => void = () => undefined;
    const failed = new Promise<string>((r) => {
      reportFailure = r;
    });
    const supervisor = new Supervisor(undefined, (line) => {
      log(line);
      reportFailure(line);
      void runtime?.stop();
    });
    const emulators: Emulators = await startEmulators({
      dataDir,
      supervisor,
      onDown: (kind, reason) => {
        log(`${kind} emulator died (${reason}): restarting it on ${join(dataDir, kind)}`);
        router.setUnavailable(kind, `${kind} emulator restarting after it ${reason}`);
      },
      // A restarted emulator keeps its port (emulator-process.js), so the metering proxy in front of
      // it still reaches it: only the router's 503s end here.
      onUp: (kind) => router.setUnavailable(kind, undefined),
    });
    closers.push(() => emulators.stop());
    const metering = new Metering();
    closers.push(() => metering.close());
    const metered = await metering.proxy({
      kinesis: emulators.kinesis.url,
      dynamodb: emulators.dynamodb.url,
      s3: emulators.s3.url,
    });
    router.setUpstream('kinesis', metered.kinesis);
    router.setUpstream('dynamodb', metered.dynamodb);
    router.setUpstream('s3', metered.s3);
    const sqs = new LocalSqs({ endpoint: () => endpoint, region, file: join(dataDir, 'sqs.json') });
    router.addService(sqs);
    closers.push(() => sqs.close());

    const target = { endpoint, region };
    await provision(
      plan,
      { region, kinesis: emulators.kinesis.url, dynamodb: emulators.dynamodb.url, s3: emulators.s3.url },
      sqs,
    );
    if (limiter) limiter.set(await awsLimits(plan, emulators.kinesis.url, region));

    const kinesis = new KinesisClient(baseClientConfig(target));
    const s3 = new S3Client(s3ClientConfig(target));
    closers.push(async () => {
      kinesis.destroy();
      s3.destroy();
    });

    const logDir = temp ? join(temp, 'logs') : join(dataDir, '..', 'logs');
    const hosts = plan.functions.map(
      (fn) =>
        new LambdaFunctionHost(
          { ...fn, timeoutSeconds: overrides.lambdaTimeoutSeconds ?? fn.timeoutSeconds },
          { endpoint, region, logDir, extraEnv: options.lambdaEnv },
        ),
    );
    closers.push(async () => {
      await Promise.all(hosts.map((h) => h.close()));
    });

    const mappings = plan.mappings.map((m) => {
      const host = hosts.find((h) => h.fn.name === m.functionName)!;
      const mapping = {
        ...m,
        tumblingWindowSeconds:
          m.tumblingWindowSeconds > 0 ? (overrides.tumblingWindowSeconds ?? m.tumblingWindowSeconds) : 0,
        maxBatchingWindowSeconds: overrides.maxBatchingWindowSeconds ?? m.maxBatchingWindowSeconds,
      };
      return new KinesisEventSourceMapping({
        mapping,
        kinesis,
        invoke: (event) => metering.invoke(host, event),
        functionArn: host.fn.arn,
        context: { streamArn: m.streamArn, region, accountId: SQS_ACCOUNT },
        checkpoints: new CheckpointStore(join(dataDir, 'checkpoints', `esm-${m.logicalId}.json`)),
        onFailure: m.onFailureQueue ? (body) => void sqs.send(m.onFailureQueue!, body) : undefined,
        pollIntervalMs: overrides.pollIntervalMs,
        closeGraceMs: overrides.windowCloseGraceMs,
        log,
      });
    });
    // pollers stop before the functions they call (closers run in reverse)
    closers.push(async () => {
      await Promise.all(mappings.map((m) => m.stop()));
    });

    const deliveries = plan.deliveryStreams.map(
      (d) =>
        new FirehoseDelivery({
          plan: {
            ...d,
            bufferSeconds: overrides.firehoseBufferSeconds ?? d.bufferSeconds,
            bufferMiB: overrides.firehoseBufferMiB ?? d.bufferMiB,
          },
          kinesis,
          s3,
          checkpoints: new CheckpointStore(join(dataDir, 'checkpoints', `firehose-${d.logicalId}.json`)),
          pollIntervalMs: overrides.pollIntervalMs,
          log,
        }),
    );
    closers.push(async () => {
      await Promise.all(deliveries.map((d) => d.stop()));
    });

    const info = describe(plan, endpoint, region, dataDir, logDir, sqs);
    if (options.analytics !== false) {
      const analytics = new EmbeddedAnalytics({
        s3: { endpoint, region },
        tables: tablesFromAssembly(assembly, plan.resolver),
        workgroups: info.athenaWorkgroup
          ? [{ name: info.athenaWorkgroup, resultsBucket: info.athenaResultsBucket }]
          : [],
        defaultDatabase: info.glueDatabase,
        cacheDir: join(dataDir, 'athena-cache'),
        catalogFile: join(dataDir, 'glue-catalog.json'),
        log,
      });
      for (const service of analytics.services) router.addService(service);
      closers.push(() => analytics.close());
    }

    router.setHealth(() => runtimeHealth(supervisor, hosts));
    router.markReady();
    for (const m of mappings) await m.start();
    for (const d of deliveries) await d.start();

    const stackFile =
      options.stackFile === null ? null : resolve(cwd, options.stackFile ?? join('.local', 'stack.json'));
    if (stackFile) {
      mkdirSync(dirname(stackFile), { recursive: true });
      writeFileSync(stackFile, `${JSON.stringify(info, null, 2)}\n`);
    }
    const meteringFile =
      options.meteringFile === undefined
        ? stackFile && join(dirname(stackFile), 'metering.json')
        : options.meteringFile && resolve(cwd, options.meteringFile);
    if (meteringFile) {
      // runs after pollers and deliveries have stopped (counts complete), before a temp dir's logs go
      closers.splice(temp ? 1 : 0, 0, async () => Metering.write(meteringFile, metering.snapshot(hosts, deliveries)));
    }
    runtime = new LocalRuntime(
      info,
      plan,
      assembly,
      router,
      sqs,
      mappings,
      deliveries,
      hosts,
      closers,
      stackFile,
      { supervisor, emulators, failed },
      metering,
    );
    return runtime;
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function describe(
  plan: StackPlan,
  endpoint: string,
  region: string,
  dataDir: string,
  logDir: string,
  sqs: LocalSqs,
): LocalStackInfo {
  const out = (key: string): string | undefined => {
    if (plan.outputs[key] !== undefined) return plan.outputs[key];
    const k = Object.keys(plan.outputs).find((o) => o.endsWith(key));
    return k === undefined ? undefined : plan.outputs[k];
  };
  const tableLike = (re: RegExp) => plan.tables.find((t) => re.test(t.logicalId))?.name;
  const archive = out(OUTPUT_KEYS.archiveBucket) ?? plan.deliveryStreams[0]?.bucket;
  const dlq = plan.mappings.find((m) => m.onFailureQueue)?.onFailureQueue;
  return {
    endpoint,
    region,
    streamName: out(OUTPUT_KEYS.streamName) ?? plan.streams[0]?.name,
    aggregatesTable: out(OUTPUT_KEYS.aggregatesTable) ?? tableLike(/aggregate/i),
    deviceStateTable: out(OUTPUT_KEYS.deviceStateTable) ?? tableLike(/state/i),
    archiveBucket: archive,
    glueDatabase: out(OUTPUT_KEYS.glueDatabase) ?? plan.glueDatabases[0],
    athenaWorkgroup: out(OUTPUT_KEYS.athenaWorkgroup) ?? plan.athenaWorkgroups[0],
    aggregatesTtlDays: ttlDays(out(OUTPUT_KEYS.aggregatesTtlDays)),
    dlqUrl: dlq ? sqs.queueUrl(dlq) : undefined,
    athenaResultsBucket: plan.buckets.find((b) => /result/i.test(b.logicalId))?.name,
    deliveryStream: plan.deliveryStreams[0]?.name,
    functionName: plan.functions[0]?.name,
    dataDir,
    logDir,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    notRunLocally: plan.notRunLocally,
  };
}
