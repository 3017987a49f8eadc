/**
 * An error the embedded runtime reports as one line that says what to do (bin/local.ts prints the
 * message and exits non-zero, never only a stack trace).
 */
export class LocalRuntimeError extends Error {
  override readonly name = 'LocalRuntimeError';
}
