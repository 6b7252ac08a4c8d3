// A session of the real `crash` utility: one process per (vmlinux, vmcore), commands sent on stdin,
// each answer framed by a marker that crash itself prints (`echo <token>` after every command), so
// answers are cut exactly where crash finished, never by timing.
//
// - No shell: crash is spawned with an argument array (paths with spaces work).
// - Own process group (detached): a timeout, close() or the end of the Node process kills crash and
//   anything it started (`!cmd`, a pager), so no orphan survives.
// - Per-command timeouts: on expiry crash gets SIGINT (it aborts the command and goes back to its
//   prompt, where our marker is already queued); if it does not come back, the group is killed.
// - Typed errors (CrashError) for a missing binary, missing inputs, a truncated or foreign dump, a
//   vmlinux that does not match, a startup or command that never returns.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { checkDumpFile, type DumpCheck, readBuildId } from './dumpfile.ts';
import { CrashError, tail } from './errors.ts';

export interface CrashSessionOptions {
  vmlinux: string;
  vmcore: string;
  /** Directory with module .ko files carrying debug info: loaded with `mod -S DIR` after start. */
  moduleDebugDir?: string;
  /** Path or name of the crash binary (default: $KTRIAGE_CRASH or `crash` on PATH). */
  crashBinary?: string;
  /** Extra arguments for crash, before the two files. */
  extraArgs?: string[];
  /** Loading vmlinux's DWARF takes 10-30 s on a 6.1 kernel; default 300 s. */
  startupTimeoutMs?: number;
  /** Default per-command timeout; default 120 s. */
  commandTimeoutMs?: number;
  /** After SIGINT on a timed-out command, how long to wait for crash's prompt; default 3 s. */
  interruptGraceMs?: number;
  /** Go on when crash warns that vmlinux and dump are different builds (default: vmlinux-mismatch error). */
  allowVersionMismatch?: boolean;
  /** Skip the pre-flight checks of the dump file (format, size, build-id). */
  skipPreflight?: boolean;
  recorder?: SessionRecorder;
  env?: NodeJS.ProcessEnv;
}

export interface CommandResult {
  command: string;
  /** Everything crash printed for the command (stdout, and stderr lines that came with it). */
  output: string;
  /** crash's own error lines (`crash: ...`, `<cmd>: invalid ...`, gdb's "No symbol ..."). */
  errors: string[];
  durationMs: number;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Throw CrashError('command-error') when crash reports an error for this command. */
  check?: boolean;
}

/** Receives every exchange of a session (see recorder.ts for the file format). */
export interface SessionRecorder {
  started(info: {
    vmlinux: string;
    vmcore: string;
    args: string[];
    output: string;
    durationMs: number;
  }): void;
  command(entry: {
    command: string;
    output: string;
    errors: string[];
    durationMs: number;
    error?: string;
  }): void;
  closed?(): void;
}

/** Finds the crash binary: an explicit path must be executable; a bare name is looked up on PATH. */
export function resolveCrashBinary(bin?: string, env: NodeJS.ProcessEnv = process.env): string {
  bin ||= env.KTRIAGE_CRASH || 'crash';
  const executable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (bin.includes('/')) {
    if (executable(bin)) return bin;
    throw new CrashError('crash-not-found', `crash binary ${bin} does not exist or is not executable`, {
      input: bin,
    });
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, bin))) return join(dir, bin);
  }
  throw new CrashError(
    'crash-not-found',
    `crash binary '${bin}' not found on PATH (install Debian's crash package: apt-get install crash)`,
    { input: bin },
  );
}

// Lines crash prints when it refuses a command. The command's own name prefixes most of them
// ("struct: invalid data structure reference: foo", "kmem: WARNING: ..."), crash's generic ones
// start with "crash: ", gdb's with its usual phrases.
const GENERIC_ERROR = [
  /^crash: /,
  /^No symbol "[^"]*" in current context\.$/,
  /^No struct type named /,
  /^There is no member named /,
  /^A syntax error in expression/,
  /^gdb: /,
];

/** crash's error lines in the output of `command`. */
export function findErrors(command: string, output: string): string[] {
  const verb = command.trim().split(/\s+/)[0] ?? '';
  const errs: string[] = [];
  const prefix = `${verb}: `;
  for (const line of output.split('\n')) {
    const l = line.trimEnd();
    if (l === '') continue;
    if (verb && l.startsWith(prefix) && !/^\S+: WARNING/.test(l)) {
      // "sys: ..." etc. Some commands print "NAME: value" tables (sys prints "  KERNEL: ..." with
      // leading spaces; `p` prints "$1 = ..."), so only lines that start at column 0 with the verb count.
      errs.push(l);
      continue;
    }
    if (GENERIC_ERROR.some((re) => re.test(l))) errs.push(l);
  }
  return errs;
}

/** Classifies crash's output when it exits during startup. */
function startupError(
  output: string,
  opts: CrashSessionOptions,
  exitCode: number | null,
  signal: string | null,
): CrashError {
  const t = tail(output, 12);
  const d = { output: t, exitCode, signal };
  if (/do not match/i.test(output))
    return new CrashError(
      'vmlinux-mismatch',
      `vmlinux ${opts.vmlinux} does not match vmcore ${opts.vmcore}: crash says:\n${t}`,
      { ...d, input: opts.vmlinux },
    );
  if (
    /no (debugging data|debuginfo) available|not a .*vmlinux|cannot resolve "?(_stext|linux_banner)|invalid kernel/i.test(
      output,
    )
  )
    return new CrashError(
      'vmlinux-invalid',
      `vmlinux ${opts.vmlinux} is not a kernel with debug info: crash says:\n${t}`,
      { ...d, input: opts.vmlinux },
    );
  if (/truncated|premature end|read error|cannot read|seek error|short read/i.test(output))
    return new CrashError(
      'vmcore-truncated',
      `vmcore ${opts.vmcore} could not be read (truncated?): crash says:\n${t}`,
      { ...d, input: opts.vmcore },
    );
  if (
    /not a supported file format|is not a kernel dump|not a .*dump ?file|unrecognized|invalid dumpfile/i.test(
      output,
    )
  )
    return new CrashError(
      'not-a-dump',
      `vmcore ${opts.vmcore} is not a dump crash can read: crash says:\n${t}`,
      { ...d, input: opts.vmcore },
    );
  return new CrashError(
    'startup-failed',
    `crash exited during startup on ${opts.vmcore} (exit ${exitCode ?? signal}):\n${t || '(no output)'}`,
    { ...d, input: opts.vmcore },
  );
}

/** Pre-flight checks that need no crash: inputs readable, dump complete, builds match. */
export function preflight(opts: Pick<CrashSessionOptions, 'vmlinux' | 'vmcore'>): DumpCheck {
  for (const [what, p] of [
    ['vmlinux', opts.vmlinux],
    ['vmcore', opts.vmcore],
  ] as const) {
    try {
      accessSync(p, constants.R_OK);
      if (!statSync(p).isFile()) throw new Error('not a regular file');
    } catch (e) {
      throw new CrashError(
        'input-missing',
        `${what} ${p}: ${(e as Error).message.replace(/^[A-Z]+: /, '')}`,
        { input: p },
      );
    }
  }
  const check = checkDumpFile(opts.vmcore);
  if (check.truncated)
    throw new CrashError(
      'vmcore-truncated',
      `vmcore ${opts.vmcore} is truncated (${check.format}): ${check.problem}`,
      { input: opts.vmcore },
    );
  if (check.format === 'unknown' || check.problem)
    throw new CrashError('not-a-dump', `vmcore ${opts.vmcore}: ${check.problem ?? 'unknown format'}`, {
      input: opts.vmcore,
    });
  const dumpId = check.vmcoreinfo?.['BUILD-ID'];
  if (dumpId) {
    const vmlinuxId = readBuildId(opts.vmlinux);
    if (
      vmlinuxId &&
      !vmlinuxId.startsWith(dumpId.toLowerCase()) &&
      !dumpId.toLowerCase().startsWith(vmlinuxId)
    ) {
      throw new CrashError(
        'vmlinux-mismatch',
        `vmlinux ${opts.vmlinux} (build-id ${vmlinuxId}) does not match vmcore ${opts.vmcore} (build-id ${dumpId}, release ${check.vmcoreinfo?.OSRELEASE ?? '?'})`,
        { input: opts.vmlinux },
      );
    }
  }
  return check;
}

const live = new Set<CrashSession>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous kill on the way out: a crashed test runner or an exiting CLI leaves no crash behind.
  process.on('exit', () => {
    for (const s of live) s.kill();
  });
  // crash runs in its own process group, so a signal to ours does not reach it: forward the end.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      for (const s of live) s.kill();
      // Alone on this signal: die of it as if we had not listened. Otherwise the other listeners decide.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

interface Pending {
  token: string;
  onOutput: (output: string) => void;
  onExit: (e: Error) => void;
}

export class CrashSession {
  readonly vmlinux: string;
  readonly vmcore: string;
  /** What crash printed while loading (warnings such as "active task ... not found in PID hash"). */
  startupOutput = '';
  startupMs = 0;
  /** Errors of `mod -S DIR` (modules whose debug object was not found there). */
  moduleWarnings: string[] = [];
  dump: DumpCheck | null = null;
  private proc: ChildProcessWithoutNullStreams | null = null;
  private buf = '';
  private stderrBuf = '';
  private pending: Pending | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private exited = false;
  private exitInfo: { code: number | null; signal: string | null } = { code: null, signal: null };
  private exitWaiters: (() => void)[] = [];
  private seq = 0;
  private readonly stale = new Set<string>();
  private readonly nonce = randomBytes(6).toString('hex');
  private readonly opts: CrashSessionOptions;
  private closing = false;

  private constructor(opts: CrashSessionOptions) {
    this.opts = opts;
    this.vmlinux = opts.vmlinux;
    this.vmcore = opts.vmcore;
  }

  /** Starts crash on the dump and waits until it is ready for commands. */
  static async open(opts: CrashSessionOptions): Promise<CrashSession> {
    const bin = resolveCrashBinary(opts.crashBinary, opts.env ?? process.env);
    const s = new CrashSession(opts);
    if (!opts.skipPreflight) s.dump = preflight(opts);
    await s.start(bin);
    if (opts.moduleDebugDir) {
      // Modules without a debug object in DIR are reported and skipped by crash; the session stays
      // usable (their symbols come from kallsyms), so these are warnings, not a failure.
      try {
        const r = await s.run(`mod -S ${quoteArg(opts.moduleDebugDir)}`, {
          timeoutMs: opts.startupTimeoutMs ?? 300_000,
        });
        s.moduleWarnings = r.errors;
      } catch (e) {
        s.kill();
        throw e;
      }
    }
    return s;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get alive(): boolean {
    return this.proc !== null && !this.exited;
  }

  private async start(bin: string): Promise<void> {
    const args = ['-s', ...(this.opts.extraArgs ?? []), this.opts.vmlinux, this.opts.vmcore];
    const t0 = Date.now();
    const proc = spawn(bin, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group: kill(-pid) reaches everything crash starts
      env: { ...(this.opts.env ?? process.env), PAGER: 'cat', CRASHPAGER: 'cat', TERM: 'dumb' },
    });
    this.proc = proc;
    live.add(this);
    installExitHook();
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (d: string) => this.onData(d));
    proc.stderr.on('data', (d: string) => {
      this.stderrBuf += d;
    });
    proc.stdin.on('error', () => {
      /* EPIPE when crash exits first: reported through 'exit' */
    });
    const spawnError = new Promise<never>((_, reject) => {
      proc.once('error', (e: NodeJS.ErrnoException) => {
        this.markExited(null, null);
        reject(
          e.code === 'ENOENT' || e.code === 'EACCES'
            ? new CrashError('crash-not-found', `cannot run crash binary ${bin}: ${e.message}`, {
                input: bin,
              })
            : e,
        );
      });
    });
    proc.once('exit', (code, signal) => this.markExited(code, signal));
    const startupTimeout = this.opts.startupTimeoutMs ?? 300_000;
    try {
      // `set scroll off`: no pager even if crash thinks it has a terminal.
      const out = await Promise.race([
        this.exchange('set scroll off', startupTimeout, 'startup'),
        spawnError,
      ]);
      this.startupOutput = (out.replace(/^scroll: off.*$/m, '') + this.takeStderr()).trim();
      this.startupMs = Date.now() - t0;
      // crash only warns when vmlinux is another build of the same release; everything it would
      // print after that is wrong, so it is an error here unless the caller accepts it.
      if (
        !this.opts.allowVersionMismatch &&
        /kernel version inconsistency|do not match/.test(this.startupOutput)
      ) {
        throw new CrashError(
          'vmlinux-mismatch',
          `vmlinux ${this.opts.vmlinux} does not match vmcore ${this.opts.vmcore}: crash says:\n${tail(this.startupOutput)}`,
          { input: this.opts.vmlinux, output: tail(this.startupOutput) },
        );
      }
      this.opts.recorder?.started({
        vmlinux: this.opts.vmlinux,
        vmcore: this.opts.vmcore,
        args,
        output: this.startupOutput,
        durationMs: this.startupMs,
      });
    } catch (e) {
      const output = this.buf + this.stderrBuf;
      this.kill();
      await this.waitExit(2000);
      if (e instanceof CrashError && e.code === 'session-closed') {
        throw startupError(output, this.opts, this.exitInfo.code, this.exitInfo.signal);
      }
      if (e instanceof CrashError && e.code === 'startup-timeout') {
        throw new CrashError(
          'startup-timeout',
          `crash did not finish loading ${this.opts.vmcore} within ${startupTimeout} ms (killed):\n${tail(output) || '(no output)'}`,
          { input: this.opts.vmcore, output: tail(output) },
        );
      }
      throw e;
    }
  }

  private takeStderr(): string {
    const s = this.stderrBuf;
    this.stderrBuf = '';
    return s;
  }

  private markExited(code: number | null, signal: string | null): void {
    if (this.exited) return;
    this.exited = true;
    this.exitInfo = { code, signal };
    live.delete(this);
    // Reap whatever crash left in its group (a `!sleep` child).
    this.killGroup();
    const p = this.pending;
    this.pending = null;
    if (p) {
      p.onExit(
        new CrashError(
          'session-closed',
          `crash exited (${code ?? signal}) on ${this.vmcore}${this.closing ? '' : ' unexpectedly'}:\n${tail(this.buf + this.stderrBuf)}`,
          { input: this.vmcore, exitCode: code, signal, output: tail(this.buf + this.stderrBuf) },
        ),
      );
    }
    for (const w of this.exitWaiters.splice(0)) w();
  }

  private onData(d: string): void {
    this.buf += d;
    if (this.stale.size) this.dropStale();
    const p = this.pending;
    if (!p) return;
    const at = this.buf.indexOf(p.token);
    if (at < 0) return;
    // The marker line is "<token>\n"; everything before it is the command's answer.
    let end = at + p.token.length;
    if (this.buf[end] === '\n') end++;
    const output = this.buf.slice(0, at);
    this.buf = this.buf.slice(end);
    this.pending = null;
    p.onOutput(output);
  }

  /** Removes the second copy of a marker re-sent after SIGINT (crash may or may not have kept the first). */
  private dropStale(): void {
    for (const token of this.stale) {
      const at = this.buf.indexOf(`${token}\n`);
      if (at < 0 || (at > 0 && this.buf[at - 1] !== '\n')) continue;
      this.buf = this.buf.slice(0, at) + this.buf.slice(at + token.length + 1);
      this.stale.delete(token);
    }
  }

  /** Sends one command plus its marker and resolves with the output before the marker. */
  private exchange(command: string, timeoutMs: number, label: string): Promise<string> {
    const proc = this.proc;
    if (!proc || this.exited) {
      return Promise.reject(
        new CrashError('session-closed', `crash session on ${this.vmcore} is closed`, { input: command }),
      );
    }
    const token = `KTRIAGE-${this.nonce}-${++this.seq}-END`;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        void this.interrupt(p, label, timeoutMs).then(reject);
      }, timeoutMs);
      const p: Pending = {
        token,
        onOutput: (out) => {
          clearTimeout(timer);
          resolve(out);
        },
        onExit: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.pending = p;
      proc.stdin.write(`${command}\necho ${token}\n`);
    });
  }

  /** A command ran past its timeout: SIGINT crash's group; if crash comes back to our marker the
   * session lives on, otherwise the group is killed. Resolves with the error to report. */
  private async interrupt(p: Pending, label: string, timeoutMs: number): Promise<CrashError> {
    const grace = label === 'startup' ? 0 : (this.opts.interruptGraceMs ?? 3000);
    const pid = this.proc?.pid;
    const recovered = await new Promise<string | null>((resolve) => {
      const t = setTimeout(() => resolve(null), grace);
      p.onOutput = (out) => {
        clearTimeout(t);
        resolve(out);
      };
      p.onExit = () => {
        clearTimeout(t);
        resolve(null);
      };
      if (grace === 0 || !pid) return;
      try {
        // The group: a `!cmd` child dies too, so crash's system() returns.
        process.kill(-pid, 'SIGINT');
        // crash may drop what it had buffered from stdin when it aborts a command: send the marker
        // again; whichever copy comes second is removed from the stream (dropStale).
        this.proc?.stdin.write(`echo ${p.token}\n`);
      } catch {
        clearTimeout(t);
        resolve(null);
      }
    });
    const partial = recovered ?? this.buf;
    if (this.pending === p) this.pending = null;
    if (recovered !== null) {
      this.stale.add(p.token);
      this.dropStale();
      // crash returns to its prompt on SIGINT even when a child it started ignores the signal
      // (`!trap '' INT; sleep 600`): such leftovers of the aborted command are killed here.
      this.killStragglers();
    }
    if (recovered === null) {
      this.kill();
      await this.waitExit(2000);
    }
    const alive = recovered !== null;
    return new CrashError(
      label === 'startup' ? 'startup-timeout' : 'command-timeout',
      `crash ${label === 'startup' ? 'startup' : `command '${label}'`} on ${this.vmcore} did not finish within ${timeoutMs} ms; ${
        alive ? 'interrupted, session still usable' : 'crash was killed'
      }${partial.trim() ? `; partial output:\n${tail(partial)}` : ''}`,
      { input: label === 'startup' ? this.vmcore : label, output: tail(partial), sessionAlive: alive },
    );
  }

  /** Runs one crash command and returns its output. Commands run one at a time, in call order. */
  run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    const next = this.queue.then(() => this.runNow(command, options));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(command: string, options: RunOptions): Promise<CommandResult> {
    const cmd = command.trim();
    if (cmd === '' || /[\r\n]/.test(cmd))
      throw new CrashError(
        'bad-command',
        `crash command must be one non-empty line: ${JSON.stringify(command)}`,
        { input: command },
      );
    const verb = cmd.split(/\s+/)[0];
    if (verb === 'q' || verb === 'quit' || verb === 'exit')
      throw new CrashError('bad-command', `'${cmd}' would end the crash session; use close()`, {
        input: command,
      });
    const t0 = Date.now();
    const timeoutMs = options.timeoutMs ?? this.opts.commandTimeoutMs ?? 120_000;
    let output: string;
    try {
      output = await this.exchange(cmd, timeoutMs, cmd);
    } catch (e) {
      this.opts.recorder?.command({
        command: cmd,
        output: '',
        errors: [],
        durationMs: Date.now() - t0,
        error: (e as Error).message,
      });
      throw e;
    }
    const stderr = this.takeStderr();
    if (stderr) output += stderr;
    const errors = findErrors(cmd, output);
    const result: CommandResult = { command: cmd, output, errors, durationMs: Date.now() - t0 };
    this.opts.recorder?.command({ ...result });
    if (options.check && errors.length)
      throw new CrashError('command-error', `crash: '${cmd}' failed: ${errors.join('; ')}`, {
        input: cmd,
        output: tail(output),
      });
    return result;
  }

  /** Ends crash (`exit`), killing its process group if it does not leave within 5 s. */
  async close(): Promise<void> {
    if (!this.proc) return;
    this.closing = true;
    if (!this.exited) {
      await this.queue;
      try {
        this.proc.stdin.end('exit\n');
      } catch {
        /* already gone */
      }
      if (!(await this.waitExit(5000))) this.kill();
      await this.waitExit(2000);
    }
    this.killGroup();
    this.opts.recorder?.closed?.();
  }

  /** SIGKILL to crash's whole process group (synchronous; safe to call twice). */
  kill(): void {
    this.killGroup();
    if (this.proc && !this.exited) {
      try {
        this.proc.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  /** SIGKILL to every process of crash's group except crash itself (Linux /proc). */
  private killStragglers(): void {
    const pid = this.proc?.pid;
    if (!pid) return;
    for (const other of processGroupMembers(pid)) {
      if (other === pid) continue;
      try {
        process.kill(other, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
  }

  private killGroup(): void {
    const pid = this.proc?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* no such group: all gone */
    }
  }

  private waitExit(ms: number): Promise<boolean> {
    if (this.exited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.exited), ms);
      this.exitWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
}

/** Live processes whose process group is `pgid` (from /proc; empty where there is no /proc). */
export function processGroupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'latin1');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so cut at the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (f[0] !== 'Z' && Number(f[2]) === pgid) out.push(Number(e));
  }
  return out;
}

/** Quotes an argument for crash's command line (crash splits on blanks and honours double quotes). */
export function quoteArg(s: string): string {
  return /[\s"]/.test(s) ? `"${s.replace(/"/g, '\\"')}"` : s;
}
