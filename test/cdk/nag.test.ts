import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { RECOMMENDED_SOLAR } from '../../lib/cost/recommended';
import { type Cfn, type Synthesized, synthesize } from './helpers';

const CONFIGURATIONS: [string, Record<string, unknown>][] = [
  ['cdk.json defaults', {}],
  [
    'Parquet, on-demand stream, provisioned tables, TTL, alarm email',
    {
      'iot:parquet': true,
      'iot:streamMode': 'ON_DEMAND',
      'iot:billingMode': 'PROVISIONED',
      'iot:aggregatesTtlDays': 30,
      'iot:alarmEmail': 'ops@example.com',
    },
  ],
  ["the README's recommended solar configuration", RECOMMENDED_SOLAR.context],
];

const synthesized = new Map<string, Synthesized>();
beforeAll(() => {
  for (const [name, context] of CONFIGURATIONS) synthesized.set(name, synthesize(context));
});

describe.each(CONFIGURATIONS)('cdk-nag AwsSolutions, %s', (name) => {
  test.each(['state', 'analytics', 'pipeline'] as const)('%s stack: no unsuppressed errors or warnings', (key) => {
    const annotations = Annotations.fromStack(synthesized.get(name)!.stacks[key]);
    const findings = [
      ...annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ].map((f) => `${f.id}: ${String(f.entry.data).split('\n')[0]}`);
    expect(findings).toEqual([]);
  });
});

test('every suppression names an AwsSolutions rule and gives a specific reason', () => {
  const suppressions: { id: string; reason: string }[] = [];
  for (const s of synthesized.values()) {
    for (const template of [s.state, s.analytics, s.pipeline] as Template[]) {
      for (const resource of Object.values(template.toJSON().Resources) as { Metadata?: Cfn }[]) {
        suppressions.push(...(resource.Metadata?.cdk_nag?.rules_to_suppress ?? []));
      }
    }
  }
  expect(new Set(suppressions.map((s) => s.id))).toEqual(
    new Set([
      'AwsSolutions-KDS3',
      'AwsSolutions-S1',
      'AwsSolutions-IAM5',
      'AwsSolutions-SQS3',
      'AwsSolutions-L1',
      'AwsSolutions-KDF1',
      'AwsSolutions-DDB3',
    ]),
  );
  for (const s of suppressions) expect(s.reason.length).toBeGreaterThan(60);
  // IAM5 is suppressed only for the listed findings, never wholesale.
  for (const s of suppressions.filter((x) => x.id === 'AwsSolutions-IAM5')) {
    expect((s as { applies_to?: unknown[] }).applies_to?.length).toBeGreaterThan(0);
  }
});
