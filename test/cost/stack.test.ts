import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CostInputError } from '../../lib/cost/errors';
import { readStack } from '../../lib/cost/stack';

/** The template reader against real synthesized stacks: the default one and one with `-c` context. */
const ROOT = join(__dirname, '..', '..');

describe('readStack', () => {
  test('the default stack (npm test synthesizes cdk.out first)', () => {
    const s = readStack(join(ROOT, 'cdk.out'), 'us-east-1');
    expect(s.streams).toEqual([
      { logicalId: 'TelemetryStream', mode: 'PROVISIONED', shards: 1, retentionHours: 24, consumers: 2 },
    ]);
    expect(s.tables.map((t) => [t.logicalId, t.billingMode, t.pointInTimeRecovery])).toEqual([
      ['AggregatesTable', 'PAY_PER_REQUEST', true],
      ['DeviceStateTable', 'PAY_PER_REQUEST', true],
    ]);
    expect(s.functions).toEqual([
      {
        logicalId: 'AggregatorFunction',
        architecture: 'arm64',
        memoryMb: 512,
        deviceStateRefreshSeconds: 6 * 3600,
        mapping: { batchSize: 500, maxBatchingWindowSeconds: 5, tumblingWindowSeconds: 60, parallelizationFactor: 1 },
      },
    ]);
    expect(s.deliveries).toMatchObject([
      {
        fromKinesis: true,
        compression: 'GZIP',
        parquet: false,
        dynamicPartitioning: true,
        bufferSeconds: 60,
        bufferMiB: 64,
      },
    ]);
    expect([s.alarms, s.autoscalingAlarms, s.dashboards, s.kmsKeys, s.queues]).toEqual([7, 0, 1, 1, 1]);
    expect(s.athenaScanLimitBytes).toBe(10 * 1024 ** 3);
  });

  test('context given at synth is what gets priced: provisioned tables with autoscaling, Parquet, retention', () => {
    const out = mkdtempSync(join(tmpdir(), 'cost-synth-'));
    try {
      const context = ['iot:billingMode=PROVISIONED', 'iot:parquet=true', 'iot:retentionHours=48', 'iot:shardCount=2'];
      const r = spawnSync(
        join(ROOT, 'node_modules', '.bin', 'cdk'),
        ['synth', '--quiet', '-o', out, ...context.flatMap((c) => ['-c', c])],
        { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' } },
      );
      expect(r.stderr).not.toMatch(/Error/);
      const s = readStack(out, 'us-east-1');
      expect(s.streams[0]).toMatchObject({ shards: 2, retentionHours: 48 });
      expect(s.deliveries[0].parquet).toBe(true);
      // The aggregates table at the configured floors, the device-state listing at 1; the ceilings shared.
      expect(s.tables.map((t) => [t.logicalId, t.billingMode, t.writeScaling, t.readScaling])).toEqual([
        [
          'AggregatesTable',
          'PROVISIONED',
          { min: 5, max: 200, targetPercent: 70 },
          { min: 1, max: 100, targetPercent: 70 },
        ],
        [
          'DeviceStateTable',
          'PROVISIONED',
          { min: 1, max: 200, targetPercent: 70 },
          { min: 1, max: 100, targetPercent: 70 },
        ],
      ]);
      // Reads and writes of both tables scaled: 4 policies, each with the 4 alarms Application Auto Scaling makes.
      expect(s.autoscalingAlarms).toBe(16);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  test('a directory without a cloud assembly is a clear error', () => {
    expect(() => readStack(join(ROOT, 'docs'), 'us-east-1')).toThrow(CostInputError);
    expect(() => readStack(join(ROOT, 'docs'), 'us-east-1')).toThrow(/npm run synth/);
  });
});
