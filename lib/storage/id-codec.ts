/**
 * Packs a device-minute's sorted event ids into a DynamoDB Binary: unsigned LEB128 varints of the
 * deltas. A unicorn minute (60 ids about 1,000 ms apart) packs into ~120 bytes where a Number Set would
 * take ~300, and item size is what DynamoDB bills writes by (1 WCU per KB). A few lines, so no dependency.
 */
export function packIds(sortedIds: readonly number[]): Uint8Array {
  const out: number[] = [];
  let previous = 0;
  for (const id of sortedIds) {
    let delta = id - previous;
    previous = id;
    if (!Number.isSafeInteger(delta) || delta < 0) throw new RangeError(`ids must be sorted safe integers ≥ 0: ${id}`);
    while (delta >= 0x80) {
      out.push((delta % 0x80) | 0x80);
      delta = Math.floor(delta / 0x80);
    }
    out.push(delta);
  }
  return Uint8Array.from(out);
}

export function unpackIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let previous = 0;
  let value = 0;
  let scale = 1;
  for (const byte of bytes) {
    value += (byte & 0x7f) * scale;
    if (byte & 0x80) {
      scale *= 0x80;
    } else {
      previous += value;
      ids.push(previous);
      value = 0;
      scale = 1;
    }
  }
  return ids;
}
