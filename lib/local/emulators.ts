import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRuntimeError } from './errors';

export type EmulatorKind = 'kinesis' | 'dynamodb' | 's3';

export interface Emulator {
  readonly kind: EmulatorKind;
  readonly port: number;
  readonly url: string;
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
}

const CHILD = join(__dirname, 'emulator-process.js');
const START_TIMEOUT_MS = 30_000;

/**
 * Starts kinesalite, dynalite and s3rver, each in its own child process bound to 127.0.0.1 on a free
 * port (see emulator-process.js for why child processes). They are stopped together; if this process
 * dies, they notice the closed IPC channel and exit on their own.
 */
export async function startEmulators(options: EmulatorOptions): Promise<Emulators> {
  const dirFor = (kind: EmulatorKind): string | undefined => {
    const root = options.dataDir ?? (kind === 's3' ? options.scratchDir : undefined);
    if (root === undefined) return undefined;
    const dir = join(root, kind);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const started: { emulator: Emulator; child: ChildProcess }[] = [];
  try {
    const all = await Promise.allSettled((['kinesis', 'dynamodb', 's3'] as const).map((k) => startOne(k, dirFor(k))));
    for (const r of all) if (r.status === 'fulfilled') started.push(r.value);
    const failed = all.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
  } catch (err) {
    await Promise.all(started.map((s) => stopChild(s.child)));
    throw err;
  }
  const byKind = (k: EmulatorKind) => started.find((s) => s.emulator.kind === k)!.emulator;
  return {
    kinesis: byKind('kinesis'),
    dynamodb: byKind('dynamodb'),
    s3: byKind('s3'),
    stop: async () => {
      await Promise.all(started.map((s) => stopChild(s.child)));
    },
  };
}

function startOne(kind: EmulatorKind, dir: string | undefined): Promise<{ emulator: Emulator; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [kind, dir ?? ''], {
      execArgv: ['--openssl-legacy-provider'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new LocalRuntimeError(`${kind} emulator did not start within ${START_TIMEOUT_MS / 1000} s. ${stderr}`));
    }, START_TIMEOUT_MS);
    child.once('message', (m: { ready?: number; error?: string }) => {
      clearTimeout(timer);
      if (m.ready) {
        resolve({ emulator: { kind, port: m.ready, url: `http://127.0.0.1:${m.ready}` }, child });
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
