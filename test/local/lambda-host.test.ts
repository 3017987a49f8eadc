import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaFunctionHost } from '../../lib/local/lambda-host';
import type { FunctionPlan } from '../../lib/local/stack-plan';
import { sleep } from '../../lib/shared/sleep';

/**
 * Real execution environments (child processes) killed with SIGKILL, as an operator or the OOM killer
 * would: the host must survive, count the crash as a function error of the invocation it hit, and give
 * the next invocation a fresh environment.
 */
describe('Lambda host: a dead environment is a function error, never a crash', () => {
  let dir: string;
  let host: LambdaFunctionHost;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lambda-host-'));
    writeFileSync(
      join(dir, 'index.js'),
      `exports.handler = async (event) => {
         if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
         if (event.spinMs) { const start = process.cpuUsage(); while (process.cpuUsage(start).user < event.spinMs * 1000); }
         return { pid: process.pid };
       };`,
    );
  });

  beforeEach(() => {
    const fn: FunctionPlan = {
      logicalId: 'Fn',
      name: 'local-fn',
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:local-fn',
      assetDir: dir,
      handler: 'index.handler',
      environment: {},
      timeoutSeconds: 5,
      memoryMb: 128,
    };
    host = new LambdaFunctionHost(fn, {
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      logDir: join(dir, 'logs'),
    });
  });

  afterEach(() => host.close());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const pidOf = (r: Awaited<ReturnType<LambdaFunctionHost['invoke']>>): number => {
    if (!r.ok) throw new Error(`invocation failed: ${r.error.errorType} ${r.error.errorMessage}`);
    return (r.value as { pid: number }).pid;
  };

  it('reports the CPU time an invocation used apart from its wall time (the cost model prices CPU)', async () => {
    await host.invoke({}); // a warm environment: module loading is not this invocation's
    const waiting = await host.invoke({ sleepMs: 400 });
    const spinning = await host.invoke({ spinMs: 300 });
    expect(waiting.durationMs).toBeGreaterThanOrEqual(400);
    expect(waiting.cpuMs).toBeLessThan(150);
    expect(spinning.cpuMs).toBeGreaterThanOrEqual(300); // spins on its own CPU clock: robust to a busy machine
  });

  it('an environment killed while idle leaves the pool: the next invocation gets a fresh one', async () => {
    const first = pidOf(await host.invoke({}));
    process.kill(first, 'SIGKILL');
    await sleep(300); // the exit is processed
    const second = await host.invoke({});
    expect(second.ok).toBe(true);
    expect(pidOf(second)).not.toBe(first);
    expect(host.errors).toBe(0);
  });

  it('an environment killed just before an invocation is sent (EPIPE) fails that invocation only', async () => {
    const errors: unknown[] = [];
    const onUncaught = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      for (let i = 0; i < 5; i++) {
        const pid = pidOf(await host.invoke({}));
        process.kill(pid, 'SIGKILL'); // no await: the exit is not processed when the next send happens
        const r = await host.invoke({});
        if (!r.ok) expect(r.error.errorType).toBe('Runtime.ExitError');
        const after = await host.invoke({});
        expect(after.ok).toBe(true);
      }
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(errors).toEqual([]);
  });

  it('an environment killed while busy fails that invocation; the next one runs in a fresh environment', async () => {
    const warm = pidOf(await host.invoke({}));
    const busy = host.invoke({ sleepMs: 3000 });
    await sleep(300);
    process.kill(warm, 'SIGKILL');
    const r = await busy;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.errorType).toBe('Runtime.ExitError');
    const next = await host.invoke({});
    expect(pidOf(next)).not.toBe(warm);
    expect(host.errors).toBe(1);
  });
});
