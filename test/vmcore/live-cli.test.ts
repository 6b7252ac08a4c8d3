// `ktriage crash` end to end on a fixture dump: the real CLI, the real crash, parsed JSON output.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { big, loadFixture, RUN_LIVE, requireLive } from './fixtures.ts';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repo, 'bin', 'ktriage.mjs');

describe.skipIf(!RUN_LIVE)('ktriage crash (live)', () => {
  beforeAll(() => requireLive());

  it('runs several commands in one session and prints them parsed with --json', async () => {
    const fx = loadFixture('unlock');
    const obj = fx.truth.objects.req!;
    const { stdout } = await run(
      'node',
      [
        cli,
        'crash',
        fx.dumps['kdump-zlib']!,
        '--vmlinux',
        fx.vmlinux,
        '--modules',
        fx.moduleDebugDir,
        '--json',
        '--tasks',
        '--',
        'bt',
        `kmem ${obj.addr}`,
        'mod',
        'help',
      ],
      { maxBuffer: 64 << 20, timeout: 600_000 },
    );
    const doc = JSON.parse(stdout) as {
      commands: { command: string; errors: string[]; parsed: { parser: string | null; value: unknown } }[];
      tasks: { pid: number; comm: string }[];
    };
    expect(doc.commands.map((c) => c.command)).toEqual(['bt', `kmem ${obj.addr}`, 'mod', 'help']);
    const bt = doc.commands[0]!.parsed;
    expect(bt.parser).toBe('parseBt');
    const frames = (
      bt.value as { frames: { func: string; exception: { symbol: string | null } | null }[] }[]
    )[0]!.frames;
    expect(frames.find((f) => f.exception?.symbol)?.exception?.symbol).toBe(fx.truth.crash.function);
    const kmem = doc.commands[1]!.parsed.value as { cache: { name: string }; object: { address: string } };
    expect(kmem.cache.name).toBe('fixture_req');
    expect(big(kmem.object.address)).toBe(big(obj.addr));
    const mods = doc.commands[2]!.parsed.value as { name: string }[];
    expect(mods.map((m) => m.name)).toContain('vmcore_fixture');
    expect(doc.commands[3]!.parsed.parser).toBeNull();
    expect(doc.tasks.find((t) => t.pid === 1)?.comm).toBe('init');
  }, 900_000);

  it("prints crash's text with a line saying what was parsed, and exit 1 when a command failed", async () => {
    const fx = loadFixture('bug');
    const err = await run(
      'node',
      [
        cli,
        'crash',
        fx.dumps.elf!,
        '--vmlinux',
        fx.vmlinux,
        '--modules',
        fx.moduleDebugDir,
        '--',
        'bt',
        'struct no_such_type',
      ],
      { maxBuffer: 64 << 20, timeout: 600_000 },
    ).then(
      () => null,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stdout).toContain('crash> bt\nPID: 1 ');
    expect(err?.stdout).toMatch(/^# parseBt: 1 task\(s\), \d+ frame\(s\) in the first$/m);
    expect(err?.stdout).toContain(`[exception RIP: ${fx.truth.crash.function}+`);
    expect(err?.stderr).toMatch(
      /'struct no_such_type': struct: invalid data structure reference: no_such_type/,
    );
  }, 900_000);

  it('fails with a clear message and exit code 2 on a vmlinux that does not match', async () => {
    const fx = loadFixture('bug');
    const err = await run('node', [
      cli,
      'crash',
      fx.dumps.elf!,
      '--vmlinux',
      path.join(path.dirname(fx.vmlinux), 'vmlinux-mismatch'),
      '--',
      'bt',
    ]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(/vmlinux-mismatch: vmlinux .*vmlinux-mismatch .*does not match/);
  }, 120_000);
});
