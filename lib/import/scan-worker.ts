import { parentPort } from 'node:worker_threads';
import { type ScanJob, type ScanResult, scanChunk } from './scan';

/**
 * A scan worker (lib/import/scan-pool.ts): scans the chunks it is sent with the same `scanChunk` as the
 * import's own thread and sends back each spool's new lines, the rejects and the counts, with the
 * chunk's buffer for reuse. It writes nothing: the import's thread commits results in chunk order.
 */
parentPort?.on('message', (job: ScanJob) => {
  const chunk = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.length);
  const parts = new Map<string, Buffer[]>();
  const scan = scanChunk(chunk, job.start, job.ctx, (key, hour, line) => {
    let list = parts.get(key);
    if (list === undefined) {
      list = [];
      parts.set(key, list);
    }
    list.push(hour, line);
  });
  const result: ScanResult = {
    id: job.id,
    // Copied by postMessage (a tenth of the chunk): Buffer.concat may return pooled memory, never transferred.
    spools: [...parts].map(([key, list]) => [key, Buffer.concat(list)]),
    rejected: scan.rejected,
    counts: scan.counts,
    bytes: job.bytes,
  };
  parentPort?.postMessage(result, [job.bytes.buffer as ArrayBuffer]);
});
