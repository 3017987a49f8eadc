import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { detectProfile } from '../../lib/core/profiles';
import { athenaQuery } from '../../lib/local/pipeline-report';
import { type LocalRuntime, type RuntimeOptions, startRuntime } from '../../lib/local/runtime';
import { baseClientConfig } from '../../lib/shared/aws-clients';
import { sleep } from '../../lib/shared/sleep';
import { referenceAggregates } from '../support/reference';
import { COPIES, fleetRecords, INVALID, partitionKey, withDuplicates } from './fixtures/fleet';
import { type PipelineView, readPipeline } from './fixtures/pipeline-check';

/**
 * The whole stack from the real synthesized template with the real bundled aggregator: known fleets
 * with 10 copies of every message, delayed and reordered; the aggregator failing every 4th invocation
 * after its side effects (retries and bisection must not lose or double count); the runtime stopped
 * and restarted mid-stream. Then the aggregates must equal a reference computed from the deduplicated
 * events, the archive must hold every event, the quarantine exactly the invalid records.
 */
function reference(records: readonly string[]): Record<string, Record<string, number>> {
  // Every fixture record is valid (the invalid ones are sent apart): the reference would skip one silently.
  for (const json of records) {
    const obj = JSON.parse(json);
    const result = detectProfile(obj)?.validate(obj);
    if (!result?.ok) throw new Error(`fixture record invalid: ${result ? result.reason : 'no profile'}`);
  }
  return referenceAggregates(records);
}

function expectAggregatesEqual(actual: PipelineView['aggregates'], expected: ReturnType<typeof reference>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [key, row] of Object.entries(expected)) {
    for (const [name, v] of Object.entries(row)) {
      if (actual[key][name] === undefined) continue; // internal sums (e.g. SumPowerW) may be stored differently
      expect([key, name, actual[key][name]]).toEqual([key, name, expect.closeTo(v, 2)]);
    }
    expect(actual[key].RecordCount).toBe(row.RecordCount);
  }
}

describe('embedded runtime end to end (real template, real aggregator)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-local-'));
  const options: RuntimeOptions = {
    cwd: join(__dirname, '..', '..'),
    dataDir,
    port: 0,
    stackFile: null,
    limits: false, // puts 500-record batches back to back, past a shard's 1,000 records/s
    overrides: {
      tumblingWindowSeconds: 3,
      firehoseBufferSeconds: 1,
      maxBatchingWindowSeconds: 0.2,
      pollIntervalMs: 100,
    },
    lambdaEnv: { LOCAL_FAULT_EVERY: '4', LOCAL_FAULT_MODE: 'after' },
  };
  const unique = fleetRecords();
  const sent = withDuplicates(unique, 3);
  let runtime: LocalRuntime;
  let view: PipelineView;

  async function put(rt: LocalRuntime, records: readonly string[]): Promise<void> {
    const kinesis = new KinesisClient(baseClientConfig(rt.target()));
    for (let i = 0; i < records.length; i += 500) {
      const chunk = records.slice(i, i + 500);
      const out = await kinesis.send(
        new PutRecordsCommand({
          StreamName: rt.info.streamName,
          Records: chunk.map((json) => ({ Data: Buffer.from(json), PartitionKey: partitionKey(json) })),
        }),
      );
      expect(out.FailedRecordCount ?? 0).toBe(0);
    }
    kinesis.destroy();
  }

  beforeAll(async () => {
    runtime = await startRuntime(options);
    const half = Math.floor(sent.length / 2);
    await put(runtime, sent.slice(0, half));
    await sleep(1500); // some batches in flight, some committed, a window open
    await runtime.stop();
    runtime = await startRuntime(options); // same data dir: checkpoints, window state, emulator data
    await put(runtime, [...sent.slice(half), ...INVALID]);
    await runtime.drain({ timeoutMs: 90_000 });
    view = await readPipeline(runtime.target());
  }, 170_000);

  afterAll(async () => {
    await runtime?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('aggregates in DynamoDB equal the reference from the deduplicated events', () => {
    expect(sent.length).toBe(unique.length * COPIES);
    expectAggregatesEqual(view.aggregates, reference(unique));
  });

  it('the archive holds every distinct event (and at least every record sent)', () => {
    expect(view.distinctArchivedEvents).toBe(unique.length);
    expect(view.archivedLines).toBeGreaterThanOrEqual(sent.length + INVALID.length - 1); // invalid JSON goes to errors/
  });

  it('the quarantine holds exactly the injected invalid records, each with its reason', () => {
    const byData = new Map(view.quarantine.map((q) => [q.data, q.reason]));
    expect([...byData.keys()].sort()).toEqual([...INVALID].sort());
    expect(byData.get('definitely not json')).toBe('invalid_json');
    expect(byData.get('{"neither":"unicorn nor panel"}')).toBe('unknown_profile');
    expect(byData.get('{"Name":"Ghost","StatusTime":"soon"}')).toMatch(/^(missing_field|out_of_range|wrong_type):/);
  });

  it('the injected failures were retried without loss: nothing in the on-failure queue', async () => {
    const failed = runtime.mappings.reduce((n, m) => n + m.stats.failedInvocations, 0);
    expect(runtime.functions[0].errors).toBe(failed);
    expect(failed).toBeGreaterThan(0);
    expect(runtime.sqs.depth(runtime.plan.mappings[0].onFailureQueue!)).toBe(0);
  });

  it('a separate client process sees the same through the endpoint', async () => {
    const script = join(__dirname, 'fixtures', 'pipeline-check.ts');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--require', require.resolve('tsx/cjs'), script, JSON.stringify(runtime.target())],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const outside = JSON.parse(stdout) as PipelineView;
    expect(outside.distinctArchivedEvents).toBe(unique.length);
    expectAggregatesEqual(outside.aggregates, reference(unique));
    expect(outside.quarantine.map((q) => q.data).sort()).toEqual([...INVALID].sort());
  }, 60_000);

  it('the Athena API on the endpoint answers from the archive, and reads no file outside it', async () => {
    const [header, ...rows] = await athenaQuery(runtime.target(), 'SELECT count(*) AS n FROM unicorn_raw');
    expect(header).toEqual(['n']);
    expect(Number(rows[0][0])).toBeGreaterThan(0);
    const outside = join(__dirname, '..', '..', 'package.json');
    await expect(athenaQuery(runtime.target(), `SELECT * FROM '${outside}'`)).rejects.toThrow(/mismatched input/);
    await expect(athenaQuery(runtime.target(), `SELECT * FROM read_text('${outside}')`)).rejects.toThrow(
      /NOT_SUPPORTED/,
    );
  }, 60_000);
});
