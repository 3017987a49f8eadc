import { outOfRange } from '../reasons';
import { parseTimestamp } from '../time';
import { checkInteger, checkNumber, checkString } from './checks';
import { SOLAR_STATUS_CODES, type SolarRecord } from './records';
import type { DeviceProfile } from './types';

const STATUS = new Set<string>(SOLAR_STATUS_CODES);

/** Solar panels as a service: one inverter reading per panel every few minutes; retried 10x by buggy firmware. */
export const solarProfile: DeviceProfile<SolarRecord> = {
  name: 'solar',
  description: 'Solar panels (30,000 devices): inverter readings with a per-device sequence number.',
  identityField: 'panelId',
  validate(obj) {
    const reason =
      checkString(obj, 'panelId', 64) ??
      checkString(obj, 'ts', 35) ??
      checkInteger(obj, 'seq', 0, Number.MAX_SAFE_INTEGER) ??
      checkNumber(obj, 'acPowerW', 0, 100_000) ??
      checkNumber(obj, 'dcVoltageV', 0, 1_500) ??
      checkNumber(obj, 'dcCurrentA', 0, 100) ??
      checkNumber(obj, 'energyWh', 0, 1_000_000) ??
      checkNumber(obj, 'panelTempC', -60, 120) ??
      checkNumber(obj, 'irradianceWm2', 0, 2_000) ??
      checkString(obj, 'status', 32);
    if (reason) return { ok: false, reason };
    if (!STATUS.has(obj.status as string)) return { ok: false, reason: outOfRange('status') };
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
