import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OUTPUT_KEYS, targetFromCdkOutputs } from '../../lib/shared/stack-target';

describe('targetFromCdkOutputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outputs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const read = (outputs: Record<string, Record<string, string>>) => {
    const file = join(dir, `${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(outputs));
    return targetFromCdkOutputs(file);
  };

  test('merges every stack and reads the aggregates TTL as days', () => {
    const t = read({
      'IotTelemetry-prod-State': {
        [OUTPUT_KEYS.aggregatesTable]: 'agg',
        [OUTPUT_KEYS.aggregatesTtlDays]: '7',
        [OUTPUT_KEYS.region]: 'eu-west-1',
      },
      'IotTelemetry-prod-Analytics': { [OUTPUT_KEYS.glueDatabase]: 'db' },
    });
    expect(t).toMatchObject({ aggregatesTable: 'agg', aggregatesTtlDays: 7, region: 'eu-west-1', glueDatabase: 'db' });
  });

  test('no TTL output (or a broken one) means minutes are kept forever', () => {
    expect(read({ S: { [OUTPUT_KEYS.aggregatesTable]: 'agg' } }).aggregatesTtlDays).toBeUndefined();
    expect(read({ S: { [OUTPUT_KEYS.aggregatesTtlDays]: 'soon' } }).aggregatesTtlDays).toBeUndefined();
  });
});
