// The kernel configuration that decoding depends on, read from the dump: the page->flags upper
// field widths (include/linux/page-flags-layout.h) follow NODES_SHIFT, MAX_NR_ZONES, NR_CPUS,
// NUMA_BALANCING, SPARSEMEM_VMEMMAP, LRU_GEN and KASAN tags. Each input comes from a cheap crash
// command (vmcoreinfo via `help -n`, an enum or array length via `whatis`, a symbol's existence via
// `sym`); what the input does not show stays null and is assumed (and reported as assumed).
import { type KernelVersion, type PageFlagsConfig, UNKNOWN_PAGE_FLAGS_CONFIG } from '../knowledge/index.ts';
import { parseSym, parseTypeInfo, parseVmcoreinfo, vmcoreinfoNumber } from '../vmcore/parse/index.ts';
import { type CommandSource, Q } from './source.ts';

/** Whether a symbol exists: true/false from a `sym NAME` answer, null without one. */
async function symbolExists(src: CommandSource, name: string): Promise<{ v: boolean; cmd: string } | null> {
  const a = await src.ask(Q.sym(name));
  if (!a) return null;
  if (parseSym(a.output).some((s) => s.symbol === name)) return { v: true, cmd: a.command };
  // crash: "symbol not found: NAME"; anything else (an error, empty output) tells nothing.
  return /symbol not found/.test(a.output) ? { v: false, cmd: a.command } : null;
}

/** The length of a global array from `whatis NAME` (`unsigned long __per_cpu_offset[8192];`); null for `[]` or no answer. */
async function arrayLength(src: CommandSource, name: string): Promise<{ n: number; cmd: string } | null> {
  const a = await src.ask(Q.whatis(name));
  if (!a) return null;
  try {
    const ti = parseTypeInfo(a.output);
    if (ti.kind !== 'type') return null;
    const m = /\[(\d+)\];?\s*$/.exec(ti.text.trim());
    return m ? { n: Number(m[1]), cmd: a.command } : null;
  } catch {
    return null;
  }
}

/** Reads the page->flags layout configuration from the dump (live) or the transcript (what it has). */
export async function readPageFlagsConfig(
  src: CommandSource,
  arch: 'x86_64' | 'arm64' | null,
): Promise<PageFlagsConfig> {
  const c: PageFlagsConfig = { ...UNKNOWN_PAGE_FLAGS_CONFIG, evidence: {} };
  const pf = await src.ask(Q.whatis('enum pageflags'));
  if (pf) {
    try {
      const ti = parseTypeInfo(pf.output);
      const nr = ti.kind === 'enum' ? ti.enum.values.find((x) => x.name === '__NR_PAGEFLAGS') : undefined;
      if (nr) {
        c.nrPageflags = nr.value;
        c.evidence.nrPageflags = `${pf.command}: __NR_PAGEFLAGS`;
      }
    } catch {
      /* no enum */
    }
  }
  const zt = await src.ask(Q.whatis('enum zone_type'));
  if (zt) {
    try {
      const ti = parseTypeInfo(zt.output);
      if (ti.kind === 'enum') {
        const zones = ti.enum.values
          .filter((x) => x.name.startsWith('ZONE_'))
          .sort((a, b) => a.value - b.value)
          .map((x) => x.name);
        const max = ti.enum.values.find((x) => x.name === '__MAX_NR_ZONES')?.value;
        // The enumerators must be 0..MAX_NR_ZONES-1 to be the zone numbers page_zonenum() returns.
        if (zones.length > 0 && (max === undefined || max === zones.length)) {
          c.zoneEnumerators = zones;
          c.evidence.zoneEnumerators = zt.command;
        }
      }
    } catch {
      /* no enum */
    }
  }
  const hn = await src.ask(Q.helpN());
  const info = hn ? parseVmcoreinfo(hn.output) : {};
  const haveInfo = Object.keys(info).length > 0;
  if (haveInfo) {
    const from = (k: string) => `${hn!.command}: vmcoreinfo ${k}`;
    c.sparsemem = 'SYMBOL(mem_section)' in info;
    c.evidence.sparsemem = from(c.sparsemem ? 'SYMBOL(mem_section)' : 'without SYMBOL(mem_section)');
    c.sectionSizeBits = vmcoreinfoNumber(info, 'NUMBER(SECTION_SIZE_BITS)');
    if (c.sectionSizeBits !== null) c.evidence.sectionSizeBits = from('NUMBER(SECTION_SIZE_BITS)');
    c.maxPhysmemBits = vmcoreinfoNumber(info, 'NUMBER(MAX_PHYSMEM_BITS)');
    if (c.maxPhysmemBits !== null) c.evidence.maxPhysmemBits = from('NUMBER(MAX_PHYSMEM_BITS)');
    // x86_64 exports LENGTH(node_data) = MAX_NUMNODES (arch/x86/kernel/crash_core_64.c); without
    // NUMA the kernel exports SYMBOL(contig_page_data) instead (kernel/crash_core.c).
    const len = vmcoreinfoNumber(info, 'LENGTH(node_data)');
    if (len !== null && len > 0 && Number.isInteger(Math.log2(len))) {
      c.maxNumnodes = len;
      c.evidence.maxNumnodes = from('LENGTH(node_data)');
    } else if ('SYMBOL(contig_page_data)' in info) {
      c.maxNumnodes = 1;
      c.evidence.maxNumnodes = from('SYMBOL(contig_page_data) (no NUMA)');
    }
  }
  if (c.maxNumnodes === null) {
    // arm64 and others define node_data[MAX_NUMNODES] (drivers/base/arch_numa.c): the debuginfo has the length.
    const nd = await arrayLength(src, 'node_data');
    if (nd && Number.isInteger(Math.log2(nd.n))) {
      c.maxNumnodes = nd.n;
      c.evidence.maxNumnodes = `${nd.cmd}: node_data[MAX_NUMNODES]`;
    }
  }
  if (c.sparsemem !== false) {
    // mm/sparse-vmemmap.c and the arch vmemmap_populate() are built only with CONFIG_SPARSEMEM_VMEMMAP.
    const vm = await symbolExists(src, 'vmemmap_populate');
    if (vm) {
      c.vmemmap = vm.v;
      c.evidence.vmemmap = `${vm.cmd}: vmemmap_populate ${vm.v ? 'built' : 'absent'}`;
    }
  }
  // task_numa_fault() is in the CONFIG_NUMA_BALANCING part of kernel/sched/fair.c.
  const nb = await symbolExists(src, 'task_numa_fault');
  if (nb) {
    c.numaBalancing = nb.v;
    c.evidence.numaBalancing = `${nb.cmd}: task_numa_fault ${nb.v ? 'built' : 'absent'}`;
  }
  if (c.numaBalancing !== false) {
    const cpus = await arrayLength(src, '__per_cpu_offset');
    if (cpus) {
      c.nrCpus = cpus.n;
      c.evidence.nrCpus = `${cpus.cmd}: __per_cpu_offset[NR_CPUS]`;
    }
  }
  // lru_gen_caps is defined in the CONFIG_LRU_GEN part of mm/vmscan.c (6.1).
  const lg = await symbolExists(src, 'lru_gen_caps');
  if (lg) {
    c.lruGen = lg.v;
    c.evidence.lruGen = `${lg.cmd}: lru_gen_caps ${lg.v ? 'built' : 'absent'}`;
  }
  if (arch === 'x86_64') {
    // Only arm64 selects HAVE_ARCH_KASAN_SW_TAGS / HAVE_ARCH_KASAN_HW_TAGS (arch/arm64/Kconfig, 6.1).
    c.kasanTags = false;
    c.evidence.kasanTags = 'the architecture, x86_64, has no KASAN tag modes';
  } else if (arch === 'arm64') {
    // mm/kasan/tags.c (kasan_init_tags) is built for KASAN_SW_TAGS and KASAN_HW_TAGS only (mm/kasan/Makefile).
    const kt = await symbolExists(src, 'kasan_init_tags');
    if (kt) {
      c.kasanTags = kt.v;
      c.evidence.kasanTags = `${kt.cmd}: kasan_init_tags ${kt.v ? 'built' : 'absent'}`;
    }
  }
  return c;
}

/** The commands that would show the configuration inputs still unknown (for an open question). */
export function configCommands(c: PageFlagsConfig, v: KernelVersion | null = null): string[] {
  const out: string[] = [];
  if (c.nrPageflags === null) out.push('whatis enum pageflags');
  if (c.zoneEnumerators === null) out.push('whatis enum zone_type');
  if (c.maxNumnodes === null || c.sparsemem === null) out.push('help -n');
  if (c.vmemmap === null) out.push('sym vmemmap_populate');
  if (c.numaBalancing === null) out.push('sym task_numa_fault');
  if (c.nrCpus === null && c.numaBalancing !== false) out.push('whatis __per_cpu_offset');
  // LRU_GEN exists from 6.1: an older kernel needs no look-up.
  if (c.lruGen === null && !(v && (v.major < 6 || (v.major === 6 && v.minor < 1))))
    out.push('sym lru_gen_caps');
  if (c.kasanTags === null) out.push('sym kasan_init_tags');
  return out;
}
