import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Aspects } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { configFromContext, type StackConfig } from '../../lib/config';
import { type CreateStacksOptions, createStacks, type IotTelemetryStacks } from '../../lib/stacks';

/** cdk.json's context: the same feature flags (and `iot:` overrides, if any) the CLI passes to bin/app.ts. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context;

export interface Synthesized {
  readonly config: StackConfig;
  readonly stacks: IotTelemetryStacks;
  readonly state: Template;
  readonly analytics: Template;
  readonly pipeline: Template;
}

/**
 * Synthesizes the app as bin/app.ts does (cdk.json context plus `overrides`, cdk-nag attached), once; call it
 * in beforeAll. Lambda bundling is skipped (`aws:cdk:bundling-stacks`: none): the templates do not depend on
 * the bundle, and `npm run synth` bundles the real handler with esbuild on every `npm test`.
 */
export function synthesize(overrides: Record<string, unknown> = {}, options: CreateStacksOptions = {}): Synthesized {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, ...overrides, 'aws:cdk:bundling-stacks': [] } });
  const config = configFromContext((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext()));
  const stacks = createStacks(app, config, options);
  Aspects.of(app).add(new AwsSolutionsChecks({ reports: false }));
  return {
    config,
    stacks,
    state: Template.fromStack(stacks.state),
    analytics: Template.fromStack(stacks.analytics),
    pipeline: Template.fromStack(stacks.pipeline),
  };
}

/** Synthesized CloudFormation JSON: untyped by nature; tests navigate it and assert on what they find. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON has no static type
export type Cfn = any;

/** The one resource of a type in a template, failing loudly when there is not exactly one. */
export function only(template: Template, type: string): { logicalId: string; Properties: Cfn } {
  const found = Object.entries(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  const [logicalId, resource] = found[0];
  return { logicalId, Properties: resource.Properties };
}
