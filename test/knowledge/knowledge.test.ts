import { describe, expect, it } from 'vitest';
import {
  decodeBits,
  decodePageFlags,
  explainCache,
  flagLayoutFor,
  invariantsFor,
  nfsOpenContextFlags,
  nfsPageFlags,
  type ObjectFacts,
  pageCacheIndex,
  parseKernelVersion,
  prototypeFor,
  taskStateField,
} from '../../src/knowledge/index.ts';

const v419 = parseKernelVersion('4.19')!;
const v61 = parseKernelVersion('6.1.0-56-amd64')!;

describe('versions', () => {
  it('parses releases', () => {
    expect(parseKernelVersion('4.19.90-23.el8.x86_64')).toMatchObject({ major: 4, minor: 19, patch: 90 });
    expect(parseKernelVersion('garbage')).toBeNull();
  });
});

describe('nfs', () => {
  it('decodes wb_flags 0x12 and 0x13', () => {
    const l = nfsPageFlags(v419)!;
    expect(decodeBits(0x12n, l.bits).set).toEqual(['PG_MAPPED', 'PG_INODE_REF']);
    expect(decodeBits(0x12n, l.bits).clear).toContain('PG_BUSY');
    expect(decodeBits(0x13n, l.bits).set).toEqual(['PG_BUSY', 'PG_MAPPED', 'PG_INODE_REF']);
    expect(decodeBits(0x8000n, l.bits).unknown).toEqual([15]);
    expect(nfsPageFlags(parseKernelVersion('3.10'))).toBeNull();
  });

  it('knows that nfs_open_context flags changed between 4.19 and 6.1', () => {
    expect(decodeBits(1n, nfsOpenContextFlags(v419)!.bits).set).toEqual(['NFS_CONTEXT_ERROR_WRITE']);
    expect(decodeBits(1n, nfsOpenContextFlags(v61)!.bits).set).toEqual([]);
    expect(decodeBits(0x10n, nfsOpenContextFlags(v61)!.bits).set).toEqual(['NFS_CONTEXT_FILE_OPEN']);
  });

  it('checks nfs_page invariants against observed facts', () => {
    const obj = (flags: string[], kref: bigint): ObjectFacts => ({
      type: 'nfs_page',
      address: 'ffff0000',
      flags: new Set(flags),
      field: (p) => (p === 'wb_kref.refcount.refs.counter' ? kref : null),
      related: {},
    });
    const inv = invariantsFor('struct nfs_page', v419);
    const busy = inv.find((i) => i.id === 'nfs_page.busy-when-unlocking')!;
    expect(busy.check(obj(['PG_MAPPED', 'PG_INODE_REF'], 1n)).status).toBe('violated');
    expect(busy.check(obj(['PG_BUSY', 'PG_MAPPED', 'PG_INODE_REF'], 2n)).status).toBe('holds');
    const kref = inv.find((i) => i.id === 'nfs_page.inode-ref-count')!;
    expect(kref.check(obj(['PG_MAPPED', 'PG_INODE_REF'], 1n))).toMatchObject({
      status: 'violated',
      observed: 'wb_kref = 1 with PG_INODE_REF set',
    });
    expect(kref.check(obj(['PG_INODE_REF'], 2n)).status).toBe('holds');
    expect(kref.check(obj([], 1n)).status).toBe('holds');
  });

  it('names arguments of known functions', () => {
    expect(prototypeFor('nfs_unlock_request', v419)!.params[0]).toEqual({
      type: 'struct nfs_page *',
      name: 'req',
    });
    expect(prototypeFor('nfs_do_writepage.isra.0', v419)!.params[2]!.name).toBe('pgio');
    expect(prototypeFor('no_such_function', v419)).toBeNull();
  });
});

describe('mm', () => {
  it('decodes the seed page flags for 4.19 (low flags and node/zone/last_cpupid)', () => {
    const d = decodePageFlags(0x17ffffc0001039n, v419)!;
    expect(d.flags).toEqual(['PG_locked', 'PG_uptodate', 'PG_dirty', 'PG_lru', 'PG_private']);
    expect(d.zone).toBe('Normal');
    expect(d.node).toBe(0);
    expect(d.lastCpupid).toBe(0x1fffff);
    expect(d.unknownBits).toEqual([]);
  });

  it('decodes the same bits differently on 6.1 (enum pageflags changed)', () => {
    const d = decodePageFlags(0x17ffffc0001039n, v61)!;
    expect(d.flags).toEqual(['PG_locked', 'PG_dirty', 'PG_lru', 'PG_active', 'PG_reserved']);
    // crash 8.0.2 on Debian 6.1 printed `fffffc0010200 slab,head` for a slab head page.
    const s = decodePageFlags(0xfffffc0010200n, v61)!;
    expect(s.flags).toEqual(['PG_slab', 'PG_head']);
    expect(s.zone).toBe('DMA32');
    expect(s.lastCpupid).toBe(0x1fffff);
  });

  it('uses enum values from the dump when given', () => {
    const d = decodePageFlags(0x3n, v61, {
      bits: [
        { bit: 0, name: 'PG_a' },
        { bit: 1, name: 'PG_b' },
      ],
      bitsSource: 'debuginfo',
    })!;
    expect(d.flags).toEqual(['PG_a', 'PG_b']);
    expect(d.flagSource).toBe('debuginfo');
  });

  it('selects layouts by type and field', () => {
    expect(flagLayoutFor('struct page', 'flags', v419)!.bits[1]!.name).toBe('PG_error');
    expect(flagLayoutFor('struct page', 'flags', v61)!.bits[1]!.name).toBe('PG_referenced');
    expect(flagLayoutFor('task_struct', taskStateField(v61), v61)!.field).toBe('task_struct.__state');
    expect(pageCacheIndex(v419).structure).toMatch(/radix tree/);
    expect(pageCacheIndex(v61).structure).toMatch(/XArray/);
  });
});

describe('slab', () => {
  it('explains a merged cache, an own cache and kmalloc', () => {
    const m = explainCache('struct nfs_page', 'secpath_cache', 128);
    expect(m.kind).toBe('merged');
    expect(m.text).toMatch(/nfs_page.*alias of secpath_cache/);
    expect(m.confirm).toEqual(['kmem -s nfs_page', 'kmem -s secpath_cache']);
    expect(explainCache('task_struct', 'task_struct', 8392).kind).toBe('own-cache');
    expect(explainCache('struct nfs_page', 'kmalloc-128', 128).kind).toBe('kmalloc');
    expect(explainCache('struct fixture_obj', 'fixture_obj', 72).kind).toBe('own-cache');
    expect(explainCache('struct fixture_obj', 'other_cache', 72).kind).toBe('unknown');
  });
});
