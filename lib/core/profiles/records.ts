/**
 * The wire formats, as devices send them (one JSON object per Kinesis record).
 * The unicorn format is the AWS Wild Rydes workshop's, unchanged.
 */
export interface UnicornRecord {
  readonly Name: string;
  /** `2006-01-02 15:04:05.000` (the workshop producer, no zone: read as UTC) or ISO-8601 with a zone. */
  readonly StatusTime: string;
  readonly Latitude: number;
  readonly Longitude: number;
  readonly Distance: number;
  readonly HealthPoints: number;
  readonly MagicPoints: number;
}

/** Status codes a panel reports; anything but `OK` counts as a fault. */
export const SOLAR_STATUS_CODES = [
  'OK',
  'DEGRADED',
  'FAULT_GRID',
  'FAULT_OVERTEMP',
  'FAULT_ISOLATION',
  'FAULT_ARC',
] as const;
export type SolarStatus = (typeof SOLAR_STATUS_CODES)[number];

/** One reading of a solar panel's inverter (see docs/record-contract.md). */
export interface SolarRecord {
  /** Device id, e.g. `SP-000123`. */
  readonly panelId: string;
  /** Reading time, ISO-8601 with a zone, e.g. `2026-11-22T10:15:00.000Z`. */
  readonly ts: string;
  /** Per-device sequence number, +1 per reading; the firmware's retries repeat it. */
  readonly seq: number;
  /** AC output power, W. */
  readonly acPowerW: number;
  /** DC string voltage, V. */
  readonly dcVoltageV: number;
  /** DC string current, A. */
  readonly dcCurrentA: number;
  /** AC energy since the previous reading, Wh. */
  readonly energyWh: number;
  /** Panel (back-sheet) temperature, °C. */
  readonly panelTempC: number;
  /** Plane-of-array irradiance, W/m². */
  readonly irradianceWm2: number;
  readonly status: SolarStatus;
}
