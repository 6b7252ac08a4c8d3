// SLUB facts: dedicated caches per type, cache merging (mm/slab_common.c find_mergeable), and how
// to read `kmem` when the cache name is not the type's own.
import { NFS_CACHES } from './nfs.ts';

export interface OwnCache {
  type: string;
  cache: string;
  creator: string;
  flags: string[];
  file: string;
}

/** Types allocated from a dedicated kmem_cache, by the function that creates it. */
export const OWN_CACHES: OwnCache[] = [
  ...NFS_CACHES,
  {
    type: 'task_struct',
    cache: 'task_struct',
    creator: 'fork_init',
    flags: ['SLAB_PANIC', 'SLAB_ACCOUNT'],
    file: 'kernel/fork.c',
  },
  {
    type: 'radix_tree_node',
    cache: 'radix_tree_node',
    creator: 'radix_tree_init',
    flags: ['SLAB_PANIC', 'SLAB_RECLAIM_ACCOUNT'],
    file: 'lib/radix-tree.c',
  },
  {
    type: 'xa_node',
    cache: 'radix_tree_node',
    creator: 'radix_tree_init',
    flags: ['SLAB_PANIC', 'SLAB_RECLAIM_ACCOUNT'],
    file: 'lib/radix-tree.c',
  },
  {
    type: 'sec_path',
    cache: 'secpath_cache',
    creator: 'xfrm_init (4.19: secpath_cache)',
    flags: ['SLAB_HWCACHE_ALIGN', 'SLAB_PANIC'],
    file: 'net/xfrm/xfrm_input.c',
  },
  {
    type: 'inode',
    cache: 'inode_cache',
    creator: 'inode_init',
    flags: ['SLAB_RECLAIM_ACCOUNT', 'SLAB_PANIC', 'SLAB_MEM_SPREAD', 'SLAB_ACCOUNT'],
    file: 'fs/inode.c',
  },
  {
    type: 'dentry',
    cache: 'dentry',
    creator: 'dcache_init',
    flags: ['SLAB_RECLAIM_ACCOUNT', 'SLAB_PANIC', 'SLAB_MEM_SPREAD', 'SLAB_ACCOUNT'],
    file: 'fs/dcache.c',
  },
  {
    type: 'file',
    cache: 'filp',
    creator: 'files_init',
    flags: ['SLAB_HWCACHE_ALIGN', 'SLAB_PANIC', 'SLAB_ACCOUNT'],
    file: 'fs/file_table.c',
  },
  {
    type: 'mm_struct',
    cache: 'mm_struct',
    creator: 'proc_caches_init',
    flags: ['SLAB_HWCACHE_ALIGN', 'SLAB_PANIC', 'SLAB_ACCOUNT'],
    file: 'kernel/fork.c',
  },
  {
    type: 'vm_area_struct',
    cache: 'vm_area_struct',
    creator: 'proc_caches_init',
    flags: ['SLAB_PANIC', 'SLAB_ACCOUNT'],
    file: 'kernel/fork.c',
  },
  {
    type: 'buffer_head',
    cache: 'buffer_head',
    creator: 'buffer_init',
    flags: ['SLAB_RECLAIM_ACCOUNT', 'SLAB_PANIC', 'SLAB_MEM_SPREAD'],
    file: 'fs/buffer.c',
  },
  {
    type: 'sk_buff',
    cache: 'skbuff_head_cache',
    creator: 'skb_init',
    flags: ['SLAB_HWCACHE_ALIGN', 'SLAB_PANIC'],
    file: 'net/core/skbuff.c',
  },
];

/** The dedicated cache a type is allocated from, if the knowledge pack knows one (`struct nfs_page` -> nfs_page). */
export function ownCacheOf(type: string): OwnCache | null {
  const t = type.replace(/^(struct|union)\s+/, '').trim();
  return OWN_CACHES.find((c) => c.type === t) ?? null;
}

/** Caches are kmalloc-N, the generic size classes (mm/slab_common.c create_kmalloc_caches). */
export function isKmallocCache(name: string): boolean {
  return (
    /^(dma-|dma-kmalloc|kmalloc-(rcl-|cg-)?)?kmalloc-\d+k?$/.test(name) ||
    /^kmalloc-(rcl-|cg-)?\d+k?$/.test(name)
  );
}

export interface CacheExplanation {
  kind: 'own-cache' | 'merged' | 'kmalloc' | 'unknown';
  text: string;
  /** Commands that would confirm it. */
  confirm: string[];
}

/**
 * Explains a `kmem` cache name for an object of a type (SLUB's find_mergeable/__kmem_cache_alias in
 * mm/slab_common.c and mm/slub.c): a new cache whose object size, alignment and flags fit an existing
 * one becomes an alias of it, and kmem reports the first cache's name.
 */
export function explainCache(type: string, cacheName: string, objSize: number | null): CacheExplanation {
  const own = ownCacheOf(type);
  const t = type.replace(/^(struct|union)\s+/, '');
  if (own && own.cache === cacheName) {
    return {
      kind: 'own-cache',
      text: `allocated from its own cache ${cacheName} (${own.creator}, ${own.file})`,
      confirm: [],
    };
  }
  if (!own && cacheName === t) {
    return {
      kind: 'own-cache',
      text: `allocated from a cache named after its type (${cacheName})`,
      confirm: [],
    };
  }
  if (isKmallocCache(cacheName)) {
    return {
      kind: 'kmalloc',
      text: `in the generic ${cacheName} size class: allocated with kmalloc()${own ? `, or its own cache ${own.cache} was merged into ${cacheName}` : ''}`,
      confirm: own ? [`kmem -s ${own.cache}`] : [],
    };
  }
  if (own) {
    return {
      kind: 'merged',
      text:
        `kmem names cache ${cacheName}, not ${t}'s own cache ${own.cache} (created by ${own.creator} in ${own.file} with ${own.flags.join('|') || 'no flags'}). ` +
        `SLUB merges a new cache into an existing one when the object size fits (the existing size is at most sizeof(void *) larger after alignment), ` +
        `the alignment is compatible and neither has a never-merge flag (SLAB_NEVER_MERGE: debug, RCU, poison, ctor) (find_mergeable, mm/slab_common.c); ` +
        `the merged cache keeps the name of the cache created first${objSize !== null ? `, here ${cacheName} with ${objSize}-byte objects` : ''}. ` +
        `So ${own.cache} is an alias of ${cacheName} and this ${t} lives in a slab shared with ${cacheName}'s own objects. Booting with slab_nomerge keeps them apart.`,
      confirm: [`kmem -s ${own.cache}`, `kmem -s ${cacheName}`],
    };
  }
  return {
    kind: 'unknown',
    text: `in cache ${cacheName}; the knowledge pack does not know ${t}'s own cache, so whether this is a merged alias is open`,
    confirm: [`kmem -s ${cacheName}`],
  };
}
