import { profilePartitionJq as routingJq } from './routing';
import { solarProfile } from './solar';
import type { DeviceProfile } from './types';
import { unicornProfile } from './unicorn';

export type { FieldCheck } from './checks';
export type { SolarRecord, SolarStatus, UnicornRecord } from './records';
export { SOLAR_STATUS_CODES } from './records';
export { archivePartition, UNKNOWN_PROFILE_PARTITION, untypedPartition } from './routing';
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

/** The Firehose routing JQ over the registered profiles (see `routing.ts`). */
export function profilePartitionJq(): string {
  return routingJq(PROFILES);
}
