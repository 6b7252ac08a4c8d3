// `ktriage ingest [--host H] [--kernel R] PATH...`: store the crash reports of logs and bucket them.
import type { Command } from 'commander';
import { UsageError } from '../main.ts';
import { openStoreForCli } from '../store.ts';

export function register(program: Command): void {
  program
    .command('ingest')
    .description(
      'store crash reports from logs: files, directories (recursive), - for stdin, kdump /var/crash dirs, pstore records, journalctl exports',
    )
    .argument('<paths...>', 'files or directories; - reads stdin')
    .option(
      '--db <url>',
      'database: a SQLite file or postgres://... (default $KTRIAGE_DB, else ./ktriage.db)',
    )
    .option('--host <name>', 'host the logs came from (default: from kdump dir or journal, else "unknown")')
    .option('--kernel <release>', 'kernel release, when the logs do not show it')
    .option('--occurred-at <time>', 'when the crash happened (ISO 8601), for logs without wall-clock time')
    .option('--format <fmt>', 'skip detection: console|kdump|pstore|journal|journal-json|journal-export')
    .option('--job', 'run as a background job (a worker or `ktriage serve` picks it up)')
    .option('--json', 'print a JSON summary')
    .option('--jsonl', 'print one JSON line per log as soon as it is committed (for scripts)')
    .option('--batch <n>', 'logs per write transaction', '500')
    .option('--no-progress', 'never show a progress bar')
    .action(async (paths: string[], o: Record<string, string | boolean | undefined>) => {
      const { parseTime } = await import('../../store/cli.ts');
      const formats = ['console', 'kdump', 'pstore', 'journal', 'journal-json', 'journal-export'];
      if (o.format && !formats.includes(String(o.format))) {
        throw new UsageError(`--format: "${o.format}" is not one of ${formats.join(', ')}`);
      }
      let occurredAt: string | undefined;
      try {
        occurredAt = parseTime(o.occurredAt as string | undefined, '--occurred-at');
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const store = await openStoreForCli(o.db as string | undefined, { create: true });
      try {
        if (o.job) {
          const { resolve } = await import('node:path');
          if (paths.includes('-')) throw new UsageError('--job cannot read stdin; give files');
          const id = await store.enqueueJob({
            kind: 'ingest',
            payload: { paths: paths.map((p) => resolve(p)), host: o.host, kernel: o.kernel, occurredAt },
          });
          process.stdout.write(o.json ? `${JSON.stringify({ jobId: id })}\n` : `queued ingest job ${id}\n`);
          return;
        }
        const { ingestPaths } = await import('../../store/ingest-files.ts');
        const s = await ingestPaths(store, paths, {
          host: o.host as string | undefined,
          kernel: o.kernel as string | undefined,
          occurredAt,
          format: o.format as never,
          progress: o.progress === false || o.jsonl ? false : undefined,
          batchLogs: Math.max(1, Number(o.batch) || 500),
          onResult: o.jsonl
            ? (r) => {
                process.stdout.write(
                  `${JSON.stringify({ logId: r.logId, source: r.source, host: r.host, duplicateLog: r.duplicateLog, noCrash: r.noCrash, crashes: r.crashes.map((c) => c.crashId) })}\n`,
                );
              }
            : (r) => {
                for (const w of r.warnings)
                  process.stderr.write(`ktriage: ingest: ${r.source}: warning: ${w}\n`);
              },
          onError: (src, reason) => process.stderr.write(`ktriage: ingest: ${src}: ${reason}\n`),
        });
        if (o.jsonl) {
          // per-log lines were the output
        } else if (o.json) {
          process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        } else {
          process.stdout.write(
            `${s.logs} log(s): ${s.crashes} crash report(s), ${s.created} new, ${s.crashes - s.created} already stored; ` +
              `${s.buckets} bucket(s) touched, ${s.newBuckets} new` +
              (s.duplicateLogs ? `; ${s.duplicateLogs} log(s) already stored` : '') +
              '\n',
          );
          for (const n of s.noCrash) process.stdout.write(`no crash report found in ${n} (log kept)\n`);
        }
        if (s.errors.length) process.exitCode = 2;
      } finally {
        await store.close();
      }
    });
}
