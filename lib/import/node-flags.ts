/**
 * V8 flags the import runs with (`npm run import` passes them; the benchmark and the CLI tests start the
 * import with them too, and test/import/node-flags.test.ts holds package.json to this list).
 *
 * Why: a day's aggregates windows are hundreds of thousands of small objects that live until the day is
 * merged, so the heap only grows during an import, and with V8's defaults about a third of the import's
 * CPU went to the garbage collector: a young generation scavenged every few MB (each copying the
 * windows' newest objects), and full collections started again and again as the old generation grew,
 * marking a heap that was nearly all alive. Measured on the benchmark (2 vCPU, load average 3-4, three
 * pairs): 5.4-5.9 s of CPU instead of 6.4-6.7 s, 520,000-740,000 raw records/s instead of 464,000-478,000.
 * - `--max-semi-space-size=32` (MB; default 16): half as many scavenges.
 * - `--initial-old-space-size=1024` (MB): no full collection before the old generation reaches 1 GB (an
 *   initial limit, not a reservation: memory is taken only as the heap grows; a fleet day's windows take
 *   about that much anyway).
 */
export const IMPORT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32', '--initial-old-space-size=1024'];
