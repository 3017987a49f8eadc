import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONFIG_KEYS,
  CONTEXT_PREFIX,
  ConfigError,
  configFromContext,
  DEFAULT_CONFIG,
  glueDatabaseName,
} from '../../lib/config';
import { configTableMarkdown, documentedConfigTable } from '../../lib/config/docs';
import { CDK_JSON_CONTEXT } from './helpers';

const fromMap = (map: Record<string, unknown>) => configFromContext((key) => map[key]);
const withCdkJson = (overrides: Record<string, unknown>) => fromMap({ ...CDK_JSON_CONTEXT, ...overrides });

describe('configFromContext', () => {
  test('cdk.json context yields the documented defaults', () => {
    expect(fromMap(CDK_JSON_CONTEXT)).toEqual(DEFAULT_CONFIG);
    expect(fromMap({})).toEqual(DEFAULT_CONFIG);
  });

  test('-c overrides arrive as strings and are converted', () => {
    const config = withCdkJson({
      'iot:parquet': 'true',
      'iot:shardCount': '4',
      'iot:streamMode': 'ON_DEMAND',
      'iot:alarmEmail': 'ops@example.com',
      'iot:aggregatesTtlDays': '400',
      'iot:stage': 'prod-eu',
    });
    expect(config).toMatchObject({
      parquet: true,
      shardCount: 4,
      streamMode: 'ON_DEMAND',
      alarmEmail: 'ops@example.com',
      aggregatesTtlDays: 400,
      stage: 'prod-eu',
    });
    expect(withCdkJson({ 'iot:parquet': 'false' }).parquet).toBe(false);
  });

  test('an empty alarm email means no subscription', () => {
    expect(withCdkJson({ 'iot:alarmEmail': '' }).alarmEmail).toBeUndefined();
  });

  test.each([
    ['iot:stage', 'Prod', 'lower-case'],
    ['iot:stage', 'a_b', 'lower-case'],
    ['iot:streamMode', 'provisioned', 'PROVISIONED, ON_DEMAND'],
    ['iot:shardCount', 0, 'integer from 1'],
    ['iot:shardCount', '1.5', 'integer from 1'],
    ['iot:shardCount', 'two', 'integer from 1'],
    ['iot:retentionHours', 12, 'from 24 to 8760'],
    ['iot:billingMode', 'ON_DEMAND', 'PAY_PER_REQUEST, PROVISIONED'],
    ['iot:firehoseBufferSeconds', 0, 'zero buffering'],
    ['iot:firehoseBufferMiB', 32, 'at least 64'],
    ['iot:firehoseBufferMiB', 129, 'from 64 to 128'],
    ['iot:parquet', 'yes', 'true or false'],
    ['iot:allowedLatenessMinutes', -1, 'from 0 to 1440'],
    ['iot:earliestEventTime', '2000-02-30T00:00:00Z', 'ISO-8601 timestamp such as 2000-01-01T00:00:00Z'],
    ['iot:earliestEventTime', 'last year', 'ISO-8601 timestamp'],
    ['iot:alarmEmail', 'not-an-email', 'email address'],
    ['iot:aggregatesTtlDays', 0, 'keep aggregates forever'],
    ['iot:batchSize', 10_001, 'from 1 to 10000'],
    ['iot:maxBatchingWindowSeconds', 301, 'from 0 to 300'],
    ['iot:retryAttempts', -1, 'from 0 to 10000'],
    ['iot:maxRecordAgeSeconds', 30, 'from 60 to 604800'],
    ['iot:tumblingWindowSeconds', 901, 'from 1 to 900'],
    ['iot:logRetentionDays', 42, 'one of 1, 3, 5, 7, 14, 30'],
    ['iot:metricsNamespace', 'has space', 'CloudWatch namespace'],
    ['iot:athenaScanLimitGiB', 0, 'from 1 to 10240'],
    ['iot:readCapacityMax', 0, 'from 1 to 40000'],
    ['iot:capacityTargetPercent', 95, 'from 20 to 90'],
    ['iot:deviceStateRefreshMinutes', -1, 'from 0 to 10080'],
  ])('%s = %j is rejected with a message naming the key and the fix', (key, value, hint) => {
    let error: unknown;
    try {
      withCdkJson({ [key]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain(`${key}: got ${JSON.stringify(value)}`);
    expect(message).toContain(hint);
  });

  test('capacity ranges must not be inverted', () => {
    expect(() => withCdkJson({ 'iot:writeCapacityMin': 20, 'iot:writeCapacityMax': 10 })).toThrow(
      'iot:writeCapacityMax: got 10; set at least iot:writeCapacityMin (20)',
    );
  });

  test('the autoscaling target leaves burst capacity for a window of writes (provisioned only)', () => {
    expect(() => withCdkJson({ 'iot:billingMode': 'PROVISIONED', 'iot:capacityTargetPercent': 85 })).toThrow(
      "iot:capacityTargetPercent: got 85; set at most 83: with a 60 s tumbling window the burst capacity (300 s of unused capacity) cannot absorb a window's writes above that",
    );
    expect(() =>
      withCdkJson({
        'iot:billingMode': 'PROVISIONED',
        'iot:capacityTargetPercent': 90,
        'iot:tumblingWindowSeconds': 30,
      }),
    ).not.toThrow();
    expect(() => withCdkJson({ 'iot:capacityTargetPercent': 90 })).not.toThrow();
  });

  test('an unknown iot: key (a typo) is rejected when the context keys are given', () => {
    const context = { ...CDK_JSON_CONTEXT, 'iot:parquett': 'true' };
    expect(() => configFromContext((key) => context[key as keyof typeof context], Object.keys(context))).toThrow(
      /iot:parquett: unknown key; known keys are iot:stage, .*iot:parquet,/,
    );
    expect(() => configFromContext((key) => CDK_JSON_CONTEXT[key], Object.keys(CDK_JSON_CONTEXT))).not.toThrow();
  });

  test('every problem is reported at once', () => {
    try {
      withCdkJson({ 'iot:shardCount': -1, 'iot:parquet': 'maybe', 'iot:batchSize': 0 });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).problems).toHaveLength(3);
    }
  });
});

describe('the schema is the one place per key', () => {
  test("docs/deploy.md's configuration table is the schema's (run `npm run docs:config` after changing a key)", () => {
    const deployMd = readFileSync(join(__dirname, '..', '..', 'docs', 'deploy.md'), 'utf8');
    expect(documentedConfigTable(deployMd)).toBe(configTableMarkdown());
    for (const name of Object.keys(CONFIG_KEYS)) expect(configTableMarkdown()).toContain(`| \`iot:${name}\` |`);
  });

  test('cdk.json sets only values that differ from the defaults (the schema holds the defaults)', () => {
    const restated = Object.entries(CDK_JSON_CONTEXT).filter(
      ([key, value]) =>
        key.startsWith(CONTEXT_PREFIX) &&
        JSON.stringify(value) ===
          JSON.stringify(DEFAULT_CONFIG[key.slice(CONTEXT_PREFIX.length) as keyof typeof DEFAULT_CONFIG] ?? ''),
    );
    expect(restated).toEqual([]);
  });

  test('every key has a default or is optional, a description and a fix that says what to set', () => {
    for (const [name, definition] of Object.entries(CONFIG_KEYS)) {
      expect([name, definition.description.length > 10, definition.fix]).toEqual([
        name,
        true,
        expect.stringMatching(/^set /),
      ]);
      if (definition.default !== undefined) expect(definition.schema.safeParse(definition.default).success).toBe(true);
    }
  });
});

test('the Glue database name is an Athena identifier derived from the stage', () => {
  expect(glueDatabaseName('dev')).toBe('iot_telemetry_dev');
  expect(glueDatabaseName('prod-eu')).toBe('iot_telemetry_prod_eu');
});
