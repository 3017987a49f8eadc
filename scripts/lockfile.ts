import semver from 'semver';

/**
 * Why package.json and package-lock.json disagree, if they do: what `npm ci` would refuse ("package.json and
 * package-lock.json are not in sync"), found offline in milliseconds from the two files alone. npm has no
 * such check by itself: `npm ci --dry-run --offline` needs every package in the npm cache (a fresh clone has
 * none) and reports a mismatch as a resolution error (ETARGET) instead of naming it. So this compares the
 * manifest with the lockfile's root entry and each locked version with its range (semver, as npm does).
 */

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const;
type DependencyField = (typeof DEPENDENCY_FIELDS)[number];

export type Manifest = { readonly name?: string; readonly version?: string } & {
  readonly [F in DependencyField]?: Readonly<Record<string, string>>;
};
export interface Lockfile {
  readonly name?: string;
  readonly version?: string;
  readonly lockfileVersion?: number;
  readonly packages?: Readonly<Record<string, Manifest>>;
}

export function lockfileProblems(manifest: Manifest, lock: Lockfile): string[] {
  const fix = 'run `npm install` and commit package-lock.json';
  if (!lock.packages || (lock.lockfileVersion ?? 0) < 2) {
    return [`package-lock.json has lockfileVersion ${lock.lockfileVersion}, not 2 or 3: ${fix} with npm 9 or newer`];
  }
  const problems: string[] = [];
  const root = lock.packages[''] ?? {};
  for (const field of ['name', 'version'] as const) {
    if (manifest[field] !== lock[field]) {
      problems.push(`${field}: package.json has ${manifest[field]}, package-lock.json ${lock[field]}; ${fix}`);
    }
  }
  for (const field of DEPENDENCY_FIELDS) {
    const wanted = manifest[field] ?? {};
    const locked = root[field] ?? {};
    for (const name of new Set([...Object.keys(wanted), ...Object.keys(locked)])) {
      const range = wanted[name];
      if (range === undefined) {
        problems.push(`${field}.${name}: in package-lock.json but not in package.json; ${fix}`);
        continue;
      }
      if (locked[name] !== range) {
        problems.push(
          `${field}.${name}: package.json wants ${range}, package-lock.json records ${locked[name]}; ${fix}`,
        );
        continue;
      }
      if (field === 'peerDependencies') continue;
      const version = lock.packages[`node_modules/${name}`]?.version;
      if (version === undefined) {
        if (field !== 'optionalDependencies') problems.push(`${field}.${name}: not in package-lock.json; ${fix}`);
      } else if (semver.validRange(range) !== null && !semver.satisfies(version, range)) {
        problems.push(`${field}.${name}: locked ${version} does not satisfy ${range}; ${fix}`);
      }
    }
  }
  return problems;
}
