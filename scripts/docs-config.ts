// Rewrites the configuration table in docs/deploy.md from lib/config/schema.ts: `npm run docs:config`.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withConfigTable } from '../lib/config/docs';

const file = join(__dirname, '..', 'docs', 'deploy.md');
const before = readFileSync(file, 'utf8');
const after = withConfigTable(before);
if (after === before) {
  console.log('docs/deploy.md: configuration table already up to date');
} else {
  writeFileSync(file, after);
  console.log('docs/deploy.md: configuration table regenerated from lib/config/schema.ts');
}
