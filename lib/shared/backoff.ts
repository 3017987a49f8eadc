import { sleep } from './sleep';

/**
 * The one exponential backoff: every retry and poll loop (event source mapping retries, DynamoDB
 * unprocessed keys, Athena polling) computes its wait here. A few lines, so no dependency for it.
 */
export interface BackoffPolicy {
  /** The wait before the first retry. */
  readonly baseMs: number;
  /** The longest wait. */
  readonly maxMs: number;
  /** Growth per attempt. @default 2 */
  readonly factor?: number;
  /**
   * `full`: uniform(0, delay), AWS's "full jitter", for writers that contend for the same capacity;
   * `none`: the delay itself. @default 'none'
   */
  readonly jitter?: 'full' | 'none';
}

/** The wait before retry `attempt` (1 = the first retry): baseMs × factor^(attempt−1), at most maxMs. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxMs, policy.baseMs * (policy.factor ?? 2) ** Math.max(0, attempt - 1));
  return policy.jitter === 'full' ? raw * random() : raw;
}

/** Waits the policy's delay before retry `attempt`; resolves early when `signal` aborts. */
export function backoff(policy: BackoffPolicy, attempt: number, signal?: AbortSignal): Promise<void> {
  return sleep(backoffDelay(policy, attempt), signal);
}
