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

/** Widths of the fields packed at the top of page->flags (include/linux/page-flags-layout.h; the *_PGOFF shifts in include/linux/mmzone.h in 6.1, include/linux/mm.h in 4.19). */
export interface PageFlagsFieldLayout {
  sections: number;
  nodes: number;
  zones: number;
  lastCpupid: number;
  kasanTag: number;
  lruGen: number;
  lruRefs: number;
  /** enum zone_type order: index -> name as zone_names[] prints it (mm/page_alloc.c). */
  zoneNames: string[];
  /** Where these widths come from, in one line. */
  basis: string;
  /** Configuration inputs read from the dump (or implied by its version or architecture), each with where from. */
  fromDump: string[];
  /** Configuration inputs assumed (not shown by the dump or the transcript). */
  assumed: string[];
}

/**
 * The configuration the page->flags layout depends on, as far as the dump shows it; null = not
 * known (then an x86_64 distribution value is assumed and the layout says so). `evidence` names the
 * command each known input came from.
 */
export interface PageFlagsConfig {
  /** __NR_PAGEFLAGS of enum pageflags (NR_PAGEFLAGS in generated/bounds.h). */
  nrPageflags: number | null;
  /** enum zone_type enumerators without __MAX_NR_ZONES (their count is MAX_NR_ZONES). */
  zoneEnumerators: string[] | null;
  /** MAX_NUMNODES = 1 << NODES_SHIFT (vmcoreinfo LENGTH(node_data) on x86_64). */
  maxNumnodes: number | null;
  /** CONFIG_SPARSEMEM (vmcoreinfo SYMBOL(mem_section)). */
  sparsemem: boolean | null;
  /** CONFIG_SPARSEMEM_VMEMMAP (vmemmap_populate is built only then). */
  vmemmap: boolean | null;
  sectionSizeBits: number | null;
  maxPhysmemBits: number | null;
  /** CONFIG_NUMA_BALANCING (task_numa_fault is built only then). */
  numaBalancing: boolean | null;
  /** CONFIG_NR_CPUS (the length of __per_cpu_offset[NR_CPUS]). */
  nrCpus: number | null;
  /** CONFIG_LRU_GEN (lru_gen_caps is built only then); 6.1 and later. */
  lruGen: boolean | null;
  /** CONFIG_KASAN_SW_TAGS or CONFIG_KASAN_HW_TAGS (arm64 only). */
  kasanTags: boolean | null;
  evidence: Partial<Record<Exclude<keyof PageFlagsConfig, 'evidence'>, string>>;
}

export const UNKNOWN_PAGE_FLAGS_CONFIG: PageFlagsConfig = {
  nrPageflags: null,
  zoneEnumerators: null,
  maxNumnodes: null,
  sparsemem: null,
  vmemmap: null,
  sectionSizeBits: null,
  maxPhysmemBits: null,
  numaBalancing: null,
  nrCpus: null,
  lruGen: null,
  kasanTags: null,
  evidence: {},
};

/** Zone names as zone_names[] in mm/page_alloc.c prints them, by enum zone_type enumerator. */
const ZONE_NAMES: Record<string, string> = {
  ZONE_DMA: 'DMA',
  ZONE_DMA32: 'DMA32',
  ZONE_NORMAL: 'Normal',
  ZONE_HIGHMEM: 'HighMem',
  ZONE_MOVABLE: 'Movable',
  ZONE_DEVICE: 'Device',
};

/** order_base_2(n) (include/linux/log2.h): the smallest s with 2^s >= n. */
function orderBase2(n: number): number {
  let s = 0;
  while (2 ** s < n) s++;
  return s;
}

/** ZONES_SHIFT from MAX_NR_ZONES (include/linux/page-flags-layout.h). */
function zonesShift(maxNrZones: number): number {
  if (maxNrZones < 2) return 0;
  if (maxNrZones <= 2) return 1;
  if (maxNrZones <= 4) return 2;
  return 3;
}

/**
 * The widths of the page->flags upper fields, computed by the rules of
 * include/linux/page-flags-layout.h (4.19 and 6.1: each field is in page->flags only if it fits in
 * BITS_PER_LONG - NR_PAGEFLAGS after the ones before it) from what the dump shows of the
 * configuration; inputs it does not show are assumed from Debian's x86_64 config (NODES_SHIFT=10,
 * NR_CPUS=8192, NUMA_BALANCING, SPARSEMEM_VMEMMAP, 5 zones, LRU_GEN from 6.1) and named as assumed.
 */
export function pageFlagsFieldLayout(
  v: KernelVersion | null,
  config: PageFlagsConfig = UNKNOWN_PAGE_FLAGS_CONFIG,
  overrides: Partial<PageFlagsFieldLayout> = {},
): PageFlagsFieldLayout {
  const fromDump: string[] = [];
  const assumed: string[] = [];
  // LRU_GEN (and its page->flags fields) exists from 6.1.
  const six = v !== null && (v.major > 6 || (v.major === 6 && v.minor >= 1));
  const ev = config.evidence;
  function pick<T>(key: keyof PageFlagsConfig, got: T | null, fallback: T, text: (x: T) => string): T {
    if (got !== null) {
      fromDump.push(`${text(got)} (${ev[key as keyof typeof ev] ?? 'dump'})`);
      return got;
    }
    assumed.push(text(fallback));
    return fallback;
  }
  const BITS = 64;
  const knownFlags = pageFlags(v);
  const defaultNr = knownFlags ? Math.max(...knownFlags.bits.map((b) => b.bit)) + 1 : 25;
  const nr = pick('nrPageflags', config.nrPageflags, defaultNr, (x) => `NR_PAGEFLAGS=${x}`);
  const zoneEnums = pick(
    'zoneEnumerators',
    config.zoneEnumerators,
    ['ZONE_DMA', 'ZONE_DMA32', 'ZONE_NORMAL', 'ZONE_MOVABLE', 'ZONE_DEVICE'],
    (x) => `MAX_NR_ZONES=${x.length}`,
  );
  const zones = zonesShift(zoneEnums.length);
  const sparse = pick('sparsemem', config.sparsemem, true, (x) => `SPARSEMEM=${x ? 'y' : 'n'}`);
  const vmemmap = sparse
    ? pick('vmemmap', config.vmemmap, true, (x) => `SPARSEMEM_VMEMMAP=${x ? 'y' : 'n'}`)
    : false;
  let sections = 0;
  if (sparse && !vmemmap) {
    const phys = pick('maxPhysmemBits', config.maxPhysmemBits, 46, (x) => `MAX_PHYSMEM_BITS=${x}`);
    const sec = pick('sectionSizeBits', config.sectionSizeBits, 27, (x) => `SECTION_SIZE_BITS=${x}`);
    sections = phys - sec;
  }
  const nodesShift = Math.log2(
    pick('maxNumnodes', config.maxNumnodes, 1024, (x) => `MAX_NUMNODES=${x} (NODES_SHIFT=${Math.log2(x)})`),
  );
  // LRU_GEN appeared in 6.1: an older kernel has no such fields (a version fact, not an assumption).
  const preLruGen = config.lruGen === null && v !== null && !six;
  if (preLruGen) fromDump.push(`LRU_GEN=n (kernel ${v.major}.${v.minor} predates it)`);
  const lruGenOn = preLruGen ? false : pick('lruGen', config.lruGen, six, (x) => `LRU_GEN=${x ? 'y' : 'n'}`);
  // order_base_2(MAX_NR_GENS + 1) and MAX_NR_TIERS - 2 (kernel/bounds.c; MAX_NR_GENS = MAX_NR_TIERS = 4 in 6.1).
  const lruGen = lruGenOn ? 3 : 0;
  const lruRefsMax = lruGenOn ? 2 : 0;
  const kasanTag = pick('kasanTags', config.kasanTags, false, (x) => `KASAN tags=${x ? 'y' : 'n'}`) ? 8 : 0;
  const room = BITS - nr;
  const nodes = zones + lruGen + sections + nodesShift <= room ? nodesShift : 0;
  const numa = pick('numaBalancing', config.numaBalancing, true, (x) => `NUMA_BALANCING=${x ? 'y' : 'n'}`);
  let cpupidShift = 0;
  if (numa) {
    const cpus = pick('nrCpus', config.nrCpus, 8192, (x) => `NR_CPUS=${x}`);
    // LAST__PID_SHIFT (8) + LAST__CPU_SHIFT (NR_CPUS_BITS = order_base_2(NR_CPUS), kernel/bounds.c).
    cpupidShift = 8 + orderBase2(cpus);
  }
  const lastCpupid = zones + lruGen + sections + nodes + kasanTag + cpupidShift <= room ? cpupidShift : 0;
  const lruRefs = Math.max(
    0,
    Math.min(lruRefsMax, room - zones - lruGen - sections - nodes - kasanTag - lastCpupid),
  );
  const zoneNames = zoneEnums.map((z) => ZONE_NAMES[z] ?? z.replace(/^ZONE_/, ''));
  const basis =
    assumed.length === 0
      ? `read from the dump: ${fromDump.join(', ')}`
      : fromDump.length === 0
        ? `assumed x86_64 distribution config (not shown by the input): ${assumed.join(', ')}`
        : `read from the dump: ${fromDump.join(', ')}; assumed (not shown by the input): ${assumed.join(', ')}`;
  return {
    sections,
    nodes,
    zones,
    lastCpupid,
    kasanTag,
    lruGen,
    lruRefs,
    zoneNames,
    basis,
    fromDump,
    assumed,
    ...overrides,
  };
}

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
  /** The field widths used (sections, nodes, zones, last_cpupid, kasan tag, lru gen, lru refs). */
  widths: Record<string, number>;
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
  opts: {
    bits?: BitDef[];
    bitsSource?: string;
    config?: PageFlagsConfig;
    layout?: Partial<PageFlagsFieldLayout>;
  } = {},
): DecodedPageFlags | null {
  const layoutBits = opts.bits ?? pageFlags(v)?.bits;
  if (!layoutBits) return null;
  const L = pageFlagsFieldLayout(v, opts.config, opts.layout);
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
    zone: zone === null ? null : (L.zoneNames[zone] ?? `zone ${zone}`),
    section: field(value, sectionsOff, L.sections),
    lastCpupid: field(value, cpupidOff, L.lastCpupid),
    layoutBasis: L.basis,
    widths: {
      sections: L.sections,
      nodes: L.nodes,
      zones: L.zones,
      last_cpupid: L.lastCpupid,
      kasan_tag: L.kasanTag,
      lru_gen: L.lruGen,
      lru_refs: L.lruRefs,
    },
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
