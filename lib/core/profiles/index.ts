import { solarProfile } from './solar';
import type { DeviceProfile } from './types';
import { unicornProfile } from './unicorn';

export type { SolarRecord, SolarStatus, UnicornRecord } from './records';
export { SOLAR_STATUS_CODES } from './records';
export type { ArchiveColumn, DeviceProfile, MetricSpec, ValidationResult } from './types';
export { solarProfile, unicornProfile };

/**
 * The registered fleets, in detection order. A third fleet is one new file plus one line here.
 * Detection looks at identity fields only, so it stays cheap in the hot path.
 */
export const PROFILES: readonly DeviceProfile[] = [unicornProfile as DeviceProfile, solarProfile as DeviceProfile];

export function profileByName(name: string): DeviceProfile | undefined {
  return PROFILES.find((p) => p.name === name);
}

/**
 * The profile a record claims by its identity field or, failing that, its event-time field, so a
 * unicorn without a Name is reported as `missing_field:Name` rather than `unknown_profile`.
 */
export function detectProfile(obj: Record<string, unknown>): DeviceProfile | undefined {
  for (const p of PROFILES) if (obj[p.identityField] !== undefined) return p;
  for (const p of PROFILES) if (obj[p.eventTimeField] !== undefined) return p;
  return undefined;
}

/** Name of the archive partition for records no profile claims (they still reach the archive). */
export const UNKNOWN_PROFILE_PARTITION = 'unknown';

/**
 * The Firehose dynamic-partitioning JQ query that puts each record under `profile=<name>/`, by the
 * identity field (records without one are invalid anyway and land under `profile=unknown/`). The embedded runtime evaluates exactly this shape
 * (`if has("F") then "P" elif ... else "unknown" end`).
 */
export function profilePartitionJq(): string {
  const branches = PROFILES.map((p, i) => `${i === 0 ? 'if' : 'elif'} has("${p.identityField}") then "${p.name}"`);
  return `{profile: (${branches.join(' ')} else "${UNKNOWN_PROFILE_PARTITION}" end)}`;
}
