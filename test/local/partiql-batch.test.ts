import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { BatchExecuteStatementCommand } from '@aws-sdk/lib-dynamodb';
import { insertStatement } from '../../lib/storage/dynamo-aggregate-store';
import { createPipelineTables, startDynalite, type TestDynamo } from '../support/emulators';

/**
 * The local DynamoDB's BatchExecuteStatement (lib/local/partiql-batch.js), over the wire with the SDK:
 * the statements the aggregates adapter sends behave as DynamoDB's INSERT does.
 */
let dynamo: TestDynamo;
let table: string;

beforeAll(async () => {
  dynamo = await startDynalite();
  [table] = await createPipelineTables(dynamo.client, 'partiql');
});
afterAll(() => dynamo.stop());

const minute = (device: string, extra: Record<string, unknown> = {}) =>
  insertStatement(table, { Name: device, StatusTime: '2026-12-01T10:00:00.000Z', Version: 1, ...extra });

const send = (statements: { Statement: string; Parameters: unknown[] }[]) =>
  dynamo.doc.send(new BatchExecuteStatementCommand({ Statements: statements, ReturnConsumedCapacity: 'TOTAL' }));

test('new keys are inserted; a key that exists fails alone with DuplicateItem, the others land', async () => {
  const first = await send([minute('p1', { EnergyWh: 1.5, EventIds: new Uint8Array([1, 2]) }), minute('p2')]);
  expect(first.Responses?.map((r) => r.Error)).toEqual([undefined, undefined]);
  const stored = await dynamo.client.send(
    new GetItemCommand({ TableName: table, Key: { Name: { S: 'p1' }, StatusTime: { S: '2026-12-01T10:00:00.000Z' } } }),
  );
  expect(stored.Item).toEqual({
    Name: { S: 'p1' },
    StatusTime: { S: '2026-12-01T10:00:00.000Z' },
    Version: { N: '1' },
    EnergyWh: { N: '1.5' },
    EventIds: { B: new Uint8Array([1, 2]) },
  });

  const again = await send([minute('p3'), minute('p1', { EnergyWh: 99 }), minute('p4')]);
  expect(again.Responses?.map((r) => r.Error?.Code)).toEqual([undefined, 'DuplicateItem', undefined]);
  // The stored item is untouched by the failed INSERT.
  const still = await dynamo.client.send(
    new GetItemCommand({ TableName: table, Key: { Name: { S: 'p1' }, StatusTime: { S: '2026-12-01T10:00:00.000Z' } } }),
  );
  expect(still.Item?.EnergyWh).toEqual({ N: '1.5' });
  // Billed as DynamoDB bills: one unit per write of a small item, the failed conditional one included.
  expect(again.ConsumedCapacity).toEqual([{ TableName: table, CapacityUnits: 3 }]);
});

test('quoting: an attribute name with a quote and a table name needing quotes round-trip', async () => {
  const s = minute('p5', { "it's": 1 });
  expect(s.Statement).toContain(`'it''s': ?`);
  expect(s.Statement.startsWith(`INSERT INTO "${table}" VALUE {`)).toBe(true);
  const out = await send([s]);
  expect(out.Responses?.[0]?.Error).toBeUndefined();
});

test('a statement outside the subset fails alone, saying what the subset is', async () => {
  const out = await send([
    { Statement: `UPDATE "${table}" SET Version = ? WHERE Name = ?`, Parameters: [2, 'p1'] },
    minute('p6'),
    { Statement: `INSERT INTO "${table}" VALUE {'Name': ?, 'StatusTime': ?}`, Parameters: ['p7'] },
  ]);
  expect(out.Responses?.[0]?.Error).toMatchObject({
    Code: 'ValidationError',
    Message: expect.stringContaining('INSERT INTO'),
  });
  expect(out.Responses?.[1]?.Error).toBeUndefined();
  expect(out.Responses?.[2]?.Error).toMatchObject({
    Code: 'ValidationError',
    Message: expect.stringContaining('2 attributes but has 1'),
  });
});

test('an unknown table fails its statements with ResourceNotFound', async () => {
  const out = await send([insertStatement('no-such-table', { Name: 'x', StatusTime: 'y' })]);
  expect(out.Responses?.[0]?.Error?.Code).toBe('ResourceNotFound');
});

test('more than 25 statements is refused as DynamoDB refuses it', async () => {
  const statements = Array.from({ length: 26 }, (_, i) => minute(`many-${i}`));
  await expect(send(statements)).rejects.toThrow(/length between 1 and 25/);
});
