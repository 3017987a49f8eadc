/**
 * How DynamoDB sizes an item and turns the size into request units: the one definition used by the cost
 * model and by the embedded runtime's metering (for writes the emulator does not report, such as a
 * conditional put that fails, which DynamoDB still bills).
 *
 * Item size (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
 * attribute names plus values; strings in UTF-8 bytes, binary in bytes, a number about one byte per two
 * significant digits plus one, null and booleans one byte, lists and maps 3 bytes plus one per element.
 * No library computes this from the wire format, so it is written here (dynalite has the same rules
 * inside, not exported as a typed API).
 */
export type WireAttributeValue =
  | { S: string }
  | { N: string }
  | { B: string }
  | { BOOL: boolean }
  | { NULL: true }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] }
  | { L: WireAttributeValue[] }
  | { M: Record<string, WireAttributeValue> };

export type WireItem = Record<string, WireAttributeValue>;

/** Bytes of one write request unit and one strongly consistent read request unit. */
export const WRITE_UNIT_BYTES = 1024;
export const READ_UNIT_BYTES = 4096;

export function itemBytes(item: WireItem): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name, 'utf8') + valueBytes(value);
  return size;
}

function valueBytes(v: WireAttributeValue): number {
  if ('S' in v) return Buffer.byteLength(v.S, 'utf8');
  if ('N' in v) return numberBytes(v.N);
  if ('B' in v) return Buffer.from(v.B, 'base64').length;
  if ('BOOL' in v || 'NULL' in v) return 1;
  if ('SS' in v) return v.SS.reduce((s, x) => s + Buffer.byteLength(x, 'utf8'), 0);
  if ('NS' in v) return v.NS.reduce((s, x) => s + numberBytes(x), 0);
  if ('BS' in v) return v.BS.reduce((s, x) => s + Buffer.from(x, 'base64').length, 0);
  if ('L' in v) return 3 + v.L.reduce((s, x) => s + 1 + valueBytes(x), 0);
  if ('M' in v) return 3 + Object.keys(v.M).length + itemBytes(v.M);
  throw new Error(`not a DynamoDB attribute value: ${JSON.stringify(v)}`);
}

/** A number's stored size: 1 + one byte per two significant digits, aligned to the decimal point. */
export function numberBytes(text: string): number {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a DynamoDB number: ${text}`);
  const [, sign, intPart, fracPart = '', expPart = '0'] = m;
  let digits = intPart + fracPart;
  // exponent of the first digit, as a power of ten
  let e = intPart.length - 1 + Number(expPart);
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead);
  e -= lead;
  digits = digits.replace(/0+$/, '');
  if (digits.length === 0) return 1;
  const n = digits.length;
  const aligned = n % 2 !== 0 || e % 2 !== 0 ? 0 : 1;
  return 1 + Math.ceil(n / 2) + aligned + (sign === '-' ? 1 : 0);
}

/** Write request units for putting (or deleting) an item of this size: 1 per started KB. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));
}

/** Read request units for reading an item of this size (a miss costs the minimum, as a 0-byte item). */
export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
  return consistent ? units : units / 2;
}
