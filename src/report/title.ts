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
  [
    ['BUG: corrupted list', 'BUG: bad usercopy', 'kernel BUG', 'BUG: Bad page', 'BUG: Object already free'],
    'BUG',
  ],
  [['KCSAN: data-race'], 'KCSAN-DATARACE'],
  [['KCSAN: assert'], 'KCSAN-ASSERT'],
  [['UBSAN:'], 'UBSAN'],
  [['WARNING: refcount bug'], 'REFCOUNT_WARNING'],
  [['BUG: sleeping function called from invalid context', 'BUG: scheduling while atomic'], 'ATOMIC_SLEEP'],
  [['memory leak in'], 'LEAK'],
  [
    [
      'possible deadlock in',
      'inconsistent lock state in',
      'WARNING: locking bug in',
      'BUG: bad unlock balance',
      'WARNING: bad unlock balance',
      'BUG: held lock freed',
      'WARNING: held lock freed',
      'BUG: still has locks held',
      'WARNING: still has locks held',
      'BUG: lock held when returning to user space',
      'WARNING: lock held when returning to user space',
      'WARNING: nested lock was not taken',
      'BUG: spinlock',
      'BUG: rwlock',
      'INFO: trying to register non-static key',
      'WARNING: suspicious RCU usage',
      'INFO: suspicious RCU usage',
    ],
    'LOCKDEP',
  ],
  [
    [
      'INFO: task hung',
      "INFO: task can't die",
      'INFO: rcu detected stall',
      'BUG: soft lockup',
      'BUG: workqueue lockup',
      'INFO: rcu_sched detected stall',
    ],
    'HANG',
  ],
  [
    [
      'BUG: unable to handle kernel',
      'general protection fault',
      'divide error',
      'invalid opcode',
      'stack segment fault',
      'kernel panic',
      'kernel stack overflow',
      'BUG: stack guard page was hit',
      'PANIC: double fault',
      'Internal error',
      'Unhandled fault',
      'Alignment trap',
      'int3',
    ],
    'DoS',
  ],
  [['WARNING:', 'WARNING in'], 'WARNING'],
  [['unexpected kernel reboot'], 'REBOOT'],
  [['SYZFAIL', 'SYZFATAL'], 'SYZ_FAILURE'],
];

/** The crash type of a title (the first prefix that matches), `UNKNOWN` when none does. */
export function titleToType(title: string): string {
  for (const [prefixes, type] of TYPE_TABLE) {
    if (prefixes.some((p) => title.startsWith(p))) return type;
  }
  return 'UNKNOWN';
}
