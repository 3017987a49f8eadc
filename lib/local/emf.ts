import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/**
 * Reads CloudWatch Embedded Metric Format lines from a local Lambda's log: what CloudWatch would
 * turn into metrics on AWS, summed here for the demo summary (no CloudWatch locally).
 */
export interface EmfTotals {
  /** Metric name -> sum, over lines without extra dimensions. */
  readonly totals: Record<string, number>;
  /** `Metric` -> dimension value -> sum, for lines with a dimension beyond `service` (e.g. InvalidRecords by Reason). */
  readonly byDimension: Record<string, Record<string, number>>;
  /** Offset after the last complete line read: where the next incremental read starts. */
  readonly endOffset: number;
}

export function logSize(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

export function readEmf(file: string, fromOffset = 0): EmfTotals {
  const totals: Record<string, number> = {};
  const byDimension: Record<string, Record<string, number>> = {};
  if (!existsSync(file)) return { totals, byDimension, endOffset: fromOffset };
  const size = statSync(file).size - fromOffset;
  const buf = Buffer.alloc(Math.max(0, size));
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, fromOffset);
  } finally {
    closeSync(fd);
  }
  // Only complete lines: a line still being written is read next time, whole.
  const end = buf.lastIndexOf(0x0a) + 1;
  for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
    if (!line.includes('"CloudWatchMetrics"')) continue;
    let doc: Record<string, unknown> & { _aws?: { CloudWatchMetrics?: EmfDirective[] } };
    try {
      doc = JSON.parse(line);
    } catch {
      continue;
    }
    for (const directive of doc._aws?.CloudWatchMetrics ?? []) {
      const extra = (directive.Dimensions?.[0] ?? []).filter((d) => d !== 'service');
      for (const m of directive.Metrics ?? []) {
        const raw = doc[m.Name];
        const value = Array.isArray(raw) ? raw.reduce((a: number, b) => a + Number(b), 0) : Number(raw ?? 0);
        if (extra.length === 0) totals[m.Name] = (totals[m.Name] ?? 0) + value;
        else {
          const key = extra.map((d) => String(doc[d])).join('/');
          byDimension[m.Name] ??= {};
          byDimension[m.Name][key] = (byDimension[m.Name][key] ?? 0) + value;
        }
      }
    }
  }
  return { totals, byDimension, endOffset: fromOffset + end };
}

interface EmfDirective {
  Dimensions?: string[][];
  Metrics?: { Name: string }[];
}
