import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMPORT_NODE_FLAGS } from '../../lib/import/node-flags';

/** `npm run import` and `./bin/import.ts` run node with the import's V8 flags (lib/import/node-flags.ts). */
describe('the import runs with its V8 flags', () => {
  const root = join(__dirname, '..', '..');
  it.each([
    [
      'the npm script',
      (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
        .import,
    ],
    ["bin/import.ts's shebang", readFileSync(join(root, 'bin', 'import.ts'), 'utf8').split('\n')[0]],
  ])('%s', (_where, command) => {
    for (const flag of IMPORT_NODE_FLAGS) expect(command.split(' ')).toContain(flag);
  });

  it('is accepted by this node', () => {
    expect(execFileSync(process.execPath, [...IMPORT_NODE_FLAGS, '-e', 'process.stdout.write("ok")']).toString()).toBe(
      'ok',
    );
  });
});
