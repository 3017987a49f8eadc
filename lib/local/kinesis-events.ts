import type { StreamRecord } from '../shared/kinesis-shards';

/** The Lambda event and failure-destination shapes for Kinesis sources, exactly as AWS sends them. */
export interface KinesisWindow {
  readonly start: number;
  readonly end: number;
}

export interface EventContext {
  readonly streamArn: string;
  readonly region: string;
  readonly accountId: string;
}

/** AWS prints window bounds without milliseconds, e.g. `2020-12-09T07:04:00Z`. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function kinesisRecord(r: StreamRecord, ctx: EventContext) {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: r.partitionKey,
      sequenceNumber: r.sequenceNumber,
      data: Buffer.from(r.data).toString('base64'),
      approximateArrivalTimestamp: r.arrival / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${r.shardId}:${r.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${ctx.accountId}:role/local-event-source-mapping`,
    awsRegion: ctx.region,
    eventSourceARN: ctx.streamArn,
  };
}

export function tumblingEvent(
  records: readonly StreamRecord[],
  ctx: EventContext,
  shardId: string,
  window: KinesisWindow,
  state: unknown,
  final: boolean,
  terminatedEarly: boolean,
) {
  return {
    Records: records.map((r) => kinesisRecord(r, ctx)),
    window: { start: isoSeconds(window.start), end: isoSeconds(window.end) },
    state,
    shardId,
    eventSourceARN: ctx.streamArn,
    isFinalInvokeForWindow: final,
    isWindowTerminatedEarly: terminatedEarly,
  };
}

export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/** The on-failure destination message for discarded Kinesis records (one per discarded batch). */
export function failureRecord(
  records: readonly StreamRecord[],
  ctx: EventContext,
  functionArn: string,
  condition: FailureCondition,
  invokeCount: number,
  requestId: string,
  lastError?: string,
) {
  const first = records[0];
  const last = records[records.length - 1];
  return {
    requestContext: { requestId, functionArn, condition, approximateInvokeCount: invokeCount },
    responseContext: {
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: condition === 'RetryAttemptsExhausted' ? (lastError ?? 'Unhandled') : undefined,
    },
    version: '1.0',
    timestamp: new Date().toISOString(),
    KinesisBatchInfo: {
      shardId: first.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.arrival).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.arrival).toISOString(),
      batchSize: records.length,
      streamArn: ctx.streamArn,
    },
  };
}
