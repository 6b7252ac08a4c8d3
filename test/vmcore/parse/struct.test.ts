import { describe, expect, it } from 'vitest';
import { pageFlags, parseKernelVersion } from '../../../src/knowledge/index.ts';
import {
  fieldBig,
  getField,
  leaves,
  memberAt,
  parsePrint,
  parseStruct,
  parseStructOffsets,
  parseTypeInfo,
} from '../../../src/vmcore/parse/index.ts';
import { readShared, SAMPLES, section } from './helpers.ts';

const seed = readShared('seed/crash-session.txt');
const pass1 = readShared(`${SAMPLES}/crash-elf-pass1.txt`);
const pass2 = readShared(`${SAMPLES}/crash-elf-pass2.txt`);

describe('parseStruct', () => {
  it('parses the seed nfs_page -x: nested structs, strings, self links', () => {
    const [b] = parseStruct(section(seed, /^struct nfs_page \{/, /^crash> kmem/));
    expect(b!.type).toBe('struct nfs_page');
    expect(fieldBig(b!.value, 'wb_flags')).toBe(0x12n);
    expect(fieldBig(b!.value, 'wb_kref.refcount.refs.counter')).toBe(1n);
    expect(fieldBig(b!.value, 'wb_list.next')).toBe(0xffff9bf9f048da00n);
    expect(fieldBig(b!.value, 'wb_page')).toBe(0xfffffb9dd6f34dc0n);
    const verf = getField(b!.value, 'wb_verf.data');
    expect(verf).toMatchObject({ kind: 'scalar', string: '\\000\\000\\000\\000\\000\\000\\000' });
    expect(leaves(b!.value).map((l) => l.path)).toContain('wb_kref.refcount.refs.counter');
  });

  it('parses the seed struct page with anonymous unions and elisions', () => {
    const [b] = parseStruct(section(seed, /^struct page \{/, /^crash> search/));
    expect(fieldBig(b!.value, 'flags')).toBe(0x17ffffc0001039n);
    expect(fieldBig(b!.value, 'private')).toBe(0xffff9bf9f048da00n);
  });

  it('parses 6.1 struct output in decimal and hex, with symbols and char* strings', () => {
    const dec = parseStruct(section(pass2, /^struct fixture_obj \{/, /^struct fixture_obj \{/));
    expect(fieldBig(dec[0]!.value, 'magic')).toBe(18369614221190020847n);
    const hx = parseStruct(section(pass2, /^struct fixture_obj \{/, /^CACHE/, 1));
    const v = hx[0]!.value;
    expect(fieldBig(v, 'magic')).toBe(0xfeedfacecafebeefn);
    expect(fieldBig(v, 'flags')).toBe(0x1a5a5n);
    expect(getField(v, 'name')).toMatchObject({ string: 'vmcore-fixture\\000' });
    expect(getField(v, 'link.next')).toMatchObject({ hex: 'ffffffffc0226010', symbol: 'fixture_list' });
    expect(getField(v, 'buf')).toMatchObject({
      hex: 'ffff8e7542622cc0',
      string: 'hello from vmcore_fixture',
    });
  });

  it('parses `struct T.a,b ADDR` member lines and task -R style output', () => {
    const text = section(pass2, /^ {2}id = 4660,/, null);
    const [b] = parseStruct(text);
    expect(b!.type).toBeNull();
    expect(fieldBig(b!.value, 'id')).toBe(4660n);
    expect(getField(b!.value, 'name')).toMatchObject({ string: 'vmcore-fixture\\000' });
  });

  it('parses arrays and repeats', () => {
    const [b] = parseStruct(
      'struct x {\n  a = {1, 2, 3},\n  b = {0 <repeats 16 times>},\n  c = {{\n      d = 0x5\n    }, {\n      d = 0x6\n    }},\n  e = TASK_RUNNING,\n  f = -1\n}',
    );
    const a = getField(b!.value, 'a');
    expect(a).toMatchObject({ kind: 'array' });
    expect(a!.kind === 'array' && a!.items.map((i) => (i.kind === 'scalar' ? i.hex : null))).toEqual([
      '1',
      '2',
      '3',
    ]);
    expect(getField(b!.value, 'e')).toMatchObject({ ident: 'TASK_RUNNING' });
    expect(fieldBig(b!.value, 'f')).toBe(0xffffffffffffffffn);
    expect(leaves(getField(b!.value, 'c')!).map((l) => l.value.hex)).toEqual(['5', '6']);
  });
});

describe('parsePrint', () => {
  it('parses p outputs with history numbers, names and casts', () => {
    const p = parsePrint(section(pass1, /^fixture_global = /, /^ffffffffc0224060 \(T\)/));
    expect(p[0]).toMatchObject({ name: 'fixture_global', history: 2, type: 'struct fixture_obj *' });
    expect(p[0]!.value).toMatchObject({ hex: 'ffff8e7542689050' });
    expect(p[1]!.history).toBe(3);
    expect(fieldBig(p[1]!.value, 'cookie')).toBe(1234605616436508552n);
    expect(p[2]).toMatchObject({ name: 'fixture_list', history: 4 });
    expect(fieldBig(p[2]!.value, 'next')).toBe(0xffff8e7542689070n);
    const j = parsePrint('jiffies = $1 = 4294893090');
    expect(j[0]).toMatchObject({ name: 'jiffies', history: 1, value: { hex: (4294893090).toString(16) } });
    const s = parsePrint('$1 = 0xffff8e7542622cc0 "hello from vmcore_fixture"');
    expect(s[0]!.value).toMatchObject({ hex: 'ffff8e7542622cc0', string: 'hello from vmcore_fixture' });
  });
});

describe('type information', () => {
  const offsets = `struct nfs_page {
   [0] struct list_head wb_list;
  [16] struct page *wb_page;
  [24] struct nfs_open_context *wb_context;
  [32] struct nfs_lock_context *wb_lock_context;
  [40] unsigned long wb_index;
  [48] unsigned int wb_offset;
  [52] unsigned int wb_pgbase;
  [56] unsigned int wb_bytes;
  [60] struct kref wb_kref;
  [64] unsigned long wb_flags;
  [72] struct nfs_write_verifier wb_verf;
  [80] struct nfs_page *wb_this_page;
  [88] struct nfs_page *wb_head;
}
SIZE: 96`;
  it('parses struct -o and finds the member at an offset', () => {
    const l = parseStructOffsets(offsets);
    expect(l.name).toBe('nfs_page');
    expect(l.size).toBe(96);
    expect(l.members[1]).toMatchObject({ offset: 16, name: 'wb_page', type: 'struct page *' });
    expect(memberAt(l, 0x10)!.member.name).toBe('wb_page');
    expect(memberAt(l, 0x44)).toMatchObject({ member: { name: 'wb_flags' }, inner: 4 });
  });

  it('parses nested anonymous aggregates and arrays in struct -o', () => {
    const l = parseStructOffsets(`struct page {
   [0] unsigned long flags;
       union {
           struct {
   [8]         struct list_head lru;
  [24]         struct address_space *mapping;
  [32]         unsigned long index;
  [40]         unsigned long private;
           };
  [8]     struct rcu_head callback_head;
       };
  [48] char name[16];
}
SIZE: 64`);
    expect(l.members.map((m) => [m.name, m.offset, m.depth])).toEqual([
      ['flags', 0, 0],
      ['lru', 8, 2],
      ['mapping', 24, 2],
      ['index', 32, 2],
      ['private', 40, 2],
      ['callback_head', 8, 1],
      ['name', 48, 0],
    ]);
    expect(l.members[6]!.type).toBe('char [16]');
  });

  it('parses whatis of functions and ptype of enums and structs', () => {
    const f = parseTypeInfo('void nfs_unlock_request(struct nfs_page *);');
    expect(f).toEqual({
      kind: 'function',
      fn: {
        name: 'nfs_unlock_request',
        returnType: 'void',
        params: [{ type: 'struct nfs_page *', name: null }],
        variadic: false,
      },
    });
    const g = parseTypeInfo('int printk(const char *, ...);');
    expect(g.kind === 'function' && g.fn.variadic).toBe(true);
    const e = parseTypeInfo(
      'type = enum pageflags {PG_locked, PG_referenced, PG_uptodate, PG_owner_priv_1 = 9, PG_arch_1, PG_checked = 9}',
    );
    expect(e.kind === 'enum' && e.enum.values).toEqual([
      { name: 'PG_locked', value: 0 },
      { name: 'PG_referenced', value: 1 },
      { name: 'PG_uptodate', value: 2 },
      { name: 'PG_owner_priv_1', value: 9 },
      { name: 'PG_arch_1', value: 10 },
      { name: 'PG_checked', value: 9 },
    ]);
    const s = parseTypeInfo(
      'type = struct fixture_obj {\n    u64 magic;\n    u32 id;\n    char name[16];\n    struct list_head link;\n}\nSIZE: 72',
    );
    expect(s.kind === 'struct' && s.layout.members.map((m) => m.name)).toEqual([
      'magic',
      'id',
      'name',
      'link',
    ]);
  });
});

describe('enum pageflags from a Debian 6.1 dump (crash 8.0.2 on 6.1.0-50)', () => {
  // Real output of `whatis enum pageflags` (one `NAME = value` per line, no commas) and of
  // `ptype enum pageflags` (gdb's one-line form) on the fixture dump.
  const whatis =
    'enum pageflags {\n  PG_locked = 0\n  PG_referenced = 1\n  PG_uptodate = 2\n  PG_dirty = 3\n  PG_lru = 4\n  PG_active = 5\n  PG_workingset = 6\n  PG_waiters = 7\n  PG_error = 8\n  PG_slab = 9\n  PG_owner_priv_1 = 10\n  PG_arch_1 = 11\n  PG_reserved = 12\n  PG_private = 13\n  PG_private_2 = 14\n  PG_writeback = 15\n  PG_head = 16\n  PG_mappedtodisk = 17\n  PG_reclaim = 18\n  PG_swapbacked = 19\n  PG_unevictable = 20\n  PG_mlocked = 21\n  PG_uncached = 22\n  PG_hwpoison = 23\n  PG_arch_2 = 24\n  __NR_PAGEFLAGS = 25\n  PG_readahead = 18\n  PG_anon_exclusive = 17\n  PG_checked = 10\n  PG_swapcache = 10\n  PG_fscache = 14\n  PG_pinned = 10\n  PG_savepinned = 3\n  PG_foreign = 10\n  PG_xen_remapped = 10\n  PG_slob_free = 13\n  PG_double_map = 6\n  PG_has_hwpoisoned = 8\n  PG_isolated = 18\n  PG_reported = 2\n  PG_vmemmap_self_hosted = 10\n};';
  const ptype =
    'type = enum pageflags {PG_locked, PG_referenced, PG_uptodate, PG_dirty, PG_lru, PG_active, PG_workingset, PG_waiters, PG_error, PG_slab, PG_owner_priv_1, PG_arch_1, PG_reserved, PG_private, PG_private_2, PG_writeback, PG_head, PG_mappedtodisk, PG_reclaim, PG_swapbacked, PG_unevictable, PG_mlocked, PG_uncached, PG_hwpoison, PG_arch_2, __NR_PAGEFLAGS, PG_readahead = 18, PG_anon_exclusive = 17, PG_checked = 10, PG_swapcache = 10, PG_fscache = 14, PG_pinned = 10, PG_savepinned = 3, PG_foreign = 10, PG_xen_remapped = 10, PG_slob_free = 13, PG_double_map = 6, PG_has_hwpoisoned = 8, PG_isolated = 18, PG_reported = 2, PG_vmemmap_self_hosted = 10}';
  it('parses both forms to the same values', () => {
    const a = parseTypeInfo(whatis);
    const b = parseTypeInfo(ptype);
    expect(a.kind).toBe('enum');
    expect(a.kind === 'enum' && b.kind === 'enum' && a.enum.values.slice(0, 25)).toEqual(
      b.kind === 'enum' && b.enum.values.slice(0, 25),
    );
    expect(b.kind === 'enum' && b.enum.values.find((v) => v.name === 'PG_private')!.value).toBe(13);
    expect(b.kind === 'enum' && b.enum.values.find((v) => v.name === 'PG_readahead')!.value).toBe(18);
  });
  it("matches the knowledge pack's 6.1 layout", () => {
    const b = parseTypeInfo(ptype);
    const fromDump =
      b.kind === 'enum' ? b.enum.values.filter((v) => !v.name.startsWith('__NR')).slice(0, 25) : [];
    const kp = pageFlags(parseKernelVersion('6.1'))!.bits;
    expect(kp.map((x) => [x.bit, x.name])).toEqual(fromDump.map((v) => [v.value, v.name]));
  });
});
