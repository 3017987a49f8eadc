import { SimulationError } from './errors';
import { SIM_PROFILES, type SimProfile } from './generate';
import { type DelayDistribution, parseDelay, parseDuration } from './retry-bug';
import type { SimulationStats, SimulationSummary } from './types';

/** `unicorn`, `solar`, `unicorn,solar` (also `both`/`all`). */
export function parseProfiles(text: string): SimProfile[] {
  const names = text === 'both' || text === 'all' ? [...SIM_PROFILES] : text.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!SIM_PROFILES.includes(n as SimProfile)) {
      throw new SimulationError(`Unknown profile "${n}": choose unicorn, solar, or unicorn,solar.`);
    }
  }
  return [...new Set(names as SimProfile[])];
}

export function parsePositiveInt(flag: string, text: string, allowZero = false): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || (!allowZero && n === 0)) {
    throw new SimulationError(
      `${flag} must be a ${allowZero ? 'non-negative' : 'positive'} whole number (got "${text}").`,
    );
  }
  return n;
}

export function parsePositiveNumber(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new SimulationError(`${flag} must be a positive number (got "${text}").`);
  }
  return n;
}

/**
 * A value for every profile (`10`) or per profile (`unicorn=5,solar=30000`).
 * Returns a number when one value applies to all.
 */
export function parsePerProfile<T>(
  flag: string,
  text: string,
  parse: (flag: string, text: string) => T,
): T | Partial<Record<SimProfile, T>> {
  if (!text.includes('=')) return parse(flag, text);
  const out: Partial<Record<SimProfile, T>> = {};
  for (const part of text.split(',')) {
    const [name, value] = part.split('=').map((s) => s.trim());
    if (!SIM_PROFILES.includes(name as SimProfile) || value === undefined) {
      throw new SimulationError(`${flag} "${text}": use a value, or profile=value pairs such as unicorn=5,solar=300.`);
    }
    out[name as SimProfile] = parse(flag, value);
  }
  return out;
}

export function parseDurationFlag(_flag: string, text: string): number {
  return parseDuration(text);
}

export function parseRate(text: string): number | 'max' {
  return text === 'max' ? 'max' : parsePositiveNumber('--rate', text);
}

export function parseStart(text: string): Date {
  const d = new Date(text);
  if (Number.isNaN(d.getTime()))
    throw new SimulationError(`--start "${text}" is not a date (use ISO-8601, e.g. 2026-06-01T00:00:00Z).`);
  return d;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/** One plain progress line (non-TTY output). */
export function progressLine(s: SimulationStats, ratePerSec: number): string {
  const remaining =
    s.expected !== null && s.produced > 0 && s.phase === 'running'
      ? ` | ${formatDuration((s.elapsedMs * (s.expected - s.produced)) / s.produced)} left`
      : '';
  return (
    `[${formatDuration(s.elapsedMs)}] ${s.phase}: produced ${s.produced}${s.expected !== null ? `/${s.expected}` : ''}` +
    ` | sent ${s.sent} (${Math.round(ratePerSec)}/s) | retries ${s.retries} | throttles ${s.throttles}` +
    ` | duplicates +${s.duplicatesInjected} -${s.droppedAtEdge} dropped | failed ${s.failed}` +
    `${s.rateLimit !== null ? ` | limited to ${s.rateLimit}/s` : ''}${remaining}`
  );
}

/**
 * A POSIX shell word. Written here rather than taken from a library: one rule (single quotes, with
 * `'` as `'\''`), for a line that is printed, never executed.
 */
export function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * The command that reproduces a run byte for byte: the same arguments with `--seed` and `--start` set
 * to what the run used (replacing any given, in either `--flag value` or `--flag=value` form).
 */
export function reproduceCommand(args: readonly string[], run: { seed: number; simulatedStart: string }): string {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--seed' || a === '--start') i++;
    else if (!a.startsWith('--seed=') && !a.startsWith('--start=')) kept.push(a);
  }
  const all = [...kept, '--seed', String(run.seed), '--start', run.simulatedStart];
  return `npm run simulate -- ${all.map(shellWord).join(' ')}`;
}

/** The human-readable final summary; `reproduce` is the command that gives the same records again. */
export function summaryText(s: SimulationSummary, reproduce?: string): string {
  const lines = [
    `Simulation ${s.interrupted ? 'interrupted' : 'finished'}: ${s.target}`,
    `  seed ${s.seed}${s.seedGiven ? '' : ' (drawn at random)'}, speed ${s.speed === 'max' ? 'max' : `${Number(s.speed.toPrecision(4))}x`}, event times ${s.simulatedStart} .. ${s.simulatedEnd ?? '-'}`,
    ...Object.entries(s.perProfile).map(
      ([p, v]) =>
        `  ${p}: ${v?.devices} devices every ${(v?.intervalMs ?? 0) / 1000} s, ${v?.produced} messages, ${v?.anomalies} anomalies`,
    ),
    `  produced ${s.produced} unique, +${s.duplicatesInjected} duplicates injected, -${s.droppedAtEdge} dropped at the edge`,
    `  sent ${s.sent} in ${formatDuration(s.elapsedMs)} (${s.sendRatePerSec}/s), retries ${s.retries}, throttles ${s.throttles}, failed ${s.failed}`,
  ];
  if (s.copiesNotSent > 0) lines.push(`  ${s.copiesNotSent} scheduled copies not sent (stopped early)`);
  if (s.dedupe) {
    lines.push(
      `  edge dedupe: ${s.dedupe.keys} keys held, ${s.dedupe.expiredByAge} expired, ${s.dedupe.evictedBySize} evicted by size`,
    );
  }
  const errors = Object.entries(s.errors);
  if (errors.length > 0) lines.push(`  errors: ${errors.map(([k, v]) => `${k} ×${v}`).join(', ')}`);
  if (s.anomaliesFile) lines.push(`  anomalies written to ${s.anomaliesFile}`);
  if (s.registry) lines.push(`  device registry: ${s.registry}`);
  if (reproduce) {
    lines.push(
      `  reproduce${s.interrupted ? ' (the whole run: this one was interrupted)' : ''} byte for byte: ${reproduce}`,
    );
  }
  return lines.join('\n');
}

export function parseDelayFlag(text: string): DelayDistribution {
  return parseDelay(text);
}
