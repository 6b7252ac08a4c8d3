// `ktriage show BUCKET|CRASH [--json]`: b12 (or 12) is bucket 12, c34 is crash 34.
import type { Command } from 'commander';
import { UsageError } from '../main.ts';
import { openStoreForCli } from '../store.ts';

export function register(program: Command): void {
  program
    .command('show')
    .description(
      'show a bucket (b12, or 12) with its hosts, kernels and members, or a crash (c34) with its report',
    )
    .argument('<ref>', 'b<id> / <id> for a bucket, c<id> for a crash')
    .option(
      '--db <url>',
      'database: a SQLite file or postgres://... (default $KTRIAGE_DB, else ./ktriage.db)',
    )
    .option('--json', 'print JSON')
    .option('--limit <n>', 'members to list for a bucket', '20')
    .action(async (ref: string, o: Record<string, string | boolean | undefined>) => {
      const { parseRef } = await import('../../store/cli.ts');
      const r = parseRef(ref);
      if (!r) throw new UsageError(`"${ref}" is not a bucket (b12 or 12) or crash (c34) reference`);
      const store = await openStoreForCli(o.db as string | undefined, { create: false });
      try {
        const out = (s: string) => process.stdout.write(s);
        if (r.kind === 'bucket') {
          const b = await store.getBucket(r.id, { members: { limit: Number(o.limit) || 20 } });
          if (!b) throw new UsageError(`no bucket ${r.id} in ${store.location}`);
          if (o.json) {
            out(`${JSON.stringify(b, null, 2)}\n`);
            return;
          }
          out(`bucket b${b.id}: ${b.title}\n`);
          out(`  kind ${b.kind}, ${b.count} crash(es), first ${b.firstSeen}, last ${b.lastSeen}\n`);
          out(`  hosts:   ${b.hostCounts.map((h) => `${h.name} (${h.count})`).join(', ')}\n`);
          out(`  kernels: ${b.kernelCounts.map((k) => `${k.name} (${k.count})`).join(', ')}\n`);
          out(
            `  signature: ${b.signature.slice(0, 8).join(' < ')}${b.signature.length > 8 ? ' < ...' : ''}\n`,
          );
          out(`  representative: c${b.representativeCrashId}\n`);
          out(`  members (newest first):\n`);
          for (const m of b.members) {
            const why =
              m.rule === 'new'
                ? 'founded the bucket'
                : `${m.rule}${m.similarity == null ? '' : ` ${m.similarity.toFixed(2)}`}`;
            out(
              `    c${m.id}  ${m.occurredAt}  ${m.host}  ${m.kernel}  ${why}${m.title !== b.title ? `  (${m.title})` : ''}\n`,
            );
          }
          if (b.count > b.members.length) out(`    ... ${b.count - b.members.length} more\n`);
          for (const a of b.analyses) out(`  analysis a${a.id} [${a.kind}] ${a.title}\n`);
          return;
        }
        const c = await store.getCrash(r.id);
        if (!c) throw new UsageError(`no crash ${r.id} in ${store.location}`);
        if (o.json) {
          out(`${JSON.stringify(c, null, 2)}\n`);
          return;
        }
        out(`crash c${c.id}: ${c.title}\n`);
        out(
          `  host ${c.host}, kernel ${c.kernel}${c.kernelBuild ? ` ${c.kernelBuild}` : ''}, occurred ${c.occurredAt}\n`,
        );
        out(
          `  bucket b${c.bucketId} (${c.rule}${c.similarity == null ? '' : ` ${c.similarity.toFixed(2)}`}), from ${c.logSource} lines ${c.report.startLine}-${c.report.endLine}\n`,
        );
        for (const a of c.analyses) out(`  analysis a${a.id} [${a.kind}] ${a.title}\n`);
        out(`\n${c.rawText}\n`);
      } finally {
        await store.close();
      }
    });
}
