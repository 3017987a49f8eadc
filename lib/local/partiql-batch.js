/**
 * DynamoDB's BatchExecuteStatement for dynalite, which has no PartiQL: the embedded runtime's DynamoDB
 * answers it for the one statement shape this project sends, the conditional insert of a new
 * aggregates item, `INSERT INTO "table" VALUE {'Name': ?, 'StatusTime': ?, ...}` with every value a
 * parameter. Each statement becomes a PutItem on dynalite with `attribute_not_exists(<partition key>)`,
 * which is what an INSERT means ("If an item with the same primary key already exists, it fails"), and
 * the answers follow DynamoDB's: one entry per statement, in order, `Error.Code` `DuplicateItem` for a key
 * that exists, `ProvisionedThroughputExceeded` for a throttled one, `ValidationError` for a statement
 * outside the subset (with what the subset is), and `ConsumedCapacity` per table, failed conditional
 * writes included, as DynamoDB bills them. npm has no PartiQL engine for DynamoDB's dialect (only
 * `@aws/lsp-partiql`, an editor's language server), so this is a pattern for the one shape the aggregator
 * sends, written here; LocalStack and AWS run the full language.
 *
 * Plain CommonJS like emulator-process.js, which loads it in the dynalite process, so that every client
 * of the local DynamoDB (the runtime, the tools, the tests) sees the same API.
 */
const { EventEmitter } = require('node:events');

/** DynamoDB's limit on statements per BatchExecuteStatement. */
const MAX_STATEMENTS = 25;
const TARGET = 'DynamoDB_20120810.BatchExecuteStatement';
const INSERT = /^\s*INSERT\s+INTO\s+"((?:[^"]|"")+)"\s+VALUE\s+\{([\s\S]*)\}\s*;?\s*$/i;
const PAIR = /\s*'((?:[^']|'')+)'\s*:\s*\?\s*(,|$)/y;
const SUBSET = `the embedded runtime's DynamoDB runs PartiQL INSERT INTO "table" VALUE {'name': ?, ...} only, every value a parameter (AWS and LocalStack run the full language)`;

/** `{ table, item }` of an INSERT in the subset, or `{ error }`. */
function parseInsert(statement, parameters) {
  const m = INSERT.exec(String(statement ?? ''));
  if (!m) return { error: SUBSET };
  const names = [];
  const tuple = m[2];
  PAIR.lastIndex = 0;
  while (PAIR.lastIndex < tuple.length) {
    const at = PAIR.lastIndex;
    const pair = PAIR.exec(tuple);
    if (!pair || pair.index !== at) return { error: SUBSET };
    names.push(pair[1].replaceAll("''", "'"));
    if (pair[2] === '') break;
  }
  const values = Array.isArray(parameters) ? parameters : [];
  if (names.length === 0 || values.length !== names.length) {
    return { error: `the INSERT names ${names.length} attributes but has ${values.length} parameters` };
  }
  if (new Set(names).size !== names.length) return { error: 'the INSERT names an attribute twice' };
  const item = {};
  names.forEach((n, i) => {
    item[n] = values[i];
  });
  return { table: m[1].replaceAll('""', '"'), item };
}

/** DynamoDB's statement error code for an error dynalite gave a PutItem. */
function statementCode(type) {
  const name = String(type ?? '')
    .split('#')
    .pop();
  if (name === 'ConditionalCheckFailedException') return 'DuplicateItem';
  if (name === 'ProvisionedThroughputExceededException') return 'ProvisionedThroughputExceeded';
  if (name === 'ValidationException') return 'ValidationError';
  if (name === 'ResourceNotFoundException') return 'ResourceNotFound';
  return 'InternalServerError';
}

/**
 * Wraps dynalite's request handler: BatchExecuteStatement is answered here, everything else goes to
 * dynalite. A statement's PutItem is handed to the same handler in-process, as a request object with the
 * caller's headers (dynalite checks that a request is signed, not the signature), not over a socket:
 * the handler reads only `method`, `url`, `headers` and the body's `data`/`end` events, and answers with
 * `statusCode`, `setHeader` and `end`.
 */
function withBatchExecuteStatement(handler) {
  // dynalite's own item sizing, loaded here: the parser above is also used outside the dynalite process.
  const db = require('dynalite/db');
  const partitionKeys = new Map();

  const call = (target, payload, headers) =>
    new Promise((resolve, reject) => {
      const body = Buffer.from(JSON.stringify(payload));
      const req = new EventEmitter();
      req.method = 'POST';
      req.url = '/';
      req.headers = {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': String(body.length),
        'x-amz-target': `DynamoDB_20120810.${target}`,
        authorization: headers.authorization ?? '',
        'x-amz-date': headers['x-amz-date'] ?? '',
      };
      const res = {
        statusCode: 200,
        setHeader() {},
        end(data) {
          try {
            resolve({ status: this.statusCode, json: data ? JSON.parse(String(data)) : {} });
          } catch (err) {
            reject(err);
          }
        },
      };
      handler(req, res);
      process.nextTick(() => {
        req.emit('data', body);
        req.emit('end');
      });
    });

  async function partitionKey(table, headers) {
    if (partitionKeys.has(table)) return partitionKeys.get(table);
    const r = await call('DescribeTable', { TableName: table }, headers);
    if (r.status !== 200) return { error: r.json };
    const key = r.json.Table.KeySchema.find((k) => k.KeyType === 'HASH').AttributeName;
    partitionKeys.set(table, key);
    return key;
  }

  async function run(input, headers) {
    const statements = input.Statements;
    if (!Array.isArray(statements) || statements.length === 0 || statements.length > MAX_STATEMENTS) {
      return {
        status: 400,
        json: {
          __type: 'com.amazon.coral.validate#ValidationException',
          message: `1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length between 1 and ${MAX_STATEMENTS}`,
        },
      };
    }
    const wantCapacity = input.ReturnConsumedCapacity === 'TOTAL' || input.ReturnConsumedCapacity === 'INDEXES';
    const capacity = new Map();
    const charge = (table, units) => capacity.set(table, (capacity.get(table) ?? 0) + units);
    const responses = await Promise.all(
      statements.map(async (s) => {
        const parsed = parseInsert(s?.Statement, s?.Parameters);
        if (parsed.error) return { Error: { Code: 'ValidationError', Message: parsed.error } };
        const { table, item } = parsed;
        const key = await partitionKey(table, headers);
        if (typeof key !== 'string') {
          return { TableName: table, Error: { Code: statementCode(key.error.__type), Message: key.error.message } };
        }
        const put = await call(
          'PutItem',
          {
            TableName: table,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#k)',
            ExpressionAttributeNames: { '#k': key },
            ReturnConsumedCapacity: 'TOTAL',
          },
          headers,
        );
        if (put.status === 200) {
          charge(table, put.json.ConsumedCapacity?.CapacityUnits ?? 0);
          return { TableName: table };
        }
        const code = statementCode(put.json.__type);
        // DynamoDB bills a failed conditional write by the item's size; dynalite reports none.
        if (code === 'DuplicateItem') charge(table, db.capacityUnits(item, false));
        const message = code === 'DuplicateItem' ? 'Duplicate primary key exists in table' : put.json.message;
        return { TableName: table, Error: { Code: code, Message: message } };
      }),
    );
    const out = { Responses: responses };
    if (wantCapacity)
      out.ConsumedCapacity = [...capacity].map(([TableName, CapacityUnits]) => ({ TableName, CapacityUnits }));
    return { status: 200, json: out };
  }

  return (req, res) => {
    if (req.headers['x-amz-target'] !== TARGET) return handler(req, res);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let input;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        return send(res, 400, { __type: 'com.amazon.coral.service#SerializationException' });
      }
      run(input, req.headers).then(
        (r) => send(res, r.status, r.json),
        (err) =>
          send(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: err.message }),
      );
    });
  };
}

function send(res, status, json) {
  const body = Buffer.from(JSON.stringify(json));
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(body.length) });
  res.end(body);
}

/** A dynalite server (not listening yet) that also answers BatchExecuteStatement: the local DynamoDB. */
function localDynamo(options) {
  const server = require('dynalite')(options);
  const [handler] = server.listeners('request');
  server.removeAllListeners('request');
  server.on('request', withBatchExecuteStatement(handler));
  return server;
}

module.exports = { localDynamo, parseInsert, MAX_STATEMENTS };
