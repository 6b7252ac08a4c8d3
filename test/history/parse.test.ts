// Pure parsers: function attribution in -U0 hunks, commit-message trailers, tag order.
import { describe, expect, it } from 'vitest';
import { DiffScanner, definedName } from '../../src/history/cdiff.ts';
import { parseFixesValue, parseMessage } from '../../src/history/message.ts';
import { normaliseFunc } from '../../src/history/query.ts';
import { compareTags, firstTags } from '../../src/history/tags.ts';

function scan(patch: string): string[] {
  const s = new DiffScanner();
  for (const l of patch.split('\n')) s.line(l);
  return s.funcs.map((f) => `${f.func}:${f.flags}`).sort();
}

const head = 'diff --git a/x.c b/x.c\nindex 1..2 100644\n--- a/x.c\n+++ b/x.c\n';

describe('definedName', () => {
  it('recognises definitions in kernel and BSD/DPDK style, not calls or declarations', () => {
    expect(definedName('static int foo(struct bar *b)')).toBe('foo');
    expect(definedName('i40e_dev_start(struct rte_eth_dev *dev)')).toBe('i40e_dev_start');
    expect(definedName('static struct page **get_pages(int n,')).toBe('get_pages');
    expect(definedName('int foo(void);')).toBeNull();
    expect(definedName('static DEFINE_MUTEX(lock);')).toBeNull();
    expect(definedName('\tfoo(1);')).toBeNull();
    expect(definedName('struct foo {')).toBeNull();
    expect(definedName('static int x = f(1)')).toBeNull();
    expect(definedName('SYSCALL_DEFINE3(openat, int, dfd, const char __user *, filename, int, flags)')).toBe(
      'sys_openat',
    );
    expect(definedName('if (x)')).toBeNull();
  });
  it('is linear on long hostile lines', () => {
    const long = `${'a '.repeat(50_000)}(`;
    const t = Date.now();
    definedName(long);
    scan(`${head}@@ -1,0 +1,1 @@ ${long}\n+${long}`);
    // Not a speed target: a backtracking pattern on these 100k-character lines takes minutes, a
    // linear scan milliseconds; the bound only separates the two, even on a loaded CI machine.
    expect(Date.now() - t).toBeLessThan(10_000);
  });
});

describe('DiffScanner', () => {
  it('attributes body changes to the header function', () => {
    expect(scan(`${head}@@ -5 +5 @@ static int foo(void)\n-\treturn 1;\n+\treturn 2;`)).toEqual(['foo:1']);
  });
  it('does not blame the function above for a top-level declaration after it', () => {
    expect(scan(`${head}@@ -9,0 +10,2 @@ static int foo(void)\n+\n+static int counter;`)).toEqual([]);
  });
  it('names a function added below the header function, including its comment', () => {
    const p = `${head}@@ -9,0 +10,6 @@ static int foo(void)\n+\n+/* bar - does bar */\n+static int\n+bar(void)\n+{\n+\treturn 0;\n+}`;
    expect(scan(p)).toEqual(['bar:3']);
  });
  it('marks removed and re-signed functions', () => {
    expect(scan(`${head}@@ -3,4 +2,0 @@ int a(void)\n-int b(void)\n-{\n-\treturn 0;\n-}`)).toEqual(['b:5']);
    expect(scan(`${head}@@ -3 +3 @@ int a(void)\n-int b(int x)\n+int b(long x)`)).toEqual(['b:6']);
  });
  it('counts blank and indented comment lines inside a body, not blank lines before a new function', () => {
    expect(scan(`${head}@@ -7 +6,0 @@ static int foo(void)\n-`)).toEqual(['foo:1']);
    expect(scan(`${head}@@ -7,0 +8,2 @@ static int foo(void)\n+\n+\t/* why */`)).toEqual(['foo:1']);
    expect(scan(`${head}@@ -9,0 +10,3 @@ static int foo(void)\n+\n+int bar(void)\n+{`)).toEqual(['bar:2']);
    expect(scan(`${head}@@ -9,0 +10,3 @@ static int foo(void)\n+\n+/**\n+ * bar - x`)).toEqual([]);
  });
  it('keeps goto labels inside the function', () => {
    expect(scan(`${head}@@ -7,0 +8 @@ static int foo(void)\n+err_free:`)).toEqual(['foo:1']);
  });
  it('ignores non-C files and does not read hunk lines as headers', () => {
    const p = `diff --git a/README b/README\n--- a/README\n+++ b/README\n@@ -1 +1 @@ int main(void)\n--- a/x\n+++ b/y`;
    const s = new DiffScanner();
    for (const l of p.split('\n')) s.line(l);
    expect(s.funcs).toEqual([]);
    expect(s.files).toEqual([{ path: 'README', oldPath: null, status: 'M' }]);
  });
  it('records renames and paths with spaces', () => {
    const s = new DiffScanner();
    for (const l of 'diff --git a/a b.c b/c d.c\nsimilarity index 90%\nrename from a b.c\nrename to c d.c\n--- a/a b.c\t\n+++ b/c d.c\t\n@@ -1 +1 @@ int f(void)\n-\tx;\n+\ty;'.split(
      '\n',
    ))
      s.line(l);
    expect(s.files).toEqual([{ path: 'c d.c', oldPath: 'a b.c', status: 'R' }]);
    expect(s.funcs).toEqual([{ path: 'c d.c', func: 'f', flags: 1 }]);
  });
});

describe('parseMessage', () => {
  it('reads Fixes, stable hints, backport markers and reverts', () => {
    const m = parseMessage(
      [
        'Revert "nfs: do a thing"',
        '',
        'commit 0123456789abcdef0123456789abcdef01234567 upstream.',
        '[ upstream commit 89abcdef0123456789abcdef0123456789abcdef ]',
        'This reverts commit abcdef0123456789abcdef0123456789abcdef01.',
        'Fixes: 1234567890ab ("nfs: do a thing")',
        'Fixes: nfs: unknown id',
        'Cc: <stable@vger.kernel.org> # 4.19+',
        'Cc: stable@vger.kernel.org # v5.10',
        '(cherry picked from commit fedcba9876543210fedcba9876543210fedcba98)',
      ].join('\n'),
    );
    expect(m.fixes).toEqual([
      { ref: '1234567890ab', subject: 'nfs: do a thing' },
      { ref: null, subject: 'nfs: unknown id' },
    ]);
    expect(m.stable).toBe(true);
    expect(m.stableHint).toBe('4.19+, v5.10');
    expect(m.backportOf).toEqual([
      '0123456789abcdef0123456789abcdef01234567',
      '89abcdef0123456789abcdef0123456789abcdef',
      'fedcba9876543210fedcba9876543210fedcba98',
    ]);
    expect(m.reverts).toEqual(['abcdef0123456789abcdef0123456789abcdef01']);
    expect(m.revertsSubject).toBe('nfs: do a thing');
  });
  it('parses Fixes values with odd quoting', () => {
    expect(parseFixesValue(' 1234abcd (net: x (y))')).toEqual({ ref: '1234abcd', subject: 'net: x (y)' });
    expect(parseFixesValue('deadbeefzz')).toEqual({ ref: null, subject: 'deadbeefzz' });
  });
});

describe('tags and frame names', () => {
  it('orders release tags by version with rc before the release', () => {
    const t = ['v5.10.1', 'v5.10', 'v5.9', 'v5.10-rc2', 'v5.10-rc10', 'v5.11-rc1', 'junk'];
    expect([...t].sort(compareTags)).toEqual([
      'v5.9',
      'v5.10-rc2',
      'v5.10-rc10',
      'v5.10',
      'v5.10.1',
      'v5.11-rc1',
      'junk',
    ]);
  });
  it('assigns the first containing tag along parent links', () => {
    // 1 <- 2 <- 3 (v2) <- 4 ; 2 <- 5 (v1.1)
    const parents = new Map<number, number[]>([
      [1, []],
      [2, [1]],
      [3, [2]],
      [4, [3]],
      [5, [2]],
    ]);
    const f = firstTags(parents, [
      { name: 'v2', commit: 3 },
      { name: 'v1.1', commit: 5 },
    ]);
    expect([...f.entries()].sort()).toEqual([
      [1, 'v1.1'],
      [2, 'v1.1'],
      [3, 'v2'],
      [5, 'v1.1'],
    ]);
  });
  it('normalises symbolised frame names', () => {
    expect(normaliseFunc('nfs_unlock_request.isra.0')).toBe('nfs_unlock_request');
    expect(normaliseFunc('__x64_sys_openat')).toBe('sys_openat');
    expect(normaliseFunc('__do_compat_sys_ioctl')).toBe('compat_sys_ioctl');
  });
});
