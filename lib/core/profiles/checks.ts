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
  if (v.length === 0 || v.length > maxLength) return outOfRange(field);
  return undefined;
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
  if (typeof v !== 'number' || (integer && !Number.isInteger(v))) return wrongType(field);
  if (!(v >= min && v <= max)) return outOfRange(field); // also rejects NaN and ±Infinity (1e400)
  return undefined;
}

/** A whole number: a fraction is `wrong_type`, as a string would be. */
export const checkInteger = (obj: Record<string, unknown>, field: string, min: number, max: number) =>
  checkNumber(obj, field, min, max, true);

/** Fixed-point scale of `sum` metrics: sums are integers of 1e-6 units, exact in any order up to 9e9 units. */
export const SUM_SCALE = 1_000_000;
