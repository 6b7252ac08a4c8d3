// A partial clone (`git clone --filter=blob:limit=...` from a file:// origin that allows filters)
// whose promisor remote is gone: plain `git log -p` dies on the missing blob, the indexer must
// find it first, leave its path out of the patch pass, still index every commit, and say so.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexRepo } from '../../src/history/indexer.ts';
import { cFile, hasGit, Repo, removeDir, tempDir } from './gitfixture.ts';

const gitOk = hasGit();
if (!gitOk && process.env.KTRIAGE_REQUIRE_ALL === '1') throw new Error('history tests need git on PATH');

describe.skipIf(!gitOk)('partial clone with missing blobs', () => {
  let dir: string;
  let clone: string;
  const c = {} as Record<'a' | 'b' | 'c', string>;
  beforeAll(() => {
    dir = tempDir('partial');
    const origin = Repo.init(join(dir, 'origin'));
    origin.git('config', 'uploadpack.allowFilter', 'true');
    origin.git('config', 'uploadpack.allowAnySHA1InWant', 'true');
    const big = (n: number) =>
      `static const int table[] = {\n${Array.from({ length: 4000 }, (_, i) => `\t${i * n},`).join('\n')}\n};\n`;
    c.a = origin.commit('lib: add table', {
      'lib/table.h': big(1),
      'lib/x.c': cFile([['int x(void)', ['return 1;']]]),
    });
    c.b = origin.commit('lib: regenerate table', { 'lib/table.h': big(2) });
    c.c = origin.commit('lib: fix x\n\nCc: stable@vger.kernel.org', {
      'lib/x.c': cFile([['int x(void)', ['return 2;']]]),
      'lib/table.h': big(3),
    });
    clone = join(dir, 'clone.git');
    execFileSync('git', ['clone', '-q', '--bare', '--filter=blob:limit=8k', `file://${origin.dir}`, clone]);
    // The promisor remote disappears (an offline mirror): missing blobs cannot be fetched lazily.
    removeDir(origin.dir);
  });
  afterAll(() => {
    if (dir) removeDir(dir);
  });

  it('plain git log -p fails on this clone (the pitfall is real)', () => {
    const r = spawnSync('git', ['-C', clone, 'log', '-p', '-U0', '--format=%H'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
  });

  it('indexes every commit, reads the other diffs and reports the skipped path', async () => {
    const notes: string[] = [];
    const file = join(dir, 'idx.sqlite');
    const r = await indexRepo(clone, { index: file, onNote: (m) => notes.push(m) });
    expect(r.skippedPaths).toEqual(['lib/table.h']);
    expect(r.totalCommits).toBe(3);
    expect(notes.join('\n')).toMatch(/missing.*lib\/table\.h/);
    const db = new Database(file, { readonly: true });
    const rows = db
      .prepare(
        `SELECT c.sha, c.has_diff, group_concat(f.path, ',') AS paths FROM commits c
         LEFT JOIN files f ON f.commit_id = c.id GROUP BY c.id ORDER BY c.author_time`,
      )
      .all() as { sha: string; has_diff: number; paths: string }[];
    // b touches only the skipped path: indexed from the name-status pass, without a diff.
    expect(rows.map((x) => [x.sha, x.has_diff, x.paths.split(',').sort().join(',')])).toEqual([
      [c.a, 1, 'lib/table.h,lib/x.c'],
      [c.b, 0, 'lib/table.h'],
      [c.c, 1, 'lib/table.h,lib/x.c'],
    ]);
    expect(db.prepare("SELECT count(*) FROM funcs WHERE func = 'x'").pluck().get()).toBe(2);
    expect(db.prepare('SELECT path FROM skipped_paths').pluck().all()).toEqual(['lib/table.h']);
    db.close();
  });
});
