// `ktriage buckets [--json] [--since T] [--host H] [--kernel R] [--search TEXT]`
import type { Command } from 'commander';
import { UsageError } from '../main.ts';
import { openStoreForCli } from '../store.ts';

export function register(program: Command): void {
  program
    .command('buckets')
    .description('list crash buckets (same bug across hosts and kernels), most recently seen first')
    .option(
      '--db <url>',
      'database: a SQLite file or postgres://... (default $KTRIAGE_DB, else ./ktriage.db)',
    )
    .option('--since <time>', 'only crashes at or after this time (ISO 8601, or 7d / 12h / 30m ago)')
    .option('--host <name>', 'only crashes from this host')
    .option('--kernel <release>', 'only crashes on this kernel release (a trailing * matches a prefix)')
    .option('--search <text>', 'substring of the title or a frame (case-insensitive)')
    .option('--sort <key>', 'lastSeen|firstSeen|count|title|hosts', 'lastSeen')
    .option('--limit <n>', 'at most n buckets')
    .option('--json', 'print JSON: [{id, title, count, hosts, kernels, firstSeen, lastSeen}]')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const { parseTime } = await import('../../store/cli.ts');
      const sorts = ['lastSeen', 'firstSeen', 'count', 'title', 'hosts'];
      if (!sorts.includes(String(o.sort)))
        throw new UsageError(`--sort: "${o.sort}" is not one of ${sorts.join(', ')}`);
      let since: string | undefined;
      try {
        since = parseTime(o.since as string | undefined, '--since');
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const limit = o.limit === undefined ? undefined : Number(o.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 0))
        throw new UsageError(`--limit: "${o.limit}" is not a count`);
      const store = await openStoreForCli(o.db as string | undefined, { create: false });
      try {
        const r = await store.listBuckets({
          since,
          host: o.host as string | undefined,
          kernel: o.kernel as string | undefined,
          search: o.search as string | undefined,
          sort: o.sort as never,
          limit,
        });
        if (o.json) {
          const rows = r.items.map((b) => ({
            id: b.id,
            title: b.title,
            count: b.count,
            hosts: b.hosts,
            kernels: b.kernels,
            firstSeen: b.firstSeen,
            lastSeen: b.lastSeen,
          }));
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        if (r.items.length === 0) {
          process.stdout.write('no buckets\n');
          return;
        }
        const w = Math.max(...r.items.map((b) => String(b.id).length));
        for (const b of r.items) {
          const hosts =
            b.hosts.length > 3
              ? `${b.hosts.slice(0, 3).join(',')},+${b.hosts.length - 3}`
              : b.hosts.join(',');
          const kernels =
            b.kernels.length > 2
              ? `${b.kernels.slice(0, 2).join(',')},+${b.kernels.length - 2}`
              : b.kernels.join(',');
          process.stdout.write(
            `b${String(b.id).padEnd(w)}  ${String(b.count).padStart(6)}  ${b.lastSeen.slice(0, 16).replace('T', ' ')}  ${b.title}\n` +
              `${' '.repeat(w + 1)}  hosts: ${hosts}  kernels: ${kernels}\n`,
          );
        }
        process.stdout.write(`${r.total} bucket(s)\n`);
      } finally {
        await store.close();
      }
    });
}
