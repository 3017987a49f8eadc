/**
 * The stack's named queries: the same SQL (Athena/Trino dialect) is created as `AWS::Athena::NamedQuery`
 * by the CDK stacks and served by the embedded runtime's Athena API.
 * Placeholders `{{name}}` are filled by the query tool's `--param name=value`.
 */
export interface NamedQuerySpec {
  /** Unique, kebab-case: what `npm run query -- --named NAME` takes. */
  readonly name: string;
  readonly description: string;
  readonly sql: string;
  /** Parameters the SQL expects, with defaults where it has one. */
  readonly params: readonly { readonly name: string; readonly description: string; readonly default?: string }[];
}

// Filled in by the Athena analyses work (lib/analytics); the CDK stacks create whatever is listed here.
export const NAMED_QUERIES: readonly NamedQuerySpec[] = [];
