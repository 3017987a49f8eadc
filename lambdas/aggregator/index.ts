import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamStateResponse, KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import { DynamoAggregateStore } from '../../lib/storage/dynamo-aggregate-store';
import { readAggregatorConfig } from './config';
import { recordMetrics } from './metrics';
import { type AggregatorDeps, processKinesisWindow } from './process';

// Built once per container: clients, config (a missing variable fails the cold start, loudly).
const logger = new Logger();
const metrics = new Metrics();
const config = readAggregatorConfig(process.env);
// Provisioned tables take a window's writes at once from burst capacity; when that runs dry, throttled
// writes are retried with backoff here rather than failing the whole flush (Lambda would replay it).
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 8 }), {
  marshallOptions: { removeUndefinedValues: true },
});
const deps: AggregatorDeps = {
  config,
  store: new DynamoAggregateStore({
    client: dynamo,
    aggregatesTable: config.aggregatesTable,
    deviceStateTable: config.deviceStateTable,
    aggregatesTtlDays: config.aggregatesTtlDays,
  }),
  quarantine: { client: new S3Client({}), bucket: config.archiveBucket, prefix: config.quarantinePrefix },
  log: {
    info: (message, extra) => logger.info(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  },
};

export const handler = async (
  event: KinesisStreamTumblingWindowEvent,
  context: Context,
): Promise<KinesisStreamStateResponse> => {
  // Every log line of this invocation carries its request id, function name and cold-start flag.
  logger.addContext(context);
  try {
    const { response, summary } = await processKinesisWindow(event, deps);
    recordMetrics(metrics, summary);
    logger.info('batch processed', {
      records: summary.counts.recordsIn,
      invalid: summary.counts.invalidByReason,
      flushed: summary.flush,
      quarantineKey: summary.quarantineKey,
      final: event.isFinalInvokeForWindow,
    });
    return response;
  } finally {
    metrics.publishStoredMetrics();
  }
};
