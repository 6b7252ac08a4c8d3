// `ktriage analyze` end to end as a subprocess: transcript mode, formats, bad input, --db.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, shared } from '../vmcore/parse/helpers.ts';

const bin = path.join(repoRoot, 'bin/ktriage.mjs');
const seed = path.join(shared, 'seed/crash-session.txt');
const tmp = mkdtempSync(path.join(tmpdir(), 'ktriage-analyze-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]) {
  return spawnSync(process.execPath, [bin, 'analyze', ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('ktriage analyze', () => {
  it('analyses the seed transcript as JSON', () => {
    const r = run(['--transcript', seed, '--kernel', '4.19', '--format', 'json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.frames[0].arguments[0].value).toBe('ffff9bf9f048da00');
    expect(j.kernel.release).toBe('4.19');
  });

  it('prints Markdown by default and HTML on request', () => {
    const md = run(['--transcript', seed, '--kernel', '4.19']);
    expect(md.status).toBe(0);
    expect(md.stdout).toMatch(/^# ktriage analysis: nfs_unlock_request\+55/);
    const html = run(['--transcript', seed, '--kernel', '4.19', '--format', 'html']);
    expect(html.stdout).toMatch(/^<article/);
  });

  it('escapes hostile strings from the transcript in HTML', () => {
    const f = path.join(tmp, 'evil.txt');
    writeFileSync(
      f,
      'crash> bt\nPID: 1  TASK: ffff8e7541210000  CPU: 0  COMMAND: "<script>alert(1)</script>"\n #0 [ffffd51540013a58] panic at ffffffff92e01e27\n',
    );
    const r = run(['--transcript', f, '--format', 'html']);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('<script>');
    expect(r.stdout).toContain('&lt;script&gt;');
  });

  it('rejects bad input with a clear error and exit code 2', () => {
    const missing = run(['--transcript', path.join(tmp, 'nope.txt')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nope\.txt/);
    const empty = path.join(tmp, 'empty.txt');
    writeFileSync(empty, 'nothing here\n');
    const e = run(['--transcript', empty]);
    expect(e.status).toBe(2);
    expect(e.stderr).toMatch(/no crash commands/);
    expect(run(['--transcript', seed, '--format', 'pdf']).status).toBe(2);
    expect(run(['/no/such/vmcore']).stderr).toMatch(/--vmlinux/);
  });

  it('stores the report as an analysis with --db', async () => {
    const db = path.join(tmp, 'k.db');
    const r = run(['--transcript', seed, '--kernel', '4.19', '--db', db]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/stored analysis \d+/);
    const { openStore } = await import('../../src/store/index.ts');
    const store = await openStore(db);
    try {
      const list = await store.listAnalyses({ kind: 'transcript' });
      expect(list).toHaveLength(1);
      const a = await store.getAnalysis(list[0]!.id);
      expect(a!.title).toBe('triage: nfs_unlock_request+55');
      expect(a!.markdown).toMatch(/PG_MAPPED\|PG_INODE_REF/);
      expect((a!.json as { schema: string }).schema).toBe('ktriage.analysis/1');
    } finally {
      await store.close();
    }
  });
});
