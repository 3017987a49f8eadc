import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, referenceOf } from '../../lib/local/pipeline-reference';
import { readPipeline } from '../../lib/local/pipeline-view';
import { type LocalRuntime, startRuntime } from '../../lib/local/runtime';
import { type ComponentHealth, type SupervisedChild, Supervisor } from '../../lib/local/supervisor';
import { sleep } from '../../lib/shared/sleep';
import { fleetRecords, INVALID, putAll, withDuplicates } from './fixtures/fleet';

describe('supervisor under the real runtime', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'supervised-'));
  let runtime: LocalRuntime;

  afterAll(async () => {
    await runtime?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('restarts a kill -9ed dynalite on its data dir; health shows restarting then running; aggregates stay exact', async () => {
    runtime = await startRuntime({
      cwd: join(__dirname, '..', '..'),
      dataDir,
      port: 0,
      stackFile: null,
      analytics: false,
      limits: false,
      overrides: {
        tumblingWindowSeconds: 2,
        firehoseBufferSeconds: 1,
        maxBatchingWindowSeconds: 0.2,
        pollIntervalMs: 100,
      },
    });
    const health = async () =>
      (
        (await (await fetch(`${runtime.endpoint}/_local/health`)).json()) as {
          components: Record<string, ComponentHealth>;
        }
      ).components;
    expect((await health()).dynamodb.state).toBe('running');

    const sent = [...withDuplicates(fleetRecords(10, 8), 5), ...INVALID];
    const half = Math.floor(sent.length / 2);
    expect(await putAll(runtime.target(), sent.slice(0, half))).toBe(0);
    await sleep(1000); // windows open, flushes under way
    const killed = runtime.supervision.emulators.dynamodb.pid!;
    process.kill(killed, 'SIGKILL');
    const seen: string[] = [];
    for (let i = 0; i < 400; i++) {
      const d = (await health()).dynamodb;
      if (seen.at(-1) !== d.state) seen.push(d.state);
      if (d.state === 'running' && d.restarts === 1) break;
      await sleep(10);
    }
    expect(seen).toEqual(['running', 'restarting', 'running']);
    const after = (await health()).dynamodb;
    expect(after.pid).not.toBe(killed);
    expect(after.reason).toBe('killed by SIGKILL');

    expect(await putAll(runtime.target(), sent.slice(half))).toBe(0);
    await runtime.drain({ timeoutMs: 90_000 });
    const view = await readPipeline(runtime.target());
    expect(compare(view, referenceOf(sent))).toEqual([]);
    expect(runtime.sqs.depth(runtime.plan.mappings[0].onFailureQueue!)).toBe(0);
  }, 150_000);
});

describe('supervisor policy', () => {
  it('gives up after repeated failures with one line saying what failed', async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor(
      { maxRestarts: 3, windowMs: 60_000, initialBackoffMs: 1, maxBackoffMs: 5 },
      (line) => lines.push(line),
    );
    let starts = 0;
    const dying = async (): Promise<SupervisedChild> => {
      starts++;
      return { pid: starts, exited: sleep(5).then(() => 'exited with code 1: boom') };
    };
    const downs: string[] = [];
    await supervisor.supervise('dynamodb', dying, { onUp: () => undefined, onDown: (r) => downs.push(r) });
    for (let i = 0; i < 200 && lines.length === 0; i++) await sleep(5);
    expect(starts).toBe(4);
    expect(supervisor.health().dynamodb).toMatchObject({
      state: 'failed',
      restarts: 3,
      reason: 'exited with code 1: boom',
    });
    expect(supervisor.status()).toBe('failed');
    expect(lines).toEqual([
      'dynamodb failed: died 4 times within 60 s (last: exited with code 1: boom); stopping the embedded runtime.',
    ]);
  });

  it('does not restart what is stopped on purpose', async () => {
    const supervisor = new Supervisor();
    let exit: (r: string) => void = () => undefined;
    let starts = 0;
    await supervisor.supervise(
      's3',
      async () => {
        starts++;
        return { exited: new Promise<string>((r) => (exit = r)) };
      },
      { onUp: () => undefined, onDown: () => undefined },
    );
    supervisor.stop();
    exit('exited with code 0');
    await sleep(300);
    expect(starts).toBe(1);
  });
});
