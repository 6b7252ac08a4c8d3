// Taint flags as the kernel prints them after `Tainted:`, decoded to words. The table mirrors
// Documentation/admin-guide/tainted-kernels.rst ("Table for decoding tainted state") and
// kernel/panic.c's taint_flags[]: one letter per bit, printed in bit order.

export interface TaintFlag {
  bit: number;
  letter: string;
  meaning: string;
}

/** Bits 0..19 of the kernel's taint mask (tainted-kernels.rst); bit 0 prints `P`, or `G` when clear. */
export const TAINT_FLAGS: readonly TaintFlag[] = [
  { bit: 0, letter: 'P', meaning: 'proprietary module was loaded' },
  { bit: 1, letter: 'F', meaning: 'module was force loaded' },
  { bit: 2, letter: 'S', meaning: 'kernel running on an out of specification system' },
  { bit: 3, letter: 'R', meaning: 'module was force unloaded' },
  { bit: 4, letter: 'M', meaning: 'processor reported a Machine Check Exception (MCE)' },
  { bit: 5, letter: 'B', meaning: 'bad page referenced or some unexpected page flags' },
  { bit: 6, letter: 'U', meaning: 'taint requested by userspace application' },
  { bit: 7, letter: 'D', meaning: 'kernel died recently, i.e. there was an OOPS or BUG' },
  { bit: 8, letter: 'A', meaning: 'an ACPI table was overridden by user' },
  { bit: 9, letter: 'W', meaning: 'kernel issued warning' },
  { bit: 10, letter: 'C', meaning: 'staging driver was loaded' },
  { bit: 11, letter: 'I', meaning: 'workaround for bug in platform firmware applied' },
  { bit: 12, letter: 'O', meaning: 'externally-built ("out-of-tree") module was loaded' },
  { bit: 13, letter: 'E', meaning: 'unsigned module was loaded' },
  { bit: 14, letter: 'L', meaning: 'soft lockup occurred' },
  { bit: 15, letter: 'K', meaning: 'kernel has been live patched' },
  { bit: 16, letter: 'X', meaning: 'auxiliary taint, defined for and used by distros' },
  { bit: 17, letter: 'T', meaning: 'kernel was built with the struct randomization plugin' },
  { bit: 18, letter: 'N', meaning: 'an in-kernel test has been run' },
  { bit: 19, letter: 'J', meaning: 'userspace used a mutating debug operation in fwctl' },
];

export interface DecodedTaint {
  flags: TaintFlag[];
  /** `G` seen: only GPL-compatible modules were loaded (bit 0 clear). */
  gplOnly: boolean;
  /** Characters that are not taint letters (kept so that nothing is silently dropped). */
  unknown: string[];
}

/** Decodes `G        W  OE` (or the normalised `GWOE`) into flags, in bit order. */
export function decodeTaint(taint: string): DecodedTaint {
  const flags: TaintFlag[] = [];
  const unknown: string[] = [];
  let gplOnly = false;
  for (const ch of taint) {
    if (ch === ' ' || ch === '-') continue; // padding for clear bits (RHEL prints '-')
    if (ch === 'G') {
      gplOnly = true;
      continue;
    }
    const f = TAINT_FLAGS.find((t) => t.letter === ch);
    if (f) {
      if (!flags.includes(f)) flags.push(f);
    } else if (!unknown.includes(ch)) unknown.push(ch);
  }
  flags.sort((a, b) => a.bit - b.bit);
  return { flags, gplOnly, unknown };
}
