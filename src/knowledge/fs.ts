// VFS facts: inode i_state bits (include/linux/fs.h I_*), the page cache index of an address_space,
// and the inode life-cycle invariants of fs/inode.c.
import { bitSetCheck, type Invariant } from './nfs.ts';
import { type FlagLayout, type KernelVersion, pickByVersion } from './version.ts';

const COMMON = [
  { bit: 0, name: 'I_DIRTY_SYNC' },
  { bit: 1, name: 'I_DIRTY_DATASYNC' },
  { bit: 2, name: 'I_DIRTY_PAGES' },
  { bit: 3, name: 'I_NEW' },
  { bit: 4, name: 'I_WILL_FREE' },
  { bit: 5, name: 'I_FREEING' },
  { bit: 6, name: 'I_CLEAR' },
  { bit: 7, name: 'I_SYNC' },
  { bit: 8, name: 'I_REFERENCED' },
  { bit: 9, name: 'I_DIO_WAKEUP' },
  { bit: 10, name: 'I_LINKABLE' },
  { bit: 11, name: 'I_DIRTY_TIME' },
];

/** inode.i_state bits (include/linux/fs.h), per version. */
export const INODE_STATE_LAYOUTS: FlagLayout[] = [
  {
    field: 'inode.i_state',
    enumName: 'I_* (include/linux/fs.h)',
    range: { from: '4.19', until: '4.20' },
    bits: [
      ...COMMON,
      { bit: 12, name: 'I_DIRTY_TIME_EXPIRED' },
      { bit: 13, name: 'I_WB_SWITCH' },
      { bit: 14, name: 'I_OVL_INUSE' },
      { bit: 15, name: 'I_CREATING' },
    ],
    provenance: { readIn: ['v4.19.1'], files: ['include/linux/fs.h'] },
  },
  {
    field: 'inode.i_state',
    enumName: 'I_* (include/linux/fs.h)',
    range: { from: '6.1', until: '6.2' },
    bits: [
      ...COMMON,
      { bit: 13, name: 'I_WB_SWITCH' },
      { bit: 14, name: 'I_OVL_INUSE' },
      { bit: 15, name: 'I_CREATING' },
      { bit: 16, name: 'I_DONTCACHE' },
      { bit: 17, name: 'I_SYNC_QUEUED' },
      { bit: 18, name: 'I_PINNING_FSCACHE_WB' },
      { bit: 19, name: 'I_LRU_ISOLATING' },
    ],
    provenance: { readIn: ['Debian linux-source-6.1 (6.1.176)'], files: ['include/linux/fs.h'] },
  },
];

/** inode.i_state bit layout for a version (include/linux/fs.h). */
export function inodeStateFlags(v: KernelVersion | null): FlagLayout | null {
  return pickByVersion(INODE_STATE_LAYOUTS, v);
}

/** How the page cache indexes pages (address_space.i_pages): a radix tree in 4.19, an XArray from 4.20. */
export function pageCacheIndex(v: KernelVersion | null): {
  structure: string;
  nodeType: string;
  cache: string;
  file: string;
} {
  if (v && (v.major > 4 || (v.major === 4 && v.minor >= 20))) {
    return {
      structure: 'XArray (address_space.i_pages)',
      nodeType: 'struct xa_node',
      cache: 'radix_tree_node',
      file: 'lib/xarray.c',
    };
  }
  return {
    structure: 'radix tree (address_space.i_pages)',
    nodeType: 'struct radix_tree_node',
    cache: 'radix_tree_node',
    file: 'lib/radix-tree.c',
  };
}

const INODE_6_1 = {
  readIn: ['Debian linux-source-6.1 (6.1.192)'],
  files: ['fs/inode.c', 'include/linux/fs.h'],
};

const has = (f: Set<string> | null, n: string) => (f ? f.has(n) : null);

/** Invariants of struct inode's life cycle (fs/inode.c), checked against Debian's 6.1 source. */
export const INODE_INVARIANTS: Invariant[] = [
  {
    id: 'inode.freeing-when-evicted',
    type: 'inode',
    at: ['evict', 'clear_inode', 'destroy_inode', '*_evict_inode'],
    atArgument: true,
    statement: 'An inode being evicted or destroyed has I_FREEING set in i_state',
    why: 'evict() and clear_inode() BUG_ON(!(inode->i_state & I_FREEING)); the callers set I_FREEING before calling evict() (iput_final, evict_inodes, invalidate_inodes, inode_lru_isolate via dispose_list), and ->evict_inode() is called only from evict().',
    range: { from: '6.1', until: '6.2' },
    provenance: INODE_6_1,
    check: (o) => bitSetCheck(o.flags, 'I_FREEING', 'i_state'),
    flag: { field: 'i_state', bit: 'I_FREEING', change: 'set' },
    ifViolated:
      'The inode reached eviction without the I_FREEING handshake: a filesystem called evict()/->evict_inode() on its own, or the inode was reused while a stale pointer was evicted (check `kmem` on it).',
  },
  {
    id: 'inode.clear-implies-freeing',
    type: 'inode',
    at: [],
    applies: (o) => has(o.flags, 'I_CLEAR') !== false,
    statement: 'I_CLEAR is set only together with I_FREEING',
    why: 'clear_inode() is the only writer of I_CLEAR and sets i_state = I_FREEING | I_CLEAR; nothing clears I_FREEING afterwards (the inode is destroyed by evict()).',
    range: { from: '6.1', until: '6.2' },
    provenance: INODE_6_1,
    check(o) {
      const freeing = has(o.flags, 'I_FREEING');
      if (freeing === null)
        return { status: 'unknown', observed: 'i_state unknown', expected: 'I_FREEING with I_CLEAR' };
      return {
        status: freeing ? 'holds' : 'violated',
        observed: `I_CLEAR set, I_FREEING ${freeing ? 'set' : 'clear'}`,
        expected: 'I_FREEING set with I_CLEAR',
      };
    },
    ifViolated:
      'i_state was overwritten after clear_inode(): the inode memory was freed and reused (use after free), or something wrote i_state without i_lock.',
  },
  {
    id: 'inode.freeing-unreferenced',
    type: 'inode',
    at: [],
    applies: (o) => has(o.flags, 'I_FREEING') !== false || has(o.flags, 'I_WILL_FREE') !== false,
    statement: 'An inode with I_FREEING or I_WILL_FREE has no references: i_count == 0',
    why: 'I_FREEING and I_WILL_FREE are set only once i_count is 0 (iput_final after atomic_dec_and_lock; evict_inodes, invalidate_inodes and inode_lru_isolate skip inodes with i_count), and igrab()/find_inode() refuse to take a reference to such an inode (igrab returns NULL, find_inode waits in __wait_on_freeing_inode).',
    range: { from: '6.1', until: '6.2' },
    provenance: INODE_6_1,
    check(o) {
      const count = o.field('i_count.counter');
      const which = has(o.flags, 'I_FREEING') ? 'I_FREEING' : 'I_WILL_FREE';
      if (count === null || o.flags === null)
        return { status: 'unknown', observed: `i_count ${count ?? 'unknown'}`, expected: 'i_count = 0' };
      return {
        status: count === 0n ? 'holds' : 'violated',
        observed: `${which} set, i_count = ${count}`,
        expected: 'i_count = 0',
      };
    },
    ifViolated:
      'Someone holds a reference to an inode that is being freed: a reference taken without igrab() (ihold/__iget on a pointer that was not pinned) will be a use after free once evict() destroys it.',
  },
];
