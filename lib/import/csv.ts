import { parse } from 'csv-parse/sync';
import { type ArchiveColumn, type DeviceProfile, PROFILES } from '../core/profiles';
import { ImportError } from './errors';

/**
 * CSV exports: a header row naming the profile's fields (case-insensitively, any order; extra columns
 * kept as strings), then one reading per row. Each row becomes the JSON record the device would have
 * sent, so it is validated, deduplicated and archived exactly like NDJSON: numbers become JSON numbers,
 * an empty cell an absent field (the core then says `missing_field:X`), a cell that is not a number
 * stays a string (`wrong_type:X`). Rows must not contain line breaks inside quotes: chunks are cut at
 * newlines (exports from a key-value store have none).
 */
export interface CsvLayout {
  readonly profile: DeviceProfile;
  /** Per header cell: the record key and how to convert the cell. */
  readonly columns: readonly { readonly key: string; readonly type: ArchiveColumn['type'] | 'extra' }[];
}

const NUMERIC = new Set<ArchiveColumn['type'] | 'extra'>(['double', 'float', 'int', 'bigint']);
const NUMBER_TEXT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** The layout from a header line; refuses a header that misses a field the profile requires. */
export function csvLayout(url: string, headerLine: string, profiles: readonly DeviceProfile[] = PROFILES): CsvLayout {
  const cells = (parse(headerLine, { bom: true, trim: true })[0] ?? []) as string[];
  const lower = cells.map((c) => c.toLowerCase());
  const profile = profiles.find((p) => lower.includes(p.identityField.toLowerCase()));
  if (profile === undefined) {
    throw new ImportError(
      `${url}: the CSV header (${cells.join(',')}) names no known profile; it needs ` +
        `${profiles.map((p) => `${p.identityField} (${p.name})`).join(' or ')} as a column.`,
    );
  }
  const missing = profile.archiveColumns.filter((c) => !lower.includes(c.name.toLowerCase()));
  if (missing.length > 0) {
    throw new ImportError(
      `${url}: the CSV header lacks ${missing.map((c) => c.name).join(', ')} required by the ${profile.name} profile; ` +
        `export every field (${profile.archiveColumns.map((c) => c.name).join(',')}) or convert the file to NDJSON.`,
    );
  }
  const byLower = new Map(profile.archiveColumns.map((c) => [c.name.toLowerCase(), c]));
  return {
    profile,
    columns: cells.map((cell) => {
      const known = byLower.get(cell.toLowerCase());
      return known ? { key: known.name, type: known.type } : { key: cell, type: 'extra' as const };
    }),
  };
}

/** One parsed row to the record's JSON text. */
export function csvRowToJson(layout: CsvLayout, row: readonly string[]): string {
  const obj: Record<string, string | number | boolean> = {};
  const n = Math.min(row.length, layout.columns.length);
  for (let i = 0; i < n; i++) {
    const cell = row[i];
    if (cell === '') continue;
    const { key, type } = layout.columns[i];
    if (NUMERIC.has(type) && NUMBER_TEXT.test(cell)) obj[key] = Number(cell);
    else if (type === 'boolean' && (cell === 'true' || cell === 'false')) obj[key] = cell === 'true';
    else obj[key] = cell;
  }
  return JSON.stringify(obj);
}

/** Parses a chunk of CSV rows (no header); a row csv-parse cannot read comes back as `undefined`. */
export function parseCsvRows(text: string): { row: string[] | undefined; raw: string }[] {
  const out: { row: string[] | undefined; raw: string }[] = [];
  const records = parse(text, {
    raw: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      out.push({ row: undefined, raw: String((err as { raw?: string } | undefined)?.raw ?? '') });
    },
  }) as unknown as { record: string[]; raw: string }[];
  for (const r of records) out.push({ row: r.record, raw: r.raw });
  return out;
}
