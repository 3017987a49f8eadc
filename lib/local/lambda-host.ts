import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LOCAL_CREDENTIALS } from '../shared/aws-clients';
import type { FunctionPlan } from './stack-plan';

/**
 * Runs a bundled Lambda function locally. Each execution environment is a child process
 * (lambda-worker.js): the function sees only its own environment variables, module state lives as
 * long as the "container" (warm starts), a crash or a timeout kills just that environment, and the
 * handler's CPU runs beside the pollers instead of blocking them. In-process `require` would be
 * faster to start but shares process.env and the event loop with the runtime.
 */
export type InvokeResult = (
  | { readonly ok: true; readonly value: unknown; readonly durationMs: number }
  | { readonly ok: false; readonly error: LambdaError; readonly durationMs: number }
) & {
  /** CPU time the environment used during the invocation (absent when it died before answering). */
  readonly cpuMs?: number;
};

export interface LambdaError {
  readonly errorType: string;
  readonly errorMessage: string;
}

export interface LambdaHostOptions {
  readonly endpoint: string;
  readonly region: string;
  /** Where function output goes: `<logDir>/<function>.log`. */
  readonly logDir: string;
  /** Extra environment for every function (e.g. LOCAL_FAULT_EVERY for fault injection). */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export class LambdaFunctionHost {
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  private closed = false;
  invocations = 0;
  errors = 0;
  /** Environments that died (killed, crashed, timed out) instead of being stopped by the host. */
  crashes = 0;

  constructor(
    readonly fn: FunctionPlan,
    private readonly options: LambdaHostOptions,
  ) {}

  /** Invokes synchronously (RequestResponse); concurrent calls get separate environments. */
  async invoke(event: unknown): Promise<InvokeResult> {
    if (this.closed) return fail('Runtime.Shutdown', 'the embedded runtime is stopping', 0);
    const worker = this.takeIdle() ?? (await this.spawn());
    const started = Date.now();
    this.invocations++;
    const result = await worker.invoke(event, this.fn.timeoutSeconds * 1000, this.fn.arn);
    if (!result.ok) this.errors++;
    if (worker.alive && !this.closed) this.idle.push(worker);
    else this.discard(worker);
    return { ...result, durationMs: Date.now() - started } as InvokeResult;
  }

  /** Where the function's stdout/stderr (Powertools logs and EMF metrics) go. */
  get logFile(): string {
    return join(this.options.logDir, `${this.fn.name}.log`);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].map((w) => w.stop()));
    this.all.clear();
    this.idle.length = 0;
  }

  /** Live environments (warm or busy), for health reports and the soak's fault injection. */
  get environments(): readonly { readonly pid: number | undefined; readonly busy: boolean }[] {
    return [...this.all].filter((w) => w.alive).map((w) => ({ pid: w.pid, busy: !this.idle.includes(w) }));
  }

  private takeIdle(): Worker | undefined {
    for (let w = this.idle.pop(); w; w = this.idle.pop()) if (w.alive) return w;
    return undefined;
  }

  /** An environment that died on its own leaves the pool at once: the next invocation gets a fresh one. */
  private gone(worker: Worker): void {
    if (!this.closed) this.crashes++;
    const i = this.idle.indexOf(worker);
    if (i >= 0) this.idle.splice(i, 1);
    this.all.delete(worker);
  }

  private discard(worker: Worker): void {
    this.all.delete(worker);
    void worker.stop();
  }

  private async spawn(): Promise<Worker> {
    mkdirSync(this.options.logDir, { recursive: true });
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TZ: 'UTC',
      LANG: 'en_US.UTF-8',
      LAMBDA_TASK_ROOT: this.fn.assetDir,
      _HANDLER: this.fn.handler,
      AWS_LAMBDA_FUNCTION_NAME: this.fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.fn.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${this.fn.name}`,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs_local',
      AWS_REGION: this.options.region,
      AWS_DEFAULT_REGION: this.options.region,
      AWS_ENDPOINT_URL: this.options.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
      NODE_PATH: providedModules(join(this.options.logDir, '..', 'lambda-runtime')),
      ...this.fn.environment,
      ...this.options.extraEnv,
    };
    const log = openSync(this.logFile, 'a');
    const child = fork(join(__dirname, 'lambda-worker.js'), [], {
      env,
      execArgv: [`--max-old-space-size=${Math.max(128, this.fn.memoryMb)}`],
      stdio: ['ignore', log, log, 'ipc'],
      cwd: this.fn.assetDir,
    });
    closeSync(log);
    const worker = new Worker(child, () => this.gone(worker));
    this.all.add(worker);
    await worker.ready;
    return worker;
  }
}

/**
 * The Node.js Lambda runtime provides the AWS SDK v3 (bundlers leave `@aws-sdk/*` out). Locally the same
 * is offered through NODE_PATH: a directory holding only a link to this project's `@aws-sdk`, so a bundle
 * that forgot any other dependency fails here as it would on AWS.
 */
function providedModules(root: string): string {
  const modules = join(root, 'node_modules');
  const link = join(modules, '@aws-sdk');
  if (!existsSync(link)) {
    mkdirSync(modules, { recursive: true });
    const sdk = dirname(dirname(require.resolve('@aws-sdk/client-s3/package.json')));
    try {
      symlinkSync(sdk, link, 'dir');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return modules;
}

function fail(errorType: string, errorMessage: string, durationMs: number): InvokeResult {
  return { ok: false, error: { errorType, errorMessage }, durationMs };
}

class Worker {
  alive = true;
  readonly ready: Promise<void>;
  private pending?: { id: string; resolve: (r: InvokeResult) => void; timer: NodeJS.Timeout };
  private stopping = false;

  constructor(
    private readonly child: ChildProcess,
    private readonly onGone: () => void,
  ) {
    this.ready = new Promise((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`Lambda environment exited during init (code ${code})`)));
    });
    child.on(
      'message',
      (m: { type: string; id?: string; ok?: boolean; value?: unknown; error?: LambdaError; cpuMs?: number }) => {
        if (m.type !== 'result' || !this.pending || m.id !== this.pending.id) return;
        const p = this.pending;
        this.pending = undefined;
        clearTimeout(p.timer);
        const result = m.ok
          ? ({ ok: true, value: m.value, durationMs: 0 } as const)
          : fail(m.error!.errorType, m.error!.errorMessage, 0);
        p.resolve(typeof m.cpuMs === 'number' ? { ...result, cpuMs: m.cpuMs } : result);
      },
    );
    // A send to an environment that died before its exit was processed fails with EPIPE (or
    // ERR_IPC_CHANNEL_CLOSED) here: without this listener it would be an uncaught exception.
    child.on('error', (err) => this.die(`Runtime exited (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    child.on('exit', (code, signal) => this.die(`Runtime exited (${signal ?? code})`));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  invoke(event: unknown, timeoutMs: number, functionArn: string): Promise<InvokeResult> {
    if (!this.alive) return Promise.resolve(fail('Runtime.ExitError', 'environment is gone', 0));
    return new Promise((resolve) => {
      const id = randomUUID();
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.die('timed out');
        this.child.kill('SIGKILL');
        resolve(fail('Sandbox.Timedout', `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`, timeoutMs));
      }, timeoutMs);
      this.pending = { id, resolve, timer };
      const message = { type: 'invoke', id, requestId: id, event, deadlineMs: Date.now() + timeoutMs, functionArn };
      try {
        this.child.send(message, (err) => {
          if (err) this.die(`Runtime exited (${(err as NodeJS.ErrnoException).code ?? err.message})`);
        });
      } catch (err) {
        this.die(`Runtime exited (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    });
  }

  /** Marks the environment dead (once), fails its in-flight invocation, and tells the host. */
  private die(reason: string): void {
    if (this.pending) {
      const p = this.pending;
      this.pending = undefined;
      clearTimeout(p.timer);
      p.resolve(fail('Runtime.ExitError', `RequestId: ${p.id} Error: ${reason}`, 0));
    }
    if (!this.alive) return;
    this.alive = false;
    if (!this.stopping) this.onGone();
  }

  stop(): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
      this.child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (this.child.connected) this.child.disconnect();
      else this.child.kill('SIGTERM');
    });
  }
}
