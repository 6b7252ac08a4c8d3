// `ktriage rebucket`: recompute every crash's bucket with the current rules (deterministic).
import type { Command } from 'commander';
import { UsageError } from '../main.ts';

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
      const { openStore } = await import('../../store/index.ts');
      let store: Awaited<ReturnType<typeof openStore>>;
      try {
        store = await openStore(o.db as string | undefined);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
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
