import { parseTimestamp } from '../time';
import { checkInteger, checkNumber, checkString } from './checks';
import type { UnicornRecord } from './records';
import type { DeviceProfile } from './types';

/** Below these a unicorn is reported as needing care in the device-state table. */
const LOW_HEALTH = 50;
const LOW_MAGIC = 50;

/** The Wild Rydes workshop's unicorns, wire format unchanged. */
export const unicornProfile: DeviceProfile<UnicornRecord> = {
  name: 'unicorn',
  description: 'Wild Rydes unicorns (AWS real-time data processing workshop): one status per second per unicorn.',
  identityField: 'Name',
  validate(obj) {
    const reason =
      checkString(obj, 'Name', 64) ??
      checkString(obj, 'StatusTime', 35) ??
      checkNumber(obj, 'Latitude', -90, 90) ??
      checkNumber(obj, 'Longitude', -180, 180) ??
      checkNumber(obj, 'Distance', 0, 1_000_000) ??
      // The workshop's KDA stream typed these SMALLINT.
      checkInteger(obj, 'HealthPoints', -32768, 32767) ??
      checkInteger(obj, 'MagicPoints', -32768, 32767);
    if (reason) return { ok: false, reason };
    return { ok: true, record: obj as unknown as UnicornRecord };
  },
  deviceId: (r) => r.Name,
  eventTimeField: 'StatusTime',
  eventTime: (r) => parseTimestamp(r.StatusTime),
  // Name + StatusTime is the workshop's identity; within a device-minute that is the millisecond offset.
  eventId: (_r, t) => t - Math.floor(t / 60_000) * 60_000,
  metrics: [
    { name: 'Distance', op: 'sum', value: (r) => r.Distance },
    { name: 'MinMagicPoints', op: 'min', value: (r) => r.MagicPoints },
    { name: 'MaxMagicPoints', op: 'max', value: (r) => r.MagicPoints },
    { name: 'MinHealthPoints', op: 'min', value: (r) => r.HealthPoints },
    { name: 'MaxHealthPoints', op: 'max', value: (r) => r.HealthPoints },
  ],
  derived: [],
  status: (r) => (r.HealthPoints < LOW_HEALTH ? 'LOW_HEALTH' : r.MagicPoints < LOW_MAGIC ? 'LOW_MAGIC' : 'OK'),
  reading: (r) => ({
    StatusTime: r.StatusTime,
    Latitude: r.Latitude,
    Longitude: r.Longitude,
    Distance: r.Distance,
    HealthPoints: r.HealthPoints,
    MagicPoints: r.MagicPoints,
  }),
  archiveColumns: [
    { name: 'Name', type: 'string', comment: 'Unicorn name (device id)' },
    { name: 'StatusTime', type: 'string', comment: 'Event time: yyyy-MM-dd HH:mm:ss.SSS (UTC) or ISO-8601' },
    { name: 'Latitude', type: 'double', comment: 'Degrees' },
    { name: 'Longitude', type: 'double', comment: 'Degrees' },
    { name: 'Distance', type: 'double', comment: 'Distance since the previous status' },
    { name: 'HealthPoints', type: 'int', comment: 'Health points' },
    { name: 'MagicPoints', type: 'int', comment: 'Magic points' },
  ],
};
