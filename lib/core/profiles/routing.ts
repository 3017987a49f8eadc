import type { ArchiveColumn, DeviceProfile } from './types';

/**
 * Where the archive's Firehose puts a record: `raw/profile=<partition>/`. A record is routed to its
 * profile's typed table only when every archive column it carries reads as that column's Glue type
 * (a string where a string is, a number where a double is, a whole number in range where an int or
 * bigint is) under exactly the column's key (`healthpoints` or a second spelling of `HealthPoints`
 * would be read by the case-insensitive SerDe, never by the aggregator). Anything else goes to
 * `<profile>_untyped` or `unknown`, read by the all-string `untyped_raw` table: a bad record stays in the
 * archive (provenance) and can never make a query over a typed table fail.
 *
 * The same rule exists twice on purpose, both generated from `archiveColumns`: as JQ for Firehose's
 * MetadataExtraction (`profilePartitionJq`) and as TypeScript for the embedded Firehose
 * (`archivePartition`); `test/local/firehose-routing.test.ts` runs the JQ through jq 1.6 (Firehose's
 * JQ-1.6 engine) on the fuzz cases and checks both agree.
 */

/** Name of the archive partition for records no profile claims (they still reach the archive). */
export const UNKNOWN_PROFILE_PARTITION = 'unknown';

/** The partition of a profile's records whose fields do not all read as their columns' types. */
export const untypedPartition = (profile: Pick<DeviceProfile, 'name'>): string => `${profile.name}_untyped`;

type ColumnType = ArchiveColumn['type'];

const INT_RANGE: Partial<Record<ColumnType, readonly [string, string]>> = {
  int: ['-2147483648', '2147483647'],
  // JQ and JavaScript numbers are doubles: 2^63 is the first one above bigint's range.
  bigint: ['-9223372036854775808', '9223372036854775808'],
};

function jqTypeCheck(type: ColumnType): string {
  switch (type) {
    case 'string':
    case 'timestamp':
      return '. == null or type == "string"';
    case 'double':
    case 'float':
      return '. == null or type == "number"';
    case 'boolean':
      return '. == null or type == "boolean"';
    case 'int':
    case 'bigint': {
      const [lo, hi] = INT_RANGE[type] as readonly [string, string];
      const below = type === 'bigint' ? `. < ${hi}` : `. <= ${hi}`;
      return `. == null or (type == "number" and . == floor and . >= ${lo} and ${below})`;
    }
  }
}

/** `[Nn][Aa][Mm][Ee]`: matches the name in any ASCII case (jq 1.6's `ascii_downcase` is written in jq and slow). */
const anyCase = (name: string) =>
  [...name.toLowerCase()].map((ch) => (/[a-z]/.test(ch) ? `[${ch.toUpperCase()}${ch}]` : ch)).join('');

/**
 * Each column's value read through its exact key, then every key: an exact column key, or not a column
 * key in another case. A valid record has only exact keys, so the regex runs only on other keys
 * (measured with jq 1.6: ~4x the plain profile query per record; the `to_entries`/`ascii_downcase` form
 * was ~15x).
 */
function jqTyped(profile: DeviceProfile): string {
  const values = profile.archiveColumns.map((c) => `(.${c.name} | ${jqTypeCheck(c.type)})`);
  const exact = profile.archiveColumns.map((c) => `. == "${c.name}"`);
  const otherCase = `test("^(${profile.archiveColumns.map((c) => anyCase(c.name)).join('|')})$")`;
  return `${values.join(' and ')} and all(keys_unsorted[]; ${exact.join(' or ')} or (${otherCase} | not))`;
}

/**
 * The Firehose dynamic-partitioning JQ: `{profile: ...}` by the identity field (registry order), then the
 * type check above. The embedded runtime evaluates exactly this query with `archivePartition`.
 */
export function profilePartitionJq(profiles: readonly DeviceProfile[]): string {
  const branches = profiles.map(
    (p, i) =>
      `${i === 0 ? 'if' : 'elif'} has("${p.identityField}") then (if ${jqTyped(p)} then "${p.name}" else "${untypedPartition(p)}" end)`,
  );
  return `{profile: (${branches.join(' ')} else "${UNKNOWN_PROFILE_PARTITION}" end)}`;
}

/** 2^63, exactly representable as a double. */
const TWO_63 = 2 ** 63;

function reads(type: ColumnType, v: unknown): boolean {
  if (v === null) return true;
  switch (type) {
    case 'string':
    case 'timestamp':
      return typeof v === 'string';
    case 'double':
    case 'float':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'int':
      return typeof v === 'number' && Math.floor(v) === v && v >= -2147483648 && v <= 2147483647;
    case 'bigint':
      return typeof v === 'number' && Math.floor(v) === v && v >= -TWO_63 && v < TWO_63;
  }
}

const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when a string anywhere in the value (keys included) holds a lone surrogate (`"\ud83e"`). */
function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  return Object.entries(value).some(([k, v]) => LONE_SURROGATE.test(k) || hasLoneSurrogate(v));
}

/**
 * `profilePartitionJq` in TypeScript, for a parsed JSON object. Throws where jq 1.6 cannot parse the
 * record (a lone surrogate escape, which JSON.parse accepts): Firehose sends it to its error output.
 */
export function archivePartition(profiles: readonly DeviceProfile[], obj: Record<string, unknown>): string {
  if (hasLoneSurrogate(obj)) throw new Error('Invalid \\uXXXX\\uXXXX surrogate pair escape (jq 1.6)');
  const profile = profiles.find((p) => Object.hasOwn(obj, p.identityField));
  if (!profile) return UNKNOWN_PROFILE_PARTITION;
  const columns = new Map(profile.archiveColumns.map((c) => [asciiLower(c.name), c]));
  for (const [key, value] of Object.entries(obj)) {
    const column = columns.get(asciiLower(key));
    if (column && (key !== column.name || !reads(column.type, value))) return untypedPartition(profile);
  }
  return profile.name;
}
