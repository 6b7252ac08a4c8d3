// NFS client facts: struct nfs_page and its wb_flags bits, nfs_open_context flags, the request
// lifecycle (lock, inode reference, page private) as rules that must hold at given code points.
import {
  type FlagLayout,
  type KernelVersion,
  type Provenance,
  pickByVersion,
  type VersionRange,
} from './version.ts';

const NFS_PAGE_BITS = [
  { bit: 0, name: 'PG_BUSY', doc: 'nfs_{un}lock_request' },
  { bit: 1, name: 'PG_MAPPED', doc: 'page private set for buffered io' },
  { bit: 2, name: 'PG_CLEAN', doc: 'write succeeded' },
  { bit: 3, name: 'PG_COMMIT_TO_DS', doc: 'used by pnfs layouts' },
  { bit: 4, name: 'PG_INODE_REF', doc: 'extra ref held by inode when in writeback' },
  { bit: 5, name: 'PG_HEADLOCK', doc: 'page group lock of wb_head' },
  { bit: 6, name: 'PG_TEARDOWN', doc: 'page group sync for destroy' },
  { bit: 7, name: 'PG_UNLOCKPAGE', doc: 'page group sync bit in read path' },
  { bit: 8, name: 'PG_UPTODATE', doc: 'page group sync bit in read path' },
  { bit: 9, name: 'PG_WB_END', doc: 'page group sync bit in write path' },
  { bit: 10, name: 'PG_REMOVE', doc: 'page group sync bit in write path' },
  { bit: 11, name: 'PG_CONTENDED1', doc: 'Is someone waiting for a lock?' },
  { bit: 12, name: 'PG_CONTENDED2', doc: 'Is someone waiting for a lock?' },
];

/** The anonymous enum of nfs_page wb_flags bits in include/linux/nfs_page.h, per version. */
export const NFS_PAGE_FLAG_LAYOUTS: FlagLayout[] = [
  {
    field: 'nfs_page.wb_flags',
    enumName: 'enum { PG_BUSY, ... } (include/linux/nfs_page.h)',
    // Identical in v4.19.1, v4.19.90 and Debian 6.1.176; PG_CONTENDED1/2 appeared in 4.16.
    range: { from: '4.16', until: '6.2' },
    bits: NFS_PAGE_BITS,
    provenance: {
      readIn: ['v4.19.1', 'v4.19.90', 'Debian linux-source-6.1 (6.1.176)'],
      files: ['include/linux/nfs_page.h'],
    },
  },
];

/** nfs_page wb_flags bit layout for a kernel version (include/linux/nfs_page.h). */
export function nfsPageFlags(v: KernelVersion | null): FlagLayout | null {
  return pickByVersion(NFS_PAGE_FLAG_LAYOUTS, v);
}

/** nfs_open_context.flags bits (include/linux/nfs_fs.h NFS_CONTEXT_*), per version. */
export const NFS_OPEN_CONTEXT_FLAG_LAYOUTS: FlagLayout[] = [
  {
    field: 'nfs_open_context.flags',
    enumName: 'NFS_CONTEXT_* (include/linux/nfs_fs.h)',
    range: { from: '4.19', until: '5.0' },
    bits: [
      { bit: 0, name: 'NFS_CONTEXT_ERROR_WRITE' },
      { bit: 1, name: 'NFS_CONTEXT_RESEND_WRITES' },
      { bit: 2, name: 'NFS_CONTEXT_BAD' },
      { bit: 3, name: 'NFS_CONTEXT_UNLOCK' },
    ],
    provenance: { readIn: ['v4.19.1', 'v4.19.90'], files: ['include/linux/nfs_fs.h'] },
  },
  {
    field: 'nfs_open_context.flags',
    enumName: 'NFS_CONTEXT_* (include/linux/nfs_fs.h)',
    range: { from: '6.1', until: '6.2' },
    bits: [
      { bit: 2, name: 'NFS_CONTEXT_BAD' },
      { bit: 3, name: 'NFS_CONTEXT_UNLOCK' },
      { bit: 4, name: 'NFS_CONTEXT_FILE_OPEN' },
    ],
    provenance: { readIn: ['Debian linux-source-6.1 (6.1.176)'], files: ['include/linux/nfs_fs.h'] },
  },
];

/** nfs_open_context.flags bit layout (include/linux/nfs_fs.h). */
export function nfsOpenContextFlags(v: KernelVersion | null): FlagLayout | null {
  return pickByVersion(NFS_OPEN_CONTEXT_FLAG_LAYOUTS, v);
}

/** A function's prototype as the knowledge pack knows it, for naming recovered arguments. */
export interface Prototype {
  name: string;
  params: { type: string; name: string }[];
  range: VersionRange;
  provenance: Provenance;
}

const NFS_PAGELIST = { readIn: ['v4.19.1', 'Debian 6.1.176'], files: ['fs/nfs/pagelist.c'] };
const NFS_WRITE = { readIn: ['v4.19.1', 'Debian 6.1.176'], files: ['fs/nfs/write.c'] };
const REQ = [{ type: 'struct nfs_page *', name: 'req' }];
const ALL: VersionRange = { from: '4.19', until: '6.2' };

/** Prototypes of the NFS request functions (fs/nfs/pagelist.c, fs/nfs/write.c). */
export const NFS_PROTOTYPES: Prototype[] = [
  { name: 'nfs_unlock_request', params: REQ, range: ALL, provenance: NFS_PAGELIST },
  { name: 'nfs_unlock_and_release_request', params: REQ, range: ALL, provenance: NFS_PAGELIST },
  { name: 'nfs_release_request', params: REQ, range: ALL, provenance: NFS_PAGELIST },
  {
    name: 'nfs_lock_request',
    params: REQ,
    range: ALL,
    provenance: { readIn: NFS_PAGELIST.readIn, files: ['include/linux/nfs_page.h'] },
  },
  { name: 'nfs_end_page_writeback', params: REQ, range: ALL, provenance: NFS_WRITE },
  { name: 'nfs_redirty_request', params: REQ, range: ALL, provenance: NFS_WRITE },
  { name: 'nfs_inode_remove_request', params: REQ, range: ALL, provenance: NFS_WRITE },
  {
    name: 'nfs_inode_add_request',
    params: [{ type: 'struct inode *', name: 'inode' }, ...REQ],
    range: ALL,
    provenance: NFS_WRITE,
  },
  {
    name: 'nfs_do_writepage',
    params: [
      { type: 'struct page *', name: 'page' },
      { type: 'struct writeback_control *', name: 'wbc' },
      { type: 'struct nfs_pageio_descriptor *', name: 'pgio' },
    ],
    range: ALL,
    provenance: NFS_WRITE,
  },
  {
    name: 'nfs_page_async_flush',
    params: [
      { type: 'struct nfs_pageio_descriptor *', name: 'pgio' },
      { type: 'struct page *', name: 'page' },
    ],
    range: { from: '4.19', until: '5.0' },
    provenance: { readIn: ['v4.19.1'], files: ['fs/nfs/write.c'] },
  },
  {
    name: 'nfs_pageio_add_request',
    params: [
      { type: 'struct nfs_pageio_descriptor *', name: 'desc' },
      { type: 'struct nfs_page *', name: 'req' },
    ],
    range: ALL,
    provenance: NFS_PAGELIST,
  },
];

/** Dedicated slab caches of NFS types (fs/nfs/pagelist.c nfs_init_nfspagecache, fs/nfs/inode.c). */
export const NFS_CACHES: { type: string; cache: string; creator: string; flags: string[]; file: string }[] = [
  {
    type: 'nfs_page',
    cache: 'nfs_page',
    creator: 'nfs_init_nfspagecache',
    flags: ['SLAB_HWCACHE_ALIGN'],
    file: 'fs/nfs/pagelist.c',
  },
  {
    type: 'nfs_inode',
    cache: 'nfs_inode_cache',
    creator: 'nfs_init_inodecache',
    flags: ['SLAB_RECLAIM_ACCOUNT', 'SLAB_MEM_SPREAD', 'SLAB_ACCOUNT'],
    file: 'fs/nfs/inode.c',
  },
  {
    type: 'nfs_pgio_header',
    cache: 'nfs_write_data',
    creator: 'nfs_init_writepagecache',
    flags: ['SLAB_HWCACHE_ALIGN'],
    file: 'fs/nfs/write.c',
  },
  {
    type: 'nfs_commit_data',
    cache: 'nfs_commit_data',
    creator: 'nfs_init_writepagecache',
    flags: ['SLAB_HWCACHE_ALIGN'],
    file: 'fs/nfs/write.c',
  },
];

/** Where the crash happened, as far as the backtrace shows it (for rules about the running task and the call chain). */
export interface CrashSite {
  /** The panic task's task_struct address (canonical hex). */
  panicTask: string | null;
  panicCpu: number | null;
  /** The stack pointers of the backtrace (exception frame and frames), innermost first. */
  stackPointers: bigint[];
  /** THREAD_SIZE (crash's `help -m` stacksize, else the architecture default). */
  threadSize: bigint;
  /** Function names on the backtrace (suffixes like .isra.0 removed). */
  functions: string[];
  /** Functions on the backtrace that have this object as an argument. */
  argumentOf: string[];
}

/** What an invariant check sees of an object: decoded flags and scalar fields by path. */
export interface ObjectFacts {
  type: string;
  address: string;
  flags: Set<string> | null;
  field(path: string): bigint | null;
  /** The object's page (nfs_page.wb_page) decoded, when known. */
  related: Record<string, ObjectFacts | undefined>;
  /** The crash site, when known (live analysis and transcripts with a backtrace). */
  site?: CrashSite;
}

export interface InvariantResult {
  status: 'holds' | 'violated' | 'unknown';
  observed: string;
  expected: string;
}

/** A rule that must hold for an object of a type, at a code point or always. */
export interface Invariant {
  id: string;
  type: string;
  /** Functions at whose entry (or while inside which) the rule must hold; empty: always. `*_evict_inode` matches by suffix. */
  at: string[];
  /** Whether the rule speaks about this object at all (e.g. only the panic task); absent: always. */
  applies?(o: ObjectFacts): boolean;
  /** The rule holds for an argument of the `at` functions, not for any object of the type. */
  atArgument?: boolean;
  statement: string;
  why: string;
  range: VersionRange;
  provenance: Provenance;
  check(o: ObjectFacts): InvariantResult;
  /** What a violation suggests, and the code to read. */
  ifViolated: string;
  /** The flag bit the rule is about, so a source index can list who changes it. */
  flag?: { field: string; bit: string; change: 'clear' | 'set' };
}

/** The check of a rule that a flag bit is set: holds, violated, or unknown when the flags are. */
export function bitSetCheck(
  flags: Set<string> | null | undefined,
  bit: string,
  field: string,
): InvariantResult {
  const expected = `${bit} set`;
  if (!flags) return { status: 'unknown', observed: `${field} unknown`, expected };
  const set = flags.has(bit);
  return { status: set ? 'holds' : 'violated', observed: `${bit} ${set ? 'set' : 'clear'}`, expected };
}

function hex(v: bigint | null): string {
  return v === null ? 'unknown' : `0x${v.toString(16)}`;
}

/** Invariants of struct nfs_page (fs/nfs/pagelist.c nfs_unlock_request, fs/nfs/write.c nfs_inode_add_request). */
export const NFS_PAGE_INVARIANTS: Invariant[] = [
  {
    id: 'nfs_page.busy-when-unlocking',
    type: 'nfs_page',
    at: ['nfs_unlock_request', 'nfs_unlock_and_release_request', 'nfs_end_page_writeback'],
    statement: 'PG_BUSY is set in wb_flags when the request is unlocked',
    why: 'nfs_unlock_request() clears PG_BUSY taken by nfs_lock_request(); in 4.19 it BUG()s with "NFS: Invalid unlock attempted" if PG_BUSY is already clear. PG_BUSY is cleared only there, so a clear bit here means the request was unlocked twice (or never locked). (6.1 has no such check: clear_bit_unlock only.)',
    range: { from: '4.19', until: '6.2' },
    provenance: {
      readIn: ['v4.19.1', 'Debian 6.1.176'],
      files: ['fs/nfs/pagelist.c', 'include/linux/nfs_page.h'],
    },
    check: (o) => bitSetCheck(o.flags, 'PG_BUSY', 'wb_flags'),
    flag: { field: 'wb_flags', bit: 'PG_BUSY', change: 'clear' },
    ifViolated:
      'Find every caller that unlocks this request (nfs_unlock_request, nfs_unlock_and_release_request) on the paths from the crashing frame and from completion/error callbacks (.completion, .error_cleanup, work items); one of them unlocked it already.',
  },
  {
    id: 'nfs_page.inode-ref-count',
    type: 'nfs_page',
    at: ['nfs_unlock_request', 'nfs_end_page_writeback', 'nfs_redirty_request', 'nfs_inode_remove_request'],
    statement:
      'While PG_INODE_REF is set the inode holds a reference of its own (kref_get in nfs_inode_add_request), on top of the reference of whoever holds the request locked for writeback: wb_kref >= 2',
    why: 'nfs_create_request() starts wb_kref at 1 (the creator); nfs_inode_add_request() sets PG_INODE_REF and takes a second reference that nfs_inode_remove_request() drops together with clearing PG_INODE_REF.',
    range: { from: '4.19', until: '6.2' },
    provenance: { readIn: ['v4.19.1', 'Debian 6.1.176'], files: ['fs/nfs/write.c', 'fs/nfs/pagelist.c'] },
    check(o) {
      const kref = o.field('wb_kref.refcount.refs.counter');
      if (!o.flags || kref === null)
        return {
          status: 'unknown',
          observed: `wb_kref ${kref === null ? 'unknown' : kref}`,
          expected: 'wb_kref >= 2 with PG_INODE_REF',
        };
      if (!o.flags.has('PG_INODE_REF'))
        return {
          status: 'holds',
          observed: `PG_INODE_REF clear, wb_kref = ${kref}`,
          expected: 'wb_kref >= 1',
        };
      return {
        status: kref >= 2n ? 'holds' : 'violated',
        observed: `wb_kref = ${kref} with PG_INODE_REF set`,
        expected: 'wb_kref >= 2 (inode reference + the writeback holder)',
      };
    },
    flag: { field: 'wb_flags', bit: 'PG_INODE_REF', change: 'clear' },
    ifViolated:
      'One reference too few: a reference was dropped (nfs_release_request / nfs_unlock_and_release_request) by a path that did not own it, typically the same path that unlocked the request a second time.',
  },
  {
    id: 'nfs_page.mapped-page-private',
    type: 'nfs_page',
    at: [],
    statement: 'PG_MAPPED set => wb_page has PG_private and page.private points back to the request',
    why: 'nfs_inode_add_request() sets PG_MAPPED together with SetPagePrivate(page) and set_page_private(page, req) under mapping->private_lock; nfs_inode_remove_request() undoes both.',
    range: { from: '4.19', until: '6.2' },
    provenance: { readIn: ['v4.19.1', 'Debian 6.1.176'], files: ['fs/nfs/write.c'] },
    check(o) {
      const page = o.related.wb_page;
      if (!o.flags)
        return { status: 'unknown', observed: 'wb_flags unknown', expected: 'page.private == req' };
      if (!o.flags.has('PG_MAPPED'))
        return { status: 'holds', observed: 'PG_MAPPED clear', expected: 'no constraint' };
      if (!page)
        return {
          status: 'unknown',
          observed: 'wb_page not read',
          expected: `page.private == 0x${o.address}`,
        };
      const priv = page.field('private');
      const hasPrivate = page.flags ? page.flags.has('PG_private') : null;
      const ok = priv !== null && priv === BigInt(`0x${o.address}`) && hasPrivate !== false;
      return {
        status: priv === null ? 'unknown' : ok ? 'holds' : 'violated',
        observed: `page.private = ${hex(priv)}, PG_private ${hasPrivate === null ? 'unknown' : hasPrivate ? 'set' : 'clear'}`,
        expected: `page.private = 0x${o.address}, PG_private set`,
      };
    },
    ifViolated:
      'The request and its page disagree: the page was detached (nfs_inode_remove_request) while the request still claims it, or the request was reused.',
  },
  {
    id: 'nfs_page.head-of-own-group',
    type: 'nfs_page',
    at: [],
    statement:
      'wb_head points to the head request of the page group; for a single-request group wb_this_page == wb_head == the request',
    why: 'nfs_create_request() initialises wb_this_page and wb_head to the request; nfs_page_group_init() links subrequests into the ring through wb_this_page.',
    range: { from: '4.19', until: '6.2' },
    provenance: { readIn: ['v4.19.1', 'Debian 6.1.176'], files: ['fs/nfs/pagelist.c'] },
    check(o) {
      const head = o.field('wb_head');
      const me = BigInt(`0x${o.address}`);
      if (head === null) return { status: 'unknown', observed: 'wb_head unknown', expected: 'a valid head' };
      const thisPage = o.field('wb_this_page');
      const single = head === me && thisPage === me;
      return {
        status: 'holds',
        observed: single
          ? 'wb_head == wb_this_page == req (head of a single-request group)'
          : `wb_head = ${hex(head)}, wb_this_page = ${hex(thisPage)}`,
        expected: 'wb_head is the group head',
      };
    },
    ifViolated: '',
  },
];

/** Facts about the NFS write path that explain how a request reaches nfs_unlock_request (fs/nfs/write.c). */
export const NFS_WRITE_PATH_FACTS: { text: string; range: VersionRange; provenance: Provenance }[] = [
  {
    text: 'nfs_page_async_flush(): when nfs_pageio_add_request() fails (desc->pg_error set, e.g. by nfs_pageio_setup_mirroring), the locked request is put back with nfs_redirty_request() -> nfs_end_page_writeback() -> nfs_unlock_request().',
    range: { from: '4.19', until: '6.2' },
    provenance: { readIn: ['v4.19.1', 'Debian 6.1.176'], files: ['fs/nfs/write.c', 'fs/nfs/pagelist.c'] },
  },
  {
    text: 'nfs_pageio_descriptor.pg_error holds the first error of the I/O descriptor; once set, __nfs_pageio_add_request() refuses further requests and the caller must clean them up.',
    range: { from: '4.19', until: '6.2' },
    provenance: {
      readIn: ['v4.19.1', 'Debian 6.1.176'],
      files: ['include/linux/nfs_page.h', 'fs/nfs/pagelist.c'],
    },
  },
  {
    text: 'Requests are unlocked and released asynchronously by nfs_async_write_error (.error_cleanup of nfs_async_write_completion_ops), nfs_write_completion (.completion) and nfs_commit_release_pages; callers of nfs_unlock_and_release_request() are in fs/nfs/write.c and fs/nfs/direct.c.',
    range: { from: '4.19', until: '6.2' },
    provenance: { readIn: ['v4.19.1'], files: ['fs/nfs/write.c', 'fs/nfs/direct.c'] },
  },
];

/** A struct's member offsets as the knowledge pack knows them (upstream layout; distribution builds may differ). */
export interface KnownLayout {
  type: string;
  range: VersionRange;
  size: number;
  members: { offset: number; name: string; type: string; size: number }[];
  provenance: Provenance;
}

/** struct nfs_page member offsets on x86_64 (include/linux/nfs_page.h), upstream v4.19.1 and Debian 6.1. */
export const NFS_PAGE_LAYOUTS: KnownLayout[] = [
  {
    type: 'nfs_page',
    range: { from: '4.19', until: '4.20' },
    size: 96,
    members: [
      { offset: 0, name: 'wb_list', type: 'struct list_head', size: 16 },
      { offset: 16, name: 'wb_page', type: 'struct page *', size: 8 },
      { offset: 24, name: 'wb_context', type: 'struct nfs_open_context *', size: 8 },
      { offset: 32, name: 'wb_lock_context', type: 'struct nfs_lock_context *', size: 8 },
      { offset: 40, name: 'wb_index', type: 'pgoff_t', size: 8 },
      { offset: 48, name: 'wb_offset', type: 'unsigned int', size: 4 },
      { offset: 52, name: 'wb_pgbase', type: 'unsigned int', size: 4 },
      { offset: 56, name: 'wb_bytes', type: 'unsigned int', size: 4 },
      { offset: 60, name: 'wb_kref', type: 'struct kref', size: 4 },
      { offset: 64, name: 'wb_flags', type: 'unsigned long', size: 8 },
      { offset: 72, name: 'wb_verf', type: 'struct nfs_write_verifier', size: 8 },
      { offset: 80, name: 'wb_this_page', type: 'struct nfs_page *', size: 8 },
      { offset: 88, name: 'wb_head', type: 'struct nfs_page *', size: 8 },
    ],
    provenance: { readIn: ['v4.19.1'], files: ['include/linux/nfs_page.h'] },
  },
  {
    type: 'nfs_page',
    range: { from: '6.1', until: '6.2' },
    size: 96,
    members: [
      { offset: 0, name: 'wb_list', type: 'struct list_head', size: 16 },
      { offset: 16, name: 'wb_page', type: 'struct page *', size: 8 },
      { offset: 24, name: 'wb_lock_context', type: 'struct nfs_lock_context *', size: 8 },
      { offset: 32, name: 'wb_index', type: 'pgoff_t', size: 8 },
      { offset: 40, name: 'wb_offset', type: 'unsigned int', size: 4 },
      { offset: 44, name: 'wb_pgbase', type: 'unsigned int', size: 4 },
      { offset: 48, name: 'wb_bytes', type: 'unsigned int', size: 4 },
      { offset: 52, name: 'wb_kref', type: 'struct kref', size: 4 },
      { offset: 56, name: 'wb_flags', type: 'unsigned long', size: 8 },
      { offset: 64, name: 'wb_verf', type: 'struct nfs_write_verifier', size: 8 },
      { offset: 72, name: 'wb_this_page', type: 'struct nfs_page *', size: 8 },
      { offset: 80, name: 'wb_head', type: 'struct nfs_page *', size: 8 },
      { offset: 88, name: 'wb_nio', type: 'unsigned short', size: 2 },
    ],
    provenance: { readIn: ['Debian linux-source-6.1 (6.1.176)'], files: ['include/linux/nfs_page.h'] },
  },
];
