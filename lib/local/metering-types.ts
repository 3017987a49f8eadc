/**
 * `.local/metering.json`: what an embedded run consumed, counted the way AWS bills it. Written by
 * lib/local/metering.ts, read by the cost model (`npm run cost -- --from-run`).
 */
export interface MeteringSnapshot {
  readonly version: 1;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly kinesis: {
    /** Records accepted by PutRecord/PutRecords (failed entries excluded). */
    readonly records: number;
    readonly bytes: number;
    readonly putCalls: number;
    /** 25 KB PUT payload units (provisioned billing). */
    readonly putPayloadUnits: number;
    /** Bytes with each record rounded up to 1 KB (on-demand ingest billing). */
    readonly onDemandBilledBytes: number;
    /** Bytes with each record rounded up to 5 KB (Firehose ingestion billing for a Kinesis source). */
    readonly firehoseBilledBytes: number;
  };
  readonly dynamodb: {
    /** As DynamoDB bills them: the emulator's ConsumedCapacity, plus failed conditional writes sized from the request. */
    readonly writeUnits: number;
    readonly readUnits: number;
    /** Write operations: each PutItem, and each statement of a BatchExecuteStatement. */
    readonly writeRequests: number;
    readonly readRequests: number;
    /** Of `writeRequests`, the statements sent in BatchExecuteStatement calls, and those calls (absent in older runs). */
    readonly batchedWrites?: number;
    readonly batchCalls?: number;
    readonly failedConditionalWrites: number;
    readonly byTable: Readonly<Record<string, { readonly writeUnits: number; readonly readUnits: number }>>;
  };
  readonly s3: { readonly puts: number; readonly gets: number; readonly putBytes: number };
  readonly firehose: { readonly recordsIn: number; readonly objectsWritten: number; readonly bytesWritten: number };
  readonly lambda: {
    readonly invocations: number;
    readonly durationMs: number;
    /** Billed GB-seconds: memory x duration rounded up to the millisecond, per invocation. */
    readonly gbSeconds: number;
    /**
     * CPU time of the function's environments during invocations (wall time for one that died): the
     * measure of its work that does not depend on the emulators' latency. Absent in older files.
     */
    readonly cpuMs?: number;
    /** The function's configured memory (the CPU share Lambda gives it follows from it). */
    readonly memoryMb?: number;
    readonly logBytes: number;
  };
  /** The aggregator's own counts (its EMF metrics). */
  readonly pipeline: {
    readonly recordsIn: number;
    readonly duplicatesDropped: number;
    readonly invalid: number;
    readonly late: number;
    readonly aggregatesWritten: number;
    /** recordsIn - duplicatesDropped - invalid: the readings the run carried. */
    readonly uniqueReadings: number;
    /** Distinct custom metric series the function emitted (metric x dimension values). */
    readonly metricSeries: number;
  };
  /** Free text: what traffic produced these counts (the demo says which fleets and copies). */
  readonly traffic?: string;
}
