// page->flags upper fields: widths computed by the rules of include/linux/page-flags-layout.h from
// the configuration the dump shows, the assumed distribution config only for what it does not show.
import { describe, expect, it } from 'vitest';
import {
  decodePageFlags,
  type PageFlagsConfig,
  pageFlagsFieldLayout,
  parseKernelVersion,
  UNKNOWN_PAGE_FLAGS_CONFIG,
} from '../../src/knowledge/index.ts';

const v61 = parseKernelVersion('6.1.0-50-amd64')!;
const v419 = parseKernelVersion('4.19')!;

/** Debian 6.1 amd64 as its dump shows it (whatis enum pageflags / zone_type, help -n, sym). */
const debian61: PageFlagsConfig = {
  nrPageflags: 25,
  zoneEnumerators: ['ZONE_DMA', 'ZONE_DMA32', 'ZONE_NORMAL', 'ZONE_MOVABLE', 'ZONE_DEVICE'],
  maxNumnodes: 1024,
  sparsemem: true,
  vmemmap: true,
  sectionSizeBits: 27,
  maxPhysmemBits: 46,
  numaBalancing: true,
  nrCpus: 8192,
  lruGen: true,
  kasanTags: false,
  evidence: { maxNumnodes: 'help -n: vmcoreinfo LENGTH(node_data)' },
};

/** page->flags with the given upper fields at their offsets for a layout (mirrors *_PGOFF in include/linux/mmzone.h). */
function compose(
  L: ReturnType<typeof pageFlagsFieldLayout>,
  f: { section?: number; node?: number; zone?: number; cpupid?: number; low?: bigint },
): bigint {
  let off = 64;
  let v = f.low ?? 0n;
  off -= L.sections;
  if (L.sections) v |= BigInt(f.section ?? 0) << BigInt(off);
  off -= L.nodes;
  if (L.nodes) v |= BigInt(f.node ?? 0) << BigInt(off);
  off -= L.zones;
  v |= BigInt(f.zone ?? 0) << BigInt(off);
  off -= L.lastCpupid;
  if (L.lastCpupid) v |= BigInt(f.cpupid ?? 0) << BigInt(off);
  return v;
}

describe('page->flags upper field layout', () => {
  it('reads every input from the dump and says so', () => {
    const L = pageFlagsFieldLayout(v61, debian61);
    expect(L).toMatchObject({ sections: 0, nodes: 10, zones: 3, lastCpupid: 21, lruGen: 3, lruRefs: 2 });
    expect(L.assumed).toEqual([]);
    expect(L.basis).toMatch(/^read from the dump: /);
    expect(L.basis).toContain('MAX_NUMNODES=1024 (NODES_SHIFT=10) (help -n: vmcoreinfo LENGTH(node_data))');
  });

  it('assumes the distribution config for what the input does not show, and names each assumption', () => {
    const L = pageFlagsFieldLayout(v61);
    expect(L).toMatchObject({ sections: 0, nodes: 10, zones: 3, lastCpupid: 21, lruGen: 3, lruRefs: 2 });
    expect(L.fromDump).toEqual([]);
    expect(L.assumed).toContain('MAX_NUMNODES=1024 (NODES_SHIFT=10)');
    expect(L.basis).toMatch(/^assumed /);
    const partial = pageFlagsFieldLayout(v61, {
      ...UNKNOWN_PAGE_FLAGS_CONFIG,
      maxNumnodes: 64,
      evidence: {},
    });
    expect(partial.nodes).toBe(6);
    expect(partial.basis).toMatch(/read from the dump: MAX_NUMNODES=64.*; assumed .*NR_CPUS=8192/);
  });

  it('decodes node and zone where the dump config puts them, not where the assumption would', () => {
    // A small NUMA box: NODES_SHIFT=6, NR_CPUS=64 -> LAST_CPUPID = 8 + 6 bits.
    const cfg: PageFlagsConfig = { ...debian61, maxNumnodes: 64, nrCpus: 64 };
    const L = pageFlagsFieldLayout(v61, cfg);
    expect(L).toMatchObject({ nodes: 6, zones: 3, lastCpupid: 14 });
    const flags = compose(L, { node: 3, zone: 2, cpupid: 0x3fff, low: 0x1039n });
    const d = decodePageFlags(flags, v61, { config: cfg })!;
    expect(d.node).toBe(3);
    expect(d.zone).toBe('Normal');
    expect(d.lastCpupid).toBe(0x3fff);
    expect(d.flags).toEqual(['PG_locked', 'PG_dirty', 'PG_lru', 'PG_active', 'PG_reserved']);
    // The assumed layout (NODES_SHIFT=10) reads the same word as another node.
    expect(decodePageFlags(flags, v61)!.node).not.toBe(3);
  });

  it('puts the section field first without SPARSEMEM_VMEMMAP and drops last_cpupid when it does not fit', () => {
    const cfg: PageFlagsConfig = { ...debian61, vmemmap: false };
    const L = pageFlagsFieldLayout(v61, cfg);
    // SECTIONS_SHIFT = 46 - 27 = 19; 3 + 3 + 19 + 10 <= 64 - 25, so the node stays; 21 more does not fit.
    expect(L).toMatchObject({ sections: 19, nodes: 10, zones: 3, lastCpupid: 0, lruGen: 3, lruRefs: 2 });
    const d = decodePageFlags(compose(L, { section: 0x1234, node: 1, zone: 1 }), v61, { config: cfg })!;
    expect(d.section).toBe(0x1234);
    expect(d.node).toBe(1);
    expect(d.zone).toBe('DMA32');
    expect(d.lastCpupid).toBeNull();
  });

  it('has no node field without NUMA and no last_cpupid without NUMA_BALANCING', () => {
    const L = pageFlagsFieldLayout(v61, { ...debian61, maxNumnodes: 1, numaBalancing: false });
    expect(L).toMatchObject({ nodes: 0, lastCpupid: 0, zones: 3 });
    const d = decodePageFlags(compose(L, { zone: 2 }), v61, {
      config: { ...debian61, maxNumnodes: 1, numaBalancing: false },
    })!;
    expect(d.node).toBeNull();
    expect(d.zone).toBe('Normal');
  });

  it('names zones from the dump enum (a 32-bit-style config with HighMem)', () => {
    const cfg: PageFlagsConfig = {
      ...debian61,
      zoneEnumerators: ['ZONE_DMA', 'ZONE_NORMAL', 'ZONE_HIGHMEM', 'ZONE_MOVABLE'],
    };
    const L = pageFlagsFieldLayout(v61, cfg);
    expect(L.zones).toBe(2);
    expect(L.zoneNames).toEqual(['DMA', 'Normal', 'HighMem', 'Movable']);
    expect(decodePageFlags(compose(L, { zone: 2 }), v61, { config: cfg })!.zone).toBe('HighMem');
  });

  it('4.19 has no LRU_GEN fields; its seed page still decodes to node 0, zone Normal', () => {
    const L = pageFlagsFieldLayout(v419);
    expect(L).toMatchObject({ lruGen: 0, lruRefs: 0, nodes: 10, lastCpupid: 21 });
    const d = decodePageFlags(0x17ffffc0001039n, v419)!;
    expect(d).toMatchObject({ node: 0, zone: 'Normal' });
    // LRU_GEN is a version fact for 4.19 (it appeared in 6.1), not an assumption.
    expect(L.fromDump).toEqual(['LRU_GEN=n (kernel 4.19 predates it)']);
    expect(L.assumed).not.toContain('LRU_GEN=n');
    expect(d.layoutBasis).toMatch(/; assumed \(not shown by the input\): NR_PAGEFLAGS=24,/);
    // 6.0 had no LRU_GEN either.
    expect(pageFlagsFieldLayout(parseKernelVersion('6.0.19')!).lruGen).toBe(0);
  });
});
