// `ktriage crash VMCORE --vmlinux V [--modules DIR] [--json] -- CMD...`: runs crash commands on a
// vmcore through the real `crash` utility (one session for all of them) and prints each answer,
// parsed by src/vmcore/parse where a parser exists for the command. Each CMD argument is one
// crash command line: ktriage crash vmcore --vmlinux vmlinux -- bt "struct task_struct ffff..." sys
import type { Command } from 'commander';
import { UsageError } from '../main.ts';

interface CrashCliOptions {
  vmlinux?: string;
  modules?: string;
  json?: boolean;
  timeout?: string;
  startupTimeout?: string;
  crash?: string;
  tasks?: boolean;
}

export function register(program: Command): void {
  program
    .command('crash')
    .description('run crash commands on a vmcore (the real crash utility) and print them parsed')
    .argument('<vmcore>', 'kernel dump (ELF, kdump, or makedumpfile flattened)')
    .argument('[commands...]', 'crash commands, one per argument (after --)')
    .requiredOption('--vmlinux <file>', 'vmlinux with debug info matching the dump')
    .option('--modules <dir>', 'directory with module .ko files carrying debug info (mod -S DIR)')
    .option('--json', 'print one JSON document: each command with its raw output, errors and parsed value')
    .option('--timeout <seconds>', 'per-command timeout', '120')
    .option('--startup-timeout <seconds>', 'how long crash may take to load vmlinux and the dump', '300')
    .option('--crash <path>', 'crash binary (default: $KTRIAGE_CRASH or crash on PATH)')
    .option('--tasks', 'also list every task by walking init_task.tasks (crash 8.0.2 misses them on 6.1)')
    .action(async (vmcore: string, commands: string[], opts: CrashCliOptions) => {
      const { CrashSession } = await import('../../vmcore/session.ts');
      const { CrashError } = await import('../../vmcore/errors.ts');
      const { parseCommandOutput } = await import('../../vmcore/parsed.ts');
      const { listTasks } = await import('../../vmcore/tasks.ts');
      if (commands.length === 0 && !opts.tasks)
        throw new UsageError('no crash commands given: ktriage crash VMCORE --vmlinux V -- CMD...');
      const timeoutMs = seconds(opts.timeout, '--timeout');
      const startupTimeoutMs = seconds(opts.startupTimeout, '--startup-timeout');
      const progress = !opts.json && process.stderr.isTTY;
      if (progress) process.stderr.write(`ktriage: loading ${opts.vmlinux} and ${vmcore} in crash...\n`);
      let session: import('../../vmcore/session.ts').CrashSession;
      try {
        session = await CrashSession.open({
          vmlinux: opts.vmlinux!,
          vmcore,
          ...(opts.modules ? { moduleDebugDir: opts.modules } : {}),
          ...(opts.crash ? { crashBinary: opts.crash } : {}),
          commandTimeoutMs: timeoutMs,
          startupTimeoutMs,
        });
      } catch (e) {
        if (e instanceof CrashError) throw new UsageError(`${e.code}: ${e.message}`);
        throw e;
      }
      const stop = () => session.kill();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const results: Record<string, unknown>[] = [];
      let failures = 0;
      try {
        if (!opts.json) {
          if (session.startupOutput) process.stdout.write(`${session.startupOutput}\n`);
          for (const w of session.moduleWarnings) process.stderr.write(`ktriage: ${w}\n`);
        }
        for (const command of commands) {
          try {
            const r = await session.run(command);
            if (r.errors.length) failures++;
            if (opts.json) {
              results.push({
                command: r.command,
                output: r.output,
                errors: r.errors,
                durationMs: r.durationMs,
                parsed: parseCommandOutput(r.command, r.output),
              });
            } else {
              process.stdout.write(
                `crash> ${r.command}\n${r.output}${r.output.endsWith('\n') || r.output === '' ? '' : '\n'}`,
              );
              const p = parseCommandOutput(r.command, r.output);
              if (p.parser)
                process.stdout.write(
                  `# ${p.parser}: ${p.error ? `not parsed: ${p.error}` : describe(p.value)}\n`,
                );
              for (const err of r.errors) process.stderr.write(`ktriage: '${r.command}': ${err}\n`);
            }
          } catch (e) {
            if (!(e instanceof CrashError)) throw e;
            failures++;
            if (opts.json)
              results.push({ command, output: e.details.output ?? '', errors: [e.message], error: e.code });
            else process.stderr.write(`ktriage: ${e.code}: ${e.message}\n`);
            if (!session.alive) break;
          }
        }
        let tasks: unknown;
        if (opts.tasks && session.alive) {
          const list = await listTasks(session, timeoutMs);
          tasks = list;
          if (!opts.json) {
            process.stdout.write(
              `${'TASK'.padEnd(18)} ${'PID'.padStart(7)} ${'TGID'.padStart(7)} STATE  COMM\n`,
            );
            for (const t of list) {
              if (t.error) {
                process.stdout.write(`${t.task.padEnd(18)} unreadable: ${t.error}\n`);
                continue;
              }
              process.stdout.write(
                `${t.task.padEnd(18)} ${String(t.pid).padStart(7)} ${String(t.tgid ?? '-').padStart(7)} ${String(t.state ?? '-').padStart(5)}  ${t.comm}\n`,
              );
            }
          }
        }
        if (opts.json) {
          const doc = {
            vmcore,
            vmlinux: opts.vmlinux,
            startup: {
              output: session.startupOutput,
              durationMs: session.startupMs,
              moduleWarnings: session.moduleWarnings,
            },
            dump: session.dump,
            commands: results,
            ...(tasks ? { tasks } : {}),
          };
          process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
        }
      } finally {
        await session.close();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      if (failures) process.exitCode = 1;
    });
}

/** One line about a parsed value, so a reader sees that (and what) ktriage understood. */
function describe(v: unknown): string {
  if (Array.isArray(v)) {
    const first = v[0] as { frames?: unknown[] } | undefined;
    if (first && Array.isArray(first.frames))
      return `${v.length} task(s), ${first.frames.length} frame(s) in the first`;
    return `${v.length} item(s)`;
  }
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of ['entries', 'instructions', 'hits', 'members', 'values']) {
      if (Array.isArray(o[k])) return `${(o[k] as unknown[]).length} ${k}`;
    }
    return `fields ${Object.keys(o).slice(0, 8).join(', ')}`;
  }
  return String(v);
}

function seconds(v: string | undefined, name: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${name} must be a positive number of seconds, got ${v}`);
  return Math.round(n * 1000);
}
