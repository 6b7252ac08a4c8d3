// The structured form of one crash report found in a console log. Shared by every module: the
// parser fills it, the signature module titles and buckets it, the store keeps it as JSON, the
// dashboard and the analysis read it. Extend it; do not rename or remove fields (stored JSON).

/** What kind of oops this is, in the kernel's own words where it has them. */
export type CrashKind =
  | 'bug' // kernel BUG at file:line / BUG() / BUG_ON()
  | 'paging-request' // BUG: unable to handle kernel paging request / page fault for address
  | 'null-deref' // BUG: kernel NULL pointer dereference
  | 'gpf' // general protection fault
  | 'trap' // invalid opcode, divide error, int3, stack segment, double fault, arm Internal error, ...
  | 'warning' // WARNING: CPU: n PID: n at ... (incl. refcount_t, ODEBUG, kobject, usercopy)
  | 'kasan'
  | 'kmsan'
  | 'kcsan'
  | 'kfence'
  | 'ubsan'
  | 'lockdep' // possible deadlock, inconsistent lock state, bad unlock balance, ...
  | 'rcu' // suspicious RCU usage
  | 'rcu-stall'
  | 'soft-lockup'
  | 'hard-lockup'
  | 'hung-task'
  | 'atomic-sleep' // sleeping function called from invalid context, scheduling while atomic
  | 'memory-leak'
  | 'bad-page' // BUG: Bad page state / Bad page map
  | 'list-corruption'
  | 'stack-overflow'
  | 'panic' // Kernel panic - not syncing with no other report
  | 'reboot'
  | 'other';

/** Where the CPU was when a frame was printed (from <IRQ>, <NMI>, <SOFTIRQ>, <TASK>, exception stacks). */
export type FrameContext = 'task' | 'irq' | 'softirq' | 'nmi' | 'exception' | 'unknown';

export interface Frame {
  /** Symbol name as printed, suffixes kept (`nfs_unlock_request`, `foo.isra.0`). */
  func: string;
  offset: number | null;
  size: number | null;
  /** `[nfs]` module annotation. */
  module: string | null;
  /** The printed address `[<ffffffff...>]`, when there is one. */
  address: string | null;
  /** false for `? func+...` lines (the unwinder was not sure). */
  reliable: boolean;
  context: FrameContext;
  /** Symbolized `func file.c:NN [inline]` frames. */
  inlined: boolean;
  file: string | null;
  line: number | null;
}

export interface CodeBytes {
  /** Hex bytes as printed, without the `<..>`/`(..)` marks. */
  bytes: string[];
  /** Index into bytes of the faulting byte (`<0f>`), or null. */
  faultIndex: number | null;
  raw: string;
}

export interface SourceLocation {
  file: string;
  line: number | null;
}

export interface CrashReport {
  kind: CrashKind;
  /** syzkaller-compatible title (e.g. `kernel BUG in nfs_unlock_request`). */
  title: string;
  altTitles: string[];
  /** syzkaller crash type (TitleToType), e.g. `BUG`, `WARNING`, `KASAN-READ`. */
  type: string;
  corrupted: boolean;
  corruptedReason: string | null;
  /** The frame the title names (syzkaller's Frame), or null. */
  guiltyFrame: string | null;
  /** file:line printed by the report (kernel BUG at ..., WARNING at ...). */
  bugLocation: SourceLocation | null;
  /** Message lines printed just before the report header (e.g. `NFS: Invalid unlock attempted`). */
  messages: string[];
  /** The faulting instruction's frame from the register dump (`RIP: 0010:f+0x1/0x2`, `pc : f+..`, `EIP is at f+..`), not part of `frames`. */
  ipFrame: Frame | null;
  frames: Frame[];
  /** Register name (upper case on x86: RIP, RSP, RAX, ..., EFLAGS; lower on arm64: pc, lr, sp, x0..) -> value as printed. */
  registers: Record<string, string>;
  code: CodeBytes | null;
  modules: string[];
  /** Taint letters as printed (`G        W  OE`), normalised to the letters only, or null if untainted/unknown. */
  taint: string | null;
  kernelRelease: string | null;
  /** Build string after the release (`#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1`). */
  kernelBuild: string | null;
  hardware: string | null;
  cpu: number | null;
  pid: number | null;
  comm: string | null;
  /** Context of the report's lines: `task`, `irq`, ... or the printk caller id (`T1234`, `C0`). */
  context: string | null;
  /** 1-based line numbers in the input, inclusive. */
  startLine: number;
  endLine: number;
  /** Report lines with line prefixes stripped (syzkaller's Report). */
  text: string;
}
