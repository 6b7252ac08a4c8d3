// `help -n` prints the VMCOREINFO note in the kdump sub-header (compressed dumps) or among the ELF
// notes (ELF dumps); the excerpts below are crash 8.0.2 on a Debian 6.1.0-50 dump in both formats.
import { describe, expect, it } from 'vitest';
import { parseVmcoreinfo, vmcoreinfoNumber } from '../../../src/vmcore/parse/index.ts';

const KDUMP = `  sub_header_kdump: 564d32820410 
           phys_base: fffffff9a9bf7a8a
          dump_level: 1 (0x1) (DUMP_EXCLUDE_ZERO)
   offset_vmcoreinfo: 5856 (0x16e0)
     size_vmcoreinfo: 3279 (0xccf)
                      OSRELEASE=6.1.0-50-amd64
                      PAGESIZE=4096
                      SYMBOL(mem_section)=ffff89884fe9b000
                      OFFSET(mem_section.section_mem_map)=0
                      NUMBER(SECTION_SIZE_BITS)=27
                      NUMBER(MAX_PHYSMEM_BITS)=46
                      NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129
                      SYMBOL(node_data)=ffffffffb4a393e0
                      LENGTH(node_data)=1024
                      CRASHTIME=1764100000
`;

const ELF = `Elf64_Nhdr:
               n_namesz: 11 ("VMCOREINFO")
               n_descsz: 3279
                 n_type: 0 (unused)
                         OSRELEASE=6.1.0-50-amd64
                         SYMBOL(mem_section)=ffff89884fe9b000
                         NUMBER(SECTION_SIZE_BITS)=27
                         LENGTH(node_data)=1024
`;

describe('vmcoreinfo (help -n)', () => {
  it('reads the note from a compressed kdump header', () => {
    const i = parseVmcoreinfo(KDUMP);
    expect(i.OSRELEASE).toBe('6.1.0-50-amd64');
    expect(vmcoreinfoNumber(i, 'NUMBER(SECTION_SIZE_BITS)')).toBe(27);
    expect(vmcoreinfoNumber(i, 'NUMBER(MAX_PHYSMEM_BITS)')).toBe(46);
    expect(vmcoreinfoNumber(i, 'NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)')).toBe(-129);
    expect(vmcoreinfoNumber(i, 'LENGTH(node_data)')).toBe(1024);
    expect(i['OFFSET(mem_section.section_mem_map)']).toBe('0');
    // Header fields are not note entries.
    expect(Object.keys(i).some((k) => k.includes('phys_base') || k.includes('offset_vmcoreinfo'))).toBe(
      false,
    );
    expect(vmcoreinfoNumber(i, 'SYMBOL(node_data)')).toBeNull();
  });

  it('reads the note from an ELF dump and returns nothing for output without one', () => {
    const i = parseVmcoreinfo(ELF);
    expect(vmcoreinfoNumber(i, 'LENGTH(node_data)')).toBe(1024);
    expect(i['SYMBOL(mem_section)']).toBe('ffff89884fe9b000');
    expect(parseVmcoreinfo('help: invalid option -- n\nUsage: help ...')).toEqual({});
    expect(parseVmcoreinfo('a = b\nx=\n=y\nlower(case)=1')).toEqual({});
  });
});
