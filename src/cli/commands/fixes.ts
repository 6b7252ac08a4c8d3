// `ktriage fixes --base REV (--trace LOG | --crash ID | --funcs a,b --files x,y) [--repo R]... [--json]`
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../main.ts';
import { openStoreForCli } from '../store.ts';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function register(program: Command): void {
  program
    .command('fixes')
    .description('ranked candidate fix commits after a base version for a crash, with reasons')
    .requiredOption('--base <rev>', 'the version that crashed (tag, branch or commit)')
    .option('--trace <log>', 'console log with the crash report (the first report is used)')
    .option('--crash <id>', 'a stored crash (see ktriage buckets/show)')
    .option('--db <url>', 'store for --crash (default $KTRIAGE_DB, else ./ktriage.db)')
    .option('--funcs <list>', 'functions, comma-separated, top of the stack first')
    .option('--files <list>', 'source files, comma-separated')
    .option('--words <list>', 'extra words to match (e.g. from the BUG message), comma-separated')
    .option(
      '--repo <repo>',
      'repository or index file; repeat for several (stable tree, mail archive)',
      collect,
      [],
    )
    .option('--limit <n>', 'at most n candidates', '20')
    .option('--include-in-base', 'keep candidates already in the base as a backport')
    .option('--json', 'print JSON')
    .action(async (o: Record<string, unknown>) => {
      const { HistoryIndex, findFixes } = await import('../../history/query.ts');
      const { queryFromReport } = await import('../../history/report.ts');
      const { IndexError } = await import('../../history/db.ts');
      const { GitError } = await import('../../history/git.ts');
      const sources = [o.trace, o.crash, o.funcs ?? o.files].filter((x) => x !== undefined).length;
      if (sources !== 1)
        throw new UsageError('give exactly one of --trace LOG, --crash ID, or --funcs/--files');
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit <= 0)
        throw new UsageError(`--limit: "${o.limit}" is not a positive count`);
      let funcs: { name: string; depth: number }[] = [];
      let files: string[] = [];
      let words: string[] = list(o.words as string | undefined);
      let title: string | null = null;
      if (o.trace !== undefined) {
        let text: string;
        try {
          text = readFileSync(String(o.trace), 'utf8');
        } catch (err) {
          throw new UsageError(`--trace ${o.trace}: ${(err as Error).message}`);
        }
        const { parseLog } = await import('../../report/index.ts');
        const reports = parseLog(text);
        if (reports.length === 0)
          throw new UsageError(`--trace ${o.trace}: no crash report found in this log`);
        const q = queryFromReport(reports[0]!);
        ({ funcs, files } = q);
        words = [...words, ...q.words];
        title = reports[0]!.title;
      } else if (o.crash !== undefined) {
        const id = Number(o.crash);
        if (!Number.isInteger(id) || id <= 0) throw new UsageError(`--crash: "${o.crash}" is not a crash id`);
        const store = await openStoreForCli(o.db as string | undefined, { create: false });
        try {
          const crash = await store.getCrash(id);
          if (!crash) throw new UsageError(`--crash ${id}: no such crash in the store`);
          const q = queryFromReport(crash.report);
          ({ funcs, files } = q);
          words = [...words, ...q.words];
          title = crash.report.title;
        } finally {
          await (store as unknown as { close?: () => Promise<void> }).close?.();
        }
      } else {
        funcs = list(o.funcs as string | undefined).map((name, depth) => ({ name, depth }));
        files = list(o.files as string | undefined);
      }
      if (funcs.length === 0 && files.length === 0)
        throw new UsageError('no functions or files to search for');
      const repos = (o.repo as string[]).length > 0 ? (o.repo as string[]) : ['.'];
      const indexes: InstanceType<typeof HistoryIndex>[] = [];
      try {
        for (const r of repos) indexes.push(HistoryIndex.open(r));
        const result = findFixes(indexes, {
          base: String(o.base),
          funcs,
          files,
          words,
          limit,
          includeInBase: o.includeInBase === true,
        });
        if (o.json) {
          process.stdout.write(
            `${JSON.stringify({ base: o.base, title, funcs, files, words, candidates: result }, null, 2)}\n`,
          );
          return;
        }
        if (title) process.stdout.write(`crash: ${title}\n`);
        process.stdout.write(
          `base ${o.base}; functions: ${funcs.map((f) => f.name).join(', ') || '-'}; files: ${files.join(', ') || '-'}\n\n`,
        );
        if (result.length === 0) process.stdout.write('no candidate fixes found after the base\n');
        result.forEach((c, i) => {
          const bp =
            c.backportedToBase === null
              ? ''
              : c.backportedToBase
                ? ` [backported to the base's stable line: ${c.backports
                    .filter((b) => b.onBaseLine)
                    .map((b) => `${b.sha.slice(0, 12)} ${b.firstTag ?? 'untagged'}`)
                    .join(', ')}]`
                : " [not backported to the base's stable line]";
          process.stdout.write(
            `${String(i + 1).padStart(2)}. ${c.score.toFixed(1).padStart(5)}  ${c.source === 'git' ? c.id.slice(0, 12) : c.id}  ${c.date}  ${c.firstTag ?? ''}\n` +
              `    ${c.subject}${bp}\n`,
          );
          for (const r of c.reasons)
            process.stdout.write(`      ${r.score >= 0 ? '+' : ''}${r.score.toFixed(1)} ${r.detail}\n`);
        });
      } catch (err) {
        if (err instanceof IndexError || err instanceof GitError) throw new UsageError(err.message);
        throw err;
      } finally {
        for (const i of indexes) i.close();
      }
    });
}
