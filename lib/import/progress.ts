import { SingleBar } from 'cli-progress';
import type { ImportProgress, ImportSummary } from './run';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const duration = (s: number) =>
  !Number.isFinite(s)
    ? '?'
    : s >= 3600
      ? `${(s / 3600).toFixed(1)} h`
      : s >= 60
        ? `${(s / 60).toFixed(1)} min`
        : `${Math.round(s)} s`;

/**
 * The import's progress on stderr: a bar on a terminal (records, bytes, rate, time left), else one
 * plain line a minute (logs of a long import on a server). Rates count this run only, so a resumed
 * run's estimate is about what is left.
 */
export function importProgress(
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): { onProgress: (p: ImportProgress) => void; stop: () => void } {
  const t0 = now();
  let firstRecords: number | undefined;
  let firstBytes = 0;
  const measure = (p: ImportProgress) => {
    firstRecords ??= p.records;
    if (firstBytes === 0) firstBytes = p.inputBytes;
    const seconds = Math.max(0.001, (now() - t0) / 1000);
    const rate = (p.records - firstRecords) / seconds;
    const byteRate = (p.inputBytes - firstBytes) / seconds;
    const left = p.phase === 'scan' ? (p.totalInputBytes - p.inputBytes) / byteRate : Number.NaN;
    return { rate, left, seconds };
  };
  if (!stream.isTTY) {
    let lastLine = Number.NEGATIVE_INFINITY;
    return {
      onProgress: (p) => {
        const m = measure(p);
        if (m.seconds * 1000 - lastLine < 60_000) return;
        lastLine = m.seconds * 1000;
        stream.write(
          `import ${p.phase}: ${fmt(p.records)} records, ${mb(p.inputBytes)} of ${mb(p.totalInputBytes)}, ` +
            `${fmt(m.rate)} records/s, files ${p.filesDone}/${p.files}, partitions ${p.partitionsDone}/${p.partitions}, ` +
            `${duration(m.left)} left\n`,
        );
      },
      stop: () => {},
    };
  }
  const bar = new SingleBar({
    stream,
    format:
      '{phase} {bar} {percentage}% | {records} records | {bytes} | {rate} records/s | files {files} | days {days} | {left} left',
    hideCursor: true,
    barsize: 20,
  });
  let started = false;
  return {
    onProgress: (p) => {
      const m = measure(p);
      const total = p.phase === 'scan' ? p.totalInputBytes : p.partitions;
      const value = p.phase === 'scan' ? p.inputBytes : p.partitionsDone;
      const payload = {
        phase: p.phase,
        records: fmt(p.records),
        bytes: `${mb(p.inputBytes)}/${mb(p.totalInputBytes)}`,
        rate: fmt(m.rate),
        files: `${p.filesDone}/${p.files}`,
        days: `${p.partitionsDone}/${p.partitions}`,
        left: duration(m.left),
      };
      if (!started) {
        bar.start(Math.max(1, total), value, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(1, total));
        bar.update(value, payload);
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** The end-of-import summary, one fact per line. */
export function summaryText(s: ImportSummary): string {
  const reasons = Object.entries(s.scan.invalidByReason)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${r} ${fmt(n)}`)
    .join(', ');
  const seconds = s.elapsedMs / 1000;
  return [
    `import ${s.importId} ${s.complete ? 'complete' : 'stopped (run the same command to continue)'}${s.resumed ? ', resumed' : ''}`,
    `  files               ${fmt(s.files)}${s.filesWithErrors.length ? ` (${s.filesWithErrors.length} ended early: see above)` : ''}`,
    `  records read        ${fmt(s.scan.records)} (${mb(s.scan.bytes)})`,
    `  copies dropped      ${fmt(s.scan.copiesDropped)}`,
    `  invalid             ${fmt(s.scan.invalid)}${reasons ? ` (${reasons})` : ''}, in ${fmt(s.scan.quarantineObjects)} quarantine objects`,
    `  archived            ${fmt(s.publish.archived)} records in ${fmt(s.publish.objects)} objects (${mb(s.publish.archiveBytes)}), ${fmt(s.partitions)} profile-days`,
    `  device-minutes      ${fmt(s.publish.deviceMinutesWritten)} written (${fmt(s.publish.eventsAdded)} events added, ${fmt(s.publish.eventsAlreadyStored)} already stored), ${fmt(s.publish.devicesUpdated)} device-state updates`,
    ...(s.publish.eventsPastTtl
      ? [
          `  past the TTL        ${fmt(s.publish.eventsPastTtl)} events archived only (their minutes are older than the table's TTL)`,
        ]
      : []),
    `  time                ${seconds.toFixed(1)} s this run (${fmt(s.scan.records / Math.max(seconds, 0.001))} records/s)`,
    `  state               ${s.stateDir}`,
  ].join('\n');
}
