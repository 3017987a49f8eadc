import { REGISTRY_TABLE } from './registry-table';

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
function dedupCtes(f: Fleet, copyKey: string, validate = false, filterDevice = true): string {
  return `WITH readings AS (
  SELECT ${f.columns}, ${f.eventTime} AS event_time, year, month, day, hour
  FROM ${f.table}
  WHERE ${partitionFilter()}${
    filterDevice
      ? `
    AND ('{{device}}' = '' OR ${f.device} = '{{device}}')`
      : ''
  }
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

/**
 * The `device` parameter where a query compares a panel with its site: applied to the output, so the
 * site's other panels still make the reference (Athena scans the same bytes either way: partitions are
 * by time, not by device).
 */
const ONE_DEVICE = `('{{device}}' = '' OR device = '{{device}}')`;

/** The device registry's Glue table (site, position, rated power per panel): lib/simulator/device-registry.ts. */
const REGISTRY = REGISTRY_TABLE;

/**
 * Solar spikes judged against what the panel could produce at that moment, not against the spread of its
 * own power (which clouds make wide). Each OK reading is checked, in this order, against:
 * 1. `power_without_irradiance`: power while the irradiance sensor sees no light to convert;
 * 2. `above_rated_power`: more than the registry's DC nameplate (AC never exceeds it by much);
 * 3. `above_irradiance_limit`: more than the nameplate could make from the measured irradiance
 *    (rated x G/1000 x limit_factor: a cold, new, clean panel stays below it);
 * 4. `ratio_jump`: power per irradiance far above the panel's own recent ratio (its 75th percentile
 *    over the {{window}} lit readings before and after), or, with too little history, the site's ratio
 *    in the same hour per rated watt. Weather moves power and irradiance together, so clearings and
 *    passing clouds keep the ratio; a glitch moves power alone.
 */
function solarSpikes(f: Fleet): NamedQuerySpec {
  const around = `PARTITION BY device ORDER BY event_time ROWS BETWEEN {{window}} PRECEDING AND {{window}} FOLLOWING`;
  return {
    name: `${f.profile}-spikes`,
    description: `Power readings the panel could not have produced: power without irradiance, above the rated power, above what the measured irradiance allows, or a jump of power per irradiance against the panel's own recent ratio (or its site's in the same hour). Each finding has the expected power and the reason. Joins ${REGISTRY} for site and rated power (panels missing from it get the irradiance-ratio checks only). Fault readings (status <> OK) are left out.`,
    sql: `${dedupCtes(f, byMessage(f), false, false)},
checked AS (
  SELECT d.${f.device} AS device, r.site, r.ratedpowerw AS rated_w, d.event_time, d.acpowerw AS value,
    d.irradiancewm2 AS irradiance,
    CASE WHEN d.irradiancewm2 >= {{min_irradiance}} THEN d.acpowerw / d.irradiancewm2 END AS ratio
  FROM dedup d
  LEFT JOIN ${REGISTRY} r ON r.panelid = d.${f.device}
  WHERE d.status = 'OK'
),
site_hour AS (
  SELECT site, date_trunc('hour', event_time) AS hour_start,
    approx_percentile(ratio / rated_w, 0.75) AS ratio_per_rated_w, count(*) AS readings
  FROM checked
  WHERE ratio IS NOT NULL AND rated_w > 0
  GROUP BY site, date_trunc('hour', event_time)
),
lit AS (
  SELECT device, event_time,
    approx_percentile(ratio, 0.75) OVER (${around}) AS own_ratio,
    count(*) OVER (${around}) AS history
  FROM checked
  WHERE ratio IS NOT NULL
),
judged AS (
  SELECT c.device, c.site, c.rated_w, c.event_time, c.value, c.irradiance,
    CASE WHEN l.history >= 5 THEN l.own_ratio ELSE s.ratio_per_rated_w * c.rated_w END AS ref_ratio
  FROM checked c
  LEFT JOIN lit l ON l.device = c.device AND l.event_time = c.event_time
  LEFT JOIN site_hour s ON s.site = c.site AND s.hour_start = date_trunc('hour', c.event_time) AND s.readings >= 3
),
found AS (
  SELECT j.*,
    CASE
      WHEN irradiance < {{dark_irradiance}} AND value > greatest({{min_excess_w}}, 0.02 * coalesce(rated_w, 0)) THEN 'power_without_irradiance'
      WHEN value > {{rated_factor}} * rated_w THEN 'above_rated_power'
      WHEN value > rated_w * irradiance / 1000 * {{limit_factor}} + {{min_excess_w}} THEN 'above_irradiance_limit'
      WHEN irradiance >= {{min_irradiance}} AND value > {{jump}} * ref_ratio * irradiance + {{min_excess_w}} THEN 'ratio_jump'
    END AS reason
  FROM judged j
)
SELECT device, site, event_time, value,
  round(CASE WHEN irradiance < {{dark_irradiance}} THEN 0
    ELSE least(coalesce(ref_ratio * irradiance, rated_w * irradiance / 1000 * 0.8), coalesce(rated_w, 1e9)) END, 1) AS expected,
  reason, irradiance, rated_w,
  round(value - CASE WHEN irradiance < {{dark_irradiance}} THEN 0
    ELSE least(coalesce(ref_ratio * irradiance, rated_w * irradiance / 1000 * 0.8), coalesce(rated_w, 1e9)) END, 1) AS excess_w
FROM found
WHERE reason IS NOT NULL AND ${ONE_DEVICE}
ORDER BY device, event_time`,
    params: [
      ...RANGE_PARAMS,
      DEVICE_PARAM,
      {
        name: 'window',
        description: "Lit readings before and after each one in the panel's own ratio baseline",
        default: '12',
      },
      {
        name: 'jump',
        description: 'Power per irradiance this many times the baseline ratio is a spike',
        default: '1.5',
      },
      {
        name: 'min_irradiance',
        description: 'W/m² below which power per irradiance is too noisy to judge (dawn, dusk)',
        default: '50',
      },
      {
        name: 'dark_irradiance',
        description: 'W/m² below which a panel makes no power (inverter asleep)',
        default: '10',
      },
      { name: 'min_excess_w', description: 'Smallest excess over the expected power that counts, W', default: '50' },
      {
        name: 'rated_factor',
        description: 'Power above this multiple of the DC nameplate is impossible',
        default: '1.1',
      },
      {
        name: 'limit_factor',
        description: 'Most a panel makes per rated W per 1000 W/m² (cold, new, clean cells)',
        default: '1.2',
      },
    ],
  };
}

/**
 * Daily performance ratio per panel (energy / (rated power x insolation)), against its site's reference for
 * the same day: the {{reference_quantile}} quantile of the site's panels (the fleet's where fewer than 4
 * site panels report), i.e. what the site's well-kept panels did. Weather, temperature and site-wide dust
 * cancel, what is left is the panel; a high quantile rather than the median keeps the reference clean
 * when many of a site's panels are dusty or degrading at once. Days are local solar days (UTC shifted by
 * longitude), so a day's energy is one daylight period everywhere. Days with downtime (a fault status, an
 * outage longer than {{max_silence_seconds}}) are left out, as operators' availability filters do: their
 * loss is already in the fault and gap reports.
 */
function dailyPerformanceCtes(f: Fleet): string {
  return `${dedupCtes(f, byMessage(f), false, false)},
stepped AS (
  SELECT ${f.device} AS device, event_time, energywh, irradiancewm2, status,
    lag(irradiancewm2) OVER (PARTITION BY ${f.device} ORDER BY event_time) AS previous_irradiance,
    lag(event_time) OVER (PARTITION BY ${f.device} ORDER BY event_time) AS previous_time
  FROM dedup
),
panel_day AS (
  SELECT s.device, r.site, r.ratedpowerw AS rated_w,
    date(from_unixtime(to_unixtime(s.event_time) + r.longitude * 240)) AS day,
    sum(s.energywh) AS energy_wh,
    sum(CASE WHEN s.previous_time IS NULL THEN 0
      ELSE (s.irradiancewm2 + s.previous_irradiance) / 2 * date_diff('second', s.previous_time, s.event_time) / 3600 END) / 1000 AS insolation_kwh_m2,
    count(*) AS readings,
    count_if(s.status <> 'OK') AS fault_readings,
    max(date_diff('second', s.previous_time, s.event_time)) AS longest_silence_s
  FROM stepped s
  JOIN ${REGISTRY} r ON r.panelid = s.device
  WHERE r.ratedpowerw > 0
  GROUP BY s.device, r.site, r.ratedpowerw, date(from_unixtime(to_unixtime(s.event_time) + r.longitude * 240))
),
rated_day AS (
  SELECT p.*, energy_wh / (rated_w * insolation_kwh_m2) AS pr
  FROM panel_day p
  WHERE insolation_kwh_m2 >= {{min_insolation}} AND fault_readings = 0 AND longest_silence_s <= {{max_silence_seconds}}
),
medians AS (
  SELECT r.*,
    approx_percentile(pr, {{reference_quantile}}) OVER (PARTITION BY site, day) AS site_pr,
    count(*) OVER (PARTITION BY site, day) AS site_panels,
    approx_percentile(pr, {{reference_quantile}}) OVER (PARTITION BY day) AS fleet_pr
  FROM rated_day r
),
relative AS (
  SELECT m.*, CASE WHEN site_panels >= 4 THEN site_pr ELSE fleet_pr END AS reference_pr,
    pr / CASE WHEN site_panels >= 4 THEN site_pr ELSE fleet_pr END AS relative_pr
  FROM medians m
)`;
}

const DAILY_PARAMS: readonly Param[] = [
  {
    name: 'max_silence_seconds',
    description:
      'Days with a fault reading or an outage longer than this are left out (their loss is downtime, not performance)',
    default: '7200',
  },
  {
    name: 'min_insolation',
    description: 'Days with less plane-of-array insolation than this (kWh/m²) are too dark to judge',
    default: '1',
  },
  {
    name: 'reference_quantile',
    description: "Quantile of the site's daily performance ratios used as the reference (0.5 = median)",
    default: '0.8',
  },
];

function performanceRatio(f: Fleet): NamedQuerySpec {
  return {
    name: `${f.profile}-performance-ratio`,
    description: `Each panel's daily performance ratio (energy / (rated power x insolation)) next to its site's reference for the same local solar day (a high quantile of the site's panels; the fleet's when fewer than 4 site panels report), and the ratio of the two: the series the underperformance report reads.`,
    sql: `${dailyPerformanceCtes(f)}
SELECT device, site, day, round(energy_wh, 1) AS energy_wh, round(insolation_kwh_m2, 3) AS insolation_kwh_m2,
  round(pr, 4) AS performance_ratio, round(reference_pr, 4) AS reference_pr, round(relative_pr, 4) AS relative_pr, readings
FROM relative
WHERE ${ONE_DEVICE}
ORDER BY device, day`,
    params: [...RANGE_PARAMS, DEVICE_PARAM, ...DAILY_PARAMS],
  };
}

/**
 * Underperformance trends from the relative daily performance ratio (see dailyPerformanceCtes):
 * - `step_down`: the median of the 5 days from a day on is at least {{min_step}} below the median of the
 *   5 days before (a dead or newly shaded string: the loss appears from one day to the next; medians of 5
 *   ignore a day or two lost to a fault or an outage);
 * - `soiling`: a rise of at least {{min_reset}} (a cleaning, or rain) after a gradual decline (the median of
 *   days -16..-10 above the 5 days before the rise by half the rise, or 3 points): dust builds up slowly
 *   and goes at once.
 * Each event is dated by the sharpest change between two judged days within 3 of where the 5-day medians
 * differ: `start_day` is the last day on the old level, `end_day` the first on the new one (days between them
 * were left out for downtime, or the change fell in the night between them).
 * - `degradation`: over the whole range (at least 30 days), a least-squares slope of at most
 *   -{{min_degradation_pct_per_month}} % per 30 days, on a panel with neither of the others.
 */
function underperformance(f: Fleet): NamedQuerySpec {
  const by = (frame: string) => `OVER (PARTITION BY device ORDER BY day ROWS BETWEEN ${frame})`;
  return {
    name: `${f.profile}-underperformance`,
    description: `Underperformance an operator acts on, per panel, from its daily performance ratio relative to its site's well-kept panels: a step down (dead or shaded string), soiling (slow decline, then a reset by a cleaning or rain), degradation (a steady slope over the range). Loss in percent, with the days it applies to.`,
    sql: `${dailyPerformanceCtes(f)},
windows AS (
  SELECT device, site, day, relative_pr,
    relative_pr - lag(relative_pr) OVER (PARTITION BY device ORDER BY day) AS day_change,
    lag(day) OVER (PARTITION BY device ORDER BY day) AS previous_day,
    approx_percentile(relative_pr, 0.5) ${by('5 PRECEDING AND 1 PRECEDING')} AS before_pr,
    count(*) ${by('5 PRECEDING AND 1 PRECEDING')} AS before_days,
    approx_percentile(relative_pr, 0.5) ${by('CURRENT ROW AND 4 FOLLOWING')} AS after_pr,
    count(*) ${by('CURRENT ROW AND 4 FOLLOWING')} AS after_days,
    approx_percentile(relative_pr, 0.5) ${by('16 PRECEDING AND 10 PRECEDING')} AS earlier_pr
  FROM relative
),
extremes AS (
  SELECT w.*, after_pr - before_pr AS jump,
    max(day_change) ${by('3 PRECEDING AND 3 FOLLOWING')} AS sharpest_rise,
    min(day_change) ${by('3 PRECEDING AND 3 FOLLOWING')} AS sharpest_fall
  FROM windows w
),
jumps AS (
  SELECT * FROM extremes WHERE before_days = 5 AND after_days = 5
),
events AS (
  SELECT device, site, 'step_down' AS kind, previous_day AS start_day, day AS end_day,
    -jump * 100 AS loss_pct, before_pr, after_pr
  FROM jumps
  WHERE jump <= -{{min_step}} AND day_change = sharpest_fall
  UNION ALL
  SELECT device, site, 'soiling' AS kind, previous_day AS start_day, day AS end_day,
    jump * 100 AS loss_pct, before_pr, after_pr
  FROM jumps
  WHERE jump >= {{min_reset}} AND day_change = sharpest_rise AND earlier_pr - before_pr >= least(0.5 * jump, 0.03)
),
slopes AS (
  SELECT device, max(site) AS site, min(day) AS first_day, max(day) AS last_day,
    regr_slope(relative_pr, date_diff('day', DATE '1970-01-01', day)) AS slope_per_day,
    count(*) AS days
  FROM relative
  GROUP BY device
)
SELECT device, site, kind, start_day, end_day, round(loss_pct, 1) AS loss_pct,
  round(before_pr, 3) AS relative_pr_before, round(after_pr, 3) AS relative_pr_after
FROM events
WHERE ${ONE_DEVICE}
UNION ALL
SELECT device, site, 'degradation' AS kind, first_day AS start_day, last_day AS end_day,
  round(-slope_per_day * 30 * 100, 2) AS loss_pct, NULL AS relative_pr_before, NULL AS relative_pr_after
FROM slopes
WHERE days >= 30 AND slope_per_day * 30 * 100 <= -{{min_degradation_pct_per_month}}
  AND device NOT IN (SELECT device FROM events) AND ${ONE_DEVICE}
ORDER BY device, start_day, kind`,
    params: [
      ...RANGE_PARAMS,
      DEVICE_PARAM,
      ...DAILY_PARAMS,
      { name: 'min_step', description: 'Smallest step down of the relative ratio (0.12 = 12 %)', default: '0.12' },
      {
        name: 'min_reset',
        description: 'Smallest rise at a cleaning that counts as soiling (0.05 = 5 %)',
        default: '0.05',
      },
      {
        name: 'min_degradation_pct_per_month',
        description: 'Slowest decline reported as degradation, % of the relative ratio per 30 days',
        default: '1',
      },
    ],
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
  solarSpikes(SOLAR),
  performanceRatio(SOLAR),
  underperformance(SOLAR),
  spikes(UNICORN, 'distance', '1'),
  gaps(SOLAR, '900'),
  gaps(UNICORN, '5'),
  duplicates(SOLAR),
  copiesHistogram(SOLAR),
  duplicates(UNICORN),
  copiesHistogram(UNICORN),
  quarantineReasons,
];
