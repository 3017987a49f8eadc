import { execFileSync } from 'node:child_process';
import { archivePartition, PROFILES, profilePartitionJq } from '../../lib/core/profiles';
import { compilePartitionQuery } from '../../lib/local/firehose-format';
import { badRecordCases, edgeValueRecords } from '../support/bad-records';

/**
 * The routing JQ the stack deploys, evaluated by jq 1.6 (Firehose's `JsonParsingEngine: JQ-1.6`), and
 * its TypeScript twin that the embedded Firehose runs, agree on every fuzz case and edge value. Needs
 * the `jq` binary (`apt-get install jq`); without it the comparison is skipped and says so.
 */
const jqVersion = (() => {
  try {
    return execFileSync('jq', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const objects = [...edgeValueRecords(T0), ...badRecordCases(T0)].filter((text) => {
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
});

describe('Firehose routing: JQ and the embedded evaluator', () => {
  test('the embedded Firehose evaluates the stack query with the TypeScript twin', () => {
    const q = compilePartitionQuery(profilePartitionJq());
    expect(q({ Name: 'Shadowfax', HealthPoints: 1 })).toEqual({ profile: 'unicorn' });
    expect(q({ Name: 'Shadowfax', HealthPoints: 1.5 })).toEqual({ profile: 'unicorn_untyped' });
    expect(q({ Name: 'Shadowfax', healthpoints: 1 })).toEqual({ profile: 'unicorn_untyped' });
    expect(q({ panelId: 'p', seq: 2 ** 63 })).toEqual({ profile: 'solar_untyped' });
    expect(q({ panelId: 'p', seq: -(2 ** 63), extra: { any: 'thing' } })).toEqual({ profile: 'solar' });
    expect(q({ x: 1 })).toEqual({ profile: 'unknown' });
  });

  (jqVersion ? test : test.skip)(
    `jq (${jqVersion ?? 'not installed'}) routes every case as the embedded Firehose does`,
    () => {
      // One record per line, each parsed on its own as Firehose does: a record jq cannot parse is `error`.
      const out = execFileSync(
        'jq',
        ['-R', '-c', `try (fromjson | ${profilePartitionJq()}) catch {profile: "error"}`],
        {
          input: `${objects.join('\n')}\n`,
          encoding: 'utf8',
        },
      );
      const byJq = out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).profile as string);
      const byTs = objects.map((text) => {
        try {
          return archivePartition(PROFILES, JSON.parse(text));
        } catch {
          return 'error';
        }
      });
      expect(byJq).toHaveLength(objects.length);
      const differ = objects.filter((_, i) => byJq[i] !== byTs[i]).map((t, i) => `${t} jq=${byJq[i]} ts=${byTs[i]}`);
      expect(differ).toEqual([]);
      // The cases cover all three destinations.
      expect(new Set(byTs)).toEqual(
        new Set(['unicorn', 'solar', 'unicorn_untyped', 'solar_untyped', 'unknown', 'error']),
      );
    },
  );
});
