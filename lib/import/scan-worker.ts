import { parentPort } from 'node:worker_threads';
import { type ScanJob, type ScanResult, scanChunk } from './scan';
import { SpoolLines } from './spool-lines';

/**
 * A scan worker (lib/import/scan-pool.ts): scans the chunks it is sent with the same `scanChunk` as the
 * import's own thread and sends back each spool's new lines, the rejects and the counts, with the
 * chunk's buffer for reuse. It writes nothing: the import's thread commits results in chunk order.
 */
parentPort?.on('message', (job: ScanJob) => {
  const chunk = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.length);
  const parts = new Map<string, SpoolLines>();
  const scan = scanChunk(chunk, job.start, job.ctx, (key, hour, src, start, end) => {
    let lines = parts.get(key);
    if (lines === undefined) {
      lines = new SpoolLines();
      parts.set(key, lines);
    }
    lines.appendLine(hour, src, start, end);
  });
  const spools = [...parts].map(([key, lines]) => [key, lines.bytes] as const);
  const result: ScanResult = { id: job.id, spools, rejected: scan.rejected, counts: scan.counts, bytes: job.bytes };
  // Transferred, not copied: the chunk's buffer goes back for reuse, the spool lines' buffers are owned memory.
  const transfer = [job.bytes.buffer as ArrayBuffer, ...spools.map(([, b]) => b.buffer as ArrayBuffer)];
  parentPort?.postMessage(result, transfer);
});
