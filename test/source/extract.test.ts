import { describe, expect, it } from 'vitest';
import { blankKernelMacros } from '../../src/source/blank.ts';
import { bareIdentifier, evalIntExpr, parseAccessPath, splitArgs } from '../../src/source/cexpr.ts';
import { extractFile } from '../../src/source/extract.ts';

const funcNames = (src: string): string[] => extractFile(src).funcs.map((f) => f[0]);

describe('blankKernelMacros', () => {
  it('keeps length and line breaks', () => {
    const src = 'static int __init foo(void)\n__releases(&x->lock)\n{\n}\n';
    const out = blankKernelMacros(src);
    expect(out.length).toBe(src.length);
    expect(out.split('\n').length).toBe(src.split('\n').length);
    expect(out).not.toContain('__init');
    expect(out).not.toContain('__releases');
    expect(out).toContain('foo(void)');
  });
  it('blanks __attribute__((...)) with nested parens across lines', () => {
    const src = 'int x __attribute__((aligned(8),\n section(".data")));\n';
    const out = blankKernelMacros(src);
    expect(out).toBe(`int x ${' '.repeat(26)}\n${' '.repeat(19)};\n`);
  });
  it('leaves preprocessor lines alone', () => {
    const src = '#define __init __section(".init.text")\n';
    expect(blankKernelMacros(src)).toBe(src);
  });
  it('rewrites SYSCALL_DEFINE headers into prototypes of sys_NAME', () => {
    const src =
      'SYSCALL_DEFINE3(read, unsigned int, fd, char __user *, buf, size_t, count)\n{\n\treturn ksys_read(fd, buf, count);\n}\n';
    const out = blankKernelMacros(src);
    expect(out.length).toBe(src.length);
    expect(out.startsWith('long sys_read(void')).toBe(true);
    const f = extractFile(src);
    expect(f.funcs.map((x) => x[0])).toEqual(['sys_read']);
    expect(f.calls.map((c) => c[1])).toEqual(['ksys_read']);
  });
  it('drops the struct keyword in type arguments of container_of-like macros', () => {
    const src = 'x = container_of(p, struct foo, member);';
    expect(blankKernelMacros(src)).toBe('x = container_of(p,        foo, member);');
  });
});

describe('cexpr', () => {
  it('parses member access chains', () => {
    expect(parseAccessPath('&req->wb_head->wb_flags')).toEqual({
      root: 'req',
      fields: ['wb_head', 'wb_flags'],
    });
    expect(parseAccessPath('NFS_I(inode)->flags')).toEqual({ root: 'NFS_I()', fields: ['flags'] });
    expect(parseAccessPath('(*p).a[i].b')).toEqual({ root: 'p', fields: ['a', 'b'] });
    expect(parseAccessPath('x + 1')).toBeNull();
    expect(parseAccessPath('foo')).toEqual({ root: 'foo', fields: [] });
  });
  it('splits arguments at top-level commas only', () => {
    expect(splitArgs('(a, f(b, c), "x,y", d[1,2])')).toEqual(['a', 'f(b, c)', '"x,y"', 'd[1,2]']);
    expect(splitArgs('()')).toEqual([]);
  });
  it('recognises bare identifiers behind & and parentheses', () => {
    expect(bareIdentifier(' &(fn) ')).toBe('fn');
    expect(bareIdentifier('a->b')).toBeNull();
  });
  it('evaluates integer constant expressions', () => {
    const env = (n: string): bigint | undefined => ({ A: 3n, B: 16n })[n];
    expect(evalIntExpr('1 << A', env)).toBe(8n);
    expect(evalIntExpr('BIT(4) | B', env)).toBe(16n);
    expect(evalIntExpr('GENMASK(7, 4)', env)).toBe(0xf0n);
    expect(evalIntExpr('(A + 1) * 2 - 0x10', env)).toBe(-8n);
    expect(evalIntExpr('A > 2 ? 10 : 20', env)).toBe(10n);
    expect(evalIntExpr('sizeof(int)', env)).toBeNull();
    expect(evalIntExpr('UNKNOWN + 1', env)).toBeNull();
    expect(evalIntExpr('1UL << 3', env)).toBe(8n);
  });
});

describe('extractFile: definitions under kernel annotations', () => {
  it('finds functions behind __init, static __always_inline, __releases, attributes, EXPORT_SYMBOL', () => {
    const src = [
      'static int __init init_foo(void) { return 0; }',
      'static __always_inline bool foo_locked(struct foo *f) { return f->n; }',
      'void foo_unlock(struct foo *f) __releases(&f->lock)',
      '{ spin_unlock(&f->lock); }',
      'EXPORT_SYMBOL_GPL(foo_unlock);',
      'static void __cold __attribute__((noinline)) slow(void) { }',
      'struct foo *foo_get(struct bar *b) { return b->foo; }',
      'module_init(init_foo);',
    ].join('\n');
    const f = extractFile(src);
    expect(f.funcs.map((x) => x[0])).toEqual(['init_foo', 'foo_locked', 'foo_unlock', 'slow', 'foo_get']);
    expect(f.funcs.find((x) => x[0] === 'foo_get')![4]).toBe('foo');
    expect(f.funcs.find((x) => x[0] === 'foo_unlock')!.slice(1, 3)).toEqual([3, 4]);
    expect(f.errors).toBe(0);
    const init = f.fnRefs.find((r) => r.kind === 'top');
    expect(init).toMatchObject({ fn: 'init_foo', via: 'module_init', entry: 'module-init', line: 8 });
  });
  it('counts ERROR nodes and their lines', () => {
    const f = extractFile('int ok(void) { return 1; }\nint broken( { \n');
    expect(f.errors).toBeGreaterThan(0);
    expect(f.errorLines).toContain(2);
    expect(funcNames('int ok(void) { return 1; }')).toEqual(['ok']);
  });
});

describe('extractFile: calls, ops tables, registrations, writes', () => {
  const src = `
struct foo_ops { void (*done)(struct foo *f); int (*start)(struct foo *f); };
struct foo { struct foo_ops *ops; unsigned long flags; struct work_struct work; struct foo *parent; };
static void foo_done(struct foo *f) { clear_bit(FOO_BUSY, &f->flags); }
static int foo_start(struct foo *f) { return test_and_set_bit(FOO_BUSY, &f->parent->flags); }
static void foo_work(struct work_struct *w) { }
static const struct foo_ops my_ops = {
	.done = foo_done,
	.start = &foo_start,
};
static void run(struct foo *f)
{
	struct foo *g = f->parent;
	f->ops->done(f);
	g->ops->start(g);
	f->flags |= BIT(FOO_DIRTY);
	f->flags &= ~FOO_DIRTY_MASK;
	f->flags = 0;
	g->ops->done = foo_done;
	INIT_WORK(&f->work, foo_work);
	queue_work(system_wq, &f->work);
	helper(1, f);
}
`;
  const f = extractFile(src);
  it('records direct calls with the enclosing function', () => {
    const run = f.funcs.findIndex((x) => x[0] === 'run');
    expect(f.calls.filter((c) => c[0] === run).map((c) => c[1])).toEqual([
      'BIT',
      'INIT_WORK',
      'queue_work',
      'helper',
    ]);
  });
  it('records field calls with the resolved root type and path', () => {
    expect(f.fieldCalls.map(([, m, line]) => [m.rootType, m.path, m.field, line])).toEqual([
      ['foo', 'ops', 'done', 14],
      ['foo', 'ops', 'start', 15],
    ]);
  });
  it('records designated initializers with their struct type and field', () => {
    const inits = f.fnRefs.filter((r) => r.kind === 'init');
    expect(inits.map((r) => [r.fn, r.member?.rootType, r.member?.field, r.via])).toEqual([
      ['foo_done', 'foo_ops', 'done', 'my_ops'],
      ['foo_start', 'foo_ops', 'start', 'my_ops'],
    ]);
  });
  it('records assignments of functions to fields and registrations with their object', () => {
    const assign = f.fnRefs.find((r) => r.kind === 'assign')!;
    expect([assign.fn, assign.member?.rootType, assign.member?.path, assign.member?.field]).toEqual([
      'foo_done',
      'foo',
      'ops',
      'done',
    ]);
    const reg = f.fnRefs.find((r) => r.kind === 'reg')!;
    expect([reg.fn, reg.via, reg.entry, reg.member?.rootType, reg.member?.field]).toEqual([
      'foo_work',
      'INIT_WORK',
      'workqueue',
      'foo',
      'work',
    ]);
    expect(f.triggers.map(([k, macro, m]) => [k, macro, m.rootType, m.field])).toEqual([
      ['workqueue', 'queue_work', 'foo', 'work'],
    ]);
  });
  it('records field writes: bit operations, |= BIT(), &= ~MASK, plain stores, with the parameter they go through', () => {
    const w = f.writes.map((x) => [
      x.op,
      x.bit,
      x.member.rootType,
      x.member.path,
      x.member.field,
      x.member.param,
    ]);
    expect(w).toEqual([
      ['clear', 'FOO_BUSY', 'foo', '', 'flags', 0],
      ['test_and_set', 'FOO_BUSY', 'foo', 'parent', 'flags', 0],
      ['|=', 'FOO_DIRTY', 'foo', '', 'flags', 0],
      ['&=', 'FOO_DIRTY_MASK', 'foo', '', 'flags', 0],
      ['=', null, 'foo', '', 'flags', 0],
      ['=', null, 'foo', 'ops', 'done', -1],
    ]);
  });
  it('records struct fields of struct type', () => {
    expect(f.fields.filter((x) => x[0] === 'foo').map((x) => [x[1], x[2]])).toEqual([
      ['ops', 'foo_ops'],
      ['work', 'work_struct'],
      ['parent', 'foo'],
    ]);
  });
});

describe('extractFile: enums and macros', () => {
  it('numbers implicit constants and evaluates expressions using earlier constants and #defines', () => {
    const src = `
#define SHIFT 4
#define F(x) ((x) + 1)
enum flags { A, B = 5, C, D = 1 << SHIFT, E = D | B, G = sizeof(long), H };
enum { X = BIT(3) };
`;
    const f = extractFile(src);
    expect(f.enums.map((e) => [e[0], e[1], e[2]])).toEqual([
      ['flags', 'A', '0'],
      ['flags', 'B', '5'],
      ['flags', 'C', '6'],
      ['flags', 'D', '16'],
      ['flags', 'E', '21'],
      ['flags', 'G', null],
      ['flags', 'H', null],
      [null, 'X', '8'],
    ]);
    expect(f.macros.map((m) => [m[0], m[2]])).toEqual([
      ['SHIFT', 0],
      ['F', 1],
    ]);
  });
});

describe('scanPreprocessorOnly', () => {
  it('reads macros from headers that hold only directives and comments, like the parser would', async () => {
    const { scanPreprocessorOnly } = await import('../../src/source/extract.ts');
    const hdr =
      '/* regs\n * more */\n#ifndef X_H\n#define X_H\n#define mmREG 0x1234 // offset\n#define F(a) \\\n  ((a) + 1)\n#endif\n';
    expect(scanPreprocessorOnly(hdr)).toEqual([
      ['X_H', 4, 0, null],
      ['mmREG', 5, 0, '0x1234'],
      ['F', 6, 1, null],
    ]);
    const viaParser = extractFile(`${hdr}int x;\n`).macros.map((m) => [m[0], m[1], m[2]]);
    expect(viaParser).toEqual([
      ['X_H', 4, 0],
      ['mmREG', 5, 0],
      ['F', 6, 1],
    ]);
    expect(scanPreprocessorOnly('#define A 1\nint x;\n')).toBeNull();
    expect(scanPreprocessorOnly('/* int x; */\n#define A 1\n')).toEqual([['A', 2, 0, '1']]);
  });
});

describe('extractFile: pointer locals aliasing a member', () => {
  it('attributes bit operations through `unsigned long *p = &x->flags` to the member', () => {
    const f = extractFile(
      'void inval(struct nfs_inode *nfsi)\n{\n\tunsigned long *bitlock = &nfsi->flags;\n\tclear_bit_unlock(NFS_INO_INVALIDATING, bitlock);\n}\n',
    );
    expect(
      f.writes.map((w) => [w.op, w.bit, w.member.rootType, w.member.field, w.member.param, w.line]),
    ).toEqual([['clear', 'NFS_INO_INVALIDATING', 'nfs_inode', 'flags', 0, 4]]);
  });
});
