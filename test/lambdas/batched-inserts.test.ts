import { BatchExecuteStatementCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { compileProfile, type DeviceProfile, type MinuteWrite, solarProfile } from '../../lib/core';
import { isThrottle } from '../../lib/import/throttle';
import { DynamoAggregateStore } from '../../lib/storage/dynamo-aggregate-store';
import { createPipelineTables, startDynalite, type TestDynamo } from '../support/emulators';

/**
 * The adapter's batched inserts when DynamoDB throttles some statements of a batch: a fault dynalite
 * cannot be made to give on demand, so the client in front of it answers chosen statements with
 * `ProvisionedThroughputExceeded`, as BatchExecuteStatement reports it per statement.
 */
let dynamo: TestDynamo;
let aggregates: string;
let deviceState: string;

beforeAll(async () => {
  dynamo = await startDynalite();
  [aggregates, deviceState] = await createPipelineTables(dynamo.client, 'batched');
});
afterAll(() => dynamo.stop());

const compiled = compileProfile(solarProfile as DeviceProfile);
const write = (device: string): MinuteWrite => ({
  ref: { compiled, deviceId: device, minuteStartMs: Date.UTC(2026, 11, 1, 10) },
  minute: { ids: [1], sums: [], mins: [], maxs: [], version: 1 },
  attributes: { RecordCount: 1 },
});

/** Sends to dynalite, but throttles the statements `throttled` picks, for as many rounds as it says. */
function throttlingClient(throttled: (round: number, index: number) => boolean) {
  let round = 0;
  let calls = 0;
  const client = {
    send: async (command: { constructor: { name: string }; input: { Statements?: unknown[] } }) => {
      if (command.constructor.name !== 'BatchExecuteStatementCommand') return dynamo.doc.send(command as never);
      calls++;
      const statements = command.input.Statements ?? [];
      const passed = statements.filter((_, i) => !throttled(round, i));
      const out =
        passed.length > 0
          ? await dynamo.doc.send(new BatchExecuteStatementCommand({ Statements: passed } as never))
          : { Responses: [] };
      let next = 0;
      const responses = statements.map((_, i) =>
        throttled(round, i)
          ? { Error: { Code: 'ProvisionedThroughputExceeded', Message: 'throttled (test)' } }
          : out.Responses?.[next++],
      );
      round++;
      return { Responses: responses };
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, calls: () => calls };
}

const storeWith = (client: DynamoDBDocumentClient) =>
  new DynamoAggregateStore({ client, aggregatesTable: aggregates, deviceStateTable: deviceState });

test('throttled statements are sent again, alone, and land; the others land once', async () => {
  const c = throttlingClient((round, i) => round === 0 && i % 2 === 1);
  const writes = ['t-a', 't-b', 't-c', 't-d'].map(write);
  expect(await storeWith(c.client).putMinutes(writes)).toEqual([true, true, true, true]);
  expect(c.calls()).toBe(2);
  // Written once each: a second insert of any of them is a conflict, not a new item.
  expect(await storeWith(dynamo.doc).putMinutes(writes)).toEqual([false, false, false, false]);
});

test('a batch DynamoDB keeps throttling ends in an error the import backs off on, not a silent loss', async () => {
  const c = throttlingClient(() => true);
  const failure = await storeWith(c.client)
    .putMinutes([write('always-throttled')])
    .catch((err: unknown) => err);
  expect(failure).toBeInstanceOf(Error);
  expect((failure as Error).message).toMatch(/kept throttling 1 writes/);
  expect(isThrottle(failure)).toBe(true);
}, 30_000);
