import { parentPort } from 'node:worker_threads';
import { indexLines } from './line-index';
import type { IndexResult, ScanJob } from './scan';

/**
 * A scan worker (lib/import/scan-pool.ts): finds the distinct lines of the chunks it is sent, and the
 * copies of them (`indexLines`: the byte work of the scan, nine of ten lines being copies), and sends
 * back their offsets (the chunk's bytes are shared memory, `ScanPool.buffer`). It parses nothing and writes nothing: the import's thread
 * validates the distinct lines with the core's decoder (`scanIndexed`) and commits the chunks in order.
 */
parentPort?.on('message', (job: ScanJob) => {
  const index = indexLines(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.length));
  const result: IndexResult = { id: job.id, index };
  // Transferred, not copied: the index's arrays are owned memory.
  parentPort?.postMessage(result, [index.lines.buffer as ArrayBuffer, index.copies.buffer as ArrayBuffer]);
});
