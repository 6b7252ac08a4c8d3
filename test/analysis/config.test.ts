// The page->flags configuration read through the playbook's command source: from a transcript that
// has the answers (as crash 8.0.2 printed them on Debian 6.1.0-50), and from one that has not.
import { describe, expect, it } from 'vitest';
import { configCommands, readPageFlagsConfig } from '../../src/analysis/config.ts';
import { transcriptSource } from '../../src/analysis/source.ts';
import { pageFlagsFieldLayout, parseKernelVersion } from '../../src/knowledge/index.ts';
import { splitTranscript } from '../../src/vmcore/parse/index.ts';

const v61 = parseKernelVersion('6.1.0-50-amd64')!;

const SESSION = `crash> whatis enum zone_type
enum zone_type {
  ZONE_DMA = 0
  ZONE_DMA32 = 1
  ZONE_NORMAL = 2
  ZONE_MOVABLE = 3
  ZONE_DEVICE = 4
  __MAX_NR_ZONES = 5
};

crash> whatis enum pageflags
enum pageflags {
  PG_locked = 0
  PG_referenced = 1
  PG_arch_2 = 24
  __NR_PAGEFLAGS = 25
  PG_readahead = 18
};

crash> help -n
   offset_vmcoreinfo: 5856 (0x16e0)
                      OSRELEASE=6.1.0-50-amd64
                      SYMBOL(mem_section)=ffff89884fe9b000
                      NUMBER(SECTION_SIZE_BITS)=27
                      NUMBER(MAX_PHYSMEM_BITS)=46
                      SYMBOL(node_data)=ffffffffb4a393e0
                      LENGTH(node_data)=64
crash> sym vmemmap_populate
ffffffffb3843847 (T) vmemmap_populate debian/build/build_amd64_none_amd64/arch/x86/mm/init_64.c: 1602
crash> sym task_numa_fault
symbol not found: task_numa_fault
possible alternatives:
  (none found)
crash> whatis __per_cpu_offset
unsigned long __per_cpu_offset[8192];
crash> sym lru_gen_caps
ffffffffb5ddd160 (B) lru_gen_caps
`;

describe('page->flags configuration from crash commands', () => {
  it('reads each input from the answer that shows it', async () => {
    const src = transcriptSource(splitTranscript(SESSION));
    const c = await readPageFlagsConfig(src, 'x86_64');
    expect(c).toMatchObject({
      nrPageflags: 25,
      zoneEnumerators: ['ZONE_DMA', 'ZONE_DMA32', 'ZONE_NORMAL', 'ZONE_MOVABLE', 'ZONE_DEVICE'],
      maxNumnodes: 64,
      sparsemem: true,
      vmemmap: true,
      sectionSizeBits: 27,
      maxPhysmemBits: 46,
      numaBalancing: false,
      lruGen: true,
      kasanTags: false,
    });
    // Without NUMA_BALANCING, NR_CPUS does not matter and is not asked.
    expect(c.nrCpus).toBeNull();
    expect(c.evidence.numaBalancing).toBe('sym task_numa_fault: task_numa_fault absent');
    const L = pageFlagsFieldLayout(v61, c);
    expect(L).toMatchObject({ nodes: 6, lastCpupid: 0, lruGen: 3 });
    expect(L.assumed).toEqual([]);
    expect(configCommands(c)).toEqual([]);
  });

  it('leaves what the transcript does not show unknown, and names the commands that would show it', async () => {
    const src = transcriptSource(splitTranscript('crash> sys\n     RELEASE: 6.1.0-50-amd64\n'));
    const c = await readPageFlagsConfig(src, 'x86_64');
    expect(c.maxNumnodes).toBeNull();
    expect(c.numaBalancing).toBeNull();
    expect(configCommands(c)).toEqual([
      'whatis enum pageflags',
      'whatis enum zone_type',
      'help -n',
      'sym vmemmap_populate',
      'sym task_numa_fault',
      'whatis __per_cpu_offset',
      'sym lru_gen_caps',
    ]);
    expect(pageFlagsFieldLayout(v61, c).assumed.length).toBeGreaterThan(5);
    // A 4.19 kernel has no LRU_GEN fields: nothing to look up.
    expect(configCommands(c, parseKernelVersion('4.19'))).not.toContain('sym lru_gen_caps');
  });
});
