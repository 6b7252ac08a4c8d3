// Typed errors of the crash session driver. Every error names the input it is about (the crash
// binary, the vmlinux, the vmcore or the command) and keeps the tail of crash's own output, so that
// a user at 3 a.m. sees what crash said rather than "exit code 1".

export type CrashErrorCode =
  /** The `crash` binary is not installed / not executable. */
  | 'crash-not-found'
  /** vmlinux or vmcore missing, unreadable, or not a regular file. */
  | 'input-missing'
  /** The vmcore is shorter than its own headers say (copy cut short, disk full). */
  | 'vmcore-truncated'
  /** The file is not a kernel dump crash can read (not ELF core, not kdump, not flattened). */
  | 'not-a-dump'
  /** crash says vmlinux and vmcore do not match (different build). */
  | 'vmlinux-mismatch'
  /** vmlinux has no debug info / is not a kernel (crash: "no debugging data available"). */
  | 'vmlinux-invalid'
  /** crash exited during startup for another reason. */
  | 'startup-failed'
  /** crash did not finish loading within the startup timeout. */
  | 'startup-timeout'
  /** A command did not return within its timeout. */
  | 'command-timeout'
  /** A command that crash rejected (when the caller asked for errors to throw). */
  | 'command-error'
  /** The command text cannot be sent safely (newline, empty, or a command that ends the session). */
  | 'bad-command'
  /** The session was closed or crash died. */
  | 'session-closed';

export class CrashError extends Error {
  override readonly name = 'CrashError';
  constructor(
    readonly code: CrashErrorCode,
    message: string,
    readonly details: {
      /** The file or command the error is about. */
      input?: string;
      /** crash's output up to the failure (tail, for the message). */
      output?: string;
      exitCode?: number | null;
      signal?: string | null;
      /** For command-timeout: whether the session survived (crash was interrupted with SIGINT). */
      sessionAlive?: boolean;
    } = {},
  ) {
    super(message);
  }
}

/** The last `n` non-empty lines of crash's output, for error messages. */
export function tail(text: string, n = 8): string {
  const ls = text.split('\n').filter((l) => l.trim() !== '');
  return ls.slice(-n).join('\n');
}
