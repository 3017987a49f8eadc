/**
 * Everything the dashboard takes from the query tool, through this one module: the Athena runner
 * (start, poll, page, cost), the named queries and their parameter checks. When the query code moves
 * (lib/analytics -> lib/query, lib/local/athena) only these imports change.
 */
export { NAMED_QUERIES, type NamedQuerySpec } from '../analytics/named-queries';
export {
  formatBytes,
  MIN_BILLED_BYTES,
  PRICE_PER_TB_USD,
  type QueryRun,
  queryCostUsd,
  runQuery,
} from '../analytics/query-client';
export { fillParams, findNamedQuery, ParamError } from '../analytics/query-params';
