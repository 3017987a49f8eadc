import { SingleBar } from 'cli-progress';
import { progressLine } from './cli-options';
import type { SimulationStats } from './types';

/**
 * The simulator's progress display: a bar on a terminal (records sent, rate, retries, throttles,
 * copies injected and dropped, elapsed and remaining), a plain line every 5 s otherwise (logs, CI).
 */
export function progressReporter(): { onProgress: (s: SimulationStats) => void; stop: () => void } {
  let lastSent = 0;
  let lastAt = 0;
  let rate = 0;
  const measure = (s: SimulationStats) => {
    if (s.elapsedMs > lastAt) rate = ((s.sent - lastSent) * 1000) / (s.elapsedMs - lastAt);
    lastSent = s.sent;
    lastAt = s.elapsedMs;
  };
  if (!process.stderr.isTTY) {
    let lastLine = -Infinity;
    return {
      onProgress: (s) => {
        measure(s);
        if (s.elapsedMs - lastLine >= 5_000 || s.phase === 'done') {
          lastLine = s.elapsedMs;
          process.stderr.write(`${progressLine(s, rate)}\n`);
        }
      },
      stop: () => {},
    };
  }
  const bar = new SingleBar({
    stream: process.stderr,
    format:
      '{bar} {percentage}% | sent {sent} ({rate}/s) | retries {retries} | throttles {throttles} | dups +{dups} -{dropped} | {elapsed} elapsed, {remaining} left',
    hideCursor: true,
    barsize: 20,
  });
  let started = false;
  return {
    onProgress: (s) => {
      measure(s);
      const payload = {
        sent: s.sent,
        rate: Math.round(rate),
        retries: s.retries,
        throttles: s.throttles,
        dups: s.duplicatesInjected,
        dropped: s.droppedAtEdge,
        elapsed: formatSeconds(s.elapsedMs),
        remaining:
          s.expected !== null && s.produced > 0
            ? formatSeconds((s.elapsedMs * (s.expected - s.produced)) / s.produced)
            : s.phase === 'running'
              ? '?'
              : s.phase,
      };
      if (!started) {
        bar.start(s.expected ?? 0, s.produced, payload);
        started = true;
      } else bar.update(s.produced, payload);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function formatSeconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
