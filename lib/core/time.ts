/**
 * Timestamp parsing for the hot path. Hand-written because `Date.parse` is both slow (it is the
 * largest cost per record in a profile) and lenient in engine-specific ways (it accepts
 * `2017-02-30`, and reads zone-less strings as local time in some forms). This accepts exactly:
 *   - the workshop producer's Go layout `2006-01-02 15:04:05.000` (fraction optional), read as UTC;
 *   - ISO-8601 `2006-01-02T15:04:05[.fff]` followed by `Z` or `±HH:MM` (or `±HHMM`);
 *     a `T` form without a zone is read as UTC too, like the workshop layout.
 * Returns epoch milliseconds, or NaN when the string is not such a timestamp.
 */
export function parseTimestamp(s: string): number {
  const n = s.length;
  if (n < 19 || n > 35) return Number.NaN;
  const sep = s.charCodeAt(10);
  if (
    s.charCodeAt(4) !== 45 || // '-'
    s.charCodeAt(7) !== 45 ||
    (sep !== 32 && sep !== 84) || // ' ' or 'T'
    s.charCodeAt(13) !== 58 || // ':'
    s.charCodeAt(16) !== 58
  ) {
    return Number.NaN;
  }
  const year = d4(s, 0);
  const month = d2(s, 5);
  const day = d2(s, 8);
  const hour = d2(s, 11);
  const minute = d2(s, 14);
  const second = d2(s, 17);
  // A non-digit makes its field negative; leap seconds are not sent by either fleet.
  if ((year | month | day | hour | minute | second) < 0 || hour > 23 || minute > 59 || second > 59) {
    return Number.NaN;
  }
  // Consecutive records nearly always share their date: it is checked and converted when it changes.
  const date = (year * 100 + month) * 100 + day;
  if (date !== lastDate) {
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
    lastDate = date;
    lastDays = daysFromCivil(year, month, day);
  }
  let i = 19;
  let millis = 0;
  if (i < n && s.charCodeAt(i) === 46) {
    // '.': 1 to 9 fraction digits; keep milliseconds, truncate the rest.
    i++;
    const start = i;
    while (i < n) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (i - start < 3) millis = millis * 10 + c;
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 9) return Number.NaN;
    if (digits < 3) millis *= digits === 1 ? 100 : 10;
  }
  let offsetMinutes = 0;
  if (i < n) {
    const z = s.charCodeAt(i);
    if (z === 90 && i + 1 === n) {
      // 'Z'
    } else if ((z === 43 || z === 45) && sep === 84) {
      const oh = d2(s, i + 1);
      const colon = s.charCodeAt(i + 3) === 58 ? 1 : 0;
      const om = d2(s, i + 3 + colon);
      if (oh < 0 || oh > 23 || om < 0 || om > 59 || i + 5 + colon !== n) return Number.NaN;
      offsetMinutes = (z === 43 ? 1 : -1) * (oh * 60 + om);
    } else {
      return Number.NaN;
    }
  }
  return ((lastDays * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + millis;
}

let lastDate = -1;
let lastDays = 0;

/**
 * Start of the minute that holds `ms`, in epoch milliseconds. A division and a floor, corrected by one
 * minute where the division rounded across a minute: two `%` were ~3 times slower (a `%` of doubles
 * is a call in V8) and, for a fraction of a millisecond before a minute's end, not a multiple of 60,000.
 */
export function minuteStart(ms: number): number {
  const start = Math.floor(ms / 60_000) * 60_000;
  if (start > ms) return start - 60_000;
  return start + 60_000 <= ms ? start + 60_000 : start;
}

/** The aggregates table's sort key for a minute: ISO-8601 UTC, e.g. `2017-06-02T18:43:00.000Z`. */
export function minuteKey(minuteStartMs: number): string {
  return new Date(minuteStartMs).toISOString();
}

function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

function d4(s: string, i: number): number {
  const hi = d2(s, i);
  const lo = d2(s, i + 2);
  return hi < 0 || lo < 0 ? -1 : hi * 100 + lo;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
