import { type CompiledProfile, compileProfile } from './compiled-profile';
import type { ValidEvent } from './decode';
import type { LatestReading, MinuteEvents } from './minute-aggregate';
import { profileByName } from './profiles';
import type { DeviceProfile } from './profiles/types';
import { minuteStart } from './time';

/** The newest reading of a device: what the device-state table holds. */
export type { LatestReading } from './minute-aggregate';

export type AddOutcome = 'added' | 'duplicate' | 'overflow';

/** 250,000 payloads of ~250 base64 chars: at most ~60 MB, referenced from the batch anyway. */
const MAX_REMEMBERED_PAYLOADS = 250_000;

/** Default cap of distinct events per device-minute (20 per second): bounds the stored id list. */
export const DEFAULT_MAX_EVENTS_PER_MINUTE = 1200;

/** Up to this many events a linear scan of `ids` beats hashing; past it a Set takes over. */
const LINEAR_SCAN_LIMIT = 64;

/** A minute's events as the arrays `MinuteEvents` describes, built when the flush or the state asks. */
interface BuiltMinute extends MinuteEvents {
  readonly ids: number[];
  readonly sums: number[];
  readonly mins: number[];
  readonly maxs: number[];
}

/**
 * One device-minute: in one array, the min metrics' values, the max metrics', then event by event its
 * id and its fixed-point sum contributions (see `CompiledProfile.fold`). One object and one array a
 * minute: ids, sums and extrema in three arrays were two more objects for every event to reach and for
 * the young-generation GC to copy (the window's objects are most of what survives a scavenge). The
 * flush and the state read a minute as `MinuteEvents` arrays, built once each (`events`).
 */
class MinuteAccumulator {
  /** Built only for crowded minutes (a unicorn minute has 60 events, a panel minute one). */
  private index: Set<number> | undefined;
  /** The largest id so far: a device's events nearly always come in order, and a larger id needs no scan. */
  private maxId = SMALLEST_SMI;
  count = 0;
  readonly data: number[] = [];

  constructor(private readonly compiled: CompiledProfile) {
    for (let i = 0; i < compiled.minFns.length; i++) this.data.push(Number.POSITIVE_INFINITY);
    for (let i = 0; i < compiled.maxFns.length; i++) this.data.push(Number.NEGATIVE_INFINITY);
  }

  has(id: number): boolean {
    if (id > this.maxId) return false;
    if (this.index !== undefined) return this.index.has(id);
    const { data, count } = this;
    const stride = 1 + this.compiled.sumFns.length;
    for (let i = 0, at = this.compiled.extremaCount; i < count; i++, at += stride) if (data[at] === id) return true;
    return false;
  }

  /** Appends an event's id; its sums follow (`fold`, or a restored state's). */
  push(id: number): void {
    this.data.push(id);
    this.count++;
    if (id > this.maxId) this.maxId = id;
    if (this.index !== undefined) this.index.add(id);
    else if (this.count > LINEAR_SCAN_LIMIT) this.index = new Set(this.events().ids);
  }

  events(): BuiltMinute {
    const { data, count, compiled } = this;
    const sumCount = compiled.sumFns.length;
    const extremaCount = compiled.extremaCount;
    const ids: number[] = [];
    const sums: number[] = [];
    for (let i = 0, at = extremaCount; i < count; i++, at += 1 + sumCount) {
      ids.push(data[at]);
      for (let j = 1; j <= sumCount; j++) sums.push(data[at + j]);
    }
    const minCount = compiled.minFns.length;
    return { ids, sums, mins: data.slice(0, minCount), maxs: data.slice(minCount, extremaCount) };
  }
}

/**
 * The smallest small integer: V8 keeps a field of small integers in the object, while a field that
 * held a double is a separate heap box (one more object per field to reach, and for the GC to copy).
 */
const SMALLEST_SMI = -(2 ** 30);

/**
 * A device's minutes are kept by number (`start / 60,000`), and its newest event's time as its minute
 * number and its milliseconds in the minute: small integers, for the reason above.
 */
class DeviceAccumulator {
  constructor(readonly deviceId: string) {}

  /** The device's first minute in the window; the others are in `more`, made for the second. */
  private firstNumber = SMALLEST_SMI;
  private first: MinuteAccumulator | undefined;
  private more: Map<number, MinuteAccumulator> | undefined;
  /** The minute of the device's previous event: its next event is nearly always in it (no lookup). */
  lastNumber = SMALLEST_SMI;
  lastMinute: MinuteAccumulator | undefined;
  /** Newest event (time and id); its reading and status are derived only when asked, off the per-record path. */
  private latestNumber = SMALLEST_SMI;
  private latestOffset = 0;
  latestId = 0;
  latestRecord: unknown;
  restoredLatest: LatestReading | undefined;

  get latestTimeMs(): number {
    return this.latestNumber * 60_000 + this.latestOffset;
  }

  /** Keeps the event at minute `number`, `offset` ms into it, with this id, when it is the newest yet. */
  keepIfNewest(number: number, offset: number, id: number, record: unknown): void {
    if (
      (this.latestRecord === undefined && this.restoredLatest === undefined) ||
      number > this.latestNumber ||
      (number === this.latestNumber &&
        (offset > this.latestOffset || (offset === this.latestOffset && id > this.latestId)))
    ) {
      this.latestNumber = number;
      this.latestOffset = offset;
      this.latestId = id;
      this.latestRecord = record;
    }
  }

  minute(number: number): MinuteAccumulator | undefined {
    return number === this.firstNumber ? this.first : this.more?.get(number);
  }

  /** Adds a minute that `minute(number)` does not hold. */
  addMinute(number: number, minute: MinuteAccumulator): void {
    if (this.first === undefined) {
      this.firstNumber = number;
      this.first = minute;
    } else {
      this.more ??= new Map();
      this.more.set(number, minute);
    }
  }

  /** The minutes (start in epoch ms, events) in the order they were added. */
  *minutes(): IterableIterator<[number, MinuteAccumulator]> {
    if (this.first !== undefined) yield [this.firstNumber * 60_000, this.first];
    if (this.more !== undefined) for (const [number, minute] of this.more) yield [number * 60_000, minute];
  }

  /** Sets the newest event from a restored state (its reading as the state carried it). */
  restoreLatest(latest: LatestReading): void {
    const start = minuteStart(latest.eventTimeMs);
    this.latestNumber = start / 60_000;
    this.latestOffset = latest.eventTimeMs - start;
    this.latestId = latest.eventId;
    this.restoredLatest = latest;
  }

  latest(profile: DeviceProfile): LatestReading | undefined {
    if (this.latestRecord === undefined) return this.restoredLatest;
    const r = this.latestRecord;
    return {
      eventTimeMs: this.latestTimeMs,
      eventId: this.latestId,
      status: profile.status(r),
      reading: profile.reading(r),
    };
  }
}

interface ProfileAccumulator {
  readonly compiled: CompiledProfile;
  /** In first-seen order, for iteration and restore. */
  readonly devices: Map<string, DeviceAccumulator>;
  /** The same devices for the per-event lookup (see `DeviceIndex`). */
  readonly index: DeviceIndex;
}

/** One device-minute of a window, as handed to the flush. */
export interface WindowMinute {
  readonly compiled: CompiledProfile;
  readonly deviceId: string;
  readonly minuteStartMs: number;
  readonly events: MinuteEvents;
}

export interface WindowDevice {
  readonly compiled: CompiledProfile;
  readonly deviceId: string;
  readonly latest: LatestReading;
}

/**
 * The deduplicated events of one tumbling window (or one batch), per device per minute of event time,
 * plus each device's latest reading. Serialises to a compact JSON state that Lambda carries between
 * the invocations of a window (limit 1 MB per shard): see `toState` and `estimatedStateBytes`.
 */
export class EventWindow {
  private readonly byProfile = new Map<DeviceProfile, ProfileAccumulator>();
  private events = 0;
  private minutesCount = 0;
  private stateBytes = 64;
  /**
   * Payloads already accepted in this window, byte for byte. The firmware's retries are identical
   * copies (and a retried PutRecords repeats a whole KPL aggregate), so most copies are recognised here
   * without being parsed again. Not part of the serialised state (copies after a restore take the
   * normal path) and capped to bound memory. Keyed by the caller's fingerprint of the bytes (an
   * integer key; a hit is confirmed on the whole string). A fingerprint held by another payload only
   * means the copy takes the normal path.
   */
  private readonly acceptedPayloads = new FingerprintTable();
  private lastProfile: DeviceProfile | undefined;
  private lastAccumulator: ProfileAccumulator | undefined;

  constructor(private readonly maxEventsPerMinute = DEFAULT_MAX_EVENTS_PER_MINUTE) {}

  get eventCount(): number {
    return this.events;
  }

  get minuteCount(): number {
    return this.minutesCount;
  }

  /** An upper estimate of `JSON.stringify(toState())` length, kept without serialising. */
  get estimatedStateBytes(): number {
    return this.stateBytes;
  }

  /**
   * How many readings exactly these bytes (base64, with their fingerprint) carried when they were
   * accepted before in this window (1 for a plain record, the user-record count of an aggregate), or
   * 0: not a known copy.
   */
  knownPayload(fingerprint: number, data: string): number {
    const entry = this.acceptedPayloads.get(fingerprint);
    if (entry === undefined) return 0;
    if (typeof entry === 'string') return entry === data ? 1 : 0;
    return entry.data === data ? entry.readings : 0;
  }

  /** Remembers accepted bytes for `knownPayload`; `readings` is how many readings they carry. */
  rememberPayload(fingerprint: number, data: string, readings = 1): void {
    if (this.acceptedPayloads.size >= MAX_REMEMBERED_PAYLOADS) return;
    this.acceptedPayloads.add(fingerprint, readings === 1 ? data : { data, readings });
  }

  add(event: ValidEvent): AddOutcome {
    // Batches are mostly one fleet: skip the profile lookup when it is the previous event's.
    const acc =
      this.lastProfile === event.profile && this.lastAccumulator !== undefined
        ? this.lastAccumulator
        : this.profileAccumulator(event.profile);
    const compiled = acc.compiled;
    const device = this.deviceOf(acc, event.deviceId);
    const t = event.eventTimeMs;
    const start = minuteStart(t);
    const number = start / 60_000;
    let minute = device.lastNumber === number ? device.lastMinute : device.minute(number);
    if (minute === undefined) {
      minute = new MinuteAccumulator(compiled);
      device.addMinute(number, minute);
      this.minutesCount++;
      this.stateBytes += 48 + 24 * (compiled.minFns.length + compiled.maxFns.length);
    }
    device.lastNumber = number;
    device.lastMinute = minute;
    if (minute.has(event.eventId)) return 'duplicate';
    if (minute.count >= this.maxEventsPerMinute) return 'overflow';
    minute.push(event.eventId);
    const r = event.record;
    compiled.fold(r, minute.data);
    this.events++;
    this.stateBytes += 17 + 17 * compiled.sumFns.length;
    device.keepIfNewest(number, t - start, event.eventId, r);
    return 'added';
  }

  *minutes(): IterableIterator<WindowMinute> {
    for (const { compiled, devices } of this.byProfile.values()) {
      for (const [deviceId, device] of devices) {
        for (const [minuteStartMs, m] of device.minutes())
          yield { compiled, deviceId, minuteStartMs, events: m.events() };
      }
    }
  }

  *devices(): IterableIterator<WindowDevice> {
    for (const { compiled, devices } of this.byProfile.values()) {
      for (const [deviceId, device] of devices) {
        const latest = device.latest(compiled.profile);
        if (latest) yield { compiled, deviceId, latest };
      }
    }
  }

  /** Compact JSON for the tumbling-window `state`: arrays, no repeated keys. */
  toState(): WindowState {
    const p: WindowState['p'] = {};
    for (const { compiled, devices } of this.byProfile.values()) {
      p[compiled.profile.name] = [...devices].map(([deviceId, device]) => {
        const latest = device.latest(compiled.profile);
        return [
          deviceId,
          [...device.minutes()].map(([start, m]) => {
            const { ids, sums, mins, maxs } = m.events();
            return [start / 60_000, ids, sums, mins, maxs];
          }),
          latest === undefined ? null : [latest.eventTimeMs, latest.eventId, latest.status, latest.reading],
        ];
      });
    }
    return { v: STATE_VERSION, p };
  }

  /**
   * Rebuilds a window from `toState` output. State that is not ours (another version, or garbage) throws
   * a `WindowStateError`: the caller decides, since silently dropping it would lose a window's data.
   */
  static fromState(state: unknown, maxEventsPerMinute = DEFAULT_MAX_EVENTS_PER_MINUTE): EventWindow {
    const window = new EventWindow(maxEventsPerMinute);
    if (state === undefined || state === null || (typeof state === 'object' && Object.keys(state).length === 0)) {
      return window;
    }
    const s = state as WindowState;
    if (s.v !== STATE_VERSION || typeof s.p !== 'object' || s.p === null) {
      throw new WindowStateError(`unrecognised window state (version ${String(s.v)})`);
    }
    for (const [profileName, devices] of Object.entries(s.p)) {
      const profile = profileByName(profileName);
      if (profile === undefined) throw new WindowStateError(`window state names unknown profile ${profileName}`);
      for (const [deviceId, minutes, latest] of devices) {
        for (const [minuteIndex, ids, sums, mins, maxs] of minutes) {
          window.restoreMinute(profile, deviceId, minuteIndex * 60_000, ids, sums, mins, maxs);
        }
        if (latest !== null) {
          const device = window.profileAccumulator(profile).devices.get(deviceId);
          device?.restoreLatest({ eventTimeMs: latest[0], eventId: latest[1], status: latest[2], reading: latest[3] });
        }
      }
    }
    return window;
  }

  private restoreMinute(
    profile: DeviceProfile,
    deviceId: string,
    minuteStartMs: number,
    ids: number[],
    sums: number[],
    mins: number[],
    maxs: number[],
  ): void {
    const acc = this.profileAccumulator(profile);
    const device = this.deviceOf(acc, deviceId);
    const { compiled } = acc;
    const minCount = compiled.minFns.length;
    const sumCount = compiled.sumFns.length;
    if (sums.length !== ids.length * sumCount || mins.length !== minCount || maxs.length !== compiled.maxFns.length) {
      throw new WindowStateError(`window state's minutes do not fit the ${profile.name} profile's metrics`);
    }
    const minute = new MinuteAccumulator(compiled);
    ids.forEach((id, i) => {
      minute.push(id);
      for (let j = 0; j < sumCount; j++) minute.data.push(sums[i * sumCount + j]);
    });
    mins.forEach((v, i) => {
      minute.data[i] = v;
    });
    maxs.forEach((v, i) => {
      minute.data[minCount + i] = v;
    });
    device.addMinute(minuteStartMs / 60_000, minute);
    this.minutesCount++;
    this.events += ids.length;
    this.stateBytes += 48 + 24 * (mins.length + maxs.length) + ids.length * (17 + 17 * acc.compiled.sumFns.length);
  }

  private deviceOf(acc: ProfileAccumulator, deviceId: string): DeviceAccumulator {
    const hash = stringHash(deviceId);
    let device = acc.index.get(deviceId, hash);
    if (device === undefined) {
      device = new DeviceAccumulator(deviceId);
      acc.devices.set(deviceId, device);
      acc.index.add(device, hash);
      this.stateBytes += 320 + deviceId.length;
    }
    return device;
  }

  private profileAccumulator(profile: DeviceProfile): ProfileAccumulator {
    let acc = this.byProfile.get(profile);
    if (acc === undefined) {
      acc = { compiled: compileProfile(profile), devices: new Map(), index: new DeviceIndex() };
      this.byProfile.set(profile, acc);
    }
    this.lastProfile = profile;
    this.lastAccumulator = acc;
    return acc;
  }
}

export class WindowStateError extends Error {}

interface KnownAggregate {
  readonly data: string;
  readonly readings: number;
}

/**
 * Fingerprint → payload, open addressing with linear probing, growing at half load. Hand-written
 * because a Map of 100,000 integer keys spent ~7% of the path growing and probing. The table outgrows
 * the cache and a record that is no copy always probes it, so it is kept small: one int32 per slot,
 * the payload's index (18 bits) and 14 more bits of its fingerprint; the whole fingerprints and the
 * payloads sit in dense arrays by index, read only when those 14 bits match (and to rehash). Half
 * the memory of (fingerprint, index) pairs measured 1-3% faster on records that are no copy; a table 16
 * times larger, 35% slower. (`new Array(n)` of over ~100,000 slots, the payload store before, is a
 * dictionary in V8.) A window of one batch starts small (64 slots).
 * The first payload stored under a fingerprint keeps it.
 */
class FingerprintTable {
  /** 0 marks an empty slot; else `(fingerprint >>> 18) << 18 | (index + 1)`. */
  private table = new Int32Array(64);
  private mask = 63;
  private fingerprints = new Int32Array(64);
  private readonly values: (string | KnownAggregate)[] = [];

  get size(): number {
    return this.values.length;
  }

  get(fingerprint: number): string | KnownAggregate | undefined {
    const table = this.table;
    const tag = fingerprint & TAG_MASK;
    for (let i = fingerprint & this.mask; ; i = (i + 1) & this.mask) {
      const slot = table[i];
      if (slot === 0) return undefined;
      if ((slot & TAG_MASK) === tag) {
        const index = (slot & INDEX_MASK) - 1;
        if (this.fingerprints[index] === fingerprint) return this.values[index];
      }
    }
  }

  add(fingerprint: number, value: string | KnownAggregate): void {
    if (this.get(fingerprint) !== undefined) return;
    const index = this.values.length;
    if (index >= INDEX_MASK - 1) return; // 262,142 payloads: MAX_REMEMBERED_PAYLOADS stays below
    if (index * 2 >= this.mask + 1) this.grow();
    if (index === this.fingerprints.length) {
      const longer = new Int32Array(index * 2);
      longer.set(this.fingerprints);
      this.fingerprints = longer;
    }
    this.fingerprints[index] = fingerprint;
    this.values.push(value);
    this.place(fingerprint, index);
  }

  private place(fingerprint: number, index: number): void {
    const table = this.table;
    let i = fingerprint & this.mask;
    while (table[i] !== 0) i = (i + 1) & this.mask;
    table[i] = (fingerprint & TAG_MASK) | (index + 1);
  }

  /** Four times the slots: a window of 100,000 payloads rehashes a third as much as when doubling. */
  private grow(): void {
    this.table = new Int32Array(this.table.length * 4);
    this.mask = this.table.length - 1;
    for (let index = 0; index < this.values.length; index++) this.place(this.fingerprints[index], index);
  }
}

/** A slot's low 18 bits: the payload's index + 1. */
const INDEX_MASK = (1 << 18) - 1;
/** A slot's high 14 bits: the same bits of the fingerprint. */
const TAG_MASK = ~INDEX_MASK;

/**
 * A 32-bit hash of a string, in JavaScript. A device id comes fresh out of JSON.parse for every event,
 * and a Map keyed by it computed its hash in a runtime call each time: ~13% of the path (5,000 devices).
 */
function stringHash(s: string): number {
  const n = s.length;
  let h = n;
  let i = 0;
  // Two UTF-16 units a step: half the chain of multiplications that each waits for the previous one.
  for (; i + 1 < n; i += 2) h = Math.imul(h ^ (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)), 0x9e3779b1);
  if (i < n) h = Math.imul(h ^ s.charCodeAt(i), 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) | 0;
}

/**
 * Device id → accumulator, open addressing over (hash, index) pairs in an Int32Array with the
 * accumulators in a dense array, the way `FingerprintTable` is laid out; a probe confirms the id itself.
 */
class DeviceIndex {
  /** Slot i is `table[2i]` (hash) and `table[2i + 1]` (index + 1; 0 marks an empty slot). */
  private table = new Int32Array(128);
  private readonly list: DeviceAccumulator[] = [];
  private mask = 63;

  get(deviceId: string, hash: number): DeviceAccumulator | undefined {
    const table = this.table;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const slot = table[2 * i + 1];
      if (slot === 0) return undefined;
      if (table[2 * i] === hash) {
        const device = this.list[slot - 1];
        if (device.deviceId === deviceId) return device;
      }
    }
  }

  /** Adds a device that `get` does not hold. */
  add(device: DeviceAccumulator, hash: number): void {
    if (this.list.length * 2 >= this.mask + 1) this.grow();
    this.list.push(device);
    this.place(hash, this.list.length);
  }

  private place(hash: number, slot: number): void {
    const table = this.table;
    let i = hash & this.mask;
    while (table[2 * i + 1] !== 0) i = (i + 1) & this.mask;
    table[2 * i] = hash;
    table[2 * i + 1] = slot;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.mask = old.length - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.place(old[i], old[i + 1]);
  }
}

const STATE_VERSION = 1;

/** Serialised window: `p[profile] = [[deviceId, [[minuteIndex, ids, sums, mins, maxs]...], latest|null]...]`. */
export interface WindowState {
  readonly v: number;
  readonly p: Record<
    string,
    [
      string,
      [number, number[], number[], number[], number[]][],
      [number, number, string, Record<string, string | number | boolean>] | null,
    ][]
  >;
}
