/**
 * How long the aggregator runs on AWS, which Lambda bills by the millisecond. An embedded run's wall time
 * is the wrong measure: it waits on dynalite and kinesalite, slower than DynamoDB and shared with the
 * whole runtime on one machine. What a run measures well is the function's CPU time; on AWS that CPU
 * time is stretched by the share of a vCPU the memory setting buys, and the waits on DynamoDB come on top.
 */

/** "At 1,769 MB, a function has the equivalent of one vCPU" (AWS Lambda developer guide, memory configuration). */
export const LAMBDA_MB_PER_VCPU = 1769;

import { FLUSH_CONCURRENCY } from '../core/flush';

/**
 * Design estimates (no run): per invocation (decode, validate, window state) and per DynamoDB write
 * request (the flush sends 16 at a time; ~30 ms per round of conditional puts, assumed).
 */
export const DESIGN_MS_PER_INVOCATION = 20;
export const DESIGN_MS_PER_WRITE = 2;
/**
 * Round trip of one DynamoDB request from Lambda in the same region, assumed: DynamoDB states
 * "single-digit millisecond" latency; 5 ms is its middle. The flush keeps FLUSH_CONCURRENCY requests in
 * flight, so each write adds RTT / concurrency of waiting (CPU-bound stretches overlap it: an upper bound).
 */
export const DYNAMO_ROUND_TRIP_MS = 5;
export const RUN_WAIT_MS_PER_WRITE = DYNAMO_ROUND_TRIP_MS / FLUSH_CONCURRENCY;

/** Wall time per millisecond of CPU at this memory size: below one vCPU, the CPU runs as a share of one. */
export function cpuStretch(memoryMb: number): number {
  return Math.max(1, LAMBDA_MB_PER_VCPU / memoryMb);
}

/** GB-seconds a month of the design estimate. */
export function designGbSeconds(invocations: number, writeRequests: number, memoryMb: number): number {
  return ((invocations * DESIGN_MS_PER_INVOCATION + writeRequests * DESIGN_MS_PER_WRITE) / 1000) * (memoryMb / 1024);
}

/**
 * GB-seconds of a measured run as AWS would bill them: its CPU time at the memory's CPU share, the
 * waits on DynamoDB per write request, and the 1 ms rounding of each invocation.
 */
export function runGbSeconds(run: {
  readonly cpuMs: number;
  readonly invocations: number;
  readonly writeRequests: number;
  readonly memoryMb: number;
}): number {
  const ms = run.cpuMs * cpuStretch(run.memoryMb) + run.writeRequests * RUN_WAIT_MS_PER_WRITE + run.invocations;
  return (ms / 1000) * (run.memoryMb / 1024);
}
