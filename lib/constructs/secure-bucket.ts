import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/**
 * The one place bucket security is decided: SSE-S3, all public access blocked, TLS 1.2+ only, ACLs off,
 * incomplete multipart uploads cleaned up (they are billed like objects). Callers merge their props on top.
 */
export const SECURE_BUCKET_DEFAULTS: s3.BucketProps = {
  encryption: s3.BucketEncryption.S3_MANAGED,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  removalPolicy: RemovalPolicy.RETAIN,
};

const ABORT_INCOMPLETE_UPLOADS: s3.LifecycleRule = {
  id: 'abort-incomplete-multipart-uploads',
  abortIncompleteMultipartUploadAfter: Duration.days(7),
};

/** An `s3.Bucket` with `SECURE_BUCKET_DEFAULTS`; lifecycle rules given are added to the multipart cleanup. */
export class SecureBucket extends s3.Bucket {
  constructor(scope: Construct, id: string, props: s3.BucketProps = {}) {
    super(scope, id, {
      ...SECURE_BUCKET_DEFAULTS,
      ...props,
      lifecycleRules: [ABORT_INCOMPLETE_UPLOADS, ...(props.lifecycleRules ?? [])],
    });
  }
}
