#!/usr/bin/env node
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, configFromContext } from '../lib/config';
import { createStacks } from '../lib/stacks';

// Wiring only: context -> validated config -> stacks, with cdk-nag's AwsSolutions pack on every synth.
const app = new App();
try {
  const config = configFromContext((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext()));
  createStacks(app, config);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
