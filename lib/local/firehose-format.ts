import { randomBytes, randomUUID } from 'node:crypto';
import { archivePartition, PROFILES, profilePartitionJq } from '../core/profiles';
import { LocalRuntimeError } from './errors';

/**
 * Pure pieces of Firehose delivery: the dynamic-partitioning JQ the stack uses, S3 prefix expressions
 * and object key names. No JQ engine is embedded (an emscripten build of jq would be a large
 * dependency for one query): the stack's one query, `profilePartitionJq()` (profile by identity field, then the type
 * check that keeps untyped records out of the typed tables), is evaluated by its TypeScript twin
 * `archivePartition`, generated from the same profile columns and checked against jq 1.6 by a test; a
 * plain `if has(..) then ".." ... end` is interpreted; any other query is refused at start-up.
 */
export type PartitionQuery = (record: Record<string, unknown>) => Record<string, string>;

const SHAPE = /^\{\s*([A-Za-z_]\w*)\s*:\s*\((.*)\)\s*\}$/s;
const BRANCH = /^\s*(?:if|elif)\s+has\("([^"\\]+)"\)\s+then\s+"([^"\\]*)"\s*/;

export function compilePartitionQuery(query: string): PartitionQuery {
  const fail = () =>
    new LocalRuntimeError(
      `Firehose MetadataExtractionQuery ${JSON.stringify(query)} is not supported locally: the embedded runtime evaluates only ` +
        'the stack\'s profilePartitionJq() and `{key: (if has("F") then "P" elif has("G") then "Q" else "X" end)}`.',
    );
  if (query === profilePartitionJq()) return (record) => ({ profile: archivePartition(PROFILES, record) });
  const m = SHAPE.exec(query.trim());
  if (!m) throw fail();
  const [, key, body] = m;
  const branches: [string, string][] = [];
  let rest = body;
  for (let b = BRANCH.exec(rest); b; b = BRANCH.exec(rest)) {
    branches.push([b[1], b[2]]);
    rest = rest.slice(b[0].length);
  }
  const last = /^else\s+"([^"\\]*)"\s+end\s*$/.exec(rest.trim());
  if (branches.length === 0 || !last || !body.trim().startsWith('if')) throw fail();
  const otherwise = last[1];
  return (record) => {
    for (const [field, value] of branches) if (Object.hasOwn(record, field)) return { [key]: value };
    return { [key]: otherwise };
  };
}

const TIME_TOKENS = /yyyy|MM|dd|HH|mm|ss/g;

function formatTime(pattern: string, ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const parts: Record<string, string> = {
    yyyy: pad(d.getUTCFullYear(), 4),
    MM: pad(d.getUTCMonth() + 1),
    dd: pad(d.getUTCDate()),
    HH: pad(d.getUTCHours()),
    mm: pad(d.getUTCMinutes()),
    ss: pad(d.getUTCSeconds()),
  };
  return pattern.replace(TIME_TOKENS, (t) => parts[t]);
}

export interface PrefixValues {
  /** Arrival time (epoch ms) Firehose uses for `!{timestamp:...}`: the oldest record of the object. */
  readonly timestamp: number;
  readonly partitionKeys?: Readonly<Record<string, string>>;
  readonly errorOutputType?: string;
}

const EXPRESSION = /!\{([^}:]+):([^}]*)\}/g;

/** Checks a prefix's expressions once at start-up, so a bad template fails before data flows. */
export function validatePrefix(prefix: string, where: string): void {
  for (const m of prefix.matchAll(EXPRESSION)) {
    const [whole, ns, arg] = m;
    const ok =
      ns === 'timestamp' ||
      ns === 'partitionKeyFromQuery' ||
      (ns === 'firehose' && (arg === 'error-output-type' || arg === 'random-string'));
    if (!ok) throw new LocalRuntimeError(`${where}: prefix expression ${whole} is not supported locally.`);
  }
}

/** Evaluates a Firehose S3 prefix; with no expression at all, Firehose appends `yyyy/MM/dd/HH/`. */
export function evaluatePrefix(prefix: string, v: PrefixValues): string {
  const base = prefix.includes('!{') ? prefix : `${prefix}${formatTime('yyyy/MM/dd/HH/', v.timestamp)}`;
  return base.replace(EXPRESSION, (whole, ns: string, arg: string) => {
    if (ns === 'timestamp') return formatTime(arg, v.timestamp);
    if (ns === 'partitionKeyFromQuery') {
      const value = v.partitionKeys?.[arg];
      if (value === undefined) throw new Error(`no partition key ${arg} for ${whole}`);
      return value;
    }
    if (arg === 'error-output-type') return v.errorOutputType ?? 'processing-failed';
    return randomBytes(8).toString('base64url').slice(0, 11);
  });
}

/** Firehose's object name: `<stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid>` plus the format's extension. */
export function objectName(deliveryStream: string, timestamp: number, extension: string): string {
  return `${deliveryStream}-1-${formatTime('yyyy-MM-dd-HH-mm-ss', timestamp)}-${randomUUID()}${extension}`;
}
