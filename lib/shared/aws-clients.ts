import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * Client options that work against AWS, LocalStack and the embedded runtime alike.
 * Why each setting: kinesalite speaks HTTP/1.1 only (the SDK's default Kinesis handler is HTTP/2);
 * s3rver stores aws-chunked framing in the object unless checksums are only sent when required,
 * and needs path-style addressing; local endpoints accept any credentials, so fixed ones are
 * supplied there to spare users an `aws configure` they cannot have.
 */
export interface ClientTarget {
  readonly endpoint?: string;
  readonly region: string;
}

export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export function baseClientConfig(target: ClientTarget) {
  const local = target.endpoint !== undefined;
  return {
    region: target.region,
    ...(local ? { endpoint: target.endpoint, credentials: LOCAL_CREDENTIALS } : {}),
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 }),
    maxAttempts: 3,
  };
}

export function s3ClientConfig(target: ClientTarget) {
  return {
    ...baseClientConfig(target),
    forcePathStyle: target.endpoint !== undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
  };
}
