import { join } from 'node:path';
import { FAULT_SCHEDULE, formatSoakReport, runSoak } from '../../lib/local/soak';

/**
 * A one-minute soak: both fleets with copies and malformed records through the real runtime while
 * every scheduled fault is injected (kill -9 of each emulator, of a Lambda environment idle and busy,
 * a Lambda timeout, a throttling burst, a restart of the whole runtime); the outcome must match the
 * soak's own reference exactly.
 */
describe('fault-injection soak (1 minute)', () => {
  it('survives every fault and ends exactly at its reference', async () => {
    const report = await runSoak({ minutes: 1, cwd: join(__dirname, '..', '..') });
    const text = formatSoakReport(report).join('\n');
    expect([report.verdict, text]).toEqual(['PASS', text]);
    expect(report.faults.map((f) => f.fault)).toEqual(FAULT_SCHEDULE);
    expect(report.faults.filter((f) => f.injected)).toHaveLength(FAULT_SCHEDULE.length);
    expect(report.recordsSent).toBeGreaterThan(report.uniqueReadings * 10);
  }, 240_000);
});
