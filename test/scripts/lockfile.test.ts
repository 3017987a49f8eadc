import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Lockfile, lockfileProblems, type Manifest } from '../../scripts/lockfile';

const manifest: Manifest = {
  name: 'app',
  version: '1.0.0',
  dependencies: { zod: '^4.6.7', 'aws-cdk-lib': '~2.276.0' },
  devDependencies: { 'aws-cdk': '2.1148.1' },
};
const lock: Lockfile = {
  name: 'app',
  version: '1.0.0',
  lockfileVersion: 3,
  packages: {
    '': {
      name: 'app',
      version: '1.0.0',
      dependencies: manifest.dependencies,
      devDependencies: manifest.devDependencies,
    },
    'node_modules/zod': { version: '4.6.7' },
    'node_modules/aws-cdk-lib': { version: '2.276.1' },
    'node_modules/aws-cdk': { version: '2.1148.1' },
  },
};

test("the repository's package-lock.json matches its package.json", () => {
  const read = (file: string) => JSON.parse(readFileSync(join(__dirname, '..', '..', file), 'utf8'));
  expect(lockfileProblems(read('package.json'), read('package-lock.json'))).toEqual([]);
});

test('a lockfile in sync has no problems', () => {
  expect(lockfileProblems(manifest, lock)).toEqual([]);
});

test('a dependency added to package.json but not installed is named, with what to do', () => {
  const added = { ...manifest, dependencies: { ...manifest.dependencies, semver: '^7.8.0' } };
  expect(lockfileProblems(added, lock)).toEqual([
    'dependencies.semver: package.json wants ^7.8.0, package-lock.json records undefined; run `npm install` and commit package-lock.json',
  ]);
});

test('a changed range, a removed dependency and a locked version outside its range are each reported', () => {
  const changed: Manifest = {
    ...manifest,
    dependencies: { zod: '^4.7.0' },
    devDependencies: { 'aws-cdk': '2.1148.1' },
  };
  const stale: Lockfile = {
    ...lock,
    packages: {
      ...lock.packages,
      '': { ...lock.packages?.[''], dependencies: { zod: '^4.7.0', 'aws-cdk-lib': '~2.276.0' } },
    },
  };
  expect(lockfileProblems(changed, stale).map((p) => p.split(';')[0])).toEqual([
    'dependencies.zod: locked 4.6.7 does not satisfy ^4.7.0',
    'dependencies.aws-cdk-lib: in package-lock.json but not in package.json',
  ]);
  expect(lockfileProblems(changed, lock).map((p) => p.split(';')[0])).toEqual([
    'dependencies.zod: package.json wants ^4.7.0, package-lock.json records ^4.6.7',
    'dependencies.aws-cdk-lib: in package-lock.json but not in package.json',
  ]);
});

test('an old lockfile format is refused', () => {
  expect(lockfileProblems(manifest, { lockfileVersion: 1 })[0]).toMatch(/lockfileVersion 1, not 2 or 3/);
});
