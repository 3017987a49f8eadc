/**
 * A service the embedded runtime hosts on its single endpoint, for AWS JSON-protocol APIs
 * (requests carry `X-Amz-Target: <prefix>.<Operation>`), e.g. `AmazonAthena`, `AWSGlue`, `AmazonSQS`.
 */
export interface JsonProtocolService {
  /** X-Amz-Target prefixes this service answers, e.g. `['AmazonAthena']`. */
  readonly targetPrefixes: readonly string[];
  /** Handles one operation; throw a `ServiceError` for an AWS-style error response. */
  handle(operation: string, input: Record<string, unknown>): Promise<unknown>;
  close(): Promise<void>;
}

/** An error the router returns as `{ __type, message }` with the given HTTP status. */
export class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}
