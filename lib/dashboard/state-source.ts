import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  AGGREGATE_KEY,
  aggregateFromItem,
  aggregateSortKey,
  type DeviceStateRecord,
  deviceStateFromItem,
  type MinuteAggregateRecord,
} from '../storage/table-layout';

/**
 * The dashboard's one reader of the two DynamoDB tables. It knows no attribute names: the layout is
 * lib/storage/table-layout.ts's, so a layout change (e.g. packing several devices per item) is an edit
 * there and, at most, to the read pattern here.
 */
export interface ReadCost {
  /** Read request units DynamoDB reported (ReturnConsumedCapacity), or estimated from the bytes. */
  readonly readUnits: number;
  readonly requests: number;
}

export class StateSource {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tables: { readonly aggregates: string; readonly deviceState: string },
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  /** Every device's latest state: one paged Scan (eventually consistent: 0.5 RRU per 4 KB read). */
  async devices(): Promise<{ devices: DeviceStateRecord[]; cost: ReadCost }> {
    const devices: DeviceStateRecord[] = [];
    let readUnits = 0;
    let requests = 0;
    let key: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new ScanCommand({
          TableName: this.tables.deviceState,
          ExclusiveStartKey: key,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      requests++;
      readUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
      for (const item of out.Items ?? []) {
        const d = deviceStateFromItem(item);
        if (d) devices.push(d);
      }
      key = out.LastEvaluatedKey;
    } while (key);
    return { devices, cost: { readUnits, requests } };
  }

  /** A device's per-minute aggregates in [fromMs, toMs), oldest first: one paged Query on the key. */
  async minutes(
    deviceId: string,
    fromMs: number,
    toMs: number,
    limit = 10_080,
  ): Promise<{ minutes: MinuteAggregateRecord[]; cost: ReadCost }> {
    const minutes: MinuteAggregateRecord[] = [];
    let readUnits = 0;
    let requests = 0;
    let key: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.aggregates,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#pk': AGGREGATE_KEY.partition, '#sk': AGGREGATE_KEY.sort },
          ExpressionAttributeValues: {
            ':pk': deviceId,
            ':from': aggregateSortKey(fromMs),
            ':to': aggregateSortKey(toMs - 1),
          },
          ExclusiveStartKey: key,
          Limit: Math.min(1000, limit - minutes.length),
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      requests++;
      readUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
      for (const item of out.Items ?? []) {
        const m = aggregateFromItem(item);
        if (m) minutes.push(m);
      }
      key = out.LastEvaluatedKey;
    } while (key && minutes.length < limit);
    return { minutes, cost: { readUnits, requests } };
  }
}
