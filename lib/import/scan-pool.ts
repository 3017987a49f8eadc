import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { IndexResult, ScanJob } from './scan';

/**
 * Worker threads that index NDJSON chunks (lib/import/scan-worker.ts: the distinct lines and their
 * copies), so that the import's thread, which validates, folds and merges, gets a second core for the
 * scan's byte work. The workers load the TypeScript sources through tsx, as every entry point of the
 * project does (a worker loads only the line-index modules, not the core).
 */
export class ScanPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((w: Worker) => void)[] = [];
  private readonly spare: Buffer[] = [];
  private next = 0;

  private constructor(private readonly workers: Worker[]) {
    this.idle.push(...workers);
  }

  get size(): number {
    return this.workers.length;
  }

  static start(size: number): ScanPool {
    const entry = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(join(__dirname, 'scan-worker.ts'))});`;
    const workers = Array.from({ length: size }, () => {
      const w = new Worker(entry, { eval: true });
      w.unref(); // an import that stops early must not be kept alive by idle workers
      return w;
    });
    return new ScanPool(workers);
  }

  /**
   * A buffer for a chunk of `length` bytes, shared with the workers (not transferred): one given back
   * (`recycle`) when large enough, else a new one. Shared because a transferred 64 MiB buffer came back
   * as a new ArrayBuffer each time, and V8 counted each as new external memory: the import's thread,
   * whose heap holds the day's windows, ran full garbage collections for it (measured on the benchmark:
   * 5.8-6.0 s of CPU instead of 5.5 s).
   */
  buffer(length: number): Buffer {
    const i = this.spare.findIndex((b) => b.length >= length);
    return i >= 0 ? this.spare.splice(i, 1)[0] : Buffer.from(new SharedArrayBuffer(length + (1 << 20)));
  }

  /** Gives back a buffer from `buffer` once nothing reads it any more (its chunk is validated). */
  recycle(bytes: Buffer): void {
    // (A chunk's bytes are a part of the buffer; a buffer grown for a very long line is not shared, and not kept.)
    if (bytes.buffer instanceof SharedArrayBuffer && this.spare.length < this.workers.length + 2)
      this.spare.push(Buffer.from(bytes.buffer));
  }

  /** Indexes one chunk (`bytes` from `buffer`, read by the worker until the result comes) on the next free worker. */
  async index(job: Omit<ScanJob, 'id'>): Promise<IndexResult> {
    const worker = this.idle.pop() ?? (await new Promise<Worker>((resolve) => this.waiting.push(resolve)));
    const id = ++this.next;
    try {
      return await new Promise<IndexResult>((resolve, reject) => {
        const onMessage = (r: IndexResult) => {
          worker.off('error', onError);
          resolve(r);
        };
        const onError = (err: Error) => {
          worker.off('message', onMessage);
          reject(err);
        };
        worker.once('message', onMessage);
        worker.once('error', onError);
        worker.postMessage({ ...job, id });
      });
    } finally {
      const waiter = this.waiting.shift();
      if (waiter) waiter(worker);
      else this.idle.push(worker);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
