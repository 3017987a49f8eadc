import { resolve } from 'node:path';
import type { MeteringSnapshot } from '../local/metering-types';
import { type CostReport, priceStack } from './model';
import { designCounts, measuredCounts, readSnapshot } from './path-counts';
import { pricesFor } from './prices';
import { readStack, type StackFacts } from './stack';
import { priceTutorial } from './tutorial';
import { type WorkloadFlags, workload } from './workload';

export { CostInputError } from './errors';
export { formatReport, oneLine, recommendedLine, toJson } from './format';
export type { CostReport, LineItem } from './model';
export { recommendedStack, recommendedSummary } from './recommended';

/** Default place an embedded run records its counts (lib/local/metering.ts writes it). */
export const METERING_FILE = '.local/metering.json';

export interface CostOptions {
  readonly workload: string;
  readonly region?: string;
  /** Cloud assembly to price; default `<cwd>/cdk.out`. */
  readonly cdkOut?: string;
  /** Stack facts already read (instead of `cdkOut`). */
  readonly stack?: StackFacts;
  /** A metering file, or an already-read snapshot, to take the per-reading counts from. */
  readonly fromRun?: string | MeteringSnapshot;
  readonly compare?: 'tutorial';
  readonly flags?: WorkloadFlags;
  readonly cwd?: string;
}

export interface CostResult {
  readonly report: CostReport;
  readonly compare?: CostReport;
}

/** The whole model: prices, the synthesized stack, the workload, design or measured counts. */
export function estimate(o: CostOptions): CostResult {
  const region = o.region ?? 'us-east-1';
  const prices = pricesFor(region);
  const w = workload(o.workload, o.flags);
  const stack = o.stack ?? readStack(resolve(o.cwd ?? process.cwd(), o.cdkOut ?? 'cdk.out'), region);
  const design = designCounts(stack, w);
  let counts = design;
  if (o.fromRun !== undefined) {
    const source = typeof o.fromRun === 'string' ? o.fromRun : 'this run';
    const snapshot =
      typeof o.fromRun === 'string' ? readSnapshot(resolve(o.cwd ?? process.cwd(), o.fromRun)) : o.fromRun;
    counts = measuredCounts(snapshot, design, source);
  }
  return {
    report: priceStack(stack, w, counts, prices),
    compare: o.compare === 'tutorial' ? priceTutorial(w, prices) : undefined,
  };
}
