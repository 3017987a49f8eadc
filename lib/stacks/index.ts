import { Annotations, type App, type StackProps } from 'aws-cdk-lib';
import { NAMED_QUERIES, type NamedQuerySpec } from '../catalog';
import type { StackConfig } from '../config';
import { glueDatabaseName } from '../config';
import { PROFILES } from '../core/profiles';
import { AnalyticsStack } from './analytics-stack';
import { PipelineStack } from './pipeline-stack';
import { StateStack } from './state-stack';

export { AnalyticsStack, PipelineStack, StateStack };

export interface IotTelemetryStacks {
  readonly state: StateStack;
  readonly analytics: AnalyticsStack;
  readonly pipeline: PipelineStack;
}

export interface CreateStacksOptions {
  /** Aggregator handler source (tests use a fixture). @default AGGREGATOR_ENTRY */
  readonly aggregatorEntry?: string;
  /** @default NAMED_QUERIES */
  readonly namedQueries?: readonly NamedQuerySpec[];
  /** @default - environment-agnostic stacks */
  readonly env?: StackProps['env'];
}

/** The stack id prefix: `IotTelemetry-<stage>`. */
export const stackPrefix = (stage: string): string => `IotTelemetry-${stage}`;

/**
 * The app's three stacks. Deploy order follows the references: State, then Analytics (reads the bucket
 * name), then Pipeline (reads State; with Parquet also needs the Glue schema table from Analytics).
 */
export function createStacks(app: App, config: StackConfig, options: CreateStacksOptions = {}): IotTelemetryStacks {
  const prefix = stackPrefix(config.stage);
  const common = { env: options.env, tags: { project: 'iot-telemetry', stage: config.stage } };
  const state = new StateStack(app, `${prefix}-State`, {
    ...common,
    description: 'IoT telemetry: stream, aggregates and device-state tables, raw archive (retained data)',
    config,
  });
  const analytics = new AnalyticsStack(app, `${prefix}-Analytics`, {
    ...common,
    description: 'IoT telemetry: Glue catalog with partition projection, Athena workgroup and named queries',
    config,
    archiveBucket: state.archiveBucket,
    profiles: PROFILES,
    namedQueries: options.namedQueries ?? NAMED_QUERIES,
  });
  const schemaTable = analytics.archiveSchemaTableName;
  const pipeline = new PipelineStack(app, `${prefix}-Pipeline`, {
    ...common,
    description: 'IoT telemetry: per-minute aggregator Lambda, Firehose archive delivery, dashboard and alarms',
    config,
    stream: state.stream,
    aggregatesTable: state.aggregatesTable,
    deviceStateTable: state.deviceStateTable,
    archiveBucket: state.archiveBucket,
    // A plain name, not a token: no export to pin; the explicit dependency orders the deployment.
    parquetSchema: schemaTable ? { databaseName: glueDatabaseName(config.stage), tableName: schemaTable } : undefined,
    aggregatorEntry: options.aggregatorEntry,
  });
  if (schemaTable) pipeline.addStackDependency(analytics, 'Firehose reads the Parquet schema table at creation');
  for (const consumer of [analytics, pipeline]) {
    Annotations.of(consumer).acknowledgeWarning(
      '@aws-cdk/core:crossStackReferencesDefaultStrong',
      'Strong (export/import) references are intended: CloudFormation then refuses to replace or delete a ' +
        'stream, table or bucket of the state stack while another stack still uses it.',
    );
  }
  return { state, analytics, pipeline };
}
