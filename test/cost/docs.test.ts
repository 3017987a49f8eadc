import { join } from 'node:path';
import { compareBlock, DOC_BLOCKS, docContext } from '../../lib/cost/docs';

/** The cost figures of docs/deploy.md and the README are the model's (npm test synthesizes cdk.out first). */
const ROOT = join(__dirname, '..', '..');
const ctx = docContext(ROOT);

describe.each(DOC_BLOCKS.map((b) => [b.file, b] as const))('%s cost figures', (_file, block) => {
  test('match the model: run `npm run cost -- --update-docs` after changing the stack, prices or workloads', () => {
    const { actual, expected } = compareBlock(ROOT, block, ctx);
    expect(actual).toBeDefined();
    expect(actual).toBe(expected);
  });
});
