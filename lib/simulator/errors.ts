/**
 * A problem the user can fix (bad option, missing stream, unreachable endpoint): the CLI prints the
 * message alone and exits non-zero, never a stack trace.
 */
export class SimulationError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'SimulationError';
  }
}
