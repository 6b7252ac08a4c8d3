// `ktriage jobs [--json] [--state S]`: background jobs with state, attempts and timings.
import type { Command } from 'commander';
import { UsageError } from '../main.ts';
import { openStoreForCli } from '../store.ts';

export function register(program: Command): void {
  program
    .command('jobs')
    .description('list background jobs (ingest, analyses): state, attempts, worker, timings, result')
    .option(
      '--db <url>',
      'database: a SQLite file or postgres://... (default $KTRIAGE_DB, else ./ktriage.db)',
    )
    .option('--state <state>', 'queued|active|done|failed|cancelled')
    .option('--kind <kind>', 'only jobs of this kind')
    .option('--limit <n>', 'at most n jobs (newest first)', '100')
    .option('--json', 'print JSON')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const states = ['queued', 'active', 'done', 'failed', 'cancelled'];
      if (o.state && !states.includes(String(o.state)))
        throw new UsageError(`--state: "${o.state}" is not one of ${states.join(', ')}`);
      const store = await openStoreForCli(o.db as string | undefined, { create: false });
      try {
        const jobs = await store.listJobs({
          state: o.state as never,
          kind: o.kind as string | undefined,
          limit: Number(o.limit) || 100,
        });
        if (o.json) {
          process.stdout.write(`${JSON.stringify(jobs, null, 2)}\n`);
          return;
        }
        if (jobs.length === 0) process.stdout.write('no jobs\n');
        for (const j of jobs) {
          const took =
            j.startedAt && j.finishedAt
              ? ` ${((Date.parse(j.finishedAt) - Date.parse(j.startedAt)) / 1000).toFixed(1)} s`
              : '';
          process.stdout.write(
            `j${j.id}  ${j.kind.padEnd(12)} ${j.state.padEnd(9)} attempt ${j.attempts}/${j.maxAttempts}${took}  ${j.worker ?? ''}` +
              `${j.error ? `  error: ${j.error}` : ''}\n`,
          );
        }
      } finally {
        await store.close();
      }
    });
}
