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

export function detectProfile(obj: Record<string, unknown>): DeviceProfile | undefined {
  for (const p of PROFILES) if (p.detect(obj)) return p;
  return undefined;
}
