// The ktriage command line. Each file in ./commands registers one command (or a group), so that
// modules can add commands without editing a central list; heavy imports stay inside actions so
// that `ktriage --help` starts fast.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';

export interface CommandModule {
  register(program: Command): void;
}

/** Exit codes: 0 ok, 1 a finding the caller asked to fail on, 2 bad input or usage, 3 internal error. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

export function buildProgram(): Command {
  const program = new Command('ktriage')
    .description('Find out why a Linux kernel crashed: console logs, vmcores, source and history')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError()
    .exitOverride();
  return program;
}

async function loadCommands(program: Command): Promise<void> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
  const files = readdirSync(dir)
    .filter((f) => /\.[jt]s$/.test(f) && !/\.(test|d)\.[jt]s$/.test(f))
    .sort();
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as Partial<CommandModule>;
    if (typeof mod.register === 'function') mod.register(program);
  }
}

/**
 * `ktriage ... | head` closes the pipe early: stop quietly, as grep and cat do, instead of dying
 * on an unhandled EPIPE with a stack trace. Any other stdout error is still loud.
 */
function quietOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    process.stderr.write(`ktriage: cannot write to standard output: ${err.message}\n`);
    process.exit(3);
  });
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  const program = buildProgram();
  await loadCommands(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`ktriage: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(
      `ktriage: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 3;
  }
}
