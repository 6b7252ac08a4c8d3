// The indexer and queries on a small synthetic tree written to a temp dir (no kernel tree needed):
// incremental re-indexing with worker threads, and the ops-table / work-item / helper joins.
import { mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexTree, openSourceIndex } from '../../src/source/index.ts';

const HDR = `
struct thing_ops { void (*complete)(struct thing *t); };
struct thing { const struct thing_ops *ops; unsigned long flags; struct work_struct work; };
enum { T_BUSY, T_DONE = 4, T_LAST };
static inline void thing_unlock(struct thing *t) { clear_bit(T_BUSY, &t->flags); }
`;
const A = `
#include "thing.h"
static void a_complete(struct thing *t) { thing_unlock(t); }
static const struct thing_ops a_ops = { .complete = a_complete };
static void a_work(struct work_struct *w) { }
void a_init(struct thing *t) { t->ops = &a_ops; INIT_WORK(&t->work, a_work); }
`;
const B = `
#include "thing.h"
void b_finish(struct thing *t) { t->ops->complete(t); }
void b_kick(struct thing *t) { schedule_work(&t->work); }
void b_release(struct thing *t) { thing_unlock(t); }
void b_outer(struct thing *x) { b_release(x); }
SYSCALL_DEFINE1(thing, int, fd) { b_finish(lookup(fd)); return 0; }
`;

describe('indexTree + SourceIndex on a synthetic tree', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ktriage-src-'));
    writeFileSync(join(dir, 'thing.h'), HDR);
    writeFileSync(join(dir, 'a.c'), A);
    writeFileSync(join(dir, 'b.c'), B);
    db = join(dir, 'idx.db');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('indexes with worker threads, then re-indexes incrementally', async () => {
    const s1 = await indexTree({ tree: dir, index: db, jobs: 2 });
    expect(s1).toMatchObject({ files: 3, parsed: 3, unchanged: 0, removed: 0, failed: [] });
    expect(s1.functions).toBe(9);
    const s2 = await indexTree({ tree: dir, index: db, jobs: 2 });
    expect(s2).toMatchObject({ parsed: 0, unchanged: 3 });
    // Same content, new mtime: hashed, not re-parsed.
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'a.c'), later, later);
    const s3 = await indexTree({ tree: dir, index: db, jobs: 0 });
    expect(s3).toMatchObject({ parsed: 0, unchanged: 3 });
    // Changed content: only that file is parsed again.
    writeFileSync(join(dir, 'extra.c'), 'void gone(void) { }\n');
    const s4 = await indexTree({ tree: dir, index: db, jobs: 1 });
    expect(s4).toMatchObject({ files: 4, parsed: 1, unchanged: 3 });
    unlinkSync(join(dir, 'extra.c'));
    const s5 = await indexTree({ tree: dir, index: db });
    expect(s5).toMatchObject({ files: 3, parsed: 0, removed: 1 });
    const ix = openSourceIndex(db);
    try {
      expect(ix.def('gone')).toEqual([]);
      expect(ix.def('b_finish')).toEqual([
        { kind: 'function', name: 'b_finish', file: 'b.c', line: 3, endLine: 3, parseErrors: false },
      ]);
    } finally {
      ix.close();
    }
  });

  it('joins ops-table initializers, work items and helpers', async () => {
    await indexTree({ tree: dir, index: db, jobs: 0 });
    const ix = openSourceIndex(db);
    try {
      const c = ix.callers('a_complete');
      expect(c.callers.map((e) => [e.caller, e.kind, e.through, e.match, e.expr, e.file, e.line])).toEqual([
        ['b_finish', 'ops', 'struct thing_ops.complete', 'type', 't->ops->complete', 'b.c', 3],
      ]);
      expect(c.callers[0]!.storedAt).toMatchObject({ file: 'a.c', line: 4 });
      const w = ix.callers('a_work');
      expect(w.entry.map((e) => e.kind)).toEqual(['workqueue']);
      expect(w.callers.map((e) => [e.caller, e.kind, e.expr])).toEqual([
        ['b_kick', 'work', 'schedule_work(&t->work)'],
      ]);
      const paths = ix.pathsToEntry('a_complete');
      expect(paths.map((p) => [p.entry.kind, p.entry.func, p.steps.map((s) => s.caller)])).toEqual([
        ['syscall', 'sys_thing', ['sys_thing', 'b_finish']],
      ]);
      const wr = ix.writers('thing', 'flags', { bit: 'T_BUSY' });
      expect(wr.writers.map((s) => [s.func, s.op, s.bit])).toEqual([['thing_unlock', 'clear', 'T_BUSY']]);
      const h = wr.helpers[0]!;
      expect(h.helper).toBe('thing_unlock');
      expect(h.callers.map((x) => [x.func, x.arg, x.passesParam])).toEqual([
        ['a_complete', 't', 0],
        ['b_release', 't', 0],
      ]);
      expect(h.callers[1]!.callers?.map((x) => x.func)).toEqual(['b_outer']);
      expect(ix.enums('T_DONE')[0]!.constants.map((k) => [k.name, k.value])).toEqual([
        ['T_BUSY', '0'],
        ['T_DONE', '4'],
        ['T_LAST', '5'],
      ]);
      expect(() => ix.callers('no_such_function')).toThrow(/no_such_function: not in the index/);
    } finally {
      ix.close();
    }
  });

  it('rejects a missing tree and a non-index file with a message naming them', async () => {
    await expect(indexTree({ tree: join(dir, 'nope') })).rejects.toThrow(
      /kernel tree .*nope: does not exist/,
    );
    writeFileSync(
      join(dir, 'junk.db'),
      'not sqlite at all, just text that is long enough to be a header.....',
    );
    expect(() => openSourceIndex(join(dir, 'junk.db'))).toThrow(/junk\.db/);
  });
});

describe('enum values that depend on other files', () => {
  it('evaluates them at query time from constants and macros elsewhere in the index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktriage-src-enum-'));
    try {
      writeFileSync(join(dir, 'a.h'), '#define BASE_SHIFT 3\nenum base { BASE_A = 2 };\n');
      writeFileSync(join(dir, 'b.h'), 'enum user { U_X = BASE_A << BASE_SHIFT, U_Y, U_Z = sizeof(long) };\n');
      const db = join(dir, 'i.db');
      await indexTree({ tree: dir, index: db, jobs: 0 });
      const ix = openSourceIndex(db);
      try {
        const g = ix.enums('U_X');
        expect(g.map((x) => x.enum)).toEqual(['user']);
        expect(g[0]!.constants.map((c) => [c.name, c.value])).toEqual([
          ['U_X', '16'],
          ['U_Y', '17'],
          ['U_Z', null],
        ]);
        expect(ix.enums('U_').length).toBe(1);
        expect(ix.enums('user')[0]!.constants.length).toBe(3);
      } finally {
        ix.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('field-name joins when a struct type is unresolved', () => {
  it('joins only when every function stored in a field of that name goes to one struct type', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktriage-src-fieldname-'));
    try {
      writeFileSync(
        join(dir, 'a.c'),
        [
          'struct aops { void (*done)(void *p); void (*only_here)(void *p); };',
          'struct bops { void (*done)(void *p); };',
          'static void a_done(void *p) { }',
          'static void b_done(void *p) { }',
          'static void a_only(void *p) { }',
          'static const struct aops A = { .done = a_done, .only_here = a_only };',
          'static const struct bops B = { .done = b_done };',
          // `mystery` has no declared type here: its field's struct type cannot be resolved.
          'void call_done(void) { mystery->ops->done(0); }',
          'void call_only(void) { mystery->ops->only_here(0); }',
          '',
        ].join('\n'),
      );
      const db = join(dir, 'i.db');
      await indexTree({ tree: dir, index: db, jobs: 0 });
      const ix = openSourceIndex(db);
      try {
        expect(ix.callers('a_done').callers).toEqual([]);
        expect(ix.callers('a_only').callers.map((e) => [e.caller, e.match, e.through])).toEqual([
          ['call_only', 'field-name', 'struct aops.only_here'],
        ]);
      } finally {
        ix.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('callers edge budget', () => {
  it('truncates and says so instead of expanding without bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktriage-src-budget-'));
    try {
      const callers = Array.from({ length: 6 }, (_, i) => `void g${i}(void) { f(); }`).join('\n');
      writeFileSync(join(dir, 'a.c'), `void f(void) { }\n${callers}\nvoid top(void) { g0(); g1(); }\n`);
      const db = join(dir, 'i.db');
      await indexTree({ tree: dir, index: db, jobs: 0 });
      const ix = openSourceIndex(db);
      try {
        const full = ix.callers('f', 2);
        expect(full.truncated).toBeUndefined();
        expect(full.callers.map((e) => e.caller)).toEqual(['g0', 'g1', 'g2', 'g3', 'g4', 'g5']);
        expect(full.callers[0]!.callers?.map((e) => e.caller)).toEqual(['top']);
        const cut = ix.callers('f', 2, { maxEdges: 3 });
        expect(cut.truncated).toBe(true);
        expect(cut.callers.length).toBe(3);
      } finally {
        ix.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
