import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRuntimeError } from './errors';

/**
 * Reads a synthesized cloud assembly (`cdk.out`): every stack template and asset manifest, including
 * stacks in nested stage assemblies. The template is the single source of truth for the local run.
 */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  readonly Parameters?: Record<string, { Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
}

export interface StackTemplate {
  readonly stackName: string;
  /** Directory holding the template and its `asset.*` directories. */
  readonly dir: string;
  readonly template: CfnTemplate;
  /** Asset object key (`<hash>.zip`) -> absolute asset directory. */
  readonly assets: ReadonlyMap<string, string>;
}

export interface Assembly {
  readonly dir: string;
  readonly stacks: readonly StackTemplate[];
}

export interface ResourceRef {
  readonly stack: StackTemplate;
  readonly logicalId: string;
  readonly resource: CfnResource;
}

interface ManifestArtifact {
  type: string;
  displayName?: string;
  properties?: { templateFile?: string; file?: string; directoryName?: string; stackName?: string };
}

export function loadAssembly(dir: string): Assembly {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new LocalRuntimeError(`No synthesized stack in ${dir} (manifest.json missing): run \`npm run synth\` first.`);
  }
  const stacks: StackTemplate[] = [];
  collect(dir, stacks);
  if (stacks.length === 0) throw new LocalRuntimeError(`${dir} holds no CloudFormation stack: run \`npm run synth\`.`);
  return { dir, stacks };
}

function collect(dir: string, into: StackTemplate[]): void {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, ManifestArtifact>;
  };
  const artifacts = manifest.artifacts ?? {};
  const assets = new Map<string, string>();
  for (const a of Object.values(artifacts)) {
    if (a.type === 'cdk:asset-manifest' && a.properties?.file) readAssets(dir, a.properties.file, assets);
  }
  for (const [id, a] of Object.entries(artifacts)) {
    if (a.type === 'aws:cloudformation:stack' && a.properties?.templateFile) {
      const template = JSON.parse(readFileSync(join(dir, a.properties.templateFile), 'utf8')) as CfnTemplate;
      into.push({ stackName: a.properties.stackName ?? id, dir, template, assets });
    } else if (a.type === 'cdk:cloud-assembly' && a.properties?.directoryName) {
      collect(join(dir, a.properties.directoryName), into);
    }
  }
}

function readAssets(dir: string, file: string, into: Map<string, string>): void {
  const manifest = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    files?: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
  };
  for (const asset of Object.values(manifest.files ?? {})) {
    for (const dest of Object.values(asset.destinations ?? {})) into.set(dest.objectKey, join(dir, asset.source.path));
  }
}

/** Every resource of a type across all stacks (skipping ones whose Condition is false). */
export function resourcesOfType(assembly: Assembly, type: string, resolver?: Resolver): ResourceRef[] {
  const out: ResourceRef[] = [];
  for (const stack of assembly.stacks) {
    for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
      if (resource.Type !== type) continue;
      if (resolver && resource.Condition && !resolver.condition(stack, resource.Condition)) continue;
      out.push({ stack, logicalId, resource });
    }
  }
  return out;
}

export interface ResolverOptions {
  readonly region: string;
  readonly accountId: string;
  /** The runtime's endpoint, for SQS queue URLs. */
  readonly endpoint: string;
  /** Names known from elsewhere (a deployed stack's outputs), by resource type and logical id; generated otherwise. */
  readonly physicalNames?: (type: string, logicalId: string) => string | undefined;
}

const NAME_PROPERTY: Readonly<Record<string, string>> = {
  'AWS::Kinesis::Stream': 'Name',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::KinesisFirehose::DeliveryStream': 'DeliveryStreamName',
  'AWS::Athena::WorkGroup': 'Name',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::IAM::Role': 'RoleName',
};

/** Physical names are generated locally as CloudFormation would (the stacks set none), stable per template. */
export function generatedName(stackName: string, logicalId: string, type: string): string {
  const hash = createHash('sha1').update(`${stackName}/${logicalId}`).digest('hex').slice(0, 8);
  if (type === 'AWS::S3::Bucket') {
    const base = `${stackName}-${logicalId}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    return `${base.slice(0, 63 - 9)}-${hash}`.replace(/-+/g, '-');
  }
  if (type === 'AWS::Glue::Database' || type === 'AWS::Glue::Table') {
    return `${stackName}_${logicalId}_${hash}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  }
  return `${stackName}-${logicalId}`.slice(0, 80 - 9) + `-${hash}`;
}

/**
 * Evaluates the intrinsic functions the runtime needs (names, ARNs, environment variables):
 * Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If and conditions, Fn::ImportValue
 * (through the exporting stack's Outputs), and the pseudo parameters.
 */
export class Resolver {
  private readonly exports = new Map<string, { stack: StackTemplate; value: unknown }>();

  constructor(
    readonly assembly: Assembly,
    readonly options: ResolverOptions,
  ) {
    for (const stack of assembly.stacks) {
      for (const output of Object.values(stack.template.Outputs ?? {})) {
        if (output.Export)
          this.exports.set(String(this.resolve(stack, output.Export.Name)), { stack, value: output.Value });
      }
    }
  }

  resolve(stack: StackTemplate, value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v));
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [key] = keys;
      const arg = obj[key];
      switch (key) {
        case 'Ref':
          return this.ref(stack, String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
          return this.getAtt(stack, String(id), String(this.resolve(stack, attr)));
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown[]];
          return (this.resolve(stack, parts) as unknown[]).join(sep);
        }
        case 'Fn::Sub':
          return this.sub(stack, arg);
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          return (this.resolve(stack, list) as unknown[])[Number(this.resolve(stack, index))];
        }
        case 'Fn::Split': {
          const [sep, s] = arg as [string, unknown];
          return String(this.resolve(stack, s)).split(sep);
        }
        case 'Fn::If': {
          const [cond, yes, no] = arg as [string, unknown, unknown];
          return this.resolve(stack, this.condition(stack, cond) ? yes : no);
        }
        case 'Fn::ImportValue': {
          const name = String(this.resolve(stack, arg));
          const exported = this.exports.get(name);
          if (!exported)
            throw new LocalRuntimeError(`Fn::ImportValue ${name}: no stack exports it; re-run \`npm run synth\`.`);
          return this.resolve(exported.stack, exported.value);
        }
        case 'Fn::GetAZs':
          return [`${this.options.region}a`, `${this.options.region}b`];
        case 'Fn::Base64':
          return Buffer.from(String(this.resolve(stack, arg))).toString('base64');
        default:
          if (key.startsWith('Fn::'))
            throw new LocalRuntimeError(`Intrinsic ${key} is not supported by the embedded runtime.`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = this.resolve(stack, v);
    return out;
  }

  condition(stack: StackTemplate, name: string): boolean {
    const def = stack.template.Conditions?.[name];
    if (def === undefined) throw new LocalRuntimeError(`Condition ${name} is not defined in ${stack.stackName}.`);
    return this.evalCondition(stack, def);
  }

  private evalCondition(stack: StackTemplate, def: unknown): boolean {
    const obj = def as Record<string, unknown[]>;
    if ('Condition' in obj) return this.condition(stack, String(obj.Condition));
    if ('Fn::Equals' in obj) {
      const [a, b] = obj['Fn::Equals'].map((v) => JSON.stringify(this.resolve(stack, v)));
      return a === b;
    }
    if ('Fn::Not' in obj) return !this.evalCondition(stack, obj['Fn::Not'][0]);
    if ('Fn::And' in obj) return obj['Fn::And'].every((c) => this.evalCondition(stack, c));
    if ('Fn::Or' in obj) return obj['Fn::Or'].some((c) => this.evalCondition(stack, c));
    throw new LocalRuntimeError(`Unsupported condition ${JSON.stringify(def)} in ${stack.stackName}.`);
  }

  /** What `Ref` returns for a resource, parameter or pseudo parameter. */
  ref(stack: StackTemplate, id: string): unknown {
    switch (id) {
      case 'AWS::Region':
        return this.options.region;
      case 'AWS::AccountId':
        return this.options.accountId;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stack.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.options.region}:${this.options.accountId}:stack/${stack.stackName}/local`;
      case 'AWS::NoValue':
        return undefined;
    }
    const param = stack.template.Parameters?.[id];
    if (param) return param.Default;
    const resource = this.resource(stack, id);
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        return this.getAtt(stack, id, 'QueueUrl');
      case 'AWS::SNS::Topic':
        return this.getAtt(stack, id, 'Arn');
      default:
        return this.physicalName(stack, id);
    }
  }

  physicalName(stack: StackTemplate, id: string): string {
    const resource = this.resource(stack, id);
    const known = this.options.physicalNames?.(resource.Type, id);
    if (known !== undefined) return known;
    const props = resource.Properties ?? {};
    const prop = NAME_PROPERTY[resource.Type];
    let explicit: unknown = prop ? props[prop] : undefined;
    if (resource.Type === 'AWS::Glue::Database') explicit = (props.DatabaseInput as Record<string, unknown>)?.Name;
    if (resource.Type === 'AWS::Glue::Table') explicit = (props.TableInput as Record<string, unknown>)?.Name;
    if (explicit !== undefined) return String(this.resolve(stack, explicit));
    return generatedName(stack.stackName, id, resource.Type);
  }

  getAtt(stack: StackTemplate, id: string, attr: string): unknown {
    const resource = this.resource(stack, id);
    const name = this.physicalName(stack, id);
    const { region, accountId } = this.options;
    const arns: Record<string, string> = {
      'AWS::Kinesis::Stream': `arn:aws:kinesis:${region}:${accountId}:stream/${name}`,
      'AWS::DynamoDB::Table': `arn:aws:dynamodb:${region}:${accountId}:table/${name}`,
      'AWS::S3::Bucket': `arn:aws:s3:::${name}`,
      'AWS::SQS::Queue': `arn:aws:sqs:${region}:${accountId}:${name}`,
      'AWS::Lambda::Function': `arn:aws:lambda:${region}:${accountId}:function:${name}`,
      'AWS::IAM::Role': `arn:aws:iam::${accountId}:role/${name}`,
      'AWS::KinesisFirehose::DeliveryStream': `arn:aws:firehose:${region}:${accountId}:deliverystream/${name}`,
      'AWS::SNS::Topic': `arn:aws:sns:${region}:${accountId}:${name}`,
      'AWS::Logs::LogGroup': `arn:aws:logs:${region}:${accountId}:log-group:${name}:*`,
      'AWS::KMS::Key': `arn:aws:kms:${region}:${accountId}:key/${name}`,
      'AWS::Athena::WorkGroup': `arn:aws:athena:${region}:${accountId}:workgroup/${name}`,
    };
    if (attr === 'Arn' && arns[resource.Type]) return arns[resource.Type];
    if (resource.Type === 'AWS::SQS::Queue') {
      if (attr === 'QueueUrl') return `${this.options.endpoint}/${accountId}/${name}`;
      if (attr === 'QueueName') return name;
    }
    if (resource.Type === 'AWS::S3::Bucket' && /DomainName$/.test(attr)) return `${name}.s3.amazonaws.com`;
    if (resource.Type === 'AWS::DynamoDB::Table' && attr === 'StreamArn') return `${arns[resource.Type]}/stream/local`;
    if (resource.Type === 'AWS::KMS::Key' && attr === 'KeyId') return name;
    if (attr === 'Name') return name;
    throw new LocalRuntimeError(`Fn::GetAtt ${id}.${attr} (${resource.Type}) cannot be resolved locally.`);
  }

  private sub(stack: StackTemplate, arg: unknown): string {
    const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
    return text.replace(/\$\{([^}]+)\}/g, (whole, expr: string) => {
      if (expr.startsWith('!')) return `\${${expr.slice(1)}}`;
      if (expr in vars) return String(this.resolve(stack, vars[expr]));
      const dot = expr.indexOf('.');
      if (dot > 0 && !expr.startsWith('AWS::'))
        return String(this.getAtt(stack, expr.slice(0, dot), expr.slice(dot + 1)));
      const v = this.ref(stack, expr);
      return v === undefined ? whole : String(v);
    });
  }

  private resource(stack: StackTemplate, id: string): CfnResource {
    const r = stack.template.Resources?.[id];
    if (!r) throw new LocalRuntimeError(`${stack.stackName} refers to ${id}, which is not in the template.`);
    return r;
  }
}

/** The asset directory holding a Lambda function's bundled code. */
export function lambdaAssetDir(ref: ResourceRef, resolver: Resolver): string {
  const code = (ref.resource.Properties?.Code ?? {}) as Record<string, unknown>;
  if (code.ZipFile !== undefined) {
    throw new LocalRuntimeError(`${ref.logicalId}: inline Lambda code (ZipFile) is not run by the embedded runtime.`);
  }
  const key = code.S3Key === undefined ? undefined : String(resolver.resolve(ref.stack, code.S3Key));
  const fromManifest = key === undefined ? undefined : ref.stack.assets.get(key);
  const fromMetadata = ref.resource.Metadata?.['aws:asset:path'];
  const dir = fromManifest ?? (typeof fromMetadata === 'string' ? join(ref.stack.dir, fromMetadata) : undefined);
  if (!dir || !existsSync(dir)) {
    throw new LocalRuntimeError(
      `${ref.stack.stackName}/${ref.logicalId}: bundled code for ${key ?? 'the function'} not found in ${ref.stack.dir}; re-run \`npm run synth\`.`,
    );
  }
  return dir;
}
