/**
 * The "execution environment" of one locally run Lambda function: a child process with only the
 * function's environment (like a Lambda container), loading the bundled asset once (cold start)
 * and serving invocations one at a time over IPC. Plain CommonJS, no TypeScript loader: the bundle
 * runs on bare Node exactly as it would on the Lambda Node.js runtime.
 *
 * Fault injection for tests and demos (never set by the template): LOCAL_FAULT_EVERY=N makes every
 * Nth invocation fail; LOCAL_FAULT_MODE=before (default) fails before the handler runs, `after` fails
 * after it ran (its side effects happened: the retry must be idempotent). LOCAL_FAULT_HANG_FILE=<path>:
 * when that file exists, the next invocation removes it and never returns (the soak's Lambda timeout).
 */
const fs = require('node:fs');
const path = require('node:path');

const taskRoot = process.env.LAMBDA_TASK_ROOT;
const [file, exportName] = splitHandler(process.env._HANDLER || 'index.handler');
const faultEvery = Number(process.env.LOCAL_FAULT_EVERY || 0);
const faultMode = process.env.LOCAL_FAULT_MODE || 'before';
const hangFile = process.env.LOCAL_FAULT_HANG_FILE;

function hangRequested() {
  if (!hangFile) return false;
  try {
    fs.unlinkSync(hangFile);
    return true;
  } catch {
    return false;
  }
}
let handler;
let invocations = 0;

function splitHandler(h) {
  const dot = h.lastIndexOf('.');
  return [h.slice(0, dot), h.slice(dot + 1)];
}

function load() {
  if (handler) return handler;
  const mod = require(path.join(taskRoot, file));
  const fn = mod[exportName] || mod.default?.[exportName];
  if (typeof fn !== 'function')
    throw new Error(`Runtime.HandlerNotFound: ${file}.${exportName} is undefined or not exported`);
  handler = fn;
  return fn;
}

function call(fn, event, context) {
  return new Promise((resolve, reject) => {
    // Callback-style handlers (3 parameters) as well as async ones, like the Node.js runtime.
    const maybe = fn(event, context, (err, value) => (err ? reject(err) : resolve(value)));
    if (maybe && typeof maybe.then === 'function') maybe.then(resolve, reject);
    else if (fn.length < 3) resolve(maybe);
  });
}

function injectedFault() {
  const e = new Error(`Injected fault (LOCAL_FAULT_EVERY=${faultEvery}, mode ${faultMode})`);
  e.name = 'InjectedFault';
  return e;
}

process.on('message', async (msg) => {
  if (msg.type !== 'invoke') return;
  const deadline = msg.deadlineMs;
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: msg.functionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: msg.requestId,
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  invocations++;
  const faulty = faultEvery > 0 && invocations % faultEvery === 0;
  if (hangRequested()) return; // never answers: the host's Timeout kills this environment
  // The environment's CPU time during the invocation (the handler, the SDK, GC): what the cost model
  // stretches by a Lambda's memory-sized CPU share, where this machine's wall time would price the
  // emulators' latency instead of DynamoDB's.
  const cpuStart = process.cpuUsage();
  const cpuMs = () => {
    const used = process.cpuUsage(cpuStart);
    return (used.user + used.system) / 1000;
  };
  try {
    if (faulty && faultMode === 'before') throw injectedFault();
    const value = await call(load(), msg.event, context);
    if (faulty) throw injectedFault();
    process.send({ type: 'result', id: msg.id, ok: true, value: value === undefined ? null : value, cpuMs: cpuMs() });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    process.send({
      type: 'result',
      id: msg.id,
      cpuMs: cpuMs(),
      ok: false,
      error: { errorType: e.name, errorMessage: e.message, stack: String(e.stack || '').split('\n') },
    });
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => undefined); // stopped by the runtime, after its in-flight invocation
process.send({ type: 'ready' });
