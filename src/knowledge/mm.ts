// Memory-management facts: struct page flags (enum pageflags, version-dependent), the section /
// node / zone / last_cpupid fields packed in the upper bits of page->flags, page->private.
import { type BitDef, decodeBits, type FlagLayout, type KernelVersion, pickByVersion } from './version.ts';

const names = (list: string[]): BitDef[] => list.map((n, i) => ({ bit: i, name: `PG_${n}` }));

/** enum pageflags in include/linux/page-flags.h: the bit numbers of page->flags, per version (x86_64 configs). */
export const PAGE_FLAG_LAYOUTS: FlagLayout[] = [
  {
    field: 'page.flags',
    enumName: 'enum pageflags (include/linux/page-flags.h)',
    range: { from: '4.19', until: '4.20' },
    // hwpoison (CONFIG_MEMORY_FAILURE), young/idle (CONFIG_IDLE_PAGE_TRACKING) as in distribution configs.
    bits: names([
      'locked',
      'error',
      'referenced',
      'uptodate',
      'dirty',
      'lru',
      'active',
      'waiters',
      'slab',
      'owner_priv_1',
      'arch_1',
      'reserved',
      'private',
      'private_2',
      'writeback',
      'head',
      'mappedtodisk',
      'reclaim',
      'swapbacked',
      'unevictable',
      'mlocked',
      'hwpoison',
      'young',
      'idle',
    ]),
    provenance: { readIn: ['v4.19.1', 'v4.19.90'], files: ['include/linux/page-flags.h'] },
  },
  {
    field: 'page.flags',
    enumName: 'enum pageflags (include/linux/page-flags.h)',
    range: { from: '6.1', until: '6.2' },
    // Debian's x86_64 config: PG_uncached (ARCH_USES_PG_UNCACHED), PG_hwpoison (MEMORY_FAILURE), no
    // PG_young/PG_idle (PAGE_IDLE_FLAG off), PG_arch_2 (64-bit). Checked against `whatis enum
    // pageflags` in a Debian 6.1.0-50 dump's debuginfo.
    bits: names([
      'locked',
      'referenced',
      'uptodate',
      'dirty',
      'lru',
      'active',
      'workingset',
      'waiters',
      'error',
      'slab',
      'owner_priv_1',
      'arch_1',
      'reserved',
      'private',
      'private_2',
      'writeback',
      'head',
      'mappedtodisk',
      'reclaim',
      'swapbacked',
      'unevictable',
      'mlocked',
      'uncached',
      'hwpoison',
      'arch_2',
    ]),
    provenance: { readIn: ['Debian linux-source-6.1 (6.1.176)'], files: ['include/linux/page-flags.h'] },
  },
];

/** Page flag bit layout for a version (enum pageflags, include/linux/page-flags.h). */
export function pageFlags(v: KernelVersion | null): FlagLayout | null {
  return pickByVersion(PAGE_FLAG_LAYOUTS, v);
}

/** Widths of the fields packed at the top of page->flags (include/linux/page-flags-layout.h, include/linux/mm.h *_PGOFF). */
export interface PageFlagsFieldLayout {
  sections: number;
  nodes: number;
  zones: number;
  lastCpupid: number;
  kasanTag: number;
  lruGen: number;
  lruRefs: number;
  /** Where these widths come from. */
  basis: string;
}

/**
 * Field widths for x86_64 distribution configs (SPARSEMEM_VMEMMAP: no section field; NODES_SHIFT=10;
 * 5 zones with ZONE_DEVICE -> ZONES_SHIFT=3; NR_CPUS=8192 -> LAST_CPUPID = 8 + 13 bits; 6.1 adds
 * LRU_GEN (3 bits) and LRU_REFS (2 bits) below them when CONFIG_LRU_GEN=y). Mirrors
 * include/linux/page-flags-layout.h; the widths are configuration, so they are stated as assumed.
 */
export function pageFlagsFieldLayout(
  v: KernelVersion | null,
  overrides: Partial<PageFlagsFieldLayout> = {},
): PageFlagsFieldLayout {
  const six = v !== null && v.major >= 6;
  return {
    sections: 0,
    nodes: 10,
    zones: 3,
    lastCpupid: 21,
    kasanTag: 0,
    lruGen: six ? 3 : 0,
    lruRefs: six ? 2 : 0,
    basis:
      'assumed x86_64 distribution config: SPARSEMEM_VMEMMAP, NODES_SHIFT=10, ZONE_DEVICE (ZONES_SHIFT=3), NR_CPUS=8192',
    ...overrides,
  };
}

/** enum zone_type order on x86_64 with ZONE_DMA, ZONE_DMA32, ZONE_DEVICE (include/linux/mmzone.h), 4.19 and 6.1. */
export const X86_64_ZONES = ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'];

export interface DecodedPageFlags {
  value: string;
  flags: string[];
  unknownBits: number[];
  node: number | null;
  zone: string | null;
  section: number | null;
  /** LAST_CPUPID field; all ones means "no CPU/PID recorded" (-1). */
  lastCpupid: number | null;
  layoutBasis: string;
  flagSource: string;
}

function field(value: bigint, off: number, width: number): number | null {
  if (width === 0) return null;
  return Number((value >> BigInt(off)) & ((1n << BigInt(width)) - 1n));
}

/** Decodes page->flags: flag names for the version, and node/zone/section/last_cpupid (page_zonenum, page_to_nid in include/linux/mm.h). */
export function decodePageFlags(
  value: bigint,
  v: KernelVersion | null,
  opts: { bits?: BitDef[]; bitsSource?: string; layout?: Partial<PageFlagsFieldLayout> } = {},
): DecodedPageFlags | null {
  const layoutBits = opts.bits ?? pageFlags(v)?.bits;
  if (!layoutBits) return null;
  const L = pageFlagsFieldLayout(v, opts.layout);
  const sectionsOff = 64 - L.sections;
  const nodesOff = sectionsOff - L.nodes;
  const zonesOff = nodesOff - L.zones;
  const cpupidOff = zonesOff - L.lastCpupid;
  const kasanOff = cpupidOff - L.kasanTag;
  const lruGenOff = kasanOff - L.lruGen;
  const lruRefsOff = lruGenOff - L.lruRefs;
  const lowMask = (1n << BigInt(lruRefsOff)) - 1n;
  const d = decodeBits(value & lowMask, layoutBits, lruRefsOff);
  const zone = field(value, zonesOff, L.zones);
  return {
    value: value.toString(16),
    flags: d.set,
    unknownBits: d.unknown,
    node: field(value, nodesOff, L.nodes),
    zone: zone === null ? null : (X86_64_ZONES[zone] ?? `zone ${zone}`),
    section: field(value, sectionsOff, L.sections),
    lastCpupid: field(value, cpupidOff, L.lastCpupid),
    layoutBasis: L.basis,
    flagSource: opts.bitsSource ?? 'knowledge pack: enum pageflags',
  };
}

/** What page->private means, by owner (include/linux/mm_types.h; PG_private says it is in use). */
export const PAGE_PRIVATE_FACTS = [
  {
    owner: 'nfs',
    text: 'For an NFS page-cache page with PG_private set, page->private is the head struct nfs_page * of the page (set_page_private in nfs_inode_add_request, fs/nfs/write.c)',
    range: { from: '4.19', until: '6.2' },
  },
  {
    owner: 'buffer',
    text: 'For block-device/ext4 page-cache pages, page->private is the first struct buffer_head * (attach_page_private, fs/buffer.c)',
    range: { from: '4.19', until: '6.2' },
  },
  {
    owner: 'swap',
    text: 'For swap-cache pages (PG_swapcache = PG_owner_priv_1 with PG_swapbacked), page->private holds the swp_entry_t',
    range: { from: '4.19', until: '6.2' },
  },
];

/** Whether an address is a struct page in the x86_64 vmemmap (VMEMMAP_START 0xffffea0000000000 without KASLR, randomised with it). */
export function looksLikeStructPage(addr: bigint, knownPages: bigint[] = []): boolean {
  // vmemmap lives in the 0xffffe.../0xfffff... region below the fixmap and is 64-byte aligned.
  if (addr % 64n !== 0n) return false;
  if (knownPages.some((p) => p >> 30n === addr >> 30n)) return true;
  return addr >= 0xffffe00000000000n && addr < 0xffffff0000000000n;
}
