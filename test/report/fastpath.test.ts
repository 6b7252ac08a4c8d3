// The streaming parser skips lines that cannot matter with native scans (the fast path) and tells
// whether a line may start a report from the scan's hits. Its output must be exactly that of
// parsing every line one by one (fastPath: false): corpus logs embedded in the kinds of lines the
// fast path skips or stops at (plain console lines, other tasks' and CPUs' caller ids, unprefixed
// lines, syslog lines), parsed both ways and in odd chunk sizes.
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CrashLogParser, type ParserOptions } from '../../src/report/index.ts';
import type { CrashReport } from '../../src/report/types.ts';
import { listSyzCases, readSyzCase } from './syzkaller-corpus.ts';

const syzDir = resolve(import.meta.dirname, '../../../shared/corpora/syzkaller/linux-report');

function parse(text: string, chunk: number, options: ParserOptions): CrashReport[] {
  const out: CrashReport[] = [];
  const p = new CrashLogParser((r) => out.push(r), options);
  for (let at = 0; at < text.length; at += chunk) p.push(text.slice(at, at + chunk));
  p.end();
  return out;
}

/** Everyday lines of a busy machine in every prefix style, k-th variant. */
function noise(k: number, t: number): string[] {
  const ts = `[${t.toFixed(6).padStart(12)}]`;
  return [
    `${ts} usb 1-1: new high-speed USB device number ${k % 97} using xhci_hcd`,
    `${ts}[ T${1000 + (k % 7)}] audit: type=1400 audit(1700000000.${k}:42): apparmor="STATUS"`,
    `${ts}[    C${k % 4}] perf: interrupt took too long (2503 > 2500), lowering rate to ${k}`,
    `${ts} e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx`,
    `random: crng init done, ${k} bits`,
    `Nov 25 18:20:${String(k % 60).padStart(2, '0')} host kernel: ${ts} nfs: server nfs-${k}.example.com OK`,
    `${ts} cgroup: fork rejected by pids controller in /user.slice/user-${k}.slice`,
  ];
}

describe('fast path', () => {
  const names = (() => {
    try {
      return listSyzCases(syzDir);
    } catch {
      return [];
    }
  })();

  it('finds the same reports as parsing every line (syzkaller corpus in busy-machine noise)', () => {
    expect(names.length, `no corpus at ${syzDir}`).toBeGreaterThan(100);
    // A few big logs (as a fleet's console logs are), each corpus log between runs of noise.
    const groups = 6;
    for (let g = 0; g < groups; g++) {
      const parts: string[] = [];
      let t = 1000;
      names.forEach((name, i) => {
        if (i % groups !== g) return;
        const lines: string[] = [];
        for (let k = 0; k < 20 + (i % 13) * 7; k++) {
          t += 0.000731;
          lines.push(noise(i + k, t)[(i * 3 + k) % 7]!);
        }
        parts.push(lines.join('\n'), readSyzCase(syzDir, name).log);
      });
      const text = `${parts.join('\n')}\n`;
      const reference = JSON.stringify(parse(text, 1 << 16, { fastPath: false }));
      expect(JSON.stringify(parse(text, 1 << 16, {}))).toBe(reference);
      expect(JSON.stringify(parse(text, 4093, {}))).toBe(reference);
    }
  });

  it('finds the same reports as parsing every line (random logs of report vocabulary)', () => {
    const prefixes = [
      '',
      '[   12.345678] ',
      '[   12.345678][ T1234] ',
      '[   12.345678][    C1] ',
      '[   12.345678][    C2] ',
      '<4>[   12.345678] ',
      'Nov 25 18:20:15 host kernel: ',
      'Nov 25 18:20:15 host sshd[1]: ',
      '[C3] ',
      '[\t12.345678]',
    ];
    const texts = [
      'BUG: KASAN: use-after-free in foo+0x1/0x2',
      'INFO: task syz:123 blocked for more than 143 seconds.',
      'WARNING: CPU: 0 PID: 1 at kernel/x.c:12 foo+0x1/0x2',
      'general protection fault: 0000 [#1] SMP KASAN',
      'divide error: 0000 [#1] PREEMPT SMP',
      'int3: 0000 [#1] SMP',
      'Kernel panic - not syncing: Fatal exception',
      'kernel BUG at fs/nfs/pagelist.c:382!',
      'Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008',
      'Call Trace:',
      ' <TASK>',
      ' foo_bar+0x1f/0x40 [mod]',
      ' ? baz+0x3/0x4',
      'RIP: 0010:foo+0x1/0x2',
      'Sending NMI from CPU 0 to CPUs 1:',
      'NMI backtrace for cpu 1',
      'usb 1-1: new high-speed USB device number 3 using xhci_hcd',
      'vmalloc: allocation failure: 0 bytes, mode:0x0',
      'serialport: VM disconnected.',
      '** replaying previous printk message **',
      'Modules linked in: a b c',
      '---[ end trace 0000000000000000 ]---',
      'Linux version 6.1.0 (gcc)',
      '',
    ];
    const line = fc.tuple(fc.nat(prefixes.length - 1), fc.nat(texts.length - 1));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 400 }), fc.integer({ min: 7, max: 5000 }), (ls, chunk) => {
        const text = `${ls.map(([p, t]) => prefixes[p]! + texts[t]!).join('\n')}\n`;
        const reference = JSON.stringify(parse(text, chunk, { fastPath: false }));
        expect(JSON.stringify(parse(text, chunk, {}))).toBe(reference);
      }),
      { numRuns: 300 },
    );
  });
});
