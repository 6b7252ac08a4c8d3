// `ktriage serve [--port P] [--host 127.0.0.1] [--db ...] [--demo]`: the HTTP API and dashboard.
import type { Command } from 'commander';
import { UsageError } from '../main.ts';
import { openStoreForCli } from '../store.ts';

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the HTTP API (/api/v1) and the dashboard; tokens from KTRIAGE_TOKEN, KTRIAGE_READ_TOKEN, KTRIAGE_WRITE_TOKEN',
    )
    .option(
      '--db <url>',
      'database: a SQLite file or postgres://... (default $KTRIAGE_DB, else ./ktriage.db)',
    )
    .option('--port <n>', 'TCP port (0 picks a free one)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--demo', 'on an empty database, first ingest the example logs in examples/')
    .option('--worker', 'on PostgreSQL, also run background jobs in this process')
    .option('--no-jobs', 'on SQLite, do not run background jobs in this process')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port: "${o.port}" is not a port`);
      const { startServer } = await import('../../server/index.ts');
      const store = await openStoreForCli(o.db as string | undefined, { create: true });
      if (o.demo) {
        const { loadDemo } = await import('../../server/pages/demo.ts');
        const r = await loadDemo(store);
        if (r.loaded)
          process.stderr.write(
            `demo: ingested ${r.logs} example log(s): ${r.crashes} crash(es) in ${r.buckets} bucket(s)\n`,
          );
      }
      const host = String(o.host);
      const tokens =
        process.env.KTRIAGE_TOKEN || process.env.KTRIAGE_READ_TOKEN || process.env.KTRIAGE_WRITE_TOKEN;
      if (!tokens && host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
        process.stderr.write(
          `warning: listening on ${host} with no token: anyone who can reach it can read and write. Set KTRIAGE_TOKEN (or KTRIAGE_READ_TOKEN/KTRIAGE_WRITE_TOKEN).\n`,
        );
      }
      let srv: Awaited<ReturnType<typeof startServer>>;
      try {
        srv = await startServer({
          store,
          port,
          hostname: host,
          runJobs: store.dialect === 'sqlite' ? o.jobs !== false : Boolean(o.worker),
        });
      } catch (err) {
        await store.close();
        throw new UsageError(`cannot listen on ${host}:${port}: ${(err as Error).message}`);
      }
      process.stderr.write(`ktriage serving ${store.location} at ${srv.url}/ (API ${srv.url}/api/v1)\n`);
      // Tests and scripts read the URL from stdout.
      process.stdout.write(`${srv.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await srv.close();
      await store.close();
    });
}
