import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { decodeBytes } from '../../lib/core';
import { solarProfile } from '../../lib/core/profiles';
import { ParquetDayWriter } from '../../lib/import/parquet-archive';
import { history } from './fixtures';

/** The archive's Parquet as DuckDB writes it from a spool: one file per hour, copies dropped, Glue's columns. */
describe('ParquetDayWriter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-parquet-'));
  const columns = solarProfile.archiveColumns.map((c) => ({ name: c.name.toLowerCase(), type: c.type }));
  const writer = new ParquetDayWriter({ columns: () => columns, threads: 1 });
  const solar = history(1, 2).filter((l) => l.includes('panelId'));
  const hourOf = (json: string) => String(new Date(JSON.parse(json).ts).getUTCHours()).padStart(2, '0');
  const spool = (lines: readonly string[]) => {
    const path = join(dir, `spool-${Math.random()}.ndjson`);
    writeFileSync(path, lines.map((l) => `${hourOf(l)}${l}\n`).join(''));
    return path;
  };
  const rows = async (path: string) => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      const r = await conn.runAndReadAll(
        `SELECT * FROM read_parquet('${path}', hive_partitioning = false) ORDER BY ALL`,
      );
      return r.getRowObjectsJson();
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  };

  afterAll(async () => {
    await writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one file per event-time hour with each distinct line once, in the raw table columns', async () => {
    const some = solar.slice(0, 40);
    const files = await writer.writeDay('solar', spool([...some, ...some.slice(0, 10)]), join(dir, 'day-1'));
    const hours = [...new Set(some.map(hourOf))].map(Number).sort((a, b) => a - b);
    expect(files.map((f) => f.hour)).toEqual(hours);
    let total = 0;
    for (const f of files) {
      const got = await rows(f.path);
      total += got.length;
      expect(Object.keys(got[0]).sort()).toEqual(columns.map((c) => c.name).sort());
      for (const row of got) expect(hourOf(JSON.stringify({ ts: row.ts }))).toBe(String(f.hour).padStart(2, '0'));
    }
    expect(total).toBe(some.length);
    const first = (await rows(files[0].path)).find((r) => r.seq === String(JSON.parse(some[0]).seq));
    const record = JSON.parse(some[0]);
    expect(first).toMatchObject({ panelid: record.panelId, ts: record.ts, acpowerw: record.acPowerW });
  });

  it('archives a record DuckDB cannot parse but the core accepts (a lone surrogate), whole', async () => {
    const odd = solar[0].replace(/}$/, ',"note":"\\ud800"}'); // an extra field: the core keeps the record
    expect(decodeBytes(Buffer.from(odd), Date.now()).ok).toBe(true);
    const files = await writer.writeDay('solar', spool([odd, solar[1]]), join(dir, 'day-2'));
    const all = (await Promise.all(files.map((f) => rows(f.path)))).flat();
    expect(all.length).toBe(2);
    expect(all.map((r) => r.panelid).sort()).toEqual([solar[0], solar[1]].map((l) => JSON.parse(l).panelId).sort());
  });
});
