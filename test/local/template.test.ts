import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaFunctionHost } from '../../lib/local/lambda-host';
import { planStack } from '../../lib/local/stack-plan';
import { loadAssembly } from '../../lib/local/template';

/** Template reading and intrinsic resolution on a small two-stack fixture assembly (cross-stack imports). */
const dir = mkdtempSync(join(tmpdir(), 'tpl-'));
const opts = { region: 'eu-west-1', accountId: '000000000000', endpoint: 'http://127.0.0.1:4566' };

function write(file: string, body: unknown): void {
  writeFileSync(join(dir, file), typeof body === 'string' ? body : JSON.stringify(body));
}

const stateStack = {
  Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] } },
  Parameters: { Stage: { Default: 'dev' } },
  Resources: {
    Stream: { Type: 'AWS::Kinesis::Stream', Properties: { ShardCount: 2 } },
    Table: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        KeySchema: [{ AttributeName: 'Name', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'Name', AttributeType: 'S' }],
      },
    },
    ProdOnly: { Type: 'AWS::Kinesis::Stream', Condition: 'IsProd', Properties: { ShardCount: 9 } },
    Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: {} },
  },
  Outputs: {
    StreamName: { Value: { Ref: 'Stream' } },
    ExportStreamArn: { Value: { 'Fn::GetAtt': ['Stream', 'Arn'] }, Export: { Name: 'State:StreamArn' } },
    ExportTable: { Value: { Ref: 'Table' }, Export: { Name: 'State:Table' } },
  },
};

const pipelineStack = {
  Resources: {
    Dlq: { Type: 'AWS::SQS::Queue' },
    Fn: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Timeout: 2,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
        Code: { S3Bucket: { 'Fn::Sub': 'cdk-assets-${AWS::AccountId}-${AWS::Region}' }, S3Key: 'abc123.zip' },
        Environment: {
          Variables: {
            TABLE: { 'Fn::ImportValue': 'State:Table' },
            JOINED: {
              'Fn::Join': ['/', [{ Ref: 'AWS::Region' }, { 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] }]],
            },
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
            SUBBED: { 'Fn::Sub': ['${Q}-${AWS::StackName}', { Q: { 'Fn::GetAtt': ['Dlq', 'QueueName'] } }] },
            MODE: { 'Fn::If': ['Never', 'x', 'y'] },
          },
        },
      },
    },
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        FunctionName: { Ref: 'Fn' },
        EventSourceArn: { 'Fn::ImportValue': 'State:StreamArn' },
        StartingPosition: 'TRIM_HORIZON',
        TumblingWindowInSeconds: 60,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['Dlq', 'Arn'] } } },
      },
    },
  },
  Conditions: { Never: { 'Fn::Equals': ['a', 'b'] } },
};

beforeAll(() => {
  write('manifest.json', {
    artifacts: {
      State: { type: 'aws:cloudformation:stack', properties: { templateFile: 'State.template.json' } },
      Pipeline: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Pipeline.template.json' } },
      'Pipeline.assets': { type: 'cdk:asset-manifest', properties: { file: 'Pipeline.assets.json' } },
    },
  });
  write('State.template.json', stateStack);
  write('Pipeline.template.json', pipelineStack);
  write('Pipeline.assets.json', {
    files: { abc123: { source: { path: 'asset.abc123' }, destinations: { d: { objectKey: 'abc123.zip' } } } },
  });
  mkdirSync(join(dir, 'asset.abc123'));
  write(
    'asset.abc123/index.js',
    `exports.handler = async (event) => {
       if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
       if (event.crash) process.exit(3);
       if (event.fail) throw new TypeError('asked to fail');
       return { env: { TABLE: process.env.TABLE, HOME: process.env.HOME, AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL }, pid: process.pid };
     };`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('template reading and resolution', () => {
  it('plans streams, tables, queues, functions and mappings with resolved references', () => {
    const plan = planStack(loadAssembly(dir), opts);
    expect(plan.streams).toHaveLength(1); // ProdOnly's condition is false
    expect(plan.streams[0]).toMatchObject({ logicalId: 'Stream', shardCount: 2 });
    expect(plan.streams[0].name).toMatch(/^State-Stream-[0-9a-f]{8}$/);
    const fn = plan.functions[0];
    expect(fn.environment).toEqual({
      TABLE: plan.tables[0].name,
      JOINED: 'eu-west-1/b',
      SUBBED: `${plan.queues[0].name}-Pipeline`,
      MODE: 'y',
    });
    expect(fn.assetDir).toBe(join(dir, 'asset.abc123'));
    expect(plan.mappings[0]).toMatchObject({
      streamName: plan.streams[0].name,
      functionName: fn.name,
      tumblingWindowSeconds: 60,
      reportBatchItemFailures: true,
      bisectOnError: true,
      maxRetryAttempts: 2,
      maxRecordAgeSeconds: -1,
      batchSize: 100,
      onFailureQueue: plan.queues[0].name,
    });
    expect(plan.queues[0].url).toBe(`http://127.0.0.1:4566/000000000000/${plan.queues[0].name}`);
    expect(plan.outputs.StreamName).toBe(plan.streams[0].name);
    expect(plan.notRunLocally).toEqual(['AWS::CloudWatch::Alarm']);
  });

  it('names are stable across reads (data persists across restarts)', () => {
    const a = planStack(loadAssembly(dir), opts);
    const b = planStack(loadAssembly(dir), opts);
    expect(b.tables[0].name).toBe(a.tables[0].name);
  });

  it('refuses a resource type the data path needs but the runtime cannot run, saying what to do', () => {
    const bad = { ...stateStack, Resources: { ...stateStack.Resources, Cluster: { Type: 'AWS::MSK::Cluster' } } };
    write('State.template.json', bad);
    try {
      expect(() => planStack(loadAssembly(dir), opts)).toThrow(
        /cannot run State\/Cluster \(AWS::MSK::Cluster\)\. Deploy to AWS or LocalStack/,
      );
    } finally {
      write('State.template.json', stateStack);
    }
  });

  it('refuses a ParallelizationFactor it does not honour, naming the setting', () => {
    const mapping = pipelineStack.Resources.Mapping;
    const bad = {
      ...pipelineStack,
      Resources: {
        ...pipelineStack.Resources,
        Mapping: { ...mapping, Properties: { ...mapping.Properties, ParallelizationFactor: 4 } },
      },
    };
    write('Pipeline.template.json', bad);
    try {
      expect(() => planStack(loadAssembly(dir), opts)).toThrow(
        /Pipeline\/Mapping: ParallelizationFactor 4 is not honoured by the embedded runtime .* set it to 1/,
      );
    } finally {
      write('Pipeline.template.json', pipelineStack);
    }
  });

  it('plans a provisioned table with its capacity and an on-demand stream as such', () => {
    const provisioned = {
      ...stateStack,
      Resources: {
        ...stateStack.Resources,
        Stream: { Type: 'AWS::Kinesis::Stream', Properties: { StreamModeDetails: { StreamMode: 'ON_DEMAND' } } },
        Table: {
          Type: 'AWS::DynamoDB::Table',
          Properties: {
            ...stateStack.Resources.Table.Properties,
            ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 2 },
          },
        },
      },
    };
    write('State.template.json', provisioned);
    try {
      const plan = planStack(loadAssembly(dir), opts);
      expect(plan.tables[0].provisioned).toEqual({ readCapacityUnits: 5, writeCapacityUnits: 2 });
      expect(plan.streams[0]).toMatchObject({ shardCount: 1, onDemand: true });
    } finally {
      write('State.template.json', stateStack);
    }
  });

  it('says to synthesize when the assembly is missing', () => {
    expect(() => loadAssembly(join(dir, 'nope'))).toThrow(/run `npm run synth` first/);
  });
});

describe('local Lambda host', () => {
  it('runs the bundled asset in its own environment: its variables only, errors, timeouts and crashes', async () => {
    const plan = planStack(loadAssembly(dir), opts);
    const host = new LambdaFunctionHost(plan.functions[0], {
      endpoint: 'http://127.0.0.1:1',
      region: 'eu-west-1',
      logDir: join(dir, 'logs'),
    });
    try {
      const ok = await host.invoke({});
      expect(ok).toMatchObject({
        ok: true,
        value: { env: { TABLE: plan.tables[0].name, AWS_ENDPOINT_URL: 'http://127.0.0.1:1' } },
      });
      expect((ok as { value: { env: Record<string, unknown> } }).value.env.HOME).toBeUndefined(); // not the host's env
      const warm = await host.invoke({});
      expect((warm as { value: { pid: number } }).value.pid).toBe((ok as { value: { pid: number } }).value.pid);
      expect(await host.invoke({ fail: true })).toMatchObject({
        ok: false,
        error: { errorType: 'TypeError', errorMessage: 'asked to fail' },
      });
      expect(await host.invoke({ sleep: 5000 })).toMatchObject({ ok: false, error: { errorType: 'Sandbox.Timedout' } });
      expect(await host.invoke({ crash: true })).toMatchObject({
        ok: false,
        error: { errorType: 'Runtime.ExitError' },
      });
      expect(await host.invoke({})).toMatchObject({ ok: true }); // a fresh environment after the crash
    } finally {
      await host.close();
    }
  });
});
