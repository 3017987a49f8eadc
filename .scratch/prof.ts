import { S3Client } from '@aws-sdk/client-s3';
import { runImport } from '../lib/import/run';
import { ParquetWriter } from '../lib/local/parquet';
import { solarProfile } from '../lib/core/profiles';
import { MemoryStore } from '../test/support/memory-store';
import { rmSync } from 'node:fs';
(async () => {
  rmSync('/tmp/prof-state', { recursive: true, force: true });
  const columns = solarProfile.archiveColumns.map((c) => ({ name: c.name.toLowerCase(), type: c.type }));
  const writer = new ParquetWriter(columns, 'GZIP');
  let encMs = 0;
  const t = Date.now();
  const s = await runImport({ inputs: [process.argv[2]], s3: new S3Client({ region: 'us-east-1' }), bucket: 'x', format: process.argv[3] === 'json' ? 'json' : 'parquet',
    parquet: () => ({ write: async (r) => { const t0 = Date.now(); const b = await writer.write(r); encMs += Date.now() - t0; return b; } }),
    store: new MemoryStore(), archive: { put: async () => {} }, stateDir: '/tmp/prof-state' });
  console.log({ total: Date.now() - t, scan: s.scanMs, publish: s.publishMs, encMs, raw: s.scan.records });
  await writer.close();
})();
