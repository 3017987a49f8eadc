/**
 * The stack's named queries: the same SQL (Athena/Trino dialect) is created as `AWS::Athena::NamedQuery`
 * by the CDK stacks and served by the embedded runtime's Athena API.
 * Placeholders `{{name}}` are filled by the query tool's `--param name=value`.
 */
export interface NamedQuerySpec {
  /** Unique, kebab-case: what `npm run query -- --named NAME` takes. */
  readonly name: string;
  readonly description: string;
  readonly sql: string;
  /** Parameters the SQL expects, with defaults where it has one. */
  readonly params: readonly { readonly name: string; readonly description: string; readonly default?: string }[];
}

// ---- Building blocks (plain text, so the SQL is readable in the Athena console as created) ----

type Param = NamedQuerySpec['params'][number];

const RANGE_PARAMS: readonly Param[] = [
  { name: 'from', description: 'First day of event time to include, YYYY-MM-DD (UTC)', default: '2000-01-01' },
  { name: 'to', description: 'Last day of event time to include, YYYY-MM-DD (UTC)', default: '2099-12-31' },
  {
    name: 'slack_hours',
    description:
      'Partitions are arrival hours: read this many hours of arrivals beyond the event-time range (raise it for replayed or sped-up simulated data)',
    default: '1',
  },
];
const DEVICE_PARAM: Param = { name: 'device', description: 'One device id, or empty for the whole fleet', default: '' };

const P0 = `TIMESTAMP '{{from}} 00:00:00' - INTERVAL '{{slack_hours}}' HOUR`;
const P1 = `TIMESTAMP '{{to}} 00:00:00' + INTERVAL '1' DAY + INTERVAL '{{slack_hours}}' HOUR`;

/**
 * Partition pruning for a date range: each level (year, year+month, ...) gets its own range predicate so
 * Athena's projection, and the embedded engine's listing, skip whole years, months and days early.
 */
function partitionFilter(hourly = true): string {
  const lines = [
    `year BETWEEN year(${P0}) AND year(${P1})`,
    `year * 100 + month BETWEEN CAST(date_format(${P0}, '%Y%m') AS integer) AND CAST(date_format(${P1}, '%Y%m') AS integer)`,
    `(year * 100 + month) * 100 + day BETWEEN CAST(date_format(${P0}, '%Y%m%d') AS integer) AND CAST(date_format(${P1}, '%Y%m%d') AS integer)`,
  ];
  if (hourly) {
    lines.push(
      `((CAST(year AS bigint) * 100 + month) * 100 + day) * 100 + hour BETWEEN CAST(date_format(${P0}, '%Y%m%d%H') AS bigint) AND CAST(date_format(${P1}, '%Y%m%d%H') AS bigint)`,
    );
  }
  return lines.join('\n    AND ');
}

const EVENT_RANGE = `event_time >= TIMESTAMP '{{from}} 00:00:00 UTC' AND event_time < TIMESTAMP '{{to}} 00:00:00 UTC' + INTERVAL '1' DAY`;

interface Fleet {
  readonly profile: 'solar' | 'unicorn';
  readonly table: string;
  readonly device: string;
  /** Columns selected from the raw table (besides the event time). */
  readonly columns: string;
  /** Trino expression of the event time (timestamp with time zone). */
  readonly eventTime: string;
  /** What identifies one message of a device (the retry copies share it). */
  readonly messageKey: string;
  /** The aggregator's validation, as SQL: rows it would quarantine are left out. */
  readonly valid: string;
}

const SOLAR: Fleet = {
  profile: 'solar',
  table: 'solar_raw',
  device: 'panelid',
  columns: 'panelid, ts, seq, acpowerw, dcvoltagev, dccurrenta, energywh, paneltempc, irradiancewm2, status',
  eventTime: 'TRY(from_iso8601_timestamp(ts))',
  messageKey: 'seq',
  valid: `length(panelid) BETWEEN 1 AND 64 AND seq >= 0
      AND acpowerw BETWEEN 0 AND 100000 AND dcvoltagev BETWEEN 0 AND 1500 AND dccurrenta BETWEEN 0 AND 100
      AND energywh BETWEEN 0 AND 1000000 AND paneltempc BETWEEN -60 AND 120 AND irradiancewm2 BETWEEN 0 AND 2000
      AND status IN ('OK', 'DEGRADED', 'FAULT_GRID', 'FAULT_OVERTEMP', 'FAULT_ISOLATION', 'FAULT_ARC')`,
};

const UNICORN: Fleet = {
  profile: 'unicorn',
  table: 'unicorn_raw',
  device: 'name',
  columns: 'name, statustime, latitude, longitude, distance, healthpoints, magicpoints',
  // The workshop's `2017-06-02 18:43:04.123` is UTC without a zone; ISO-8601 with a zone is accepted too.
  eventTime: `TRY(from_iso8601_timestamp(CASE WHEN strpos(statustime, 'T') > 0 THEN statustime ELSE replace(statustime, ' ', 'T') || 'Z' END))`,
  messageKey: 'statustime',
  valid: `length(name) BETWEEN 1 AND 64 AND latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180
      AND distance BETWEEN 0 AND 1000000 AND healthpoints BETWEEN -32768 AND 32767 AND magicpoints BETWEEN -32768 AND 32767`,
};

/**
 * `readings` (in range) and `dedup` (one row per message) CTEs. `validate` applies the aggregator's
 * field checks (every column): the consistency check needs them; trends, spikes and gaps skip them so
 * that a Parquet archive is read only for the columns they use.
 */
function dedupCtes(f: Fleet, copyKey: string, validate = false): string {
  return `WITH readings AS (
  SELECT ${f.columns}, ${f.eventTime} AS event_time, year, month, day, hour
  FROM ${f.table}
  WHERE ${partitionFilter()}
    AND ('{{device}}' = '' OR ${f.device} = '{{device}}')
),
dedup AS (
  SELECT * FROM (
    SELECT r.*, ROW_NUMBER() OVER (PARTITION BY ${copyKey} ORDER BY year, month, day, hour) AS copy_rank
    FROM readings r
    WHERE event_time IS NOT NULL AND ${EVENT_RANGE}${validate ? `\n      AND ${f.valid}` : ''}
  ) AS numbered
  WHERE copy_rank = 1
)`;
}

const byMessage = (f: Fleet) =>
  f.profile === 'solar' ? `${f.device}, ${f.messageKey}` : `${f.device}, to_unixtime(event_time)`;

function deduplicated(f: Fleet): NamedQuerySpec {
  return {
    name: `${f.profile}-deduplicated`,
    description: `${f.profile} readings with retry copies removed (one row per ${f.profile === 'solar' ? 'panelid + seq' : 'name + StatusTime'}), in event-time order.`,
    sql: `${dedupCtes(f, byMessage(f), true)}
SELECT ${f.columns}, event_time
FROM dedup
ORDER BY ${f.device}, event_time`,
    params: [...RANGE_PARAMS, DEVICE_PARAM],
  };
}

function perMinute(f: Fleet): NamedQuerySpec {
  // The aggregator's identity: device + minute of event time + event id (seq for panels, the instant for unicorns).
  const copyKey =
    f.profile === 'solar'
      ? `${f.device}, date_trunc('minute', event_time), seq`
      : `${f.device}, to_unixtime(event_time)`;
  const metrics =
    f.profile === 'solar'
      ? `sum(energywh) AS "EnergyWh",
  min(acpowerw) AS "MinPowerW",
  max(acpowerw) AS "MaxPowerW",
  avg(acpowerw) AS "MeanPowerW",
  max(paneltempc) AS "MaxPanelTempC",
  count_if(status <> 'OK') AS "FaultCount",`
      : `sum(distance) AS "Distance",
  min(magicpoints) AS "MinMagicPoints",
  max(magicpoints) AS "MaxMagicPoints",
  min(healthpoints) AS "MinHealthPoints",
  max(healthpoints) AS "MaxHealthPoints",`;
  return {
    name: `${f.profile}-per-minute`,
    description: `Per-minute aggregates recomputed from the raw archive, with the aggregates table's keys and attributes (Name, StatusTime = minute start): compare with DynamoDB to check the pipeline.`,
    sql: `${dedupCtes(f, copyKey, true)}
SELECT ${f.device} AS "Name",
  to_iso8601(date_trunc('minute', event_time)) AS "StatusTime",
  ${metrics}
  count(*) AS "RecordCount"
FROM dedup
GROUP BY ${f.device}, date_trunc('minute', event_time)
ORDER BY 1, 2`,
    params: [...RANGE_PARAMS, DEVICE_PARAM],
  };
}

const GRANULARITY: Param = { name: 'granularity', description: 'hour, day, week or month', default: 'hour' };

function deviceTrends(f: Fleet): NamedQuerySpec {
  const metrics =
    f.profile === 'solar'
      ? `sum(energywh) AS energy_wh, avg(acpowerw) AS mean_power_w, max(acpowerw) AS max_power_w,
  max(paneltempc) AS max_panel_temp_c, count_if(status <> 'OK') AS fault_readings`
      : `sum(distance) AS distance, min(healthpoints) AS min_health_points, min(magicpoints) AS min_magic_points`;
  return {
    name: `${f.profile}-device-trends`,
    description: `Per device and ${GRANULARITY.description} of event time: ${f.profile === 'solar' ? 'energy, power and faults' : 'distance and vital signs'}.`,
    sql: `${dedupCtes(f, byMessage(f))}
SELECT ${f.device} AS device, date_trunc('{{granularity}}', event_time) AS period,
  ${metrics},
  count(*) AS readings
FROM dedup
GROUP BY ${f.device}, date_trunc('{{granularity}}', event_time)
ORDER BY device, period`,
    params: [...RANGE_PARAMS, DEVICE_PARAM, GRANULARITY],
  };
}

function fleetTrends(f: Fleet): NamedQuerySpec {
  const metrics =
    f.profile === 'solar'
      ? `sum(energywh) / 1000 AS energy_kwh, max(acpowerw) AS max_power_w, count_if(status <> 'OK') AS fault_readings`
      : `sum(distance) AS distance, avg(healthpoints) AS mean_health_points, avg(magicpoints) AS mean_magic_points`;
  return {
    name: `${f.profile}-fleet-trends`,
    description: `The whole fleet per hour, day, week or month of event time: ${f.profile === 'solar' ? 'energy' : 'distance'}, devices reporting, readings.`,
    sql: `${dedupCtes(f, byMessage(f))}
SELECT date_trunc('{{granularity}}', event_time) AS period,
  ${metrics},
  count(DISTINCT ${f.device}) AS devices_reporting,
  count(*) AS readings
FROM dedup
GROUP BY date_trunc('{{granularity}}', event_time)
ORDER BY period`,
    params: [...RANGE_PARAMS, DEVICE_PARAM, GRANULARITY],
  };
}

function spikes(f: Fleet, metric: string, minScale: string): NamedQuerySpec {
  const window = `PARTITION BY ${f.device} ORDER BY event_time ROWS BETWEEN {{window}} PRECEDING AND 1 PRECEDING`;
  const normal = f.profile === 'solar' ? `status = 'OK'` : 'true';
  return {
    name: `${f.profile}-spikes`,
    description: `Upward spikes of ${metric}: readings far above both the device's own recent baseline and the reading after it (a step change or a sunrise is not a spike), value - median > threshold x max(1.4826 x MAD, min_scale), median and MAD over the previous {{window}} readings.${f.profile === 'solar' ? ' Fault readings (status <> OK) are left out of the baseline; FaultCount reports them.' : ''}`,
    sql: `${dedupCtes(f, byMessage(f))},
baseline AS (
  SELECT ${f.device} AS device, event_time, ${metric} AS value,
    approx_percentile(${metric}, 0.5) OVER (${window}) AS median,
    count(*) OVER (${window}) AS history,
    lead(${metric}) OVER (PARTITION BY ${f.device} ORDER BY event_time) AS next_value
  FROM dedup
  WHERE ${normal}
),
scored AS (
  SELECT b.*, approx_percentile(abs(value - median), 0.5) OVER (PARTITION BY device ORDER BY event_time ROWS BETWEEN {{window}} PRECEDING AND 1 PRECEDING) AS mad
  FROM baseline b
)
SELECT device, event_time, value, median, mad,
  (value - median) / greatest(1.4826 * coalesce(mad, 0), {{min_scale}}) AS score
FROM scored
WHERE history >= 1 AND next_value IS NOT NULL
  AND value - median > {{threshold}} * greatest(1.4826 * coalesce(mad, 0), {{min_scale}})
  AND value - next_value > {{threshold}} * greatest(1.4826 * coalesce(mad, 0), {{min_scale}})
ORDER BY device, event_time`,
    params: [
      ...RANGE_PARAMS,
      DEVICE_PARAM,
      { name: 'threshold', description: 'How many robust standard deviations make a spike', default: '6' },
      { name: 'window', description: 'Trailing readings in the baseline', default: '12' },
      {
        name: 'min_scale',
        description: `Smallest deviation scale, in ${metric} units (flat series have MAD 0)`,
        default: minScale,
      },
    ],
  };
}

function gaps(f: Fleet, defaultSilence: string): NamedQuerySpec {
  return {
    name: `${f.profile}-gaps`,
    description: `Devices silent for longer than max_silence_seconds: from the last reading before the silence to the first after it (silent_until is NULL when the device had not come back by the fleet's last reading).`,
    sql: `${dedupCtes(f, byMessage(f))},
timeline AS (
  SELECT ${f.device} AS device, event_time,
    lag(event_time) OVER (PARTITION BY ${f.device} ORDER BY event_time) AS previous_time
  FROM dedup
),
last_seen AS (
  SELECT device, max(event_time) AS last_time FROM timeline GROUP BY device
),
fleet_end AS (
  SELECT max(event_time) AS end_time FROM timeline
)
SELECT device, previous_time AS silent_from, event_time AS silent_until,
  date_diff('second', previous_time, event_time) AS silent_seconds
FROM timeline
WHERE previous_time IS NOT NULL AND date_diff('second', previous_time, event_time) > {{max_silence_seconds}}
UNION ALL
SELECT device, last_time AS silent_from, CAST(NULL AS timestamp(3) with time zone) AS silent_until,
  date_diff('second', last_time, end_time) AS silent_seconds
FROM last_seen CROSS JOIN fleet_end
WHERE date_diff('second', last_time, end_time) > {{max_silence_seconds}}
ORDER BY device, silent_from`,
    params: [
      ...RANGE_PARAMS,
      DEVICE_PARAM,
      {
        name: 'max_silence_seconds',
        description: 'Longest normal time between two readings of a device',
        default: defaultSilence,
      },
    ],
  };
}

function duplicates(f: Fleet): NamedQuerySpec {
  const message = f.profile === 'solar' ? f.messageKey : 'statustime';
  return {
    name: `${f.profile}-duplicates`,
    description: `Copies per message, per device: messages, raw records, extra copies (what the retry bug costs in Kinesis, Firehose and S3), mean and max copies.`,
    sql: `WITH copies AS (
  SELECT ${f.device} AS device, ${message} AS message, count(*) AS copies
  FROM ${f.table}
  WHERE ${partitionFilter()}
    AND ('{{device}}' = '' OR ${f.device} = '{{device}}')
  GROUP BY ${f.device}, ${message}
)
SELECT device, count(*) AS messages, sum(copies) AS records, sum(copies) - count(*) AS extra_copies,
  avg(copies) AS mean_copies, max(copies) AS max_copies
FROM copies
GROUP BY device
ORDER BY extra_copies DESC, device`,
    params: [...RANGE_PARAMS.map((p) => (p.name === 'slack_hours' ? { ...p, default: '0' } : p)), DEVICE_PARAM],
  };
}

function copiesHistogram(f: Fleet): NamedQuerySpec {
  const message = f.profile === 'solar' ? f.messageKey : 'statustime';
  return {
    name: `${f.profile}-copies-histogram`,
    description: 'How many messages arrived once, twice, ... (the distribution of retry copies over the fleet).',
    sql: `WITH copies AS (
  SELECT ${f.device}, ${message}, count(*) AS copies
  FROM ${f.table}
  WHERE ${partitionFilter()}
    AND ('{{device}}' = '' OR ${f.device} = '{{device}}')
  GROUP BY ${f.device}, ${message}
)
SELECT copies, count(*) AS messages, sum(copies) AS records
FROM copies
GROUP BY copies
ORDER BY copies`,
    params: [...RANGE_PARAMS.map((p) => (p.name === 'slack_hours' ? { ...p, default: '0' } : p)), DEVICE_PARAM],
  };
}

const quarantineReasons: NamedQuerySpec = {
  name: 'quarantine-reasons',
  description: 'Records the aggregator rejected, by reason and day of arrival.',
  sql: `SELECT reason, year, month, day, count(*) AS records, min(arrivaltime) AS first_arrival, max(arrivaltime) AS last_arrival
FROM quarantine
WHERE ${partitionFilter(false)}
GROUP BY reason, year, month, day
ORDER BY year, month, day, records DESC`,
  params: RANGE_PARAMS.map((p) => (p.name === 'slack_hours' ? { ...p, default: '0' } : p)),
};

export const NAMED_QUERIES: readonly NamedQuerySpec[] = [
  deduplicated(SOLAR),
  deduplicated(UNICORN),
  perMinute(SOLAR),
  perMinute(UNICORN),
  deviceTrends(SOLAR),
  fleetTrends(SOLAR),
  deviceTrends(UNICORN),
  fleetTrends(UNICORN),
  spikes(SOLAR, 'acpowerw', '150'),
  spikes(UNICORN, 'distance', '1'),
  gaps(SOLAR, '900'),
  gaps(UNICORN, '5'),
  duplicates(SOLAR),
  copiesHistogram(SOLAR),
  duplicates(UNICORN),
  copiesHistogram(UNICORN),
  quarantineReasons,
];
