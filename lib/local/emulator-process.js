/**
 * Child-process entry that runs ONE emulator (kinesalite, dynalite or s3rver) on 127.0.0.1.
 *
 * Plain CommonJS on purpose: it starts in ~50 ms with no TypeScript loader, and it runs under
 * `node --openssl-legacy-provider` because s3rver encrypts ListObjectsV2 continuation tokens with
 * DES, which Node 20's OpenSSL 3 only offers through the legacy provider. One process per emulator
 * also spreads their CPU over the machine's cores while the runtime and Lambda run elsewhere.
 *
 * Protocol (IPC): the parent passes `kind dir port` as argv (port 0 = any free one; a restart asks for
 * its previous port and falls back to a free one when it is taken); the child replies `{ ready: port }` or
 * `{ error }`, stops cleanly on the message `'stop'` (closing LevelDB / finishing writes), and exits
 * by itself when the parent goes away (IPC disconnect), so it can never be orphaned.
 */
const [kind, dir, wantedPort] = process.argv.slice(2);
const port = Number(wantedPort || 0);

function start() {
  if (kind === 'kinesis') {
    const kinesalite = require('kinesalite');
    const server = kinesalite({
      path: dir || undefined,
      createStreamMs: 0,
      deleteStreamMs: 0,
      updateStreamMs: 0,
      shardLimit: 50,
    });
    return listen(server, () => new Promise((resolve) => server.close(() => resolve())));
  }
  if (kind === 'dynamodb') {
    // dynalite, plus the BatchExecuteStatement it lacks (the aggregator's batched inserts).
    const { localDynamo } = require('./partiql-batch');
    const server = localDynamo({ path: dir || undefined, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    return listen(server, () => new Promise((resolve) => server.close(() => resolve())));
  }
  if (kind === 's3') {
    const S3rver = require('s3rver');
    const run = (p) => {
      const s3 = new S3rver({ address: '127.0.0.1', port: p, silent: true, directory: dir });
      return s3.run().then((addr) => ({ port: addr.port, close: () => s3.close() }));
    };
    return run(port).catch((err) => (port && err.code === 'EADDRINUSE' ? run(0) : Promise.reject(err)));
  }
  return Promise.reject(new Error(`unknown emulator kind ${kind}`));
}

function listen(server, close) {
  const on = (p) =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve({ port: server.address().port, close }));
    });
  return on(port).catch((err) => (port && err.code === 'EADDRINUSE' ? on(0) : Promise.reject(err)));
}

start().then(
  (emulator) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      const timer = setTimeout(() => process.exit(0), 5000);
      Promise.resolve(emulator.close())
        .catch(() => undefined)
        .finally(() => {
          clearTimeout(timer);
          process.exit(0);
        });
    };
    process.on('message', (m) => {
      if (m === 'stop') stop();
    });
    process.on('disconnect', stop);
    process.on('SIGINT', () => undefined); // the parent decides when to stop (Ctrl-C reaches the whole group)
    process.send({ ready: emulator.port });
  },
  (err) => {
    process.send({ error: String(err?.message || err) });
    process.exit(1);
  },
);
