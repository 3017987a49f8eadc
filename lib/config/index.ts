import { CONFIG_KEYS, type ConfigKey, CROSS_KEY_RULES, type StackConfig } from './schema';

export { CONFIG_KEYS, type ConfigKey, type StackConfig } from './schema';

/** Context key prefix: every key `k` of `CONFIG_KEYS` is read from `iot:k`. */
export const CONTEXT_PREFIX = 'iot:';

const KEY_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];

/** The defaults, also used for every key a `cdk.json` or `-c` does not set. */
export const DEFAULT_CONFIG: StackConfig = Object.fromEntries(
  KEY_NAMES.map((name) => [name, CONFIG_KEYS[name].default]),
) as unknown as StackConfig;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration (cdk.json context or -c overrides):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Builds and validates the config from context, at synth time. `getContext` is `app.node.tryGetContext`
 * (or a map in tests). Values given with `-c` arrive as strings, so numbers and booleans are accepted in
 * both forms; absent, null and "" mean unset (the default). Every problem is reported at once, each naming
 * its key and what to do. Pass `contextKeys` (`Object.keys(app.node.getAllContext())`) to also reject
 * unknown `iot:` keys: a typo would otherwise silently deploy the default.
 */
export function configFromContext(
  getContext: (key: string) => unknown,
  contextKeys: readonly string[] = [],
): StackConfig {
  const problems: string[] = [];
  const known = new Set(KEY_NAMES.map((name) => CONTEXT_PREFIX + name));
  for (const key of contextKeys) {
    if (key.startsWith(CONTEXT_PREFIX) && !known.has(key)) {
      problems.push(`${key}: unknown key; known keys are ${[...known].join(', ')}`);
    }
  }

  const config: Record<string, unknown> = {};
  const invalid = new Set<ConfigKey>();
  for (const name of KEY_NAMES) {
    const definition = CONFIG_KEYS[name];
    const raw = getContext(CONTEXT_PREFIX + name);
    if (raw === undefined || raw === null || raw === '') {
      config[name] = definition.default;
      continue;
    }
    const parsed = definition.schema.safeParse(raw);
    if (parsed.success) {
      config[name] = parsed.data;
    } else {
      invalid.add(name);
      problems.push(`${CONTEXT_PREFIX}${name}: got ${JSON.stringify(raw)}; ${definition.fix}`);
    }
  }
  for (const rule of CROSS_KEY_RULES) {
    if (rule.reads.some((name) => invalid.has(name))) continue;
    const problem = rule.problem(config as unknown as StackConfig);
    if (problem) problems.push(`${CONTEXT_PREFIX}${rule.key}: got ${JSON.stringify(config[rule.key])}; ${problem}`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return config as unknown as StackConfig;
}

/** The Glue database name: the one physical name the stacks set, see `ArchiveCatalog`. */
export function glueDatabaseName(stage: string): string {
  return `iot_telemetry_${stage.replace(/-/g, '_')}`;
}
