import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Clock } from '../../lib/simulator/clock';

/** Virtual time: sleeps return at once and move the clock; every sleep is recorded. */
export class VirtualClock implements Clock {
  readonly sleeps: number[] = [];
  private mono = 0;

  constructor(private readonly epochAtZero = Date.parse('2026-06-01T12:00:00.000Z')) {}

  epochMs(): number {
    return this.epochAtZero + this.mono;
  }

  monotonicMs(): number {
    return this.mono;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.mono += ms;
    return Promise.resolve();
  }
}

/** Runs bin/simulate.ts with these arguments in `cwd`. */
export function simulateCli(
  args: readonly string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [require.resolve('tsx/cli'), join(__dirname, '../../bin/simulate.ts'), ...args],
      { cwd, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
