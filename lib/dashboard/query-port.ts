/**
 * Everything the dashboard takes from the query tool, through this one module: the Athena runner
 * (start, poll, page, cost) from lib/query, the named queries and their parameter checks from lib/catalog.
 * When that code moves, only these imports change.
 */
export { fillParams, findNamedQuery, NAMED_QUERIES, type NamedQuerySpec, ParamError, rawTableName } from '../catalog';
export {
  formatBytes,
  MIN_BILLED_BYTES,
  PRICE_PER_TB_USD,
  type QueryRun,
  queryCostUsd,
  runQuery,
} from '../query/client';
