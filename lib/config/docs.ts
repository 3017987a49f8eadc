import { CONTEXT_PREFIX } from './index';
import { CONFIG_KEYS, type ConfigKey } from './schema';

/** Markers around the generated table in docs/deploy.md; everything between them is rewritten. */
export const CONFIG_TABLE_BEGIN =
  '<!-- config-table: generated from lib/config/schema.ts by `npm run docs:config`; edit the schema, not the table -->';
export const CONFIG_TABLE_END = '<!-- /config-table -->';

const cell = (text: string) => text.replace(/\|/g, '\\|');
const shownDefault = (value: unknown) => (value === undefined ? 'unset' : `\`${String(value)}\``);

/** The configuration table: one row per key of `CONFIG_KEYS`, in its order. */
export function configTableMarkdown(): string {
  const rows = (Object.keys(CONFIG_KEYS) as ConfigKey[]).map((name) => {
    const { default: value, allowed, description } = CONFIG_KEYS[name];
    return `| \`${CONTEXT_PREFIX}${name}\` | ${shownDefault(value)} | ${cell(allowed)} | ${cell(description)} |`;
  });
  return ['| Key | Default | Allowed | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}

function markerBounds(markdown: string): [number, number] {
  const begin = markdown.indexOf(CONFIG_TABLE_BEGIN);
  const end = markdown.indexOf(CONFIG_TABLE_END);
  if (begin < 0 || end < begin) {
    throw new Error(`the markers ${CONFIG_TABLE_BEGIN} ... ${CONFIG_TABLE_END} are missing or out of order`);
  }
  return [begin + CONFIG_TABLE_BEGIN.length, end];
}

/** The table currently between the markers. */
export function documentedConfigTable(markdown: string): string {
  const [from, to] = markerBounds(markdown);
  return markdown.slice(from, to).trim();
}

/** `markdown` with the table between the markers regenerated from the schema. */
export function withConfigTable(markdown: string): string {
  const [from, to] = markerBounds(markdown);
  return `${markdown.slice(0, from)}\n${configTableMarkdown()}\n${markdown.slice(to)}`;
}
