import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Manifest } from '../../lib/import/manifest';
import { IMPORT_NODE_FLAGS } from '../../lib/import/node-flags';
import { sleep } from '../../lib/shared/sleep';

/**
 * `npm run import` as a user runs it, for the tests that kill it: a child process of bin/import.ts,
 * run by node itself (tsx's loader, not its wrapper process) so that SIGKILL hits the import, with the
 * V8 flags `npm run import` gives it.
 */
export const ROOT = join(__dirname, '..', '..');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function startImport(args: readonly string[], cwd = ROOT): ChildProcess {
  const node = [...IMPORT_NODE_FLAGS, '--require', require.resolve('tsx/cjs')];
  return spawn(process.execPath, [...node, join(ROOT, 'bin', 'import.ts'), ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEBUG: '1', TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json') },
  });
}

export function finish(child: ChildProcess): Promise<CliResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => {
      stdout += d;
    });
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export function readManifest(stateDir: string): Manifest | undefined {
  const p = join(stateDir, 'manifest.json');
  try {
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Manifest) : undefined;
  } catch {
    return undefined; // replaced by rename: a read never sees half of one, but the file may vanish meanwhile
  }
}

/** Starts the import and SIGKILLs it once `when` holds for its manifest; false when it finished first. */
export async function runAndKill(
  start: () => ChildProcess,
  stateDir: string,
  when: (m: Manifest) => boolean,
): Promise<boolean> {
  const child = start();
  const done = finish(child);
  let exited = false;
  void done.then(() => {
    exited = true;
  });
  for (;;) {
    if (exited) return false;
    const m = readManifest(stateDir);
    if (m && when(m)) {
      child.kill('SIGKILL');
      await done;
      return true;
    }
    await sleep(20);
  }
}

/** Decompressed bytes of input done, over all files. */
export const chunksDone = (m: Manifest) => Object.values(m.files).reduce((n, f) => n + f.doneBytes, 0);

/** A whole DynamoDB table, items unmarshalled, sorted by key (Name, StatusTime). */
export async function scanTable(client: DynamoDBClient, table: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let key: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: key as never, ConsistentRead: true }),
    );
    out.push(...(page.Items ?? []).map((i) => unmarshall(i)));
    key = page.LastEvaluatedKey;
  } while (key);
  return out.sort((a, b) => `${a.Name}|${a.StatusTime}`.localeCompare(`${b.Name}|${b.StatusTime}`));
}
