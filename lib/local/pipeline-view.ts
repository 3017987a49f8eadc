import { gunzipSync } from 'node:zlib';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { detectProfile } from '../core/profiles';
import { baseClientConfig, s3ClientConfig } from '../shared/aws-clients';
import type { StackTarget } from '../shared/stack-target';
import { listKeys } from './pipeline-report';

/**
 * Reads a finished pipeline's results through the endpoint with the AWS SDK only: aggregate rows,
 * latest device state, distinct archived events, quarantine lines. What the end-to-end tests and the
 * soak compare with their own reference.
 */
export interface PipelineView {
  readonly aggregates: Record<string, Record<string, number>>;
  readonly archivedLines: number;
  readonly distinctArchivedEvents: number;
  readonly quarantine: { reason: string; data: string }[];
  /** Device id -> LastEventTime of its newest aggregates item (the exact latest state). */
  readonly latest: Record<string, number>;
}

export async function readPipeline(target: StackTarget): Promise<PipelineView> {
  const ddb = new DynamoDBClient(baseClientConfig(target));
  const s3 = new S3Client(s3ClientConfig(target));
  try {
    const aggregates: PipelineView['aggregates'] = {};
    const latest: Record<string, number> = {};
    let key: Record<string, unknown> | undefined;
    do {
      const out = await ddb.send(
        new ScanCommand({ TableName: target.aggregatesTable, ExclusiveStartKey: key as never }),
      );
      for (const item of out.Items ?? []) {
        // The exact latest state is the device's newest minute item (the device-state table is a listing
        // refreshed on status changes and every few hours): its LastEventTime.
        const last = item.LastEventTime?.N;
        if (last !== undefined) latest[item.Name.S!] = Math.max(latest[item.Name.S!] ?? 0, Number(last));
        const row: Record<string, number> = {};
        for (const [k, v] of Object.entries(item)) if (v.N !== undefined) row[k] = Number(v.N);
        aggregates[`${item.Name.S}|${item.StatusTime.S}`] = row;
      }
      key = out.LastEvaluatedKey;
    } while (key);

    const body = async (k: string) => {
      const got = await s3.send(new GetObjectCommand({ Bucket: target.archiveBucket, Key: k }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      return (k.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    };
    const events = new Set<string>();
    let archivedLines = 0;
    for (const k of await listKeys(target, target.archiveBucket!, 'raw/')) {
      for (const line of (await body(k)).split('\n')) {
        if (!line) continue;
        archivedLines++;
        const obj = JSON.parse(line) as Record<string, unknown>;
        const profile = detectProfile(obj);
        const result = profile?.validate(obj);
        if (profile && result?.ok) {
          const t = profile.eventTime(result.record);
          events.add(`${profile.deviceId(result.record)}|${t - (t % 60_000)}|${profile.eventId(result.record, t)}`);
        }
      }
    }
    const quarantine: PipelineView['quarantine'] = [];
    for (const k of await listKeys(target, target.archiveBucket!, 'quarantine/')) {
      for (const line of (await body(k)).split('\n')) {
        if (!line) continue;
        const q = JSON.parse(line) as { reason: string; data: string };
        quarantine.push({ reason: q.reason, data: q.data });
      }
    }
    return { aggregates, archivedLines, distinctArchivedEvents: events.size, quarantine, latest };
  } finally {
    ddb.destroy();
    s3.destroy();
  }
}
