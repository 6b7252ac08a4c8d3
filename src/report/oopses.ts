// The Linux oops table: every crash format ktriage recognises, as data. One engine (engine.ts)
// reads it. The rules (which line starts a report, how its title is built, which frame is guilty,
// which frames are skipped) follow syzkaller's pkg/report (Apache-2.0), see
// ../shared/docs/syzkaller-title-rules.md, so that titles are the same text as syzbot's.
import { CALL_TRACE, RIP_FRAME, re } from './patterns.ts';
import type { CrashKind } from './types.ts';

/** A stack part: scan to the first line matching a regex (its groups are candidate frames), or parse a trace. */
export type StackPart = RegExp | 'trace';

export type FrameExtractor = 'stall' | 'hang';

export interface StackSpec {
  parts: StackPart[];
  /** Tried when `parts` extracted no frame. */
  parts2?: StackPart[];
  /** Extra skip patterns (unanchored unless they carry ^/$). */
  skip?: string[];
  extractor?: FrameExtractor;
}

/** One step of a multi-line report condition: matches on a later line than the previous step (or the next line). */
export interface ReportStep {
  re: RegExp;
  /** The step must match on the line right after the previous step's line. */
  next?: boolean;
}

export interface OopsFormat {
  /** Single-line title pattern; the earliest match in the report wins. */
  title: RegExp;
  /** Only try the first line of the report at column 0 (syzkaller `^`). */
  anchored?: boolean;
  /** The title may run into the next line (a task name with a newline in it). */
  twoLines?: boolean;
  /** Extra condition over later lines; its groups replace the title's as arguments. */
  report?: ReportStep[];
  /** Title template: %1..%n are the groups followed by one extracted frame per trace. */
  fmt: string;
  alt?: string[];
  stack?: StackSpec;
  noStackTrace?: boolean;
  corrupted?: boolean;
  /**
   * With no reliable frame in the trace, its `?` frames stand in for them (skip rules apply as
   * usual) instead of the title being corrupted: kernels without frame pointers print every frame
   * so. Only for formats outside syzkaller's table: syzkaller calls such reports corrupted, and
   * its titles are kept.
   */
  questionableFrames?: boolean;
  kind: CrashKind;
}

export interface Oops {
  /** Plain substring that makes a line a report start. */
  header: string;
  formats: OopsFormat[];
  /** A line containing the header but matching one of these does not start a report. */
  suppressions: RegExp[];
  /** Kind used when no format matched. */
  kind: CrashKind;
}

const trace = (...skip: string[]): StackSpec => ({ parts: [CALL_TRACE, 'trace'], skip });
const ripTrace = (...skip: string[]): StackSpec => ({ parts: [RIP_FRAME, CALL_TRACE, 'trace'], skip });

/** WARNING: the RIP (or powerpc `--- interrupt:`) frame first; older kernels print only the trace. */
function warningStack(...skip: string[]): StackSpec {
  return {
    parts: [re(`(?:${RIP_FRAME.source}|--- interrupt: [0-9]+ at {{FUNC}})`), 'trace'],
    parts2: [CALL_TRACE, 'trace'],
    skip,
  };
}

const step = (src: string, next = false): ReportStep => ({ re: re(src), next });

const OOPS_TABLE: Oops[] = [
  {
    header: 'BUG:',
    kind: 'other',
    formats: [
      {
        title: re('BUG: KASAN:'),
        report: [
          step('BUG: KASAN: ([a-z\\-]+) in {{FUNC}}'),
          step('(Read|Write) (?:of size|at addr) (?:[0-9a-f]+)'),
        ],
        fmt: 'KASAN: %1 %3 in %4',
        alt: ['bad-access in %4'],
        stack: {
          parts: [re('BUG: KASAN: (?:[a-z\\-]+) in {{FUNC}}'), CALL_TRACE, 'trace'],
          skip: ['kernel_fault', 'tag_check', 'mem_abort', '^el1_', '^el1h_'],
        },
        kind: 'kasan',
      },
      {
        title: re('BUG: KASAN:'),
        report: [step('BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in {{FUNC}}')],
        fmt: 'KASAN: invalid-free in %2',
        alt: ['invalid-free in %2'],
        stack: {
          parts: [
            re('BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in {{FUNC}}'),
            CALL_TRACE,
            'trace',
          ],
          skip: ['slab_', 'kfree', 'vunmap', 'vfree'],
        },
        kind: 'kasan',
      },
      {
        title: re('BUG: KASAN: ([a-z\\-]+) on address'),
        report: [step('BUG: KASAN: ([a-z\\-]+) on address'), step('(Read|Write) of size ([0-9]+)')],
        fmt: 'KASAN: %1 %2',
        kind: 'kasan',
      },
      { title: re('BUG: KASAN: (.*)'), fmt: 'KASAN: %1', corrupted: true, kind: 'kasan' },
      {
        title: re('BUG: KMSAN: kernel-usb-infoleak'),
        report: [step('BUG: KMSAN: kernel-usb-infoleak in {{FUNC}}')],
        fmt: 'KMSAN: kernel-usb-infoleak in %2',
        alt: ['KMSAN origin in %3'],
        stack: {
          parts: ['trace', re('(Local variable .* created at:|Uninit was created at:)'), 'trace'],
          skip: [
            'alloc_skb',
            'usb_submit_urb',
            'usb_start_wait_urb',
            'usb_bulk_msg',
            'usb_interrupt_msg',
            'usb_control_msg',
          ],
        },
        noStackTrace: true,
        kind: 'kmsan',
      },
      {
        title: re('BUG: KMSAN:'),
        report: [step('BUG: KMSAN: ([a-z\\-]+) in {{FUNC}}')],
        fmt: 'KMSAN: %1 in %3',
        alt: ['bad-access in %3'],
        stack: {
          parts: ['trace', re('(Local variable .* created at:|Uninit was created at:)'), 'trace'],
          skip: ['alloc_skb', 'netlink_ack', 'netlink_rcv_skb', '_encrypt$', '^(?:crypto|cipher|drbg|rng)_'],
        },
        noStackTrace: true,
        kind: 'kmsan',
      },
      {
        title: re('BUG: KCSAN: data-race'),
        report: [step('BUG: KCSAN: (.*)')],
        fmt: 'KCSAN: %1',
        noStackTrace: true,
        kind: 'kcsan',
      },
      {
        title: re('BUG: KCSAN:'),
        report: [step('BUG: KCSAN: (.*)')],
        fmt: 'KCSAN: %1',
        noStackTrace: true,
        kind: 'kcsan',
      },
      {
        title: re('BUG: KFENCE: (use-after-free|out-of-bounds) (read|write) in {{FUNC}}'),
        fmt: 'KFENCE: %1 %2 in %4',
        alt: ['bad-access in %4'],
        stack: { parts: [re('BUG: KFENCE: (?:[a-z\\- ]+) in {{FUNC}}'), 'trace'] },
        kind: 'kfence',
      },
      {
        title: re('BUG: KFENCE: invalid free in {{FUNC}}'),
        fmt: 'KFENCE: invalid free in %2',
        alt: ['invalid-free in %2'],
        noStackTrace: true,
        stack: { parts: [re('BUG: KFENCE: (?:[a-z\\- ]+) in {{FUNC}}'), 'trace'] },
        kind: 'kfence',
      },
      {
        title: re('BUG: KFENCE: invalid (read|write) in {{FUNC}}'),
        fmt: 'KFENCE: invalid %1 in %3',
        alt: ['bad-access in %3'],
        stack: { parts: [re('BUG: KFENCE: (?:[a-z\\- ]+) in {{FUNC}}'), 'trace'] },
        kind: 'kfence',
      },
      {
        title: re('BUG: KFENCE: memory corruption in {{FUNC}}'),
        fmt: 'KFENCE: memory corruption in %2',
        noStackTrace: true,
        stack: { parts: [re('BUG: KFENCE: (?:[a-z\\- ]+) in {{FUNC}}'), 'trace'] },
        kind: 'kfence',
      },
      {
        title: re(
          'BUG: (?:unable to handle kernel paging request|unable to handle page fault for address|Unable to handle kernel data access)',
        ),
        fmt: 'BUG: unable to handle kernel paging request in %1',
        alt: ['bad-access in %1'],
        stack: ripTrace(),
        kind: 'paging-request',
      },
      {
        title: re(
          'BUG: (?:unable to handle kernel NULL pointer dereference|kernel NULL pointer dereference|Kernel NULL pointer dereference)',
        ),
        fmt: 'BUG: unable to handle kernel NULL pointer dereference in %1',
        alt: ['bad-access in %1'],
        stack: ripTrace(),
        kind: 'null-deref',
      },
      {
        title: re('BUG: (?:unable to handle kernel|Unable to handle kernel)'),
        fmt: 'BUG: unable to handle kernel',
        corrupted: true,
        kind: 'paging-request',
      },
      {
        title: re(
          'BUG: (spinlock|rwlock) (lockup suspected|already unlocked|recursion|cpu recursion|bad magic|wrong owner|wrong CPU|trylock failure on UP)',
        ),
        fmt: 'BUG: %1 %2 in %3',
        stack: trace('spin_', '_lock', '_unlock'),
        kind: 'lockdep',
      },
      {
        title: re('BUG: soft lockup'),
        fmt: 'BUG: soft lockup in %1',
        alt: ['stall in %1'],
        stack: { parts: [RIP_FRAME, CALL_TRACE, 'trace'], extractor: 'stall' },
        kind: 'soft-lockup',
      },
      {
        title: re('BUG: .*still has locks held!'),
        report: [step('BUG: .*still has locks held!'), step('{{PC}} +{{FUNC}}')],
        fmt: 'BUG: still has locks held in %1',
        kind: 'lockdep',
      },
      {
        title: re('BUG: scheduling while atomic'),
        fmt: 'BUG: scheduling while atomic in %1',
        stack: trace('schedule'),
        kind: 'atomic-sleep',
      },
      {
        title: re('BUG: lock held when returning to user space'),
        report: [
          step('BUG: lock held when returning to user space'),
          step('leaving the kernel with locks still held'),
          step('at: (?:{{PC}} +)?{{FUNC}}'),
        ],
        fmt: 'BUG: lock held when returning to user space in %1',
        noStackTrace: true,
        kind: 'lockdep',
      },
      {
        title: re('BUG: bad unlock balance detected!'),
        fmt: 'BUG: bad unlock balance in %1',
        stack: { parts: [re('{{PC}} +{{FUNC}}'), CALL_TRACE, 'trace'] },
        kind: 'lockdep',
      },
      {
        title: re('BUG: held lock freed!'),
        report: [step('BUG: held lock freed!'), step('{{PC}} +{{FUNC}}')],
        fmt: 'BUG: held lock freed in %1',
        kind: 'lockdep',
      },
      {
        title: re('BUG: Bad rss-counter state'),
        fmt: 'BUG: Bad rss-counter state',
        noStackTrace: true,
        kind: 'bad-page',
      },
      {
        title: re('BUG: non-zero nr_ptes on freeing mm'),
        fmt: 'BUG: non-zero nr_ptes on freeing mm',
        noStackTrace: true,
        kind: 'bad-page',
      },
      {
        title: re('BUG: non-zero nr_pmds on freeing mm'),
        fmt: 'BUG: non-zero nr_pmds on freeing mm',
        noStackTrace: true,
        kind: 'bad-page',
      },
      {
        title: re('BUG: Dentry .* still in use'),
        report: [step('BUG: Dentry .* still in use \\([0-9]+\\) \\[(unmount) of ([^\\]]+)\\]')],
        fmt: 'BUG: Dentry still in use in %1',
        alt: ['BUG: Dentry still in use [%1 of %2]'],
        kind: 'other',
      },
      {
        title: re('BUG: Bad page (state|cache)'),
        fmt: 'BUG: Bad page %1 in %2',
        stack: {
          parts: [/page last allocated/, 'trace'],
          skip: [
            '(free|put|get|update|release)_page',
            'free_unref',
            '^_*folio',
            'truncate_inode_pages',
            'page_frag_free',
            'alloc',
            'vmap',
            'page_owner',
          ],
        },
        kind: 'bad-page',
      },
      { title: re('BUG: Bad page map'), fmt: 'BUG: Bad page map', kind: 'bad-page' },
      {
        title: re('BUG: workqueue lockup'),
        fmt: 'BUG: workqueue lockup',
        noStackTrace: true,
        kind: 'hung-task',
      },
      {
        title: re('BUG: sleeping function called from invalid context at (.*)'),
        fmt: 'BUG: sleeping function called from invalid context in %2',
        stack: trace(),
        kind: 'atomic-sleep',
      },
      {
        title: re('BUG: using ([a-z_]+)\\(\\) in preemptible'),
        fmt: 'BUG: using %1() in preemptible code in %2',
        stack: trace('dump_stack', 'preemption', 'preempt', 'debug_', 'processor_id', 'this_cpu'),
        kind: 'atomic-sleep',
      },
      {
        title: re('BUG: workqueue leaked lock or atomic'),
        report: [step('BUG: workqueue leaked lock or atomic'), step('last function: ([a-zA-Z0-9_]+)$')],
        fmt: 'BUG: workqueue leaked lock or atomic in %1',
        noStackTrace: true,
        kind: 'lockdep',
      },
      {
        title: re('BUG: memory leak'),
        fmt: 'memory leak in %1',
        stack: {
          parts: [/backtrace(?: \(crc [0-9a-fA-F]*\))?:/, 'trace'],
          skip: [
            'kmemleak',
            'mmap',
            'kmem',
            'slab',
            'alloc',
            'create_object',
            'idr_get',
            'list_lru_init',
            'kasprintf',
            'kvasprintf',
            'pcpu_create',
            'strdup',
            'strndup',
            'memdup',
          ],
        },
        kind: 'memory-leak',
      },
      {
        title: re('BUG: .*stack guard page was hit at'),
        fmt: 'BUG: stack guard page was hit in %1',
        alt: ['stack-overflow in %1'],
        stack: { parts: [RIP_FRAME, CALL_TRACE, 'trace'], extractor: 'stall' },
        kind: 'stack-overflow',
      },
      {
        title: re('BUG: Invalid wait context'),
        fmt: 'WARNING: locking bug in %1',
        stack: trace('lock_sock', 'release_sock'),
        kind: 'lockdep',
      },
      { title: /BUG:\s*$/, fmt: 'BUG: corrupted', corrupted: true, kind: 'other' },
    ],
    suppressions: [
      /ODEBUG:/,
      /Boot_DEBUG:/,
      /xlog_status:/,
      /DEBUG:/,
      /BUG: no syscalls can create resource/,
    ],
  },
  {
    header: 'WARNING:',
    kind: 'warning',
    formats: [
      {
        title: re('WARNING: .*lib/debugobjects\\.c.* (?:debug_print|debug_check|at)'),
        fmt: 'WARNING: ODEBUG bug in %1',
        stack: warningStack(
          'debug_',
          'rcu',
          'hrtimer_',
          'timer_',
          'work_',
          'percpu_',
          'vunmap',
          'vfree',
          '__free_',
          'debug_check',
          'kobject_',
        ),
        kind: 'warning',
      },
      {
        title: re('WARNING: .*mm/usercopy\\.c.* (?:usercopy_warn|at)'),
        fmt: 'WARNING: bad usercopy in %1',
        stack: warningStack('usercopy', '__check'),
        kind: 'warning',
      },
      {
        title: re('WARNING: .*lib/kobject\\.c.* (?:kobject_|at)'),
        fmt: 'WARNING: kobject bug in %1',
        stack: warningStack('kobject_'),
        kind: 'warning',
      },
      {
        title: re('WARNING: .*fs/proc/generic\\.c.* (?:proc_register|at)'),
        fmt: 'WARNING: proc registration bug in %1',
        stack: warningStack('proc_'),
        kind: 'warning',
      },
      {
        title: re('WARNING: .*lib/refcount\\.c.* (?:refcount_|at)'),
        fmt: 'WARNING: refcount bug in %1',
        stack: warningStack('refcount', 'kobject_'),
        kind: 'warning',
      },
      {
        title: re('WARNING: .*kernel/locking/lockdep\\.c.*lock_'),
        fmt: 'WARNING: locking bug in %1',
        stack: warningStack('lock_sock', 'release_sock'),
        kind: 'lockdep',
      },
      {
        title: re('WARNING: .*still has locks held!'),
        report: [step('WARNING: .*still has locks held!'), step('at: {{FUNC}}')],
        fmt: 'WARNING: still has locks held in %1',
        kind: 'lockdep',
      },
      {
        title: re('WARNING: Nested lock was not taken'),
        fmt: 'WARNING: nested lock was not taken in %1',
        stack: warningStack(),
        kind: 'lockdep',
      },
      {
        title: re('WARNING: lock held when returning to user space'),
        report: [
          step('WARNING: lock held when returning to user space'),
          step('leaving the kernel with locks still held'),
          step('at: (?:{{PC}} +)?{{FUNC}}'),
        ],
        fmt: 'WARNING: lock held when returning to user space in %1',
        noStackTrace: true,
        kind: 'lockdep',
      },
      {
        title: re('WARNING: .*mm/.*\\.c.* k?.?malloc'),
        fmt: 'WARNING: kmalloc bug in %1',
        stack: warningStack('kmalloc', 'krealloc', 'slab', 'kmem'),
        kind: 'warning',
      },
      {
        title: re('WARNING: .*mm/vmalloc.c.*__vmalloc_node'),
        fmt: 'WARNING: zero-size vmalloc in %1',
        stack: warningStack(),
        kind: 'warning',
      },
      {
        title: re('WARNING: .* usb_submit_urb'),
        fmt: 'WARNING in %1/usb_submit_urb',
        stack: warningStack(
          'usb_submit_urb',
          'usb_start_wait_urb',
          'usb_bulk_msg',
          'usb_interrupt_msg',
          'usb_control_msg',
        ),
        kind: 'warning',
      },
      {
        title: re('WARNING: {{SRC}} at 0x\\d+, CPU#\\d+'),
        fmt: 'WARNING in %2',
        stack: warningStack(),
        kind: 'warning',
      },
      {
        title: re('WARNING: .* at {{SRC}} {{FUNC}}'),
        fmt: 'WARNING in %3',
        stack: warningStack(),
        kind: 'warning',
      },
      {
        title: re('WARNING: {{SRC}} at {{FUNC}}'),
        fmt: 'WARNING in %3',
        stack: warningStack(),
        kind: 'warning',
      },
      {
        title: re('WARNING: \\[.*\\] {{SRC}} at {{FUNC}}.*'),
        fmt: 'WARNING in %3',
        stack: warningStack(),
        kind: 'warning',
      },
      {
        title: re('WARNING: possible circular locking dependency detected'),
        report: [
          step('WARNING: possible circular locking dependency detected'),
          step('is trying to acquire lock'),
        ],
        fmt: 'possible deadlock in %1',
        stack: {
          parts: [re('at: (?:{{PC}} +)?{{FUNC}}'), re('at: (?:{{PC}} +)?{{FUNC}}'), 'trace'],
          skip: ['process_one_work', 'flush_workqueue', 'drain_workqueue', 'destroy_workqueue'],
        },
        kind: 'lockdep',
      },
      {
        title: re('WARNING: possible irq lock inversion dependency detected'),
        report: [
          step('WARNING: possible irq lock inversion dependency detected'),
          step('just changed the state of lock'),
          step('at: (?:{{PC}} +)?{{FUNC}}'),
        ],
        fmt: 'possible deadlock in %1',
        kind: 'lockdep',
      },
      {
        title: re('WARNING: .*-safe -> .*-unsafe lock order detected'),
        fmt: 'possible deadlock in %1',
        stack: { parts: [re('which became (?:.*) at:'), 'trace'] },
        kind: 'lockdep',
      },
      {
        title: re('WARNING: possible recursive locking detected'),
        report: [
          step('WARNING: possible recursive locking detected'),
          step('is trying to acquire lock'),
          step('at: (?:{{PC}} +)?{{FUNC}}'),
        ],
        fmt: 'possible deadlock in %1',
        kind: 'lockdep',
      },
      {
        title: re('WARNING: inconsistent lock state'),
        report: [step('WARNING: inconsistent lock state'), step('takes'), step('at: (?:{{PC}} +)?{{FUNC}}')],
        fmt: 'inconsistent lock state in %2',
        stack: trace(),
        kind: 'lockdep',
      },
      {
        title: re('WARNING: suspicious RCU usage'),
        report: [step('WARNING: suspicious RCU usage'), step('{{SRC}}')],
        fmt: 'WARNING: suspicious RCU usage in %2',
        stack: trace('rcu', 'kmem', 'slab'),
        kind: 'rcu',
      },
      {
        title: re("WARNING: kernel stack regs at [0-9a-f]+ in [^ ]* has bad '([^']+)' value"),
        fmt: "WARNING: kernel stack regs has bad '%1' value",
        noStackTrace: true,
        kind: 'warning',
      },
      {
        title: re('WARNING: kernel stack frame pointer at [0-9a-f]+ in [^ ]* has bad value'),
        fmt: 'WARNING: kernel stack frame pointer has bad value',
        noStackTrace: true,
        kind: 'warning',
      },
      {
        title: re('WARNING: bad unlock balance detected!'),
        fmt: 'WARNING: bad unlock balance in %1',
        stack: { parts: [re('{{PC}} +{{FUNC}}'), CALL_TRACE, 'trace'] },
        kind: 'lockdep',
      },
      {
        title: re('WARNING: held lock freed!'),
        report: [step('WARNING: held lock freed!'), step('at:(?: {{PC}})? +{{FUNC}}')],
        fmt: 'WARNING: held lock freed in %1',
        kind: 'lockdep',
      },
      {
        title: re("WARNING: kernel stack regs .* has bad 'bp' value"),
        fmt: 'WARNING: kernel stack regs has bad value',
        noStackTrace: true,
        kind: 'warning',
      },
      {
        title: re('WARNING: kernel stack frame pointer .* has bad value'),
        fmt: 'WARNING: kernel stack regs has bad value',
        noStackTrace: true,
        kind: 'warning',
      },
      { title: /WARNING:\s*$/, fmt: 'WARNING: corrupted', corrupted: true, kind: 'warning' },
    ],
    suppressions: [
      /WARNING: \/etc\/ssh\/moduli does not exist, using fixed modulus/,
      /WARNING: workqueue cpumask: online intersect > possible intersect/,
      /WARNING: [Tt]he mand mount option/,
      /WARNING: Unsupported flag value\(s\) of 0x%x in DT_FLAGS_1/,
      /WARNING: Unprivileged eBPF is enabled with eIBRS/,
      /WARNING: fbcon: Driver '.*' missed to adjust virtual screen size/,
      /WARNING: See https.* for mitigation options\./,
      /WARNING: kernel not compiled with CPU_SRSO/,
      /EXT4-[Ff][Ss](?: \(.*\))?:/,
      /warning: .* uses (?:deprecated v2 capabilities|wireless extensions)/i,
      /XFS \(\w+\): WARNING/,
    ],
  },
  {
    header: 'INFO:',
    kind: 'other',
    formats: [
      {
        title: re('INFO: possible circular locking dependency detected'),
        report: [
          step('INFO: possible circular locking dependency detected \\]'),
          step('is trying to acquire lock'),
          step('at: {{PC}} +{{FUNC}}'),
        ],
        fmt: 'possible deadlock in %1',
        kind: 'lockdep',
      },
      {
        title: re('INFO: possible irq lock inversion dependency detected'),
        report: [
          step('INFO: possible irq lock inversion dependency detected \\]'),
          step('just changed the state of lock'),
          step('at: {{PC}} +{{FUNC}}'),
        ],
        fmt: 'possible deadlock in %1',
        kind: 'lockdep',
      },
      {
        title: re('INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected'),
        report: [
          step('INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected \\]'),
          step('is trying to acquire'),
          step('at: {{PC}} +{{FUNC}}'),
        ],
        fmt: 'possible deadlock in %1',
        kind: 'lockdep',
      },
      {
        title: re('INFO: possible recursive locking detected'),
        report: [
          step('INFO: possible recursive locking detected \\]'),
          step('is trying to acquire lock'),
          step('at: {{PC}} +{{FUNC}}'),
        ],
        fmt: 'possible deadlock in %1',
        kind: 'lockdep',
      },
      {
        title: re('INFO: inconsistent lock state'),
        report: [step('INFO: inconsistent lock state \\]'), step('takes'), step('at: {{PC}} +{{FUNC}}')],
        fmt: 'inconsistent lock state in %1',
        kind: 'lockdep',
      },
      {
        title: re('INFO: rcu_(?:preempt|sched|bh|tasks) (?:self-)?detected(?: expedited)? stall'),
        fmt: 'INFO: rcu detected stall in %1',
        alt: ['stall in %1'],
        stack: {
          parts: [/apic_timer_interrupt/, RIP_FRAME, 'trace'],
          parts2: [/(?:apic_timer_interrupt|Exception stack|el1h_64_irq)/, 'trace'],
          skip: ['apic_timer_interrupt', 'rcu'],
          extractor: 'stall',
        },
        kind: 'rcu-stall',
      },
      {
        title: re('INFO: trying to register non-static key'),
        fmt: 'INFO: trying to register non-static key in %1',
        stack: trace('stack', 'lock', 'IRQ'),
        kind: 'lockdep',
      },
      {
        title: re('INFO: suspicious RCU usage'),
        report: [step('INFO: suspicious RCU usage'), step('{{SRC}}')],
        fmt: 'INFO: suspicious RCU usage in %2',
        stack: trace('rcu', 'kmem', 'slab'),
        kind: 'rcu',
      },
      {
        title: re('INFO: task {{TASK}} blocked (?:in I/O wait )?for more than [0-9]+ seconds'),
        twoLines: true,
        fmt: 'INFO: task hung in %1',
        alt: ['hang in %1'],
        stack: { parts: [CALL_TRACE, 'trace'], extractor: 'hang' },
        kind: 'hung-task',
      },
      {
        title: re("INFO: task {{TASK}} can't die for more than .* seconds"),
        twoLines: true,
        fmt: "INFO: task can't die in %1",
        alt: ['hang in %1'],
        stack: trace('schedule'),
        kind: 'hung-task',
      },
      { title: re('INFO: (Freed|Allocated) in (.*)'), fmt: 'INFO: %1 in %2', corrupted: true, kind: 'other' },
      { title: /INFO:\s*$/, fmt: 'INFO: corrupted', corrupted: true, kind: 'other' },
    ],
    suppressions: [
      /INFO: lockdep is turned off/,
      /INFO: Stall ended before state dump start/,
      /INFO: NMI handler/,
      /INFO: recovery required on readonly filesystem/,
      /(?:handler|interrupt).*took too long/,
      /INFO: sys_.* is not present in \/proc\/kallsyms/,
      /INFO: no syscalls can create resource/,
      /rmt_storage:INFO:/,
      /_INFO:/,
    ],
  },
  {
    header: 'Unable to handle kernel',
    kind: 'paging-request',
    formats: [
      {
        title: re('Unable to handle kernel (paging request|NULL pointer dereference|access to user memory)'),
        fmt: 'BUG: unable to handle kernel %1 in %2',
        alt: ['bad-access in %2'],
        stack: ripTrace(),
        kind: 'paging-request',
      },
    ],
    suppressions: [],
  },
  {
    header: 'general protection fault',
    kind: 'gpf',
    formats: [
      {
        title: re('general protection fault.*:'),
        fmt: 'general protection fault in %1',
        alt: ['bad-access in %1'],
        stack: ripTrace(),
        kind: 'gpf',
      },
    ],
    suppressions: [/general protection fault .* error:\d+ in /],
  },
  {
    header: 'stack segment: ',
    kind: 'trap',
    formats: [
      { title: re('stack segment: '), fmt: 'stack segment fault in %1', stack: ripTrace(), kind: 'trap' },
    ],
    suppressions: [],
  },
  {
    header: 'Kernel panic',
    kind: 'panic',
    formats: [
      {
        title: re('Kernel panic - not syncing: stack-protector:'),
        report: [step('Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: {{FUNC}}')],
        fmt: 'kernel panic: stack is corrupted in %1',
        noStackTrace: true,
        kind: 'stack-overflow',
      },
      {
        title: re('Kernel panic - not syncing: stack-protector:'),
        report: [
          step('Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: [a-f0-9]+'),
        ],
        fmt: 'kernel panic: stack is corrupted in %1',
        stack: trace('stack_chk'),
        kind: 'stack-overflow',
      },
      {
        title: re('Kernel panic - not syncing: corrupted stack end'),
        report: [step('Kernel panic - not syncing: corrupted stack end detected inside scheduler')],
        fmt: 'kernel panic: corrupted stack end in %1',
        alt: ['stack-overflow in %1'],
        stack: { parts: [CALL_TRACE, 'trace'], skip: ['schedule', 'retint_kernel'], extractor: 'stall' },
        kind: 'stack-overflow',
      },
      {
        title: re('Kernel panic - not syncing: kernel stack overflow'),
        fmt: 'kernel stack overflow in %1',
        alt: ['stack-overflow in %1'],
        stack: { parts: [CALL_TRACE, 'trace'], skip: ['bad_stack'], extractor: 'stall' },
        kind: 'stack-overflow',
      },
      {
        title: re('Kernel panic - not syncing: Attempted to kill init!'),
        fmt: 'kernel panic: Attempted to kill init!',
        kind: 'panic',
      },
      {
        title: re("Kernel panic - not syncing: Couldn't open N_TTY ldisc for [^ ]+ --- error -[0-9]+"),
        fmt: "kernel panic: Couldn't open N_TTY ldisc",
        kind: 'panic',
      },
      {
        title: re('Kernel panic - not syncing: Fatal exception'),
        fmt: 'kernel panic: Fatal exception',
        corrupted: true,
        kind: 'panic',
      },
      {
        title: re('Kernel panic - not syncing: panic_on_warn set'),
        fmt: 'kernel panic: panic_on_warn set',
        corrupted: true,
        kind: 'panic',
      },
      {
        title: re('Kernel panic - not syncing: hung_task: blocked tasks'),
        fmt: 'kernel panic: hung_task: blocked tasks',
        corrupted: true,
        kind: 'panic',
      },
      { title: re('Kernel panic - not syncing: (.*)'), fmt: 'kernel panic: %1', kind: 'panic' },
    ],
    suppressions: [],
  },
  {
    header: 'PANIC: double fault',
    kind: 'trap',
    formats: [
      {
        title: re('PANIC: double fault'),
        fmt: 'PANIC: double fault in %1',
        stack: { parts: [RIP_FRAME] },
        kind: 'trap',
      },
    ],
    suppressions: [],
  },
  {
    // Older x86 kernels die("double fault") like any trap: `double fault: 0000 [#3] SMP`.
    header: 'double fault: ',
    kind: 'trap',
    formats: [
      {
        title: re('double fault: [0-9a-f]{4} \\[#?[0-9]+\\]'),
        fmt: 'double fault in %1',
        stack: { parts: [RIP_FRAME] },
        kind: 'trap',
      },
    ],
    suppressions: [],
  },
  {
    header: 'rust_kernel: panicked',
    kind: 'panic',
    formats: [
      {
        title: re('rust_kernel: panicked'),
        report: [step('rust_kernel: panicked at '), step('^(.+)$', true)],
        fmt: '%1 in %2',
        stack: trace('__rustc::rust_begin_unwind'),
        kind: 'panic',
      },
    ],
    suppressions: [],
  },
  {
    header: 'kernel BUG',
    kind: 'bug',
    formats: [
      {
        title: re('kernel BUG at mm/usercopy.c'),
        fmt: 'BUG: bad usercopy in %1',
        stack: trace('usercopy', '__check'),
        kind: 'bug',
      },
      {
        title: re('kernel BUG at lib/list_debug.c'),
        fmt: 'BUG: corrupted list in %1',
        alt: ['bad-access in %1'],
        stack: trace(),
        kind: 'list-corruption',
      },
      {
        title: re('kernel BUG at (.*)'),
        fmt: 'kernel BUG in %2',
        // Without a RIP line (elided or lost) the top of the call trace still names the caller.
        stack: { ...ripTrace('^skb_'), parts2: [CALL_TRACE, 'trace'] },
        kind: 'bug',
      },
    ],
    suppressions: [],
  },
  {
    header: 'Kernel BUG',
    kind: 'bug',
    formats: [{ title: re('Kernel BUG (.*)'), fmt: 'kernel BUG %1', kind: 'bug' }],
    suppressions: [],
  },
  {
    header: 'BUG kmalloc-',
    kind: 'other',
    formats: [
      { title: re('BUG kmalloc-.*: Object already free'), fmt: 'BUG: Object already free', kind: 'other' },
    ],
    suppressions: [],
  },
  {
    header: 'divide error:',
    kind: 'trap',
    formats: [
      { title: re('divide error: '), fmt: 'divide error in %1', stack: { parts: [RIP_FRAME] }, kind: 'trap' },
    ],
    suppressions: [],
  },
  {
    header: 'divide_error:',
    kind: 'trap',
    formats: [
      { title: re('divide_error: '), fmt: 'divide error in %1', stack: { parts: [RIP_FRAME] }, kind: 'trap' },
    ],
    suppressions: [],
  },
  {
    header: 'invalid opcode:',
    kind: 'trap',
    formats: [
      {
        title: re('invalid opcode: '),
        fmt: 'invalid opcode in %1',
        stack: { parts: [RIP_FRAME] },
        kind: 'trap',
      },
    ],
    suppressions: [],
  },
  {
    header: 'int3:',
    kind: 'trap',
    formats: [{ title: re('int3: '), fmt: 'int3 in %1', stack: ripTrace(), kind: 'trap' }],
    suppressions: [],
  },
  {
    header: 'UBSAN:',
    kind: 'ubsan',
    formats: [
      {
        title: re('UBSAN:'),
        report: [step('UBSAN: Undefined behaviour in')],
        fmt: 'UBSAN: undefined-behaviour in %1',
        stack: trace('ubsan', 'overflow'),
        kind: 'ubsan',
      },
      {
        title: re('UBSAN: array-index-out-of-bounds in'),
        fmt: 'UBSAN: array-index-out-of-bounds in %1',
        alt: ['bad-access in %1'],
        stack: trace('ubsan', 'overflow'),
        kind: 'ubsan',
      },
      {
        title: re('UBSAN:'),
        report: [step('UBSAN: (.*?) in')],
        fmt: 'UBSAN: %1 in %2',
        stack: trace('ubsan', 'overflow'),
        kind: 'ubsan',
      },
    ],
    suppressions: [],
  },
  {
    header: 'Booting the kernel.',
    kind: 'reboot',
    formats: [
      {
        title: /^Booting the kernel/,
        anchored: true,
        fmt: 'unexpected kernel reboot',
        noStackTrace: true,
        kind: 'reboot',
      },
    ],
    suppressions: [/Parsing ELF|Decompressing Linux|Unknown parameter '/],
  },
  {
    header: 'unregister_netdevice: waiting for',
    kind: 'other',
    formats: [
      {
        title: re('unregister_netdevice: waiting for (?:.*) to become free'),
        fmt: 'unregister_netdevice: waiting for DEV to become free',
        noStackTrace: true,
        kind: 'other',
      },
    ],
    suppressions: [],
  },
  {
    header: 'VFS: Close: file count is 0',
    kind: 'other',
    formats: [
      {
        title: re('VFS: Close: file count is 0'),
        fmt: 'VFS: Close: file count is zero (use-after-free)',
        noStackTrace: true,
        kind: 'other',
      },
    ],
    suppressions: [],
  },
  {
    header: 'VFS: Busy inodes after unmount',
    kind: 'other',
    formats: [
      {
        title: re('VFS: Busy inodes after unmount'),
        fmt: 'VFS: Busy inodes after unmount (use-after-free)',
        noStackTrace: true,
        kind: 'other',
      },
    ],
    suppressions: [],
  },
  {
    header: 'Internal error:',
    kind: 'trap',
    formats: [
      {
        title: re('Internal error:'),
        fmt: 'Internal error in %1',
        alt: ['bad-access in %1'],
        stack: ripTrace(),
        kind: 'trap',
      },
    ],
    suppressions: [],
  },
  {
    header: 'Unhandled fault:',
    kind: 'trap',
    formats: [
      {
        title: re('Unhandled fault:'),
        fmt: 'Unhandled fault in %1',
        alt: ['bad-access in %1'],
        stack: ripTrace(),
        kind: 'trap',
      },
    ],
    suppressions: [],
  },
  {
    header: 'Alignment trap:',
    kind: 'trap',
    formats: [{ title: re('Alignment trap:'), fmt: 'Alignment trap in %1', stack: ripTrace(), kind: 'trap' }],
    suppressions: [],
  },
  {
    header: 'trusty: panic',
    kind: 'panic',
    formats: [
      {
        title: re('trusty: panic.* ASSERT FAILED'),
        report: [step('trusty: panic \\(.*?\\):(?: DEBUG)? ASSERT FAILED at \\(.*?\\): (.+)')],
        fmt: 'trusty: ASSERT FAILED: %1',
        noStackTrace: true,
        kind: 'panic',
      },
      {
        title: re('trusty: panic.* ASSERT FAILED.*: *(.*)'),
        fmt: 'trusty: ASSERT FAILED: %1',
        corrupted: true,
        kind: 'panic',
      },
      {
        title: re('trusty: panic'),
        report: [step('trusty: panic \\(.*?\\): (.+)')],
        fmt: 'trusty: panic: %1',
        noStackTrace: true,
        kind: 'panic',
      },
    ],
    suppressions: [],
  },
  {
    // ASSERT_RTNL() (include/linux/rtnetlink.h): a caller that must hold the RTNL lock does not;
    // a WARN-like dump follows (some kernels print every frame as `?`).
    header: 'RTNL: assertion failed',
    kind: 'warning',
    formats: [
      {
        title: re('RTNL: assertion failed'),
        fmt: 'RTNL: assertion failed in %1',
        stack: { parts: [CALL_TRACE, 'trace'], skip: ['dump_stack'] },
        questionableFrames: true,
        kind: 'warning',
      },
    ],
    suppressions: [],
  },
  {
    // kernel/sysctl_check.c (2.6.x): a table registered with a duplicate or malformed entry; the
    // trace starts inside the checker (2.6.26 printed it with no `Call Trace:` line).
    header: 'sysctl table check failed:',
    kind: 'warning',
    formats: [
      {
        title: re('sysctl table check failed:'),
        fmt: 'sysctl table check failed in %1',
        stack: {
          parts: [CALL_TRACE, 'trace'],
          parts2: ['trace'],
          skip: ['set_fail', 'sysctl_check_', 'register_sysctl', 'register_net_sysctl', 'sysctl_head_'],
        },
        questionableFrames: true,
        kind: 'warning',
      },
    ],
    suppressions: [],
  },
  {
    // kernel/irq/spurious.c __report_bad_irq: an interrupt no handler claimed, 99,900 times of
    // 100,000 (the line is then disabled: `Disabling IRQ #11`); its handlers follow the stack. The
    // number is the machine's interrupt line, left out of the title so that machines bucket together.
    header: ': nobody cared',
    kind: 'other',
    formats: [
      { title: re('irq \\d+: nobody cared'), fmt: 'irq: nobody cared', noStackTrace: true, kind: 'other' },
    ],
    suppressions: [],
  },
  {
    header: 'fatal error:',
    kind: 'other',
    formats: [{ title: re('fatal error:'), fmt: 'go runtime error', noStackTrace: true, kind: 'other' }],
    suppressions: [/ALSA/, /fatal error: cannot create timer/],
  },
  {
    header: 'SYZFAIL:',
    kind: 'other',
    formats: [{ title: re('SYZFAIL:(.*)'), fmt: 'SYZFAIL:%1', noStackTrace: true, kind: 'other' }],
    suppressions: [],
  },
  {
    header: 'SYZFATAL:',
    kind: 'other',
    formats: [
      {
        title: re('SYZFATAL:(.*)()'),
        alt: ['SYZFATAL%2'],
        fmt: 'SYZFATAL:%1',
        noStackTrace: true,
        kind: 'other',
      },
    ],
    suppressions: [],
  },
  {
    header: 'panic:',
    kind: 'panic',
    formats: [
      {
        title: re('panic: Sentry detected .* stuck task'),
        fmt: 'panic: Sentry detected stuck tasks',
        noStackTrace: true,
        kind: 'panic',
      },
      { title: re('panic:(.*)'), fmt: 'panic:%1', noStackTrace: true, kind: 'panic' },
    ],
    suppressions: [/_panic:/, /xlog_status:/, /ddb\.onpanic:/, /evtlog_status:/],
  },
];

// Every table entry gets the same object shape (all keys, fixed order): the engine then reads
// monomorphic objects, and its big functions are not deoptimised and recompiled each time a
// report of a new format shows up.
function stackShape(s: StackSpec | undefined): StackSpec | undefined {
  if (s === undefined) return undefined;
  return { parts: s.parts, parts2: s.parts2, skip: s.skip, extractor: s.extractor };
}

function formatShape(f: OopsFormat): OopsFormat {
  return {
    title: f.title,
    anchored: f.anchored,
    twoLines: f.twoLines,
    report: f.report?.map((r) => ({ re: r.re, next: r.next })),
    fmt: f.fmt,
    alt: f.alt,
    stack: stackShape(f.stack),
    noStackTrace: f.noStackTrace,
    corrupted: f.corrupted,
    questionableFrames: f.questionableFrames,
    kind: f.kind,
  };
}

export const LINUX_OOPSES: Oops[] = OOPS_TABLE.map((o) => ({
  header: o.header,
  formats: o.formats.map(formatShape),
  suppressions: o.suppressions,
  kind: o.kind,
}));

/** Headers that may appear inside another report without starting a new one. */
export const REPORT_START_IGNORES: RegExp[] = [
  /invalid opcode: 0000/,
  // SLUB's own details of a `BUG <cache> (...): ...` report (mm/slub.c print_track, print_page_info,
  // check_bytes_and_report, print_trailer): never a report of their own.
  /INFO: (?:Allocated in |Freed in |Slab 0x|Object 0x|0x[0-9a-f]+-0x[0-9a-f]+)/,
  /Kernel panic - not syncing/,
  /unregister_netdevice: waiting for/,
  /PANIC: double fault/,
  /Internal error:/,
];

/** Stack dumps that are not bugs: seen inside a report, they end the text used for its title. */
export const INFO_MESSAGES_WITH_STACK = [
  'vmalloc: allocation failure:',
  'FAULT_INJECTION: forcing a failure',
  'FAULT_FLAG_ALLOW_RETRY missing',
];

/** Returns the first oops whose header the line holds and no suppression vetoes, or null. */
export function matchOops(line: string): Oops | null {
  if (!ANY_HEADER.test(line)) return null;
  for (const oops of LINUX_OOPSES) {
    if (!line.includes(oops.header)) continue;
    if (oops.suppressions.some((s) => s.test(line))) continue;
    return oops;
  }
  return null;
}

/** Cheap pre-filter: one alternation of all header literals. */
export const ANY_HEADER = new RegExp(
  LINUX_OOPSES.map((o) => o.header.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
);
