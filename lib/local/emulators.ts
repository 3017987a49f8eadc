import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRuntimeError } from './errors';
import { Supervisor } from './supervisor';

export type EmulatorKind = 'kinesis' | 'dynamodb' | 's3';

export interface Emulator {
  readonly kind: EmulatorKind;
  /** Current port and URL: a restart keeps the port when it is still free. */
  readonly port: number;
  readonly url: string;
  /** The child's process id (the soak kills it). */
  readonly pid: number | undefined;
}

export interface Emulators {
  readonly kinesis: Emulator;
  readonly dynamodb: Emulator;
  readonly s3: Emulator;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Data root: `<dataDir>/{kinesis,dynamodb,s3}`. Undefined keeps Kinesis and DynamoDB in memory (tests). */
  readonly dataDir?: string;
  /** s3rver always needs a directory; used when dataDir is undefined. */
  readonly scratchDir?: string;
  /** Restarts a dead emulator on the same directory; default: a supervisor with the default policy. */
  readonly supervisor?: Supervisor;
  /** An emulator died and is being restarted: point clients away (the router answers 503 + retries). */
  readonly onDown?: (kind: EmulatorKind, reason: string) => void;
  /** An emulator is (back) up at this URL. */
  readonly onUp?: (kind: EmulatorKind, url: string) => void;
}

const CHILD = join(__dirname, 'emulator-process.js');
const START_TIMEOUT_MS = 30_000;
const KINDS = ['kinesis', 'dynamodb', 's3'] as const;

interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  readonly pid: number | undefined;
  readonly exited: Promise<string>;
}

/**
 * Starts kinesalite, dynalite and s3rver, each in its own child process bound to 127.0.0.1 on a free
 * port (see emulator-process.js for why child processes), each under the supervisor: a child that dies
 * is restarted on the same data directory (and the same port when it is free). They are stopped
 * together; if this process dies, they notice the closed IPC channel and exit on their own.
 */
export async function startEmulators(options: EmulatorOptions): Promise<Emulators> {
  const supervisor = options.supervisor ?? new Supervisor();
  const dirFor = (kind: EmulatorKind): string | undefined => {
    const root = options.dataDir ?? (kind === 's3' ? options.scratchDir : undefined);
    if (root === undefined) return undefined;
    const dir = join(root, kind);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const current = new Map<EmulatorKind, Running>();
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    supervisor.stop();
    await Promise.all([...current.values()].map((r) => stopChild(r.child)));
  };
  const results = await Promise.allSettled(
    KINDS.map((kind) => {
      const dir = dirFor(kind);
      return supervisor.supervise(kind, () => startOne(kind, dir, current.get(kind)?.port ?? 0), {
        onUp: (r) => {
          current.set(kind, r);
          if (stopping) void stopChild(r.child);
          options.onUp?.(kind, `http://127.0.0.1:${r.port}`);
        },
        onDown: (reason) => options.onDown?.(kind, reason),
      });
    }),
  );
  const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const view = (kind: EmulatorKind): Emulator => ({
    kind,
    get port() {
      return current.get(kind)!.port;
    },
    get url() {
      return `http://127.0.0.1:${current.get(kind)!.port}`;
    },
    get pid() {
      return current.get(kind)!.pid;
    },
  });
  return { kinesis: view('kinesis'), dynamodb: view('dynamodb'), s3: view('s3'), stop: stopAll };
}

function startOne(kind: EmulatorKind, dir: string | undefined, port: number): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [kind, dir ?? '', String(port)], {
      execArgv: ['--openssl-legacy-provider'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.on('error', () => undefined); // a send to a dead child; its exit is what counts
    const exited = new Promise<string>((done) =>
      child.once('exit', (code, signal) =>
        done(signal ? `killed by ${signal}` : `exited with code ${code}${stderr ? `: ${stderr.trim()}` : ''}`),
      ),
    );
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new LocalRuntimeError(`${kind} emulator did not start within ${START_TIMEOUT_MS / 1000} s. ${stderr}`));
    }, START_TIMEOUT_MS);
    child.once('message', (m: { ready?: number; error?: string }) => {
      clearTimeout(timer);
      if (m.ready) {
        resolve({ child, port: m.ready, pid: child.pid, exited });
      } else {
        const hint = /lock/i.test(m.error ?? '')
          ? ` Another embedded runtime is probably using ${dir}: stop it, or pass --fresh/--data-dir.`
          : '';
        reject(new LocalRuntimeError(`${kind} emulator failed to start: ${m.error}.${hint}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new LocalRuntimeError(`${kind} emulator exited (code ${code}) while starting. ${stderr.trim()}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 8_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    if (child.connected) child.send('stop');
    else child.kill('SIGTERM');
  });
}
