import { Duration, Names } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { NamedQuerySpec } from '../catalog';
import { SecureBucket } from './secure-bucket';

const GIB = 1024 ** 3;

export interface QueryWorkgroupProps {
  /** Database the named queries run in. */
  readonly databaseName: string;
  /** Per-query scan limit in GiB: Athena cancels a query past it ($5 per TB scanned). */
  readonly scanLimitGiB: number;
  /** One `AWS::Athena::NamedQuery` each. */
  readonly namedQueries: readonly NamedQuerySpec[];
  /**
   * Days query results are kept (they are re-creatable; S3 bills them until deleted).
   * @default 30
   */
  readonly resultsRetentionDays?: number;
}

/**
 * An Athena workgroup whose settings clients cannot override (results location, SSE-S3, scan limit), its own
 * results bucket with lifecycle expiry, and the project's named queries.
 */
export class QueryWorkgroup extends Construct {
  readonly workgroup: athena.CfnWorkGroup;
  readonly resultsBucket: SecureBucket;
  /** The workgroup name: generated from the construct path (Athena requires a name; this keeps it unique). */
  readonly workgroupName: string;

  constructor(scope: Construct, id: string, props: QueryWorkgroupProps) {
    super(scope, id);
    this.resultsBucket = new SecureBucket(this, 'Results', {
      lifecycleRules: [{ id: 'expire-query-results', expiration: Duration.days(props.resultsRetentionDays ?? 30) }],
    });
    NagSuppressions.addResourceSuppressions(this.resultsBucket, [
      {
        id: 'AwsSolutions-S1',
        reason:
          'Holds only re-creatable query results that expire after 30 days; who ran which query is recorded by ' +
          "CloudTrail's Athena management events, so object access logs would add cost without new information.",
      },
    ]);

    this.workgroupName = Names.uniqueResourceName(this, { maxLength: 128, separator: '-' });
    this.workgroup = new athena.CfnWorkGroup(this, 'Resource', {
      name: this.workgroupName,
      description: 'IoT telemetry archive queries: enforced results location, encryption and scan limit',
      state: 'ENABLED',
      // Deleting the stack also deletes the workgroup's named queries and query history.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.scanLimitGiB * GIB,
        engineVersion: { selectedEngineVersion: 'AUTO' },
        resultConfiguration: {
          outputLocation: this.resultsBucket.s3UrlForObject('results/'),
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });

    const ids = new Set<string>();
    for (const query of props.namedQueries) {
      const id = `Query${toPascal(query.name)}`;
      if (ids.has(id)) throw new Error(`Named query "${query.name}" clashes with another name; make it unique.`);
      ids.add(id);
      new athena.CfnNamedQuery(this, id, {
        name: query.name,
        description: query.description.slice(0, 1024),
        database: props.databaseName,
        queryString: query.sql,
        workGroup: this.workgroup.ref,
      });
    }
  }
}

function toPascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}
