// `ktriage worker [--db postgres://...]`: run background jobs. On PostgreSQL any number of workers
// on any machines share the pg-boss queue; on SQLite it runs the in-process runner on that file.
import type { Command } from 'commander';
import { UsageError } from '../main.ts';
import { openStoreForCli } from '../store.ts';

export function register(program: Command): void {
  program
    .command('worker')
    .description(
      'run background jobs (pg-boss on PostgreSQL; the local runner on a SQLite file) until SIGINT/SIGTERM',
    )
    .option(
      '--db <url>',
      'database: postgres://... (or a SQLite file) (default $KTRIAGE_DB, else ./ktriage.db)',
    )
    .option('--concurrency <n>', 'jobs at once in this process', '1')
    .action(async (o: Record<string, string | undefined>) => {
      const { LocalRunner, PgBossWorker } = await import('../../jobs/queue.ts');
      const n = Number(o.concurrency);
      if (!Number.isInteger(n) || n < 1 || n > 64)
        throw new UsageError(`--concurrency: "${o.concurrency}" is not 1..64`);
      const store = await openStoreForCli(o.db, { create: true });
      const w =
        store.dialect === 'postgres'
          ? new PgBossWorker(store, { concurrency: n })
          : new LocalRunner(store, { concurrency: n, pollMs: 1000 });
      await w.start();
      process.stderr.write(`ktriage worker ${process.pid} on ${store.location}: waiting for jobs\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      process.stderr.write('ktriage worker: stopping after running jobs finish\n');
      await w.stop();
      await store.close();
    });
}
