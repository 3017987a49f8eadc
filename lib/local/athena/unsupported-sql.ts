/** A query construct outside the embedded engine's documented Trino subset. */
export class UnsupportedSqlError extends Error {}

export const unsupported = (what: string): never => {
  throw new UnsupportedSqlError(`${what} is not supported by the embedded engine (see docs/queries.md)`);
};
