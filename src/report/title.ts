// Title normalisation, so that the same bug gets the same title on every machine and run
// (syzkaller's dynamic title replacements and sanitizer), and the crash type of a title.

const REPLACEMENTS: [RegExp, string][] = [
  [/syz-executor\.?[0-9]+(?:[/:][0-9]+)?/g, 'syz-executor'],
  [/syzkaller[0-9]+(?:[/:][0-9]+)?/g, 'syzkaller'],
  [/([^a-zA-Z0-9])(?:0x)?[0-9a-f]{6,}/g, '$1ADDR'],
  [/[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}/g, 'IP'],
  [/(\.\w+)(?::[0-9]+)+/g, '$1:LINE'],
  [/([a-zA-Z][a-zA-Z0-9_.]+)\+0x[0-9a-z]+\/0x[0-9a-z]+/g, '$1'],
  [/CPU#[0-9]+/g, 'CPU'],
  [/(\W)(\d+)(\W|$)/g, '$1NUM$3'],
  [/\d{7,}/g, 'NUM'],
];

const MAX_TITLE_LEN = 120;

/** Keeps at most 120 bytes, turns tabs into spaces, drops control and non-ASCII bytes, collapses spaces. */
export function sanitizeTitle(title: string): string {
  let out = '';
  let prev = ' ';
  const n = Math.min(title.length, MAX_TITLE_LEN);
  for (let i = 0; i < n; i++) {
    let ch = title[i]!;
    const c = ch.charCodeAt(0);
    if (ch === '\t') ch = ' ';
    else if (c < 0x20 || c >= 0x7f) continue;
    if (ch === ' ' && prev === ' ') continue;
    out += ch;
    prev = ch;
  }
  return out.trim();
}

/** Replaces run-specific parts (addresses, numbers, executor ids, line numbers) by placeholders. */
export function normalizeTitle(title: string): string {
  let s = title;
  for (const [re, repl] of REPLACEMENTS) {
    // Repeat until stable: overlapping matches such as `0,1,2` need several passes.
    for (let guard = 0; guard < 64; guard++) {
      const next = s.replace(re, repl);
      if (next === s) break;
      s = next;
    }
  }
  return sanitizeTitle(s);
}

/** Non-ASCII text is measured in bytes by syzkaller; we cut on UTF-16 units after dropping it. */
export function finishTitle(title: string): string {
  return normalizeTitle(title);
}

const TYPE_TABLE: [string[], string][] = [
  [['KFENCE: use-after-free write'], 'KFENCE-USE-AFTER-FREE-WRITE'],
  [['KFENCE: use-after-free read', 'KFENCE: use-after-free'], 'KFENCE-USE-AFTER-FREE-READ'],
  [['KFENCE: invalid write', 'KFENCE: out-of-bounds write'], 'KFENCE-WRITE'],
  [['KFENCE: invalid read', 'KFENCE: out-of-bounds read', 'KFENCE: out-of-bounds'], 'KFENCE-READ'],
  [['KFENCE: memory corruption'], 'KFENCE-MEMORY-CORRUPTION'],
  [['KFENCE: invalid free'], 'KFENCE-INVALID-FREE'],
  [['KMSAN: uninit-value'], 'KMSAN-UNINIT-VALUE'],
  [
    ['KMSAN: kernel-infoleak-after-free', 'KMSAN: kernel-usb-infoleak-after-free', 'KMSAN: use-after-free'],
    'KMSAN-USE-AFTER-FREE-READ',
  ],
  [['KMSAN: kernel-infoleak', 'KMSAN: kernel-usb-infoleak'], 'KMSAN-INFO-LEAK'],
  [['KASAN: null-ptr-deref Write'], 'KASAN-NULL-POINTER-DEREFERENCE-WRITE'],
  [['KASAN: null-ptr-deref Read'], 'KASAN-NULL-POINTER-DEREFERENCE-READ'],
  [['BUG: unable to handle kernel NULL pointer dereference in'], 'NULL-POINTER-DEREFERENCE'],
  [
    [
      'KASAN: global-out-of-bounds Write',
      'KASAN: out-of-bounds Write',
      'KASAN: slab-out-of-bounds Write',
      'KASAN: stack-out-of-bounds Write',
      'KASAN: user-memory-access Write',
      'KASAN: vmalloc-out-of-bounds Write',
      'KASAN: wild-memory-access Write',
    ],
    'KASAN-WRITE',
  ],
  [
    [
      'KASAN: global-out-of-bounds Read',
      'KASAN: invalid-access Read',
      'KASAN: out-of-bounds Read',
      'KASAN: slab-out-of-bounds',
      'KASAN: stack-out-of-bounds',
      'KASAN: unknown-crash Read',
      'KASAN: user-memory-access Read',
      'KASAN: vmalloc-out-of-bounds Read',
      'KASAN: wild-memory-access',
    ],
    'KASAN-READ',
  ],
  [['KASAN: double-free or invalid-free', 'KASAN: invalid-free'], 'KASAN-INVALID-FREE'],
  [['KASAN: slab-use-after-free Write', 'KASAN: use-after-free Write'], 'KASAN-USE-AFTER-FREE-WRITE'],
  [['KASAN: slab-use-after-free Read', 'KASAN: use-after-free'], 'KASAN-USE-AFTER-FREE-READ'],
  [['BUG: corrupted list', 'BUG: unable to handle kernel paging request'], 'MEMORY_SAFETY_BUG'],
  [['WARNING: refcount bug'], 'REFCOUNT_WARNING'],
  [['UBSAN: array-index-out-of-bounds'], 'MEMORY_SAFETY_UBSAN'],
  [['KCSAN: data-race'], 'KCSAN-DATARACE'],
  [['KCSAN: assert: race in'], 'KCSAN-ASSERT'],
  [
    [
      'BUG: bad unlock balance in',
      'BUG: held lock freed in',
      'BUG: rwlock',
      'BUG: spinlock',
      'BUG: still has locks held in',
      'BUG: using',
      'WARNING: bad unlock balance in',
      'WARNING: held lock freed in',
      'WARNING: lock held',
      'WARNING: locking bug in',
      'WARNING: nested lock was not taken in',
      'WARNING: still has locks held in',
      'WARNING: suspicious RCU usage in',
      'inconsistent lock state in',
      'possible deadlock in',
    ],
    'LOCKDEP',
  ],
  [
    ['BUG: scheduling while atomic in', 'BUG: sleeping function called from invalid context in'],
    'ATOMIC_SLEEP',
  ],
  [['memory leak in'], 'LEAK'],
  [['BUG: bad usercopy in', 'kernel BUG'], 'BUG'],
  [['WARNING in'], 'WARNING'],
  [
    [
      'BUG: stack guard page was hit in',
      'WARNING: corrupted',
      'WARNING: kernel stack frame pointer has bad value',
      'WARNING: kernel stack regs has bad',
    ],
    'UNKNOWN',
  ],
  [
    ['BUG: soft lockup in', 'INFO: rcu detected stall in', "INFO: task can't die in", 'INFO: task hung in'],
    'HANG',
  ],
  [
    [
      'Alignment trap in',
      'BUG: Object already free',
      'Internal error in',
      'PANIC: double fault',
      'Unhandled fault in',
      'VFS: Busy inodes after unmount (use-after-free)',
      'VFS: Close: file count is zero (use-after-free)',
      'divide error in',
      'general protection fault in',
      'go runtime error',
      'int3 in',
      'invalid opcode in',
      'kernel panic:',
      'kernel stack overflow',
      'panic:',
      'rust_kernel panicked',
      'stack segment fault in',
      'trusty:',
      'unregister_netdevice: waiting for DEV to become free',
    ],
    'DoS',
  ],
  [['no output from test machine'], 'NO_OUTPUT'],
  [['unexpected kernel reboot'], 'REBOOT'],
  [['SYZFAIL', 'SYZFATAL:'], 'SYZ_FAILURE'],
  [['WARNING:'], 'WARNING'],
  [['KASAN:'], 'KASAN-UNKNOWN'],
  [['KFENCE:'], 'KFENCE-UNKNOWN'],
  [['KMSAN:'], 'KMSAN-UNKNOWN'],
  [['UBSAN:'], 'UBSAN'],
  [['KCSAN:'], 'KCSAN-UNKNOWN'],
];

/** The crash type of a title (the first prefix that matches), `UNKNOWN` when none does. */
export function titleToType(title: string): string {
  for (const [prefixes, type] of TYPE_TABLE) {
    if (prefixes.some((p) => title.startsWith(p))) return type;
  }
  return 'UNKNOWN';
}
