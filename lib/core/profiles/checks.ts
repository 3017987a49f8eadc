import { type InvalidReason, missingField, outOfRange, wrongType } from '../reasons';

/**
 * Small field checks shared by the profiles' hand-written validators. Each returns undefined when
 * the field is fine, or the exact reason. Hand-written rather than a schema library so the hot path
 * interprets nothing per record (see the benchmark in the README).
 */
export function checkString(obj: Record<string, unknown>, field: string, maxLength: number): InvalidReason | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return missingField(field);
  if (typeof v !== 'string') return wrongType(field);
  // The contract counts characters (code points), not UTF-16 units: 64 emoji are 128 units. A string of
  // over 2 units per allowed code point cannot fit, so it is refused without counting.
  if (v.length === 0 || v.length > 2 * maxLength) return outOfRange(field);
  // Without surrogates (nearly always: a native scan) units are code points; else count them.
  const n = SURROGATE.test(v) ? codePoints(v) : v.length;
  if (n < 0 || n > maxLength) return outOfRange(field);
  return undefined;
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Length in code points, or -1 when the string holds a lone surrogate: not text (only a `\u` escape
 * makes one), and not storable as a DynamoDB string. One pass with no allocation, unlike `[...s].length`.
 */
export function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++, n++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const next = s.charCodeAt(i + 1); // NaN past the end
    if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return -1;
    i++;
  }
  return n;
}

export function checkNumber(
  obj: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
  integer = false,
): InvalidReason | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return missingField(field);
  if (typeof v !== 'number') return wrongType(field);
  // ±Infinity (JSON.parse of 1e400) is a number out of range, not a fraction: the contract says so.
  if (!Number.isFinite(v)) return outOfRange(field);
  if (integer && !Number.isInteger(v)) return wrongType(field);
  if (!(v >= min && v <= max)) return outOfRange(field);
  return undefined;
}

/** A whole number: a fraction is `wrong_type`, as a string would be. */
export const checkInteger = (obj: Record<string, unknown>, field: string, min: number, max: number) =>
  checkNumber(obj, field, min, max, true);

/** Fixed-point scale of `sum` metrics: sums are integers of 1e-6 units, exact in any order up to 9e9 units. */
export const SUM_SCALE = 1_000_000;

/**
 * One field's check as data: what the profile's validator runs (`validateFields`), what the archive's
 * Firehose routing checks for types (`profilePartitionJq`) and what the per-minute named queries check
 * in SQL (`lib/catalog/validation-sql.ts`). One definition, three readers, so they cannot disagree.
 */
export type FieldCheck =
  | { readonly field: string; readonly kind: 'string'; readonly maxLength: number; readonly values?: readonly string[] }
  | { readonly field: string; readonly kind: 'number' | 'integer'; readonly min: number; readonly max: number };

/**
 * The first failing check's reason, in order, or undefined. A loop over a handful of checks: the same
 * work the hand-written chains of `??` did, with no per-record interpretation beyond a switch.
 */
export function validateFields(obj: Record<string, unknown>, checks: readonly FieldCheck[]): InvalidReason | undefined {
  for (const c of checks) {
    const reason =
      c.kind === 'string'
        ? checkString(obj, c.field, c.maxLength)
        : checkNumber(obj, c.field, c.min, c.max, c.kind === 'integer');
    if (reason) return reason;
    if (c.kind === 'string' && c.values && !c.values.includes(obj[c.field] as string)) return outOfRange(c.field);
  }
  return undefined;
}

/**
 * `validateFields(obj, checks)` compiled into one function for one list of checks: the same checks in
 * the same order with the same reasons, as straight-line code with a named property read per field
 * (monomorphic: JSON.parse gives a profile's records one hidden class), no per-field call, no regex.
 * Generated rather than interpreted because the loop's keyed reads `obj[c.field]` over a handful of
 * names are megamorphic and cost more than the JSON.parse they follow (bench/aggregate.ts). The source
 * holds only the checks' own names and limits (quoted by JSON.stringify), never device data; the
 * reference `validateFields` stays and `test/core/checks.test.ts` holds the two to the same answers.
 */
export function compileChecks(
  checks: readonly FieldCheck[],
): (obj: Record<string, unknown>) => InvalidReason | undefined {
  const q = JSON.stringify;
  const lines = checks.map((c, i) => {
    const get = `const v${i} = o[${q(c.field)}];`;
    const missing = `if (v${i} === undefined || v${i} === null) return ${q(missingField(c.field))};`;
    const wrong = q(wrongType(c.field));
    const range = q(outOfRange(c.field));
    if (c.kind === 'string') {
      const values = c.values
        ? `if (!(${c.values.map((s) => `v${i} === ${q(s)}`).join(' || ')})) return ${range};`
        : '';
      return [
        get,
        missing,
        `if (typeof v${i} !== 'string') return ${wrong};`,
        // As checkString: code points, not UTF-16 units; a lone surrogate is out of range.
        `if (v${i}.length === 0 || v${i}.length > ${2 * c.maxLength} || !v${i}.isWellFormed()) return ${range};`,
        `if (v${i}.length > ${c.maxLength} && codePoints(v${i}) > ${c.maxLength}) return ${range};`,
        values,
      ].join('\n');
    }
    return [
      get,
      missing,
      `if (typeof v${i} !== 'number') return ${wrong};`,
      `if (!Number.isFinite(v${i})) return ${range};`,
      c.kind === 'integer' ? `if (!Number.isInteger(v${i})) return ${wrong};` : '',
      `if (!(v${i} >= ${c.min} && v${i} <= ${c.max})) return ${range};`,
    ].join('\n');
  });
  const factory = new Function(
    'codePoints',
    `return function checkFields(o) {\n${lines.join('\n')}\nreturn undefined;\n};`,
  );
  return factory(codePoints);
}
