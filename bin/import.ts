#!/usr/bin/env -S npx tsx --max-semi-space-size=32 --initial-old-space-size=1024
/**
 * History import: `npm run import -- <files, directories, globs or s3:// URLs...> [options]`.
 * Wiring only: flags -> target and clients -> runImport (lib/import/run.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Command, Option } from 'commander';
import { rawTableName } from '../lib/catalog';
import { flushWindow, PROFILES } from '../lib/core';
import { ImportError } from '../lib/import/errors';
import { ParquetDayWriter } from '../lib/import/parquet-archive';
import { importProgress, summaryText } from '../lib/import/progress';
import { type ArchiveFormat, IMPORT_FLUSH_LATENESS_MS } from '../lib/import/publish';
import { runImport } from '../lib/import/run';
import { type RawTableInfo, readRawTables, resolveImportTarget } from '../lib/import/target';
import { retryThrottled } from '../lib/import/throttle';
import { baseClientConfig, s3ClientConfig } from '../lib/shared/aws-clients';
import { TargetError } from '../lib/shared/stack-target';
import { DynamoAggregateStore } from '../lib/storage/dynamo-aggregate-store';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ImportError(`${name} must be a positive integer, got ${v}`);
  return n;
};

const wholeNumber = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ImportError(`${name} must be 0 or a positive integer, got ${v}`);
  return n;
};

const positiveNumber = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ImportError(`${name} must be a positive number, got ${v}`);
  return n;
};

const program = new Command('import')
  .description(
    'Imports exported readings (NDJSON, optionally .gz, or CSV with a header; files, directories, globs, s3:// URLs)\n' +
      'into the archive, the quarantine and the per-minute aggregates, exactly once and resumably.\n' +
      'Target: --outputs FILE, or the running embedded stack (.local/stack.json), or --bucket/--aggregates-table/--device-state-table.',
  )
  .argument('<inputs...>', 'files, directories, globs (quote them) or s3://bucket/prefix URLs')
  .option('--outputs <file>', 'cdk deploy --outputs-file output: bucket, tables, Glue database, region')
  .option('--endpoint <url>', 'custom endpoint (embedded runtime, LocalStack)')
  .option('--s3-endpoint <url>', 'S3 endpoint when it differs from --endpoint')
  .option('--dynamodb-endpoint <url>', 'DynamoDB endpoint when it differs from --endpoint')
  .option('--region <region>', 'AWS region')
  .option('--aws', 'ignore .local/stack.json (real AWS with --bucket/--aggregates-table/...)')
  .option('--bucket <name>', 'the archive bucket')
  .option('--aggregates-table <name>', 'the per-minute aggregates table')
  .option('--device-state-table <name>', 'the device-state table')
  .option('--database <name>', 'the Glue database (to read the raw tables format and columns)')
  .option(
    '--aggregates-ttl-days <n>',
    "the aggregates table's TTL (read from --outputs or the embedded stack otherwise): older minutes are archived only",
    positiveInt('--aggregates-ttl-days'),
  )
  .addOption(
    new Option('--archive-format <format>', 'how the stack archives (default: read from the Glue raw tables)').choices([
      'parquet',
      'json',
    ]),
  )
  .option('--state-dir <dir>', 'manifest and spool directory (default .import/<import id>)')
  .option('--chunk-mb <n>', 'decompressed MB per chunk, the unit of resumption', positiveNumber('--chunk-mb'), 64)
  .option(
    '--scan-threads <n>',
    'worker threads finding the lines and copies of NDJSON chunks while the import thread validates and merges (default 1; 0: the import thread alone)',
    wholeNumber('--scan-threads'),
  )
  .option(
    '--write-concurrency <n>',
    'parallel DynamoDB requests (listing rows; new minutes go 25 to a request, a quarter as many in flight)',
    positiveInt('--write-concurrency'),
    16,
  )
  .option('--json', 'print the summary as JSON on stdout')
  .action(async (inputs: string[], opts) => {
    const target = resolveImportTarget(opts);
    const s3 = new S3Client(s3ClientConfig({ region: target.region, endpoint: target.s3Endpoint }));
    // Adaptive retries: the SDK slows its own sending rate when DynamoDB throttles (client-side token bucket).
    const dynamo = new DynamoDBClient({
      ...baseClientConfig({ region: target.region, endpoint: target.dynamodbEndpoint }),
      maxAttempts: 10,
      retryMode: 'adaptive',
    });
    const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
    let tables: Map<string, RawTableInfo> | undefined;
    let format = opts.archiveFormat as ArchiveFormat | undefined;
    if (format === undefined) {
      if (!target.glueDatabase) {
        throw new ImportError('No Glue database to read the archive format from: pass --database or --archive-format.');
      }
      const glue = new GlueClient(baseClientConfig(target));
      tables = await readRawTables(glue, target.glueDatabase, PROFILES, rawTableName);
      glue.destroy();
      const formats = new Set([...tables.values()].map((t) => t.format));
      if (formats.size > 1) throw new ImportError('The raw tables disagree on their format: pass --archive-format.');
      format = [...formats][0] ?? 'json';
    }
    const parquet = new ParquetDayWriter({
      columns: (profile) =>
        tables?.get(profile)?.columns ??
        (PROFILES.find((x) => x.name === profile)?.archiveColumns ?? []).map((c) => ({
          name: c.name.toLowerCase(),
          type: c.type,
        })),
    });
    // The table's TTL: imported minutes expire as the live pipeline's do; those already past it are not written.
    const store = new DynamoAggregateStore({
      client: doc,
      aggregatesTable: target.aggregatesTable,
      deviceStateTable: target.deviceStateTable,
      aggregatesTtlDays: target.aggregatesTtlDays,
    });
    const abort = new AbortController();
    let interrupts = 0;
    const onSignal = () => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      process.stderr.write(
        '\nstopping after the current chunk (Ctrl-C again to exit at once; the same command resumes)\n',
      );
      abort.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const progress = importProgress();
    try {
      const summary = await runImport({
        inputs,
        s3,
        bucket: target.bucket,
        format,
        parquet,
        store,
        aggregatesTtlDays: target.aggregatesTtlDays,
        flush: async (window) => {
          const result = await retryThrottled(
            () =>
              flushWindow(window, store, {
                allowedLatenessMs: IMPORT_FLUSH_LATENESS_MS,
                concurrency: opts.writeConcurrency,
              }),
            {
              onThrottle: (n, ms) =>
                process.stderr.write(`DynamoDB throttled the import; retry ${n} in ${Math.round(ms)} ms\n`),
            },
          );
          for (const c of result.profileConflicts) {
            process.stderr.write(
              `device_profile_conflict: ${c.events} ${c.profile} readings of ${c.deviceId} left out of the aggregates ` +
                `(the id belongs to a ${c.heldBy} device); they are in the archive\n`,
            );
          }
          return result;
        },
        stateDir: opts.stateDir,
        chunkBytes: Math.round(opts.chunkMb * 1024 * 1024),
        scanThreads: opts.scanThreads,
        warn: (line) => process.stderr.write(`${line}\n`),
        onProgress: progress.onProgress,
        signal: abort.signal,
      });
      progress.stop();
      for (const day of summary.days) {
        const [profile, date] = day.split('/');
        const years = tables?.get(profile)?.years;
        const year = Number(date.slice(0, 4));
        if (years && (year < years[0] || year > years[1])) {
          process.stderr.write(
            `warning: ${day} is outside the ${profile}_raw table's partition projection (${years[0]}-${years[1]}): Athena will not see it; widen the projection range.\n`,
          );
        }
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else process.stderr.write(`${summaryText(summary)}\n`);
      process.exitCode = !summary.complete ? 130 : summary.filesWithErrors.length > 0 ? 1 : 0;
    } finally {
      progress.stop();
      await parquet.close();
      s3.destroy();
      dynamo.destroy();
    }
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ImportError || err instanceof TargetError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  if (process.env.DEBUG) console.error(err);
  else process.stderr.write(`import failed: ${(err as Error).message} (DEBUG=1 for the stack trace)\n`);
  process.exit(1);
});
