/**
 * Event-time formatting for the generators' hot path. `Date#toISOString` allocates a Date per call;
 * readings of a fleet share their second, so the `YYYY-MM-DD?HH:MM:SS.` prefix is cached per second
 * and only the milliseconds are appended (a table lookup). Measured in bench/simulator.ts.
 */
const MS3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

export class TimeFormatter {
  private second = Number.NaN;
  private prefix = '';

  /**
   * @param separator `' '` for the workshop's Go layout `2006-01-02 15:04:05.000`, `'T'` for ISO-8601.
   * @param suffix `''` (workshop, read as UTC) or `'Z'`.
   */
  constructor(
    private readonly separator: ' ' | 'T',
    private readonly suffix: '' | 'Z',
  ) {}

  format(ms: number): string {
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      this.second = second;
      const iso = new Date(second * 1000).toISOString(); // 2017-06-02T18:43:04.000Z
      this.prefix = `${iso.slice(0, 10)}${this.separator}${iso.slice(11, 20)}`;
    }
    return this.prefix + MS3[ms - second * 1000] + this.suffix;
  }
}

/** The workshop producer's StatusTime (Go layout `2006-01-02 15:04:05.000`, UTC). */
export function workshopTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}
