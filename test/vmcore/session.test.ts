// Unit tests of the crash session driver against a fake crash (fake-crash.sh): framing, error
// lines, timeouts with SIGINT recovery, killing a stubborn command's whole process group, startup
// failures classified by crash's messages. The real crash is exercised in live.test.ts.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CrashError } from '../../src/vmcore/errors.ts';
import { CrashSession, findErrors, resolveCrashBinary } from '../../src/vmcore/session.ts';

const fake = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fake-crash.sh');
let dir: string;
let vmlinux: string;
let vmcore: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ktriage session '));
  vmlinux = path.join(dir, 'vm linux');
  vmcore = path.join(dir, 'vm core');
  writeFileSync(vmlinux, 'x');
  writeFileSync(vmcore, 'x');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const opened: CrashSession[] = [];
// A failed assertion must not leave a fake crash (or its sleep) running.
afterEach(() => {
  for (const s of opened.splice(0)) s.kill();
});

async function open(mode = 'ok', extra: Partial<Parameters<typeof CrashSession.open>[0]> = {}) {
  const s = await CrashSession.open({
    vmlinux,
    vmcore,
    crashBinary: fake,
    skipPreflight: true,
    env: { ...process.env, FAKE_CRASH_MODE: mode },
    startupTimeoutMs: 5000,
    commandTimeoutMs: 5000,
    interruptGraceMs: 1500,
    ...extra,
  });
  opened.push(s);
  return s;
}

/** Live (not zombie) processes in the process group `pgid` (crash's group). */
function groupMembers(pgid: number): string[] {
  const ps = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === String(pgid) && !(f[2] ?? '').startsWith('Z'))
    .map((f) => f.join(' '));
}

async function expectCrashError(p: Promise<unknown>, code: string): Promise<CrashError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CrashError);
    expect((e as CrashError).code).toBe(code);
    return e as CrashError;
  }
  throw new Error(`expected CrashError ${code}`);
}

describe('CrashSession with a fake crash', () => {
  it('passes vmlinux and vmcore as separate arguments (paths with spaces, no shell)', async () => {
    const argsFile = path.join(dir, 'args');
    const s = await open('ok', { env: { ...process.env, FAKE_CRASH_ARGS: argsFile } });
    await s.run('sys');
    expect(readFileSync(argsFile, 'utf8').split('\n')).toEqual(['-s', vmlinux, vmcore, '']);
    expect(s.startupOutput).toContain('not found in PID hash');
    await s.close();
  });

  it('frames each answer by its marker, whatever the chunking', async () => {
    const s = await open();
    const a = await s.run('chunky');
    expect(a.output).toBe('part1 part2\nline2\n');
    const b = await s.run('hello world');
    expect(b.output).toBe('out: hello world\n');
    const big = await s.run('big');
    const lines = big.output.trimEnd().split('\n');
    expect(lines).toHaveLength(20000);
    expect(lines[19999]).toBe('line 20000 0123456789abcdef0123456789abcdef');
    await s.close();
  });

  it('runs commands in call order even when issued concurrently', async () => {
    const s = await open();
    const outs = await Promise.all(['a', 'chunky', 'b', 'c'].map((c) => s.run(c)));
    expect(outs.map((o) => o.output.trim())).toEqual(['out: a', 'part1 part2\nline2', 'out: b', 'out: c']);
    await s.close();
  });

  it("reports crash's own error lines, and throws them with check", async () => {
    const s = await open();
    expect((await s.run('bad')).errors).toEqual(['crash: command not found: bad']);
    expect((await s.run('struct nosuch')).errors).toEqual([
      'struct: invalid data structure reference: nosuch',
    ]);
    expect((await s.run('fine')).errors).toEqual([]);
    const e = await expectCrashError(s.run('p nosym', { check: true }), 'command-error');
    expect(e.message).toContain('gdb request failed');
    await s.close();
  });

  it('refuses commands that would break framing or end the session', async () => {
    const s = await open();
    await expectCrashError(s.run('sys\nbt'), 'bad-command');
    await expectCrashError(s.run('  '), 'bad-command');
    await expectCrashError(s.run('exit'), 'bad-command');
    expect((await s.run('still')).output).toBe('out: still\n');
    await s.close();
  });

  it('interrupts a command past its timeout and keeps the session', async () => {
    const s = await open();
    const t0 = Date.now();
    const e = await expectCrashError(s.run('slow', { timeoutMs: 500 }), 'command-timeout');
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(e.details.sessionAlive).toBe(true);
    expect(e.message).toContain("'slow'");
    expect((await s.run('after')).output).toBe('out: after\n');
    expect(groupMembers(s.pid!).some((l) => l.includes('sleep 600'))).toBe(false);
    await s.close();
  });

  it('kills the whole process group when a command ignores SIGINT', async () => {
    const s = await open();
    const pid = s.pid!;
    const t0 = Date.now();
    const e = await expectCrashError(s.run('stubborn', { timeoutMs: 500 }), 'command-timeout');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(e.details.sessionAlive).toBe(false);
    expect(s.alive).toBe(false);
    // The sleep child ignored SIGINT too; it must be gone with its group.
    await new Promise((r) => setTimeout(r, 200));
    expect(groupMembers(pid)).toEqual([]);
    await expectCrashError(s.run('sys'), 'session-closed');
    await s.close();
  });

  it('close() leaves no process behind, even background children', async () => {
    const s = await open();
    await s.run('spawn');
    const pid = s.pid!;
    expect(groupMembers(pid).length).toBeGreaterThan(0);
    await s.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(groupMembers(pid)).toEqual([]);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('takes crash along when the Node process gets %s', async (sig) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(path.dirname(fake), 'hold-session.ts'), fake, vmlinux, vmcore],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const pid = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', () => reject(new Error('child exited early')));
    });
    expect(groupMembers(pid).length).toBeGreaterThan(0);
    const exited = new Promise((r) => child.once('exit', (_code, signal) => r(signal)));
    child.kill(sig);
    expect(await exited).toBe(sig);
    await new Promise((r) => setTimeout(r, 200));
    expect(groupMembers(pid)).toEqual([]);
  });

  it('reports a crash that dies during a command', async () => {
    const s = await open();
    const e = await expectCrashError(s.run('die'), 'session-closed');
    expect(e.message).toContain('unexpectedly');
    expect(e.details.exitCode).toBe(7);
    await s.close();
  });

  it('classifies startup failures by what crash says', async () => {
    const m = await expectCrashError(open('mismatch'), 'vmlinux-mismatch');
    expect(m.message).toContain(vmlinux);
    expect(m.message).toContain('do not match');
    await expectCrashError(open('novmlinux'), 'vmlinux-invalid');
    await expectCrashError(open('notdump'), 'not-a-dump');
    const d = await expectCrashError(open('die'), 'startup-failed');
    expect(d.message).toContain('something else went wrong');
  });

  it('treats crash\'s "kernel version inconsistency" warning as a mismatch unless allowed', async () => {
    const e = await expectCrashError(open('inconsistent'), 'vmlinux-mismatch');
    expect(e.message).toContain('kernel version inconsistency');
    const s = await open('inconsistent', { allowVersionMismatch: true });
    expect(s.startupOutput).toContain('inconsistency');
    await s.close();
  });

  it('kills what an interrupted command left running when crash itself comes back', async () => {
    const s = await open();
    const e = await expectCrashError(s.run('orphan', { timeoutMs: 500 }), 'command-timeout');
    expect(e.details.sessionAlive).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(groupMembers(s.pid!).map((l) => l.split(' ')[0])).toEqual([String(s.pid)]);
    expect((await s.run('x')).output).toBe('out: x\n');
    await s.close();
  });

  it('gives up on a startup that never finishes, and kills it', async () => {
    const t0 = Date.now();
    const e = await expectCrashError(open('hang', { startupTimeoutMs: 800 }), 'startup-timeout');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(e.message).toContain(vmcore);
  });

  it('names a missing crash binary', async () => {
    await expectCrashError(open('ok', { crashBinary: path.join(dir, 'no such crash') }), 'crash-not-found');
    expect(() => resolveCrashBinary('ktriage-no-such-crash-binary')).toThrow(/not found on PATH/);
  });
});

describe('findErrors', () => {
  it('takes lines prefixed by the command or crash, not tables', () => {
    const out = '      KERNEL: /x\n    PANIC: "BUG"\nsys: cannot do that\ncrash: invalid input\n';
    expect(findErrors('sys -c', out)).toEqual(['sys: cannot do that', 'crash: invalid input']);
    expect(findErrors('bt', 'PID: 1  TASK: ffff  CPU: 0  COMMAND: "init"\n')).toEqual([]);
    expect(findErrors('p x', 'No symbol "x" in current context.\n')).toEqual([
      'No symbol "x" in current context.',
    ]);
  });
});
