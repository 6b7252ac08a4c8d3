// The real crash on damaged or mismatched inputs: a truncated vmcore, a vmlinux from another build,
// a missing crash binary, a command that never returns. Each must end in a clear CrashError within
// its timeout, with no crash (or child of crash) left running.
// Skipped without crash/fixtures; fails with the reason when KTRIAGE_REQUIRE_ALL=1 (CI).
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CrashError } from '../../src/vmcore/errors.ts';
import { CrashSession } from '../../src/vmcore/session.ts';
import { type Fixture, loadFixture, RUN_LIVE, requireLive } from './fixtures.ts';

/** Live (not zombie) processes in process group `pgid`. */
function groupMembers(pgid: number): string[] {
  const ps = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === String(pgid) && !(f[2] ?? '').startsWith('Z'))
    .map((f) => f.join(' '));
}

/** Copies the first `bytes` of `src` to `dst` (a cut-short copy of a dump). */
function copyHead(src: string, dst: string, bytes: number): void {
  const i = openSync(src, 'r');
  const o = openSync(dst, 'w');
  const buf = Buffer.alloc(8 << 20);
  let done = 0;
  while (done < bytes) {
    const n = readSync(i, buf, 0, Math.min(buf.length, bytes - done), done);
    if (n === 0) break;
    writeSync(o, buf, 0, n);
    done += n;
  }
  closeSync(i);
  closeSync(o);
}

async function expectCrashError(p: Promise<unknown>, code: string): Promise<CrashError> {
  try {
    const s = await p;
    if (s instanceof CrashSession) await s.close();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(CrashError);
    expect((e as CrashError).code, (e as Error).message).toBe(code);
    return e as CrashError;
  }
  throw new Error(`expected CrashError ${code}`);
}

describe.skipIf(!RUN_LIVE)('live crash: bad inputs and stuck commands', () => {
  let fx: Fixture;
  let dir: string;
  const sessions: CrashSession[] = [];

  beforeAll(() => {
    requireLive();
    fx = loadFixture('bug');
    // A directory with spaces: every path below goes to crash as one argument.
    dir = mkdtempSync(path.join(tmpdir(), 'ktriage live '));
  });
  afterEach(() => {
    for (const s of sessions.splice(0)) s.kill();
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a truncated ELF vmcore is named as truncated before crash loads anything', async () => {
    const cut = path.join(dir, 'cut vmcore.elf');
    copyHead(fx.dumps.elf!, cut, 64 << 20);
    const t0 = Date.now();
    const e = await expectCrashError(
      CrashSession.open({ vmlinux: fx.vmlinux, vmcore: cut }),
      'vmcore-truncated',
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(e.message).toContain(cut);
    expect(e.message).toMatch(/file has 67108864/);
  });

  it('a truncated kdump (flattened) vmcore is named as truncated', async () => {
    const cut = path.join(dir, 'cut vmcore.kdump');
    copyHead(fx.dumps['kdump-zlib']!, cut, 8 << 20);
    const e = await expectCrashError(
      CrashSession.open({ vmlinux: fx.vmlinux, vmcore: cut }),
      'vmcore-truncated',
    );
    expect(e.message).toMatch(/truncated \(flattened\)/);
    expect(e.message).toContain(cut);
  });

  it('a vmlinux of another build is refused for an ELF dump (build-id) without starting crash', async () => {
    const t0 = Date.now();
    const e = await expectCrashError(
      CrashSession.open({
        vmlinux: path.join(path.dirname(fx.vmlinux), 'vmlinux-mismatch'),
        vmcore: fx.dumps.elf!,
      }),
      'vmlinux-mismatch',
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(e.message).toMatch(/build-id/);
  });

  it('a vmlinux of another build is refused for a flattened kdump (build-id) without starting crash', async () => {
    const t0 = Date.now();
    const e = await expectCrashError(
      CrashSession.open({
        vmlinux: path.join(path.dirname(fx.vmlinux), 'vmlinux-mismatch'),
        vmcore: fx.dumps['kdump-zlib']!,
      }),
      'vmlinux-mismatch',
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(e.message).toMatch(/build-id/);
    expect(e.message).toContain(fx.truth.release!);
  });

  it("without the pre-flight, crash's own warning about another build is an error too", async () => {
    const e = await expectCrashError(
      CrashSession.open({
        vmlinux: path.join(path.dirname(fx.vmlinux), 'vmlinux-mismatch'),
        vmcore: fx.dumps['kdump-zlib']!,
        skipPreflight: true,
      }),
      'vmlinux-mismatch',
    );
    expect(e.message).toMatch(/kernel version inconsistency|do not match/);
    expect(e.details.input).toContain('vmlinux-mismatch');
  }, 900_000);

  it('a missing crash binary is named', async () => {
    const e = await expectCrashError(
      CrashSession.open({
        vmlinux: fx.vmlinux,
        vmcore: fx.dumps.elf!,
        crashBinary: path.join(dir, 'bin', 'crash'),
      }),
      'crash-not-found',
    );
    expect(e.message).toContain(path.join(dir, 'bin', 'crash'));
    const e2 = await expectCrashError(
      CrashSession.open({
        vmlinux: fx.vmlinux,
        vmcore: fx.dumps.elf!,
        env: { ...process.env, PATH: path.join(dir, 'empty') },
      }),
      'crash-not-found',
    );
    expect(e2.message).toMatch(/not found on PATH/);
  });

  it('a command that never returns times out; crash is interrupted or killed, nothing is left behind', async () => {
    mkdirSync(path.join(dir, 'dump dir'));
    const vmcore = path.join(dir, 'dump dir', 'vm core');
    const vmlinux = path.join(dir, 'dump dir', 'vm linux');
    symlinkSync(fx.dumps['kdump-zlib']!, vmcore);
    symlinkSync(fx.vmlinux, vmlinux);
    const s = await CrashSession.open({ vmlinux, vmcore, moduleDebugDir: fx.moduleDebugDir });
    sessions.push(s);
    const pgid = s.pid!;
    expect((await s.run('sys', { check: true })).output).toContain(vmcore);

    // A shell command that sleeps: SIGINT to crash's group ends it, the session lives on.
    let t0 = Date.now();
    const e1 = await expectCrashError(s.run('!sleep 600', { timeoutMs: 2000 }), 'command-timeout');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(e1.details.sessionAlive).toBe(true);
    expect(groupMembers(pgid).filter((l) => l.includes('sleep'))).toEqual([]);
    expect((await s.run('p jiffies', { check: true })).output).toMatch(/jiffies = /);

    // One whose child ignores SIGINT: crash still returns to its prompt, and the driver kills the
    // leftover child, so only crash remains in its group.
    t0 = Date.now();
    const e2 = await expectCrashError(
      s.run("!trap '' INT; sleep 600", { timeoutMs: 2000 }),
      'command-timeout',
    );
    expect(Date.now() - t0).toBeLessThan(15_000);
    await new Promise((r) => setTimeout(r, 300));
    if (e2.details.sessionAlive) {
      expect(groupMembers(pgid).map((l) => l.split(' ')[0])).toEqual([String(pgid)]);
      expect((await s.run('p jiffies', { check: true })).output).toMatch(/jiffies = /);
    } else {
      expect(e2.message).toContain('killed');
      expect(groupMembers(pgid)).toEqual([]);
    }
    await s.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(groupMembers(pgid)).toEqual([]);
    await expectCrashError(s.run('sys'), 'session-closed');
  }, 900_000);
});
