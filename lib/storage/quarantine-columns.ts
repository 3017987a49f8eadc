// The quarantine table's layout, apart from the S3 writer so the catalog (lib/catalog) reads it without the AWS SDK.

/** The quarantine table's columns (Glue, lower-cased as Athena sees them), one per `QuarantineLine` field. */
export const QUARANTINE_COLUMNS: readonly {
  readonly name: string;
  readonly type: 'string';
  readonly comment: string;
}[] = [
  { name: 'reason', type: 'string', comment: 'Machine-readable reason, e.g. missing_field:StatusTime' },
  { name: 'arrivaltime', type: 'string', comment: 'Kinesis approximate arrival time, ISO-8601' },
  { name: 'shardid', type: 'string', comment: 'Source shard' },
  { name: 'sequencenumber', type: 'string', comment: 'Kinesis sequence number' },
  { name: 'partitionkey', type: 'string', comment: 'Kinesis partition key' },
  { name: 'data', type: 'string', comment: 'The raw record: UTF-8 text, or base64 when not UTF-8' },
  { name: 'encoding', type: 'string', comment: 'utf8 or base64: how `data` holds the record' },
];
