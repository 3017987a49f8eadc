import { parseTimestamp } from '../time';
import { compileChecks, type FieldCheck } from './checks';
import type { UnicornRecord } from './records';
import type { DeviceProfile } from './types';

/** Below these a unicorn is reported as needing care in the device-state table. */
const LOW_HEALTH = 50;
const LOW_MAGIC = 50;

const UNICORN_FIELDS: readonly FieldCheck[] = [
  { field: 'Name', kind: 'string', maxLength: 64 },
  { field: 'StatusTime', kind: 'string', maxLength: 35 },
  { field: 'Latitude', kind: 'number', min: -90, max: 90 },
  { field: 'Longitude', kind: 'number', min: -180, max: 180 },
  { field: 'Distance', kind: 'number', min: 0, max: 1_000_000 },
  // The workshop's KDA stream typed these SMALLINT.
  { field: 'HealthPoints', kind: 'integer', min: -32768, max: 32767 },
  { field: 'MagicPoints', kind: 'integer', min: -32768, max: 32767 },
];
const checkUnicorn = compileChecks(UNICORN_FIELDS);

/** The Wild Rydes workshop's unicorns, wire format unchanged. */
export const unicornProfile: DeviceProfile<UnicornRecord> = {
  name: 'unicorn',
  description: 'Wild Rydes unicorns (AWS real-time data processing workshop): one status per second per unicorn.',
  identityField: 'Name',
  // Unicorns move: the live map follows their listing rows (one write per unicorn per flush, ~1/60 per reading).
  listingFollowsEveryFlush: true,
  fields: UNICORN_FIELDS,
  validate(obj) {
    const reason = checkUnicorn(obj);
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
