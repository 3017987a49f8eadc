/**
 * Waits `ms`, or less when `signal` aborts (it then resolves rather than rejects: callers that poll
 * check their own stop condition next). `timers/promises` rejects on abort, which every caller here
 * would have to catch.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
