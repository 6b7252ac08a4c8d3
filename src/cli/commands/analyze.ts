// `ktriage analyze VMCORE --vmlinux V [--modules DIR] [--src TREE] [--format md|html|json] [--kernel REL] [--db URL]`
// and `ktriage analyze --transcript FILE [--kernel REL]`: the triage playbook on a live crash
// session or on a saved session/notes; with --db the report is stored as an analysis.
import type { Command } from 'commander';
import { UsageError } from '../main.ts';

interface AnalyzeOptions {
  vmlinux?: string;
  modules?: string;
  src?: string;
  format: string;
  kernel?: string;
  transcript?: string;
  db?: string;
  crash?: string;
  timeout?: string;
  search?: boolean;
  crashId?: string;
  bucketId?: string;
}

export function register(program: Command): void {
  program
    .command('analyze')
    .description(
      'automated vmcore triage: registers, arguments, objects, slab facts, invariants (live crash or a saved transcript)',
    )
    .argument('[vmcore]', 'kernel dump to open with crash (omit with --transcript)')
    .option('--vmlinux <file>', 'vmlinux with debug info matching the dump')
    .option('--modules <dir>', 'directory with module .ko debug files (mod -S DIR)')
    .option(
      '--src <tree|index>',
      'kernel source tree (enum definitions) or source index file (enums, who changes a flag)',
    )
    .option('--format <fmt>', 'md, html or json', 'md')
    .option('--kernel <release>', 'kernel release when the input does not show it (e.g. 4.19)')
    .option('--transcript <file>', 'a saved crash session or Markdown notes instead of a vmcore')
    .option('--db <url>', 'store the report as an analysis in this database (SQLite path or postgres:// URL)')
    .option('--crash-id <n>', 'with --db: attach the analysis to this crash')
    .option('--bucket-id <n>', 'with --db: attach the analysis to this bucket')
    .option('--crash <path>', 'crash binary (default: $KTRIAGE_CRASH or crash on PATH)')
    .option('--timeout <seconds>', 'per-command timeout in live mode', '120')
    .option('--no-search', 'live mode: skip `search` (it scans all memory)')
    .action(async (vmcore: string | undefined, opts: AnalyzeOptions) => {
      const { readFileSync, existsSync, statSync } = await import('node:fs');
      const { analyzeLive, analyzeTranscript, renderHtml, renderMarkdown } = await import(
        '../../analysis/index.ts'
      );
      if (!['md', 'html', 'json'].includes(opts.format))
        throw new UsageError(`--format must be md, html or json, not ${opts.format}`);
      if (opts.kernel && !/\d+\.\d+/.test(opts.kernel))
        throw new UsageError(`--kernel ${opts.kernel}: expected a release like 4.19 or 6.1.0-56-amd64`);
      if (opts.src && !existsSync(opts.src))
        throw new UsageError(`--src ${opts.src}: no such kernel tree or index file`);
      // --src: a kernel tree (enums read from headers) or a source index file (`ktriage src index`).
      let srcIndex: import('../../analysis/playbook.ts').SourceIndexLike | undefined;
      let closeIndex: (() => void) | undefined;
      if (opts.src && statSync(opts.src).isFile()) {
        const { openSourceIndex } = await import('../../source/index.ts');
        try {
          const ix = openSourceIndex(opts.src);
          srcIndex = ix;
          closeIndex = () => ix.close();
        } catch (e) {
          throw new UsageError(`--src ${opts.src}: ${(e as Error).message}`);
        }
      }
      const common = {
        ...(opts.kernel ? { kernel: opts.kernel } : {}),
        ...(opts.src && !srcIndex ? { src: opts.src } : {}),
        ...(srcIndex ? { srcIndex } : {}),
      };
      let report: import('../../analysis/model.ts').AnalysisReport;
      if (opts.transcript) {
        if (vmcore) throw new UsageError('give either a VMCORE or --transcript FILE, not both');
        let text: string;
        try {
          text = readFileSync(opts.transcript, 'utf8');
        } catch (e) {
          throw new UsageError(`--transcript ${opts.transcript}: ${(e as Error).message}`);
        }
        try {
          report = await analyzeTranscript(text, { ...common, input: { transcript: opts.transcript } });
        } catch (e) {
          throw new UsageError(`--transcript ${opts.transcript}: ${(e as Error).message}`);
        }
      } else {
        if (!vmcore) throw new UsageError('missing VMCORE (or use --transcript FILE)');
        if (!opts.vmlinux) throw new UsageError('--vmlinux is required with a VMCORE');
        const { CrashSession } = await import('../../vmcore/session.ts');
        const { CrashError } = await import('../../vmcore/errors.ts');
        const timeout = Number(opts.timeout);
        if (!Number.isFinite(timeout) || timeout <= 0)
          throw new UsageError(`--timeout ${opts.timeout}: expected seconds`);
        if (process.stderr.isTTY)
          process.stderr.write(`ktriage: loading ${opts.vmlinux} and ${vmcore} in crash...\n`);
        let session: import('../../vmcore/session.ts').CrashSession;
        try {
          session = await CrashSession.open({
            vmlinux: opts.vmlinux,
            vmcore,
            ...(opts.modules ? { moduleDebugDir: opts.modules } : {}),
            ...(opts.crash ? { crashBinary: opts.crash } : {}),
            commandTimeoutMs: timeout * 1000,
          });
        } catch (e) {
          if (e instanceof CrashError) throw new UsageError(`${e.code}: ${e.message}`);
          throw e;
        }
        const stop = () => session.kill();
        process.once('SIGINT', stop);
        // The playbook decides its commands as it goes: the bar's total grows with them.
        const { default: cliProgress } = await import('cli-progress');
        const bar = process.stderr.isTTY
          ? new cliProgress.SingleBar(
              { format: 'crash commands {value} | {cmd}', stream: process.stderr, clearOnComplete: true },
              cliProgress.Presets.shades_classic,
            )
          : null;
        let n = 0;
        bar?.start(1, 0, { cmd: '' });
        const runner = {
          run: async (cmd: string) => {
            n++;
            bar?.setTotal(n + 1);
            bar?.update(n, { cmd });
            return session.run(cmd);
          },
        };
        try {
          report = await analyzeLive(runner, {
            ...common,
            search: opts.search !== false,
            input: { vmcore, vmlinux: opts.vmlinux },
          });
        } finally {
          bar?.stop();
          process.off('SIGINT', stop);
          await session.close();
        }
      }
      closeIndex?.();
      const md = renderMarkdown(report);
      const out =
        opts.format === 'json'
          ? `${JSON.stringify(report, null, 2)}\n`
          : opts.format === 'html'
            ? renderHtml(report)
            : md;
      process.stdout.write(out);
      if (opts.db) {
        const { openStore } = await import('../../store/index.ts');
        const store = await openStore(opts.db);
        try {
          const p = report.panic;
          const id = await store.addAnalysis({
            kind: opts.transcript ? 'transcript' : 'vmcore',
            title: `triage: ${p.exception ? `${p.exception.function}${p.exception.offset !== null ? `+${p.exception.offset}` : ''}` : (p.title ?? 'unknown crash')}`,
            crashId: opts.crashId ? Number(opts.crashId) : null,
            bucketId: opts.bucketId ? Number(opts.bucketId) : null,
            markdown: md,
            html: renderHtml(report),
            json: report,
            meta: { kernel: report.kernel.release, mode: report.mode, ...report.input },
          });
          process.stderr.write(`ktriage: stored analysis ${id} in ${opts.db}\n`);
        } finally {
          await store.close();
        }
      }
    });
}
