import { NAMED_QUERIES, type NamedQuerySpec } from './named-queries';

/** A bad `--param`: unknown name, or a value that does not fit (the SQL is never built from it). */
export class ParamError extends Error {}

/**
 * What each placeholder accepts. Values are pasted into SQL text, so each is checked first: numbers
 * and dates by pattern, the device id as a string literal with quotes doubled.
 */
const RULES: Record<string, { test: (v: string) => boolean; hint: string }> = {
  from: { test: isDate, hint: 'a date YYYY-MM-DD' },
  to: { test: isDate, hint: 'a date YYYY-MM-DD' },
  slack_hours: { test: (v) => /^\d{1,4}$/.test(v), hint: 'a whole number of hours' },
  window: { test: (v) => /^[1-9]\d{0,3}$/.test(v), hint: 'a whole number of readings, 1 to 9999' },
  max_silence_seconds: { test: (v) => /^\d{1,9}$/.test(v), hint: 'a whole number of seconds' },
  threshold: { test: (v) => /^\d+(\.\d+)?$/.test(v), hint: 'a non-negative number' },
  min_scale: { test: (v) => /^\d+(\.\d+)?$/.test(v), hint: 'a non-negative number' },
  // Solar spikes and performance: non-negative numbers (ratios, W, W/m², kWh/m², % per 30 days).
  ...Object.fromEntries(
    [
      'jump',
      'min_irradiance',
      'dark_irradiance',
      'min_excess_w',
      'rated_factor',
      'limit_factor',
      'min_insolation',
      'reference_quantile',
      'min_step',
      'min_reset',
      'min_degradation_pct_per_month',
    ].map((name) => [name, { test: (v: string) => /^\d+(\.\d+)?$/.test(v), hint: 'a non-negative number' }]),
  ),
  granularity: { test: (v) => ['hour', 'day', 'week', 'month'].includes(v), hint: 'hour, day, week or month' },
  device: { test: (v) => v.length <= 128 && !/[\u0000-\u001f]/.test(v), hint: 'a device id' },
};

/** Whether a placeholder's values are checked before they reach SQL (every named query's must be). */
export function isCheckedParam(name: string): boolean {
  return name in RULES;
}

function isDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
}

export function findNamedQuery(name: string, queries: readonly NamedQuerySpec[] = NAMED_QUERIES): NamedQuerySpec {
  const q = queries.find((x) => x.name === name);
  if (!q) {
    throw new ParamError(`No named query "${name}". Known: ${queries.map((x) => x.name).join(', ')} (see --list).`);
  }
  return q;
}

/** Parses repeated `--param k=v` values. */
export function parseParamArgs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new ParamError(`--param takes name=value (got "${a}")`);
    out[a.slice(0, eq).trim()] = a.slice(eq + 1);
  }
  return out;
}

/** The SQL with every `{{name}}` replaced by the given value or the parameter's default. */
export function fillParams(
  sql: string,
  params: NamedQuerySpec['params'],
  values: Readonly<Record<string, string>>,
): string {
  const known = new Set(params.map((p) => p.name));
  for (const name of Object.keys(values)) {
    if (!known.has(name)) {
      throw new ParamError(
        `Unknown parameter "${name}". This query takes: ${params.map((p) => p.name).join(', ') || 'no parameters'}.`,
      );
    }
  }
  const resolved: Record<string, string> = {};
  for (const p of params) {
    const v = values[p.name] ?? p.default;
    if (v === undefined)
      throw new ParamError(`Missing parameter "${p.name}": ${p.description}. Pass --param ${p.name}=...`);
    const rule = RULES[p.name];
    if (rule && !(p.name === 'device' && v === '') && !rule.test(v)) {
      throw new ParamError(`Parameter ${p.name}=${JSON.stringify(v)} is not valid: expected ${rule.hint}.`);
    }
    resolved[p.name] = p.name === 'device' ? v.replace(/'/g, "''") : v;
  }
  return sql.replace(/\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}/gi, (_m, name: string) => {
    if (!(name in resolved)) throw new ParamError(`The query uses {{${name}}} but does not declare it`);
    return resolved[name];
  });
}
