/**
 * The simulator's shared types: its options, progress and summary. Their own module so that the
 * pieces (timing, sinks, CLI text, progress display) and `run.ts` import them, never each other.
 */
import type { Writable } from 'node:stream';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Clock } from './clock';
import type { EdgeDedupeOptions, EdgeDedupeStats } from './edge-dedupe';
import type { AnomalyOptions, SimProfile, SolarWeather } from './generate';
import type { DelayDistribution } from './retry-bug';
import type { StreamTarget } from './target';

/** The `start` option, the seed (a seeded run without a start), or the clock (no seed). */
export type StartSource = 'start' | 'seed' | 'clock';

export interface SimulationOptions {
  readonly profiles: readonly SimProfile[];
  /** Devices per profile (one number for every profile, or per profile). @default unicorn 1, solar 100 */
  readonly devices?: number | Partial<Record<SimProfile, number>>;
  /** Unicorn names (`--name Bucephalus`): the first unicorns get these. */
  readonly names?: readonly string[];
  /** Simulated reading interval per profile. @default unicorn 1 s, solar 5 min */
  readonly intervalMs?: Partial<Record<SimProfile, number>>;
  /**
   * Unique records per wall second for the whole run, or 'max'. Sets the speed when given.
   * @default 'max' when writing to `out` without `speed` or `durationMs`; otherwise paced by `speed`
   */
  readonly rate?: number | 'max';
  /** Simulated time per wall time. @default 1 */
  readonly speed?: number;
  /** Wall-clock run time. */
  readonly durationMs?: number;
  /** Simulated span (instead of durationMs). */
  readonly simDurationMs?: number;
  /** Unique records to produce, all profiles together. */
  readonly count?: number;
  /**
   * Simulated start. @default with a seed, a minute of 2025 derived from it (see `seededStartMs`), so
   * the same options give the same bytes; without one, placed so that the last event time is the run's
   * end (never in the future)
   */
  readonly start?: Date;
  /** @default a random seed, reported in the summary */
  readonly seed?: number;
  readonly anomalies?: boolean | AnomalyOptions;
  /** Solar sky: clouds, rain and sensor noise, or the sun alone. @default 'cloudy' */
  readonly solarWeather?: SolarWeather;
  /** The retry bug: extra identical copies of every message. @default 0 */
  readonly duplicates?: number;
  /** @default 'immediate' */
  readonly delay?: DelayDistribution;
  /** Hold each message back by up to this much (simulated ms) so messages overtake each other. @default 0 */
  readonly reorderMs?: number;
  /** Edge gateway that drops the copies before Kinesis. @default false */
  readonly dedupe?: boolean | EdgeDedupeOptions;
  /** Kinesis stream to send to (one of target or out). */
  readonly target?: StreamTarget;
  /** NDJSON output instead of Kinesis: a path, or a stream such as process.stdout. */
  readonly out?: string | Writable;
  /** Write the injected anomalies (JSON array) here at the end. */
  readonly anomaliesFile?: string;
  /** Concurrent PutRecords requests. @default 4 */
  readonly maxInFlight?: number;
  /** A Kinesis client to use instead of one built from target (tests: a wrapped handler). */
  readonly client?: Pick<KinesisClient, 'send'>;
  /** Skip the DescribeStreamSummary check. @default false */
  readonly skipStreamCheck?: boolean;
  readonly progressIntervalMs?: number;
  /** Wall clock and sleeps. @default the system's (tests: a virtual clock) */
  readonly clock?: Clock;
}

/** What a run has done so far: in every progress report and in the final summary. */
export interface SimulationCounts {
  /** Unique messages generated. */
  readonly produced: number;
  readonly duplicatesInjected: number;
  readonly droppedAtEdge: number;
  /** Records accepted by Kinesis (or lines written with out). */
  readonly sent: number;
  readonly retries: number;
  readonly throttles: number;
  readonly failed: number;
  readonly elapsedMs: number;
}

export interface SimulationStats extends SimulationCounts {
  readonly phase: 'running' | 'draining' | 'flushing' | 'done';
  /** Unique records the run will produce (for "remaining"); null when open-ended. */
  readonly expected: number | null;
  readonly buffered: number;
  readonly rateLimit: number | null;
  /** Event time reached, ISO. */
  readonly simulatedTime: string | null;
}

export interface ProfileSummary {
  readonly devices: number;
  readonly intervalMs: number;
  readonly produced: number;
  readonly anomalies: number;
}

/** The run's outcome; plain JSON. */
export interface SimulationSummary extends SimulationCounts {
  readonly target: string;
  readonly seed: number;
  readonly profiles: SimProfile[];
  readonly speed: number | 'max';
  readonly simulatedStart: string;
  /** Where the start came from: the `start` option, the seed, or the clock (no seed given). */
  readonly startFrom: StartSource;
  /** False when the seed was drawn at random (give it back with the start to reproduce the run). */
  readonly seedGiven: boolean;
  readonly simulatedEnd: string | null;
  /** sent per wall second. */
  readonly sendRatePerSec: number;
  readonly interrupted: boolean;
  /** Copies still scheduled when the run was interrupted (never sent). */
  readonly copiesNotSent: number;
  readonly errors: Record<string, number>;
  readonly dedupe: EdgeDedupeStats | null;
  readonly anomalies: number;
  readonly anomaliesFile: string | null;
  readonly perProfile: Partial<Record<SimProfile, ProfileSummary>>;
  /** The solar device registry this run wrote (lib/simulator/device-registry.ts), or null. */
  readonly registry?: string | null;
}

/** What a run is about to do, before the first record: enough to reproduce it. */
export interface SimulationPlan {
  readonly seed: number;
  readonly seedGiven: boolean;
  readonly simulatedStart: string;
  readonly startFrom: StartSource;
}

export interface SimulationHooks {
  readonly signal?: AbortSignal;
  readonly onStart?: (plan: SimulationPlan) => void;
  readonly onProgress?: (stats: SimulationStats) => void;
}
