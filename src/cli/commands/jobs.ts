// `ktriage jobs [--json] [--state S]`: background jobs with state, attempts and timings;
// `ktriage jobs cancel ID`: cancel one.
import type { Command } from 'commander';
import { UsageError } from '../main.ts';
import { openStoreForCli } from '../store.ts';

export function register(program: Command): void {
  const jobs = program.command('jobs');
  jobs
    .command('cancel <id>')
    .description('cancel a queued or running job (a running one stops at its next check)')
    .option(
      '--db <url>',
      'database: a SQLite file or postgres://... (default $KTRIAGE_DB, else ./ktriage.db)',
    )
    .action(async (idArg: string, o: Record<string, string | undefined>) => {
      const id = Number(String(idArg).replace(/^j/i, ''));
      if (!Number.isInteger(id) || id <= 0)
        throw new UsageError(`"${idArg}" is not a job id (e.g. 12 or j12)`);
      const store = await openStoreForCli(o.db ?? jobs.opts().db, { create: false });
      try {
        const j = await store.cancelJob(id);
        if (!j) throw new UsageError(`no job ${id}`);
        if (j.state !== 'cancelled') throw new Error(`job ${id} already ended: ${j.state}`);
        process.stdout.write(`j${id} cancelled\n`);
      } finally {
        await store.close();
      }
    });
  jobs
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
