// VFS facts: inode i_state bits (include/linux/fs.h I_*), the page cache index of an address_space.
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
