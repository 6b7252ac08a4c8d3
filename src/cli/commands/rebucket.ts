// `ktriage rebucket`: recompute every crash's bucket with the current rules (deterministic).
import type { Command } from 'commander';
import { openStoreForCli } from '../store.ts';

export function register(program: Command): void {
  program
    .command('rebucket')
    .description('recompute all bucket memberships with the current rules, in crash order (deterministic)')
    .option(
      '--db <url>',
      'database: a SQLite file or postgres://... (default $KTRIAGE_DB, else ./ktriage.db)',
    )
    .option('--json', 'print JSON')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const store = await openStoreForCli(o.db as string | undefined, { create: false });
      try {
        const r = await store.rebucket();
        process.stdout.write(
          o.json
            ? `${JSON.stringify(r)}\n`
            : `${r.crashes} crash(es) in ${r.buckets} bucket(s); ${r.moved} moved\n`,
        );
      } finally {
        await store.close();
      }
    });
}
