import { type BackoffPolicy, backoff, backoffDelay } from '../shared/backoff';

/** DynamoDB's answers that mean "slow down", not "wrong". */
const THROTTLE_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
]);

export const isThrottle = (err: unknown): boolean =>
  err instanceof Error && (THROTTLE_ERRORS.has(err.name) || THROTTLE_ERRORS.has((err as { code?: string }).code ?? ''));

/** Full jitter: several writers contend for the same table capacity. */
export const IMPORT_THROTTLE_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 20_000, jitter: 'full' };

export interface ThrottleRetry {
  /** @default 10 */
  readonly attempts?: number;
  /** @default IMPORT_THROTTLE_BACKOFF */
  readonly policy?: BackoffPolicy;
  readonly onThrottle?: (attempt: number, waitMs: number) => void;
}

/**
 * Repeats `fn` when DynamoDB throttles past the SDK's own retries, waiting longer each time (full
 * jitter, the shared lib/shared/backoff policy). Only for idempotent work: the import's flush is the aggregator's merge, which a repeat cannot
 * double count.
 */
export async function retryThrottled<T>(fn: () => Promise<T>, policy: ThrottleRetry = {}): Promise<T> {
  const attempts = policy.attempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isThrottle(err) || attempt >= attempts) throw err;
      const p = policy.policy ?? IMPORT_THROTTLE_BACKOFF;
      policy.onThrottle?.(attempt, backoffDelay({ ...p, jitter: 'none' }, attempt));
      await backoff(p, attempt);
    }
  }
}
