import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `npm run cost` as a user runs it: bad input is one clear line on stderr and a non-zero exit. */
const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const tmp = mkdtempSync(join(tmpdir(), 'cost-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cost(...args: string[]) {
  const r = spawnSync(TSX, [join(ROOT, 'bin', 'cost.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
}

function expectOneLineError(r: ReturnType<typeof cost>, pattern: RegExp) {
  expect(r.status).not.toBe(0);
  expect(r.stderr.split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stdout).toBe('');
}

describe('npm run cost: bad input', () => {
  test('an unknown workload names the ones there are', () => {
    expectOneLineError(cost('--workload', 'lunar-fleet'), /lunar-fleet.*solar-fleet, solar-fleet-as-sent, workshop/);
  });

  test('a missing cdk.out says to synthesize', () => {
    expectOneLineError(cost('--cdk-out', join(tmp, 'nothing')), /no synthesized stack .*npm run synth/);
  });

  test('an unknown region says where prices are added', () => {
    expectOneLineError(cost('--region', 'eu-west-1'), /no prices for region eu-west-1: lib\/cost\/prices.ts/);
  });

  test('a negative flag is refused with the flag name', () => {
    expectOneLineError(cost('--devices', '-5'), /--devices must be a number > 0 \(got -5\)/);
    expectOneLineError(cost('--copies=-1'), /--copies must be a number >= 0/);
  });

  test('a metering file with a negative count is refused, not priced as a discount', () => {
    const file = join(tmp, 'metering.json');
    const counts = (n: number) => ({ a: n });
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        kinesis: { records: 10 },
        dynamodb: { writeUnits: -3 },
        s3: counts(0),
        firehose: counts(0),
        lambda: counts(0),
        pipeline: { uniqueReadings: 1 },
      }),
    );
    expectOneLineError(cost('--from-run', file), /dynamodb.writeUnits must be a count >= 0 \(got -3\)/);
    expectOneLineError(cost('--from-run', join(tmp, 'absent.json')), /no metering file .*npm start/);
  });

  test('good input prints the table, the total and the dominating lines; --format json parses', () => {
    const table = cost('--workload', 'workshop', '--compare', 'tutorial');
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/Total: [\d.,]+ USD a month/);
    expect(table.stdout).toMatch(/Dominating lines/);
    expect(table.stdout).toMatch(/classic tutorial architecture/);
    const json = JSON.parse(cost('--format', 'json').stdout) as { totalUsd: number; lines: unknown[] };
    expect(json.totalUsd).toBeGreaterThan(0);
    expect(json.lines.length).toBeGreaterThan(10);
  });
});
