// The synthetic history shared by the history tests, with the ranking a kernel engineer would
// expect written by hand in the tests. Story: fs/foo.c gets a refcounting rework (c3) before v2.0;
// after v2.0 it is fixed twice (c4 with an id, c9 with an unknown abbreviated id and the subject),
// foo.c is renamed, a function is moved to another file, a cleanup is reverted, and c4 is
// backported to the stable-2.0 branch with `cherry-pick -x`, c8 with "commit X upstream.".
import { cFile, Repo } from './gitfixture.ts';

type Name =
  | 'c1'
  | 'c2'
  | 'c3'
  | 'c4'
  | 'c5'
  | 'c6'
  | 'c7'
  | 'c8'
  | 'c9'
  | 'c10'
  | 'c11'
  | 'c12'
  | 's1'
  | 's2';

export interface Scenario {
  repo: Repo;
  c: Record<Name, string>;
}

const alloc: [string, string[]] = [
  'struct foo *foo_alloc(gfp_t gfp)',
  ['return kzalloc(sizeof(struct foo), gfp);'],
];
const free1: [string, string[]] = ['void foo_free(struct foo *f)', ['kfree(f);']];
const free2: [string, string[]] = [
  'void foo_free(struct foo *f)',
  ['if (refcount_dec_and_test(&f->ref))', '\tkfree(f);', 'f->state = 0;'],
];
const free3: [string, string[]] = [
  'void foo_free(struct foo *f)',
  ['int last = refcount_dec_and_test(&f->ref);', 'if (last)', '\tkfree(f);'],
];
const free4: [string, string[]] = [
  'void foo_free(struct foo *f)',
  ['int last = refcount_dec_and_test(&f->ref);', 'if (last) {', '\tfoo_put_buf(f);', '\tkfree(f);', '}'],
];
const lock1: [string, string[]] = [
  'static int foo_lock(struct foo *f)',
  ['int err = -EBUSY;', 'if (!spin_trylock(&f->lock))', '\tgoto out;', 'err = 0;', 'out:', 'return err;'],
];
// A change after the `out:` label: the default funcname rule would name the label.
const lock2: [string, string[]] = [
  'static int foo_lock(struct foo *f)',
  [
    'int err = -EBUSY;',
    'if (!spin_trylock(&f->lock))',
    '\tgoto out;',
    'err = 0;',
    'out:',
    'trace_foo_lock(f, err);',
    'return err;',
  ],
];
const unlock1: [string, string[]] = ['static void foo_unlock(struct foo *f)', ['spin_unlock(&f->lock);']];
const unlock2: [string, string[]] = [
  'static void foo_unlock(struct foo *f)',
  ['if (WARN_ON(!spin_is_locked(&f->lock)))', '\treturn;', 'spin_unlock(&f->lock);'],
];
const release: [string, string[]] = [
  'int foo_release(struct foo *f)',
  ['foo_lock(f);', 'foo_free(f);', 'return 0;'],
];

export function buildScenario(dir: string): Scenario {
  const repo = Repo.init(dir);
  const c = {} as Record<Name, string>;
  c.c1 = repo.commit('foo: add the foo driver', {
    'fs/foo.c': cFile([alloc, free1, lock1, release]),
    'fs/bar.c': cFile([['int bar(void)', ['return 1;']]]),
  });
  repo.tag('v1.0');
  c.c2 = repo.commit('foo: add foo_unlock', { 'fs/foo.c': cFile([alloc, free1, lock1, unlock1, release]) });
  c.c3 = repo.commit('foo: rework foo_free refcounting', {
    'fs/foo.c': cFile([alloc, free2, lock1, unlock1, release]),
  });
  repo.tag('v2.0');
  c.c4 = repo.commit(
    `foo: fix use-after-free in foo_free\n\nThe state is written after kfree(); an invalid unlock follows.\n\nFixes: ${c.c3.slice(0, 12)} ("foo: rework foo_free refcounting")\nCc: stable@vger.kernel.org # 2.0+\nSigned-off-by: A <a@example.org>`,
    { 'fs/foo.c': cFile([alloc, free3, lock1, unlock1, release]) },
  );
  c.c5 = repo.commit('bar: return 2', { 'fs/bar.c': cFile([['int bar(void)', ['return 2;']]]) });
  c.c6 = repo.commit('foo: trace foo_lock results', {
    'fs/foo.c': cFile([alloc, free3, lock2, unlock1, release]),
  });
  c.c7 = repo.mv('fs/foo.c', 'fs/foo_core.c', 'foo: rename foo.c to foo_core.c');
  c.c8 = repo.commit(
    `foo: fix foo_unlock of an unlocked foo\n\nFixes: ${c.c2.slice(0, 12)} ("foo: add foo_unlock")\nCc: stable@vger.kernel.org`,
    { 'fs/foo_core.c': cFile([alloc, free3, lock2, unlock2, release]) },
  );
  c.c9 = repo.commit(
    'foo: fix buffer leak in foo_free\n\nFixes: deadbeef1234 ("foo: rework foo_free refcounting")',
    { 'fs/foo_core.c': cFile([alloc, free4, lock2, unlock2, release]) },
  );
  c.c10 = repo.commit(`Revert "foo: trace foo_lock results"\n\nThis reverts commit ${c.c6}.`, {
    'fs/foo_core.c': cFile([alloc, free4, lock1, unlock2, release]),
  });
  c.c11 = repo.commit('foo: move foo_alloc to alloc.c', {
    'fs/foo_core.c': cFile([free4, lock1, unlock2, release]),
    'fs/alloc.c': cFile([alloc]),
  });
  c.c12 = repo.commit(
    `foo: fix error path of foo_lock\n\nFixes: ${c.c6.slice(0, 12)} ("foo: trace foo_lock results")`,
    {
      'fs/foo_core.c': cFile([
        free4,
        [
          'static int foo_lock(struct foo *f)',
          [
            'int err = -EAGAIN;',
            'if (!spin_trylock(&f->lock))',
            '\tgoto out;',
            'err = 0;',
            'out:',
            'return err;',
          ],
        ],
        unlock2,
        release,
      ]),
    },
  );
  repo.tag('v3.0');
  // The stable line of v2.0.
  repo.git('checkout', '-q', '-b', 'stable-2.0', 'v2.0');
  c.s1 = repo.cherryPick(c.c4, 'x');
  repo.tag('v2.0.1');
  c.s2 = repo.cherryPick(c.c8, 'upstream');
  repo.git('checkout', '-q', 'main');
  return { repo, c };
}
