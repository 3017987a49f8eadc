import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ScanJob, ScanResult } from './scan';

/**
 * Worker threads that scan NDJSON chunks (lib/import/scan-worker.ts), so the scan can use several
 * cores: the validation is the core's JavaScript decoder (the one definition of a valid record), and
 * one thread of it binds the scan where cores are idle. The workers load the TypeScript sources through tsx, as every
 * entry point of the project does.
 */
export class ScanPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((w: Worker) => void)[] = [];
  private readonly spare: ArrayBuffer[] = [];
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

  /** A buffer for a chunk of `length` bytes (transferred to a worker): one sent back by a worker when large enough, else a new one. */
  buffer(length: number): Buffer {
    const i = this.spare.findIndex((b) => b.byteLength >= length);
    const ab = i >= 0 ? this.spare.splice(i, 1)[0] : new ArrayBuffer(length + (1 << 20));
    return Buffer.from(ab);
  }

  /** Scans one chunk on the next free worker; `bytes` is transferred. */
  async scan(job: Omit<ScanJob, 'id'>): Promise<ScanResult> {
    const worker = this.idle.pop() ?? (await new Promise<Worker>((resolve) => this.waiting.push(resolve)));
    const id = ++this.next;
    try {
      return await new Promise<ScanResult>((resolve, reject) => {
        const onMessage = (r: ScanResult) => {
          worker.off('error', onError);
          if (this.spare.length < this.workers.length * 2) this.spare.push(r.bytes.buffer as ArrayBuffer);
          resolve(r);
        };
        const onError = (err: Error) => {
          worker.off('message', onMessage);
          reject(err);
        };
        worker.once('message', onMessage);
        worker.once('error', onError);
        worker.postMessage({ ...job, id }, [job.bytes.buffer as ArrayBuffer]);
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
