import { parseTimestamp } from '../time';
import { compileChecks, type FieldCheck } from './checks';
import { SOLAR_STATUS_CODES, type SolarRecord } from './records';
import type { DeviceProfile } from './types';

const SOLAR_FIELDS: readonly FieldCheck[] = [
  { field: 'panelId', kind: 'string', maxLength: 64 },
  { field: 'ts', kind: 'string', maxLength: 35 },
  { field: 'seq', kind: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER },
  { field: 'acPowerW', kind: 'number', min: 0, max: 100_000 },
  { field: 'dcVoltageV', kind: 'number', min: 0, max: 1_500 },
  { field: 'dcCurrentA', kind: 'number', min: 0, max: 100 },
  { field: 'energyWh', kind: 'number', min: 0, max: 1_000_000 },
  { field: 'panelTempC', kind: 'number', min: -60, max: 120 },
  { field: 'irradianceWm2', kind: 'number', min: 0, max: 2_000 },
  { field: 'status', kind: 'string', maxLength: 32, values: SOLAR_STATUS_CODES },
];
const checkSolar = compileChecks(SOLAR_FIELDS);

/** Solar panels as a service: one inverter reading per panel every few minutes; retried 10x by buggy firmware. */
export const solarProfile: DeviceProfile<SolarRecord> = {
  name: 'solar',
  description: 'Solar panels (30,000 devices): inverter readings with a per-device sequence number.',
  identityField: 'panelId',
  fields: SOLAR_FIELDS,
  validate(obj) {
    const reason = checkSolar(obj);
    if (reason) return { ok: false, reason };
    return { ok: true, record: obj as unknown as SolarRecord };
  },
  deviceId: (r) => r.panelId,
  eventTimeField: 'ts',
  eventTime: (r) => parseTimestamp(r.ts),
  eventId: (r) => r.seq,
  metrics: [
    { name: 'EnergyWh', op: 'sum', value: (r) => r.energyWh },
    { name: 'SumPowerW', op: 'sum', value: (r) => r.acPowerW },
    { name: 'MinPowerW', op: 'min', value: (r) => r.acPowerW },
    { name: 'MaxPowerW', op: 'max', value: (r) => r.acPowerW },
    { name: 'MaxPanelTempC', op: 'max', value: (r) => r.panelTempC },
    { name: 'FaultCount', op: 'sum', value: (r) => (r.status === 'OK' ? 0 : 1) },
  ],
  derived: [{ name: 'MeanPowerW', compute: (m, count) => (count === 0 ? 0 : m.SumPowerW / count) }],
  status: (r) => r.status,
  reading: (r) => ({
    ts: r.ts,
    seq: r.seq,
    acPowerW: r.acPowerW,
    dcVoltageV: r.dcVoltageV,
    dcCurrentA: r.dcCurrentA,
    energyWh: r.energyWh,
    panelTempC: r.panelTempC,
    irradianceWm2: r.irradianceWm2,
    status: r.status,
  }),
  archiveColumns: [
    { name: 'panelId', type: 'string', comment: 'Panel id (device id)' },
    { name: 'ts', type: 'string', comment: 'Reading time, ISO-8601 with zone' },
    { name: 'seq', type: 'bigint', comment: 'Per-device sequence number; retries repeat it' },
    { name: 'acPowerW', type: 'double', comment: 'AC power, W' },
    { name: 'dcVoltageV', type: 'double', comment: 'DC voltage, V' },
    { name: 'dcCurrentA', type: 'double', comment: 'DC current, A' },
    { name: 'energyWh', type: 'double', comment: 'AC energy since the previous reading, Wh' },
    { name: 'panelTempC', type: 'double', comment: 'Panel temperature, °C' },
    { name: 'irradianceWm2', type: 'double', comment: 'Irradiance, W/m²' },
    { name: 'status', type: 'string', comment: 'OK or a fault code' },
  ],
};
