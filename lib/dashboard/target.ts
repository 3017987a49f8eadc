import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../config';
import { type StackTarget, TargetError, targetFromCdkOutputs, targetFromLocalStack } from '../shared/stack-target';

/**
 * What the dashboard reads, and from where: the tables, the archive and the query workgroup (as every
 * client), plus what pipeline health needs. `embedded` is the embedded runtime (metrics from the
 * Lambda's EMF log, the SQS queue, the archive listing); `cloud` is AWS or LocalStack (CloudWatch).
 */
export interface DashboardTarget extends StackTarget {
  readonly kind: 'embedded' | 'cloud';
  readonly dlqUrl?: string;
  readonly functionName?: string;
  readonly deliveryStream?: string;
  /** Embedded runtime: the aggregator's log with its EMF metrics. */
  readonly logFile?: string;
  readonly metricsNamespace: string;
  /** The custom metrics' `service` dimension (the aggregator's POWERTOOLS_SERVICE_NAME). */
  readonly metricsService: string;
}

export interface DashboardTargetFlags {
  readonly outputs?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly metricsNamespace?: string;
  readonly metricsService?: string;
  readonly cwd?: string;
}

/** Outputs of the Pipeline stack (lib/stacks/pipeline-stack.ts) that health reads. */
const PIPELINE_OUTPUTS = {
  functionName: 'AggregatorFunctionName',
  dlqUrl: 'FailureQueueUrl',
  deliveryStream: 'ArchiveDeliveryStream',
} as const;

// The stack's defaults: namespace from lib/config.ts, service as lib/stacks/pipeline-stack.ts names it.
const DEFAULT_NAMESPACE = DEFAULT_CONFIG.metricsNamespace;
const DEFAULT_SERVICE = `iot-aggregator-${DEFAULT_CONFIG.stage}`;

export const HOW_TO_TARGET = [
  'No stack to show. Choose one:',
  '  • start the embedded stack (npm run local, or npm start -- --keep): found through .local/stack.json;',
  '  • after `cdk deploy --outputs-file cdk-outputs.json`: --outputs cdk-outputs.json (your AWS credentials);',
  '  • LocalStack: --outputs cdk-outputs.json --endpoint http://localhost:4566.',
].join('\n');

/** `--outputs` (AWS, or LocalStack with `--endpoint`), else the embedded runtime's `.local/stack.json`. */
export function resolveDashboardTarget(flags: DashboardTargetFlags): DashboardTarget {
  const metrics = {
    metricsNamespace: flags.metricsNamespace ?? DEFAULT_NAMESPACE,
    metricsService: flags.metricsService ?? DEFAULT_SERVICE,
  };
  let target: DashboardTarget;
  if (flags.outputs) {
    const base = targetFromCdkOutputs(flags.outputs);
    target = {
      ...base,
      ...pipelineOutputs(flags.outputs),
      ...metrics,
      kind: 'cloud',
      endpoint: flags.endpoint ?? base.endpoint,
      region: flags.region ?? base.region,
    };
  } else {
    const local = targetFromLocalStack(flags.cwd);
    if (!local) throw new TargetError(HOW_TO_TARGET);
    target = embeddedTarget(local as StackTarget & EmbeddedInfo, metrics);
  }
  for (const key of ['aggregatesTable', 'deviceStateTable'] as const) {
    if (!target[key]) throw new TargetError(`${target.source} names no ${key}: is it this stack's outputs file?`);
  }
  return target;
}

/** What `.local/stack.json` (LocalStackInfo) adds to a StackTarget. */
export interface EmbeddedInfo {
  readonly dlqUrl?: string;
  readonly functionName?: string;
  readonly deliveryStream?: string;
  readonly logDir?: string;
  readonly dataDir?: string;
}

export function embeddedTarget(
  info: StackTarget & EmbeddedInfo,
  metrics: Partial<Pick<DashboardTarget, 'metricsNamespace' | 'metricsService'>> = {},
): DashboardTarget {
  const logDir = info.logDir ?? (info.dataDir ? join(info.dataDir, '..', 'logs') : undefined);
  return {
    ...info,
    kind: 'embedded',
    logFile: logDir && info.functionName ? join(logDir, `${info.functionName}.log`) : undefined,
    metricsNamespace: metrics.metricsNamespace ?? DEFAULT_NAMESPACE,
    metricsService: metrics.metricsService ?? DEFAULT_SERVICE,
  };
}

function pipelineOutputs(path: string): Pick<DashboardTarget, 'functionName' | 'dlqUrl' | 'deliveryStream'> {
  const merged: Record<string, string> = {};
  try {
    for (const outputs of Object.values(JSON.parse(readFileSync(path, 'utf8')) ?? {})) {
      if (outputs && typeof outputs === 'object') Object.assign(merged, outputs);
    }
  } catch (err) {
    throw new TargetError(`Cannot read outputs file ${path}: ${(err as Error).message}`);
  }
  const pick = (key: string) => merged[key] ?? merged[Object.keys(merged).find((k) => k.endsWith(key)) ?? ''];
  return {
    functionName: pick(PIPELINE_OUTPUTS.functionName),
    dlqUrl: pick(PIPELINE_OUTPUTS.dlqUrl),
    deliveryStream: pick(PIPELINE_OUTPUTS.deliveryStream),
  };
}
