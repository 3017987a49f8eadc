import { sleep } from '../shared/sleep';

/** DynamoDB's answers that mean "slow down", not "wrong". */
const THROTTLE_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
]);

export const isThrottle = (err: unknown): boolean =>
  err instanceof Error && (THROTTLE_ERRORS.has(err.name) || THROTTLE_ERRORS.has((err as { code?: string }).code ?? ''));

export interface ThrottleRetry {
  /** @default 10 */
  readonly attempts?: number;
  /** @default 200 */
  readonly baseMs?: number;
  /** @default 20000 */
  readonly maxMs?: number;
  readonly onThrottle?: (attempt: number, waitMs: number) => void;
}

/**
 * Repeats `fn` when DynamoDB throttles past the SDK's own retries, waiting longer each time (full
 * jitter). Only for idempotent work: the import's flush is the aggregator's merge, which a repeat cannot
 * double count.
 */
export async function retryThrottled<T>(fn: () => Promise<T>, policy: ThrottleRetry = {}): Promise<T> {
  const attempts = policy.attempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isThrottle(err) || attempt >= attempts) throw err;
      const wait = Math.min(policy.maxMs ?? 20_000, (policy.baseMs ?? 200) * 2 ** (attempt - 1)) * Math.random();
      policy.onThrottle?.(attempt, wait);
      await sleep(wait);
    }
  }
}
