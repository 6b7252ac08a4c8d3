// `ktriage history index REPO [--range A..B] [--index FILE] [--mail] [--full]` and
// `ktriage history func FUNC [--file F] [--repo R] [--rev REV] [--json]`.
import type { Command } from 'commander';
import { UsageError } from '../main.ts';

function progressBar(label: string) {
  let bar: {
    start(t: number, v: number): void;
    update(v: number): void;
    setTotal(t: number): void;
    stop(): void;
  } | null = null;
  let started = false;
  return {
    async init() {
      const { default: cliProgress } = await import('cli-progress');
      bar = new cliProgress.SingleBar(
        {
          format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`,
          stream: process.stderr,
          hideCursor: false,
          noTTYOutput: false,
          etaBuffer: 200,
        },
        cliProgress.Presets.shades_classic,
      );
    },
    update(done: number, total: number) {
      if (!bar) return;
      if (!started) {
        bar.start(total, done);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop() {
      if (started) bar?.stop();
    },
  };
}

export function register(program: Command): void {
  const history = program
    .command('history')
    .description('git history and mailing-list index for finding fixes');
  history
    .command('index')
    .argument('<repo>', 'a git repository (work tree or bare), or a public-inbox archive')
    .description('build or update the history index (one streaming pass of git log -p -U0)')
    .option(
      '--range <revs>',
      'index only this revision range (e.g. v6.1..v6.2); default all branches and tags',
    )
    .option('--index <file>', 'index file (default <git dir>/ktriage-history.sqlite)')
    .option('--mail', 'treat the repository as a public-inbox mailing-list archive (detected when omitted)')
    .option('--full', 're-read commits already indexed')
    .option('--json', 'print the result as JSON')
    .action(async (repo: string, o: Record<string, string | boolean | undefined>) => {
      const { indexRepo } = await import('../../history/indexer.ts');
      const { indexMailArchive, looksLikePublicInbox } = await import('../../history/mail.ts');
      const { git, GitError } = await import('../../history/git.ts');
      const { IndexError } = await import('../../history/db.ts');
      let mail = o.mail === true;
      try {
        if (!mail) {
          let listing = '';
          try {
            listing = git(repo, ['ls-tree', 'HEAD']);
          } catch {
            listing = '';
          }
          mail = looksLikePublicInbox(listing);
        }
        const bar = progressBar(mail ? 'mails' : 'commits');
        await bar.init();
        const note = (m: string) => process.stderr.write(`ktriage: ${m}\n`);
        if (mail) {
          const r = await indexMailArchive(repo, {
            index: o.index as string | undefined,
            range: o.range as string | undefined,
            onProgress: (d, t) => bar.update(d, t),
            onNote: note,
          });
          bar.stop();
          if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
          else
            process.stdout.write(
              `indexed ${r.newMails} new emails (${r.patches} patches, ${r.missing} missing blobs) in ${r.seconds.toFixed(1)} s; ${r.totalMails} in ${r.indexFile}\n`,
            );
          return;
        }
        const r = await indexRepo(repo, {
          index: o.index as string | undefined,
          range: o.range as string | undefined,
          full: o.full === true,
          onProgress: (d, t) => bar.update(d, t),
          onNote: note,
        });
        bar.stop();
        if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else {
          process.stdout.write(
            `indexed ${r.newCommits} new commits in ${r.seconds.toFixed(1)} s; ${r.totalCommits} in ${r.indexFile}\n` +
              `Fixes: tags ${r.fixesTags}, resolved ${r.fixesResolved}\n` +
              `phases: ${Object.entries(r.phases)
                .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
                .join(', ')}\n` +
              (r.skippedPaths.length > 0
                ? `WARNING: diffs not read for ${r.skippedPaths.length} path(s) whose blobs are missing: ${r.skippedPaths.join(', ')}\n`
                : ''),
          );
        }
      } catch (err) {
        if (err instanceof GitError || err instanceof IndexError) throw new UsageError(err.message);
        throw err;
      }
    });
  history
    .command('func')
    .argument('<func>', 'function name')
    .description("history of one function from the index (what git log -L:'^func(':file lists)")
    .option('--file <path>', 'only in this file (renames followed back)')
    .option('--repo <repo>', 'repository or index file (default: current directory)', '.')
    .option('--rev <rev>', 'only commits contained in this revision (default HEAD, like git log -L)')
    .option('--all', 'commits on every indexed branch')
    .option('--json', 'print JSON')
    .action(async (func: string, o: Record<string, string | boolean | undefined>) => {
      const { HistoryIndex, functionHistory } = await import('../../history/query.ts');
      const { IndexError } = await import('../../history/db.ts');
      const { GitError } = await import('../../history/git.ts');
      let idx: InstanceType<typeof HistoryIndex>;
      try {
        idx = HistoryIndex.open(String(o.repo));
      } catch (err) {
        if (err instanceof IndexError || err instanceof GitError) throw new UsageError(err.message);
        throw err;
      }
      try {
        const rev = o.all
          ? undefined
          : ((o.rev as string | undefined) ?? (idx.resolve('HEAD') ? 'HEAD' : undefined));
        const h = functionHistory(idx, func, { file: o.file as string | undefined, rev });
        process.stdout.on('error', (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EPIPE') throw e;
        });
        if (o.json) {
          process.stdout.write(`${JSON.stringify(h, null, 2)}\n`);
          return;
        }
        if (h.length === 0) {
          process.stdout.write(`no indexed commit touches ${func}()${o.file ? ` in ${o.file}` : ''}\n`);
          return;
        }
        process.stdout.write(
          h
            .map(
              (e) =>
                `${e.sha.slice(0, 12)} ${e.date} ${(e.firstTag ?? '-').padEnd(14)} ${e.change.padEnd(8)} ${e.path}  ${e.subject}\n`,
            )
            .join(''),
        );
      } catch (err) {
        if (err instanceof IndexError) throw new UsageError(err.message);
        throw err;
      } finally {
        idx.close();
      }
    });
}
