// The git history index on real repositories built by scenario.ts: a bare clone (no in-tree
// attributes), Fixes resolution (by id and by subject), renames, moved functions, reverts,
// backports on a stable branch, incremental updates and range shards, and rankings by hand.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexRepo } from '../../src/history/indexer.ts';
import { findFixes, functionHistory, HistoryIndex } from '../../src/history/query.ts';
import { hasGit, removeDir, tempDir } from './gitfixture.ts';
import { buildScenario, type Scenario } from './scenario.ts';

const gitOk = hasGit();
if (!gitOk && process.env.KTRIAGE_REQUIRE_ALL === '1') throw new Error('history tests need git on PATH');

describe.skipIf(!gitOk)('history index of a bare repository', () => {
  let dir: string;
  let s: Scenario;
  let bare: string;
  let indexFile: string;
  let idx: HistoryIndex;

  beforeAll(async () => {
    dir = tempDir('hist');
    s = buildScenario(join(dir, 'work'));
    bare = join(dir, 'bare.git');
    execFileSync('git', ['clone', '-q', '--bare', s.repo.dir, bare]);
    indexFile = join(dir, 'index.sqlite');
    const r = await indexRepo(bare, { index: indexFile });
    expect(r.newCommits).toBe(14);
    idx = HistoryIndex.open(indexFile);
  });
  afterAll(() => {
    idx?.close();
    if (dir) removeDir(dir);
  });

  const funcsOf = (sha: string) =>
    (
      idx.db
        .prepare(
          'SELECT f.path, f.func, f.flags FROM funcs f JOIN commits c ON c.id = f.commit_id WHERE c.sha = ? ORDER BY f.func',
        )
        .all(sha) as { path: string; func: string; flags: number }[]
    ).map((r) => `${r.path}:${r.func}:${r.flags}`);

  it('names the new function, not the function above the hunk', () => {
    // c2 adds foo_unlock after foo_lock: the hunk header says foo_lock.
    // 3 = ADDED (its definition line) | BODY (its body lines).
    expect(funcsOf(s.c.c2)).toEqual(['fs/foo.c:foo_unlock:3']);
  });

  it('forces C hunk headers in a bare repository (a label is not a function)', () => {
    // c6 adds a line after `out:`; git's default rule would name the label.
    expect(funcsOf(s.c.c6)).toEqual(['fs/foo.c:foo_lock:1']);
  });

  it('records moved functions as removed in one file and added in the other', () => {
    expect(funcsOf(s.c.c11)).toEqual(['fs/alloc.c:foo_alloc:3', 'fs/foo_core.c:foo_alloc:5']);
  });

  it('resolves Fixes by id and, for an unknown abbreviated id, by subject', () => {
    const rows = idx.db
      .prepare(
        'SELECT c.sha, f.ref, f.target, f.resolved_by FROM fixes_tags f JOIN commits c ON c.id = f.commit_id',
      )
      .all() as { sha: string; ref: string; target: string; resolved_by: string }[];
    const by = new Map(rows.filter((r) => r.sha === s.c.c4 || r.sha === s.c.c9).map((r) => [r.sha, r]));
    expect(by.get(s.c.c4)).toMatchObject({ target: s.c.c3, resolved_by: 'id' });
    expect(by.get(s.c.c9)).toMatchObject({ ref: 'deadbeef1234', target: s.c.c3, resolved_by: 'subject' });
  });

  it('records stable Cc with its version hint, backports, reverts and first tags', () => {
    const c4 = idx.db.prepare('SELECT stable, stable_hint, first_tag FROM commits WHERE sha = ?').get(s.c.c4);
    expect(c4).toEqual({ stable: 1, stable_hint: '2.0+', first_tag: 'v3.0' });
    expect(idx.db.prepare('SELECT first_tag FROM commits WHERE sha = ?').pluck().get(s.c.c3)).toBe('v2.0');
    expect(idx.db.prepare('SELECT first_tag FROM commits WHERE sha = ?').pluck().get(s.c.s1)).toBe('v2.0.1');
    const bps = idx.db
      .prepare(
        'SELECT c.sha, b.upstream FROM backports b JOIN commits c ON c.id = b.commit_id ORDER BY c.sha',
      )
      .all();
    expect(bps).toEqual(
      [
        { sha: s.c.s1, upstream: s.c.c4 },
        { sha: s.c.s2, upstream: s.c.c8 },
      ].sort((a, b) => (a.sha < b.sha ? -1 : 1)),
    );
    const rv = idx.db
      .prepare('SELECT c.sha, r.target FROM reverts r JOIN commits c ON c.id = r.commit_id')
      .all();
    expect(rv).toEqual([{ sha: s.c.c10, target: s.c.c6 }]);
  });

  it('ranks fixes for a crash in foo_free called from foo_lock on v2.0 (expected order by hand)', () => {
    const r = findFixes([idx], {
      base: 'v2.0',
      funcs: [
        { name: 'foo_free', depth: 0 },
        { name: 'foo_lock', depth: 1 },
      ],
      files: [],
      words: [],
    });
    // c4: top frame + Fixes a base commit that changed foo_free + stable; c9: same, no stable;
    // c10: foo_lock only; c12: foo_lock but its Fixes target came after v2.0; c6: reverted.
    expect(r.map((c) => c.id)).toEqual([s.c.c4, s.c.c9, s.c.c10, s.c.c12, s.c.c6]);
    expect(r[0]!.backportedToBase).toBe(true);
    expect(r[0]!.backports.map((b) => [b.sha, b.firstTag, b.onBaseLine])).toEqual([[s.c.s1, 'v2.0.1', true]]);
    expect(r[1]!.backportedToBase).toBe(false);
    expect(r.find((c) => c.id === s.c.c6)!.revertedBy).toEqual([s.c.c10]);
    expect(r.find((c) => c.id === s.c.c12)!.reasons.map((x) => x.kind)).toContain('fixes-after-base');
  });

  it('drops candidates already in a stable base as backports, unless asked', () => {
    const q = { base: 'v2.0.1', funcs: [{ name: 'foo_free', depth: 0 }], files: [], words: [] };
    const ids = findFixes([idx], q).map((c) => c.id);
    expect(ids).not.toContain(s.c.c4);
    expect(ids).toContain(s.c.c9);
    expect(findFixes([idx], { ...q, includeInBase: true }).map((c) => c.id)).toContain(s.c.c4);
  });

  it('ranks by file and by the words of the report when functions do not match', () => {
    const r = findFixes([idx], {
      base: 'v2.0',
      funcs: [],
      files: ['foo_core.c'],
      words: ['unlocked'],
    });
    // Only commits after v2.0 that changed fs/foo_core.c (c7 renamed it); c8's subject shares "unlocked".
    expect(r[0]!.id).toBe(s.c.c8);
    expect(new Set(r.map((c) => c.id))).toEqual(new Set([s.c.c7, s.c.c8, s.c.c9, s.c.c10, s.c.c11, s.c.c12]));
  });

  it('gives a function history like git log -L, following the rename', () => {
    const h = functionHistory(idx, 'foo_free', { file: 'fs/foo_core.c', rev: 'main' }).map((e) => e.sha);
    const gitL = execFileSync(
      'git',
      ['-C', bare, 'log', '--format=%H', '-L:^void foo_free(:fs/foo_core.c', 'main'],
      {
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter((l) => /^[0-9a-f]{40}$/.test(l));
    expect(h).toEqual(gitL);
    expect(h).toEqual([s.c.c9, s.c.c4, s.c.c3, s.c.c1]);
    const unlock = functionHistory(idx, 'foo_unlock', { file: 'fs/foo_core.c', rev: 'main' });
    expect(unlock.map((e) => [e.sha, e.path, e.change])).toEqual([
      [s.c.c8, 'fs/foo_core.c', 'modified'],
      [s.c.c2, 'fs/foo.c', 'added'],
    ]);
    expect(functionHistory(idx, 'foo_alloc', { rev: 'main' }).map((e) => `${e.path}:${e.change}`)).toEqual([
      'fs/alloc.c:added',
      'fs/foo_core.c:removed',
      'fs/foo.c:added',
    ]);
  });

  it('updates incrementally and shards by range', async () => {
    const c13 = s.repo.commit('bar: return 3', { 'fs/bar.c': 'int bar(void)\n{\n\treturn 3;\n}\n' });
    execFileSync('git', ['-C', bare, 'fetch', '-q', s.repo.dir, 'main:main']);
    const r = await indexRepo(bare, { index: indexFile });
    expect(r.newCommits).toBe(1);
    expect(r.totalCommits).toBe(15);
    const again = await indexRepo(bare, { index: indexFile });
    expect(again.newCommits).toBe(0);
    const shard = join(dir, 'shard.sqlite');
    const r2 = await indexRepo(bare, { index: shard, range: 'v1.0..v2.0' });
    expect(r2.newCommits).toBe(2);
    const db = new Database(shard, { readonly: true });
    expect(db.prepare('SELECT sha FROM commits ORDER BY author_time').pluck().all()).toEqual([
      s.c.c2,
      s.c.c3,
    ]);
    db.close();
    expect(c13).toMatch(/^[0-9a-f]{40}$/);
    await expect(indexRepo(bare, { index: shard, range: 'v1.0..nosuchtag' })).rejects.toThrow(
      /unknown revision nosuchtag/,
    );
  });

  it('fails clearly on a directory that is not a repository', async () => {
    await expect(indexRepo(dir, { index: join(dir, 'x.sqlite') })).rejects.toThrow(/not a git repository/);
  });
});
