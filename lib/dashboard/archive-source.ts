import type { AthenaClient } from '@aws-sdk/client-athena';
import { profileByName } from '../core/profiles';
import { parseTimestamp } from '../core/time';
import { fillParams, findNamedQuery, formatBytes, type QueryRun, rawTableName, runQuery } from './query-port';

/**
 * The archive, through Athena (the query tool's runner, via query-port.ts): a device's raw readings of
 * one minute, and the named queries behind the findings. Everything goes through the stack's workgroup,
 * so its scan limit and result encryption apply; the dashboard holds no SQL engine of its own.
 */
export interface QueryFigures {
  readonly dataScannedInBytes: number;
  readonly dataScanned: string;
  readonly costUsd: number;
  readonly engineMs: number;
  readonly queryExecutionId: string;
}

export interface RawMinute extends QueryFigures {
  readonly deviceId: string;
  readonly minute: string;
  readonly columns: readonly string[];
  /** One row per distinct reading, with how many copies of it the archive holds. */
  readonly rows: readonly (string | null)[][];
  readonly sql: string;
}

export interface Finding extends QueryFigures {
  readonly name: string;
  readonly description: string;
  readonly columns: readonly string[];
  readonly rows: readonly (string | null)[][];
  readonly truncated: boolean;
  readonly params: Readonly<Record<string, string>>;
}

/** The named queries the dashboard offers as findings (read-only analyses; any other name is refused). */
export const FINDINGS = [
  'solar-spikes',
  'solar-gaps',
  'solar-duplicates',
  'unicorn-spikes',
  'unicorn-gaps',
  'unicorn-duplicates',
  'quarantine-reasons',
] as const;

export class FindingError extends Error {}

const HOUR = 3_600_000;
const MAX_FINDING_ROWS = 500;

export interface ArchiveSourceOptions {
  readonly athena: AthenaClient;
  readonly workgroup?: string;
  readonly database?: string;
  /**
   * Archive partitions are arrival hours: read this many hours of arrivals after the minute (a record
   * arrives after its event time; sped-up or replayed simulations need more). @default 2
   */
  readonly rawSlackHours?: number;
}

export class ArchiveSource {
  constructor(private readonly o: ArchiveSourceOptions) {}

  async rawMinute(deviceId: string, profileName: string, minuteStartMs: number): Promise<RawMinute> {
    const profile = profileByName(profileName);
    if (!profile) throw new FindingError(`Unknown profile "${profileName}".`);
    if (!Number.isFinite(minuteStartMs) || minuteStartMs % 60_000 !== 0)
      throw new FindingError('minute must be the start of a minute (ISO-8601, seconds 00).');
    const columns = profile.archiveColumns.map((c) => c.name.toLowerCase());
    const idCol = profile.identityField.toLowerCase();
    const timeCol = profile.eventTimeField.toLowerCase();
    // Arrival partitions from 5 minutes before the minute (the pipeline refuses later event times) on.
    const sql = `SELECT ${columns.join(', ')}, count(*) AS copies
FROM ${rawTableName(profile)}
WHERE ${hourRange(minuteStartMs - 5 * 60_000, minuteStartMs + (this.o.rawSlackHours ?? 2) * HOUR)}
  AND ${idCol} = ${quote(deviceId)}
  AND substr(${timeCol}, 1, 16) IN (${minuteTexts(minuteStartMs).map(quote).join(', ')})
GROUP BY ${columns.join(', ')}
ORDER BY ${timeCol}`;
    const run = await this.run(sql, 10_000);
    // The text match above is coarse (both time layouts); the core's parser decides the minute.
    const t = run.columns.findIndex((c) => c.name === timeCol);
    const rows = run.rows.filter((r) => {
      const ms = parseTimestamp(r[t] ?? '');
      return ms >= minuteStartMs && ms < minuteStartMs + 60_000;
    });
    return {
      ...figures(run),
      deviceId,
      minute: new Date(minuteStartMs).toISOString(),
      columns: run.columns.map((c) => c.name),
      rows,
      sql,
    };
  }

  async finding(name: string, params: Readonly<Record<string, string>>): Promise<Finding> {
    if (!(FINDINGS as readonly string[]).includes(name)) {
      throw new FindingError(`"${name}" is not a finding. Choose one of: ${FINDINGS.join(', ')}.`);
    }
    const spec = findNamedQuery(name);
    const sql = fillParams(spec.sql, spec.params, params); // checks every value (ParamError)
    const run = await this.run(sql, MAX_FINDING_ROWS);
    return {
      ...figures(run),
      name,
      description: spec.description,
      columns: run.columns.map((c) => c.name),
      rows: run.rows,
      truncated: run.truncated,
      params,
    };
  }

  private run(sql: string, maxRows: number): Promise<QueryRun> {
    return runQuery(this.o.athena, { sql, workgroup: this.o.workgroup, database: this.o.database, maxRows });
  }
}

function figures(run: QueryRun): QueryFigures {
  return {
    dataScannedInBytes: run.dataScannedInBytes,
    dataScanned: formatBytes(run.dataScannedInBytes),
    costUsd: run.costUsd,
    engineMs: run.engineExecutionTimeInMillis,
    queryExecutionId: run.queryExecutionId,
  };
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The minute as its event-time text starts in both layouts: `2026-12-01 19:55` and `2026-12-01T19:55`. */
function minuteTexts(minuteStartMs: number): string[] {
  const iso = new Date(minuteStartMs).toISOString().slice(0, 16);
  return [iso, iso.replace('T', ' ')];
}

/**
 * Partition predicates for the arrival hours [fromMs, toMs]: one per level (year, month, day, hour), as
 * the named queries build them, so partition projection (and the embedded engine) skip whole levels.
 */
export function hourRange(fromMs: number, toMs: number): string {
  const parts = (ms: number) => {
    const d = new Date(ms);
    return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours()];
  };
  const [y0, m0, d0, h0] = parts(fromMs);
  const [y1, m1, d1, h1] = parts(toMs);
  const ym = (y: number, m: number) => y * 100 + m;
  const ymd = (y: number, m: number, d: number) => ym(y, m) * 100 + d;
  return [
    `year BETWEEN ${y0} AND ${y1}`,
    `year * 100 + month BETWEEN ${ym(y0, m0)} AND ${ym(y1, m1)}`,
    `(year * 100 + month) * 100 + day BETWEEN ${ymd(y0, m0, d0)} AND ${ymd(y1, m1, d1)}`,
    `((CAST(year AS bigint) * 100 + month) * 100 + day) * 100 + hour BETWEEN ${ymd(y0, m0, d0) * 100 + h0} AND ${ymd(y1, m1, d1) * 100 + h1}`,
  ].join('\n  AND ');
}
