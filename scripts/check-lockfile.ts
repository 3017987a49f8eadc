// Fails when package-lock.json and package.json disagree (what `npm ci` would refuse): `npm run check:lockfile`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lockfileProblems } from './lockfile';

const read = (file: string) => JSON.parse(readFileSync(join(__dirname, '..', file), 'utf8'));
const problems = lockfileProblems(read('package.json'), read('package-lock.json'));
if (problems.length > 0) {
  console.error(`package-lock.json is out of sync with package.json:\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
}
console.log('package-lock.json matches package.json');
