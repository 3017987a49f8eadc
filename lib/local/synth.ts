import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRuntimeError } from './errors';

/** Source trees whose changes change the synthesized template or the bundled Lambda code. */
const SOURCES = ['bin', 'lib', 'lambdas', 'cdk.json', 'package.json'];
const SKIP = new Set(['node_modules', 'cdk.out', '.local', 'test', 'local']);

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (SKIP.has(entry)) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** True when `cdkOut` is missing or older than the sources it was synthesized from. */
export function synthIsStale(cwd: string, cdkOut: string): boolean {
  const manifest = join(cdkOut, 'manifest.json');
  if (!existsSync(manifest)) return true;
  const built = statSync(manifest).mtimeMs;
  return SOURCES.some((s) => newestMtime(join(cwd, s)) > built);
}

/** Runs `cdk synth --quiet` (the project's own CLI, offline, esbuild bundling: no Docker). */
export function synthesize(cwd: string, cdkOut: string, log: (line: string) => void): void {
  log('Synthesizing the CDK app (cdk synth)...');
  const cdk = join(cwd, 'node_modules', '.bin', 'cdk');
  const r = spawnSync(
    existsSync(cdk) ? cdk : 'npx',
    [...(existsSync(cdk) ? [] : ['cdk']), 'synth', '--quiet', '-o', cdkOut],
    {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
    },
  );
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new LocalRuntimeError(`cdk synth failed (fix the error below, then retry):\n${tail}`);
  }
}
