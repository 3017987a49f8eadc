import type { RawRecord } from '../../lib/core';

let sequence = 0;

/** A Kinesis-style raw record (base64 data) from a JSON value or a raw string/bytes. */
export function rawRecord(payload: unknown, arrivalMs: number, partitionKey = 'pk'): RawRecord {
  const bytes =
    payload instanceof Uint8Array
      ? Buffer.from(payload)
      : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  sequence++;
  return {
    data: bytes.toString('base64'),
    arrivalMs,
    sequenceNumber: String(sequence).padStart(20, '0'),
    partitionKey,
  };
}

/** The workshop producer's StatusTime layout (`2006-01-02 15:04:05.000`, UTC). */
export function workshopTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

export function unicorn(name: string, ms: number, overrides: Record<string, unknown> = {}) {
  return {
    Name: name,
    StatusTime: workshopTime(ms),
    Latitude: 40.749,
    Longitude: -73.985,
    Distance: 29.7,
    HealthPoints: 150,
    MagicPoints: 151,
    ...overrides,
  };
}

export function panel(id: string, ms: number, seq: number, overrides: Record<string, unknown> = {}) {
  return {
    panelId: id,
    ts: new Date(ms).toISOString(),
    seq,
    acPowerW: 245.3,
    dcVoltageV: 36.2,
    dcCurrentA: 7.1,
    energyWh: 20.4,
    panelTempC: 41.2,
    irradianceWm2: 812.5,
    status: 'OK',
    ...overrides,
  };
}
