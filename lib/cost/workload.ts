import { CostInputError } from './errors';

/** Seconds in a 730-hour month, the month AWS prices use. */
export const MONTH_SECONDS = 730 * 3600;
const YEAR_SECONDS = 8760 * 3600;

/**
 * The traffic a deployment carries: how many devices, how often each reads, how many times the firmware
 * sends each reading, how big a record is, and how the archive is queried. What each reading then costs
 * on the data path (records, write units, ...) is a PathCounts (lib/cost/path-counts.ts), estimated from
 * the design or measured in an embedded run.
 */
export interface Workload {
  readonly name: string;
  readonly description: string;
  /** The fleet's device profile (lib/core/profiles): how its listing follows the flushes. */
  readonly profile: 'solar' | 'unicorn';
  readonly devices: number;
  /** Seconds between two readings of one device. */
  readonly intervalSeconds: number;
  /** Extra identical copies the firmware sends of each reading (10: each reading is sent 11 times). */
  readonly copies: number;
  /** Copies dropped at the edge (the simulator's gateway mode) before they reach Kinesis. */
  readonly dedupeAtEdge: boolean;
  /** Bytes of one reading as one JSON record. */
  readonly recordBytes: number;
  /** Readings packed into one Kinesis record (KPL aggregation); 1 = one record per reading. */
  readonly readingsPerKinesisRecord: number;
  /** Fleets (Firehose partitions by profile) in the traffic. */
  readonly fleets: number;
  readonly queriesPerMonth: number;
  /** Days of archive one query reads (partition projection prunes the rest). */
  readonly queryDays: number;
  /** Bytes of one per-minute aggregates item and one device-state item (docs/architecture.md). */
  readonly aggregateItemBytes: number;
  readonly stateItemBytes: number;
  /** Raw JSON bytes per archived byte (GZIP JSON: ~8, docs/deploy.md). */
  readonly archiveCompressionRatio: number;
}

export type WorkloadFlags = Partial<
  Pick<
    Workload,
    | 'devices'
    | 'intervalSeconds'
    | 'copies'
    | 'dedupeAtEdge'
    | 'recordBytes'
    | 'readingsPerKinesisRecord'
    | 'queriesPerMonth'
    | 'queryDays'
  >
>;

const SOLAR_DEVICES = 30_000;
const SOLAR_READINGS_PER_YEAR = 1e9;
const SOLAR_COPIES = 10;

const solarBase = {
  profile: 'solar' as const,
  devices: SOLAR_DEVICES,
  copies: SOLAR_COPIES,
  dedupeAtEdge: false,
  recordBytes: 200,
  readingsPerKinesisRecord: 1,
  fleets: 1,
  queriesPerMonth: 100,
  queryDays: 1,
  // A solar minute item as lib/storage/dynamo-aggregate-store.ts writes it, its latest reading included
  // (182 bytes of metrics and bookkeeping + 198 of LastEventTime/LastEventId/Status/StateAt/Reading).
  aggregateItemBytes: 380,
  stateItemBytes: 250,
  archiveCompressionRatio: 8,
};

export const WORKLOADS: Readonly<Record<string, Workload>> = {
  'solar-fleet': {
    ...solarBase,
    name: 'solar-fleet',
    description: '30,000 panels, 1 billion unique readings a year of ~200 bytes, each sent 11 times by the retry bug',
    intervalSeconds: (SOLAR_DEVICES * YEAR_SECONDS) / SOLAR_READINGS_PER_YEAR,
  },
  'solar-fleet-as-sent': {
    ...solarBase,
    name: 'solar-fleet-as-sent',
    description: '30,000 panels, 1 billion records a year as sent, copies included (~91 M unique readings)',
    intervalSeconds: (SOLAR_DEVICES * YEAR_SECONDS * (1 + SOLAR_COPIES)) / SOLAR_READINGS_PER_YEAR,
  },
  workshop: {
    name: 'workshop',
    description: 'the Wild Rydes workshop: 5 unicorns, 1 record/s each, no copies, 166-byte records',
    profile: 'unicorn',
    devices: 5,
    intervalSeconds: 1,
    copies: 0,
    dedupeAtEdge: false,
    recordBytes: 166,
    readingsPerKinesisRecord: 1,
    fleets: 1,
    queriesPerMonth: 100,
    queryDays: 1,
    aggregateItemBytes: 450,
    stateItemBytes: 250,
    archiveCompressionRatio: 8,
  },
};

export function workload(name: string, flags: WorkloadFlags = {}): Workload {
  const base = WORKLOADS[name];
  if (!base) {
    throw new CostInputError(`unknown workload "${name}": choose one of ${Object.keys(WORKLOADS).join(', ')}.`);
  }
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const w: Workload = { ...base, ...defined };
  checkWorkload(w);
  return w;
}

function checkWorkload(w: Workload): void {
  const positive: (keyof Workload)[] = ['devices', 'intervalSeconds', 'recordBytes', 'readingsPerKinesisRecord'];
  for (const key of positive) {
    const v = w[key] as number;
    if (!Number.isFinite(v) || v <= 0) throw new CostInputError(`${flagName(key)} must be a number > 0 (got ${v}).`);
  }
  for (const key of ['copies', 'queriesPerMonth', 'queryDays'] as const) {
    const v = w[key];
    if (!Number.isFinite(v) || v < 0) throw new CostInputError(`${flagName(key)} must be a number >= 0 (got ${v}).`);
  }
}

/** The CLI flag that sets a field (bin/cost.ts), for error messages that say what to change. */
const FLAG_NAMES: Readonly<Record<string, string>> = {
  intervalSeconds: '--interval',
  readingsPerKinesisRecord: '--readings-per-record',
};
const flagName = (key: string) => FLAG_NAMES[key] ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Unique readings a month. */
export function readingsPerMonth(w: Workload): number {
  return (w.devices / w.intervalSeconds) * MONTH_SECONDS;
}

/** Records a device sends per reading (the reading and its copies, unless the edge drops them). */
export function sendsPerReading(w: Workload): number {
  return w.dedupeAtEdge ? 1 : 1 + w.copies;
}
