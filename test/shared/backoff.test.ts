import { backoffDelay } from '../../lib/shared/backoff';

test('exponential from the base, capped, with optional full jitter', () => {
  const policy = { baseMs: 200, maxMs: 5_000 };
  expect([1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay(policy, n))).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
  expect(backoffDelay({ baseMs: 200, maxMs: 2_000, factor: 1.5 }, 3)).toBe(450);
  expect(backoffDelay({ baseMs: 25, maxMs: 1_000, jitter: 'full' }, 3, () => 0.5)).toBe(50);
  expect(backoffDelay({ baseMs: 25, maxMs: 1_000, jitter: 'full' }, 1_000, () => 0.999)).toBeLessThan(1_000);
});
