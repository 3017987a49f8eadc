import { DuckDBInstance } from '@duckdb/node-api';
import { writeFileSync, readFileSync } from 'node:fs';
(async () => {
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await inst.connect();
  const lines = readFileSync('.bench/import-history-20p-3d.ndjson','utf8').split('\n').slice(0, 20000);
  const uniq = [...new Set(lines)].slice(0, 720);
  writeFileSync('/tmp/h.ndjson', uniq.join('\n') + '\n');
  const cols = `{'panelId':'VARCHAR','ts':'VARCHAR','seq':'VARCHAR','acPowerW':'VARCHAR'}`;
  const r = await conn.runAndReadAll(`SELECT * FROM read_json('/tmp/h.ndjson', format='newline_delimited', columns=${cols}) LIMIT 2`);
  console.log(r.getRowObjectsJson());
  const r2 = await conn.runAndReadAll(`SELECT TRY_CAST(ts AS TIMESTAMP) t FROM read_json('/tmp/h.ndjson', format='newline_delimited', columns=${cols}) LIMIT 1`);
  console.log(r2.getRowObjectsJson());
  let t = Date.now();
  for (let i = 0; i < 20; i++) await conn.run(`COPY (SELECT * FROM read_json('/tmp/h.ndjson', format='newline_delimited', columns=${cols})) TO '/tmp/o${i}.parquet' (FORMAT parquet, COMPRESSION gzip)`);
  console.log('per copy ms', (Date.now() - t) / 20, uniq.length);
})();
