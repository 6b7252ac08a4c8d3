// The CLI end to end: `history index` on a bare clone, `fixes --trace LOG` through the crash-log
// parser, `fixes --funcs`, `history func`, and clear errors for bad input.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, freshDb } from '../store/helpers.ts';
import { hasGit, removeDir, tempDir } from './gitfixture.ts';
import { buildScenario, type Scenario } from './scenario.ts';

const gitOk = hasGit();
if (!gitOk && process.env.KTRIAGE_REQUIRE_ALL === '1') throw new Error('history tests need git on PATH');
const bin = resolve(import.meta.dirname, '../../bin/ktriage.mjs');

function run(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
}

const oops = `[  100.000000] FOO: invalid unlock attempted
[  100.000001] ------------[ cut here ]------------
[  100.000002] kernel BUG at fs/foo_core.c:42!
[  100.000003] invalid opcode: 0000 [#1] SMP PTI
[  100.000004] CPU: 1 PID: 123 Comm: foo Not tainted 6.1.0 #1
[  100.000005] RIP: 0010:foo_free+0x20/0x40
[  100.000006] Code: 48 89 df e8 00 00 00 00 <0f> 0b 90 90
[  100.000007] RSP: 0018:ffffc90000a3bd48 EFLAGS: 00010246
[  100.000010] Call Trace:
[  100.000011]  <TASK>
[  100.000012]  foo_release+0x10/0x20
[  100.000013]  do_syscall_64+0x3b/0x90
[  100.000014]  entry_SYSCALL_64_after_hwframe+0x63/0xcd
[  100.000015]  </TASK>
[  100.000016] ---[ end trace 0000000000000000 ]---
`;

describe.skipIf(!gitOk)('ktriage history / fixes CLI', () => {
  let dir: string;
  let s: Scenario;
  let bare: string;
  beforeAll(() => {
    dir = tempDir('cli');
    s = buildScenario(join(dir, 'work'));
    bare = join(dir, 'bare.git');
    execFileSync('git', ['clone', '-q', '--bare', s.repo.dir, bare]);
    writeFileSync(join(dir, 'oops.log'), oops);
  });
  afterAll(() => {
    if (dir) removeDir(dir);
  });

  it('indexes into the git dir by default', () => {
    const r = run('history', 'index', bare);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/indexed 14 new commits/);
  });

  it('ranks fixes for a console log', () => {
    const r = run('fixes', '--base', 'v2.0', '--trace', join(dir, 'oops.log'), '--repo', bare, '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.title).toBe('kernel BUG in foo_free');
    expect(out.funcs.map((f: { name: string }) => f.name)).toEqual(['foo_free', 'foo_release']);
    // c4 (Fixes the foo_free rework, stable, backported) over c9 (same fix target, by subject).
    expect(out.candidates.slice(0, 2).map((c: { id: string }) => c.id)).toEqual([s.c.c4, s.c.c9]);
    expect(out.candidates[0].backportedToBase).toBe(true);
    const text = run('fixes', '--base', 'v2.0', '--trace', join(dir, 'oops.log'), '--repo', bare);
    expect(text.stdout).toMatch(/backported to the base's stable line/);
  });

  it.each(dialects())('ranks fixes for a crash stored in the store (--crash ID, %s)', async (dialect) => {
    const { openStore } = await import('../../src/store/index.ts');
    const db = await freshDb(dialect);
    try {
      const store = await openStore(db.url);
      const res = await store.ingestLog({ text: oops, source: 'oops.log', host: 'h1' });
      await store.close();
      const id = res.crashes[0]!.crashId;
      const r = run(
        'fixes',
        '--base',
        'v2.0',
        '--crash',
        String(id),
        '--db',
        db.url,
        '--repo',
        bare,
        '--json',
      );
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout).candidates[0].id).toBe(s.c.c4);
      const missing = run('fixes', '--base', 'v2.0', '--crash', '999', '--db', db.url, '--repo', bare);
      expect(missing.status).toBe(2);
      expect(missing.stderr).toMatch(/--crash 999: no such crash/);
    } finally {
      await db.drop();
    }
  });

  it('prints a function history', () => {
    const r = run('history', 'func', 'foo_unlock', '--file', 'fs/foo_core.c', '--repo', bare);
    expect(r.status).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.slice(0, 12)),
    ).toEqual([s.c.c8.slice(0, 12), s.c.c2.slice(0, 12)]);
  });

  it('fails clearly on bad input', () => {
    const a = run('fixes', '--base', 'v9.9', '--funcs', 'foo_free', '--repo', bare);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/base v9\.9: unknown revision/);
    const b = run('fixes', '--base', 'v2.0', '--repo', bare);
    expect(b.status).toBe(2);
    const c = run('fixes', '--base', 'v2.0', '--trace', join(dir, 'nope.log'), '--repo', bare);
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/nope\.log/);
    const d = run('history', 'index', dir);
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/not a git repository/);
  });
});
