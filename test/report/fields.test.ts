// Fields of a report on hand-written console output in the kernel's formats (x86_64, arm64),
// under each line-prefix style, and with another CPU's lines interleaved.
import { describe, expect, it } from 'vitest';
import { parseLog } from '../../src/report/index.ts';

const X86 = [
  'BUG: kernel NULL pointer dereference, address: 0000000000000010',
  '#PF: supervisor read access in kernel mode',
  'Oops: 0000 [#1] PREEMPT SMP NOPTI',
  'CPU: 3 PID: 4242 Comm: kworker/3:1 Tainted: G        W  OE      6.1.0-18-amd64 #1 Debian 6.1.76-1',
  'Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014',
  'Workqueue: events foo_work_fn [foo]',
  'RIP: 0010:foo_handle.isra.0+0x1c/0x90 [foo]',
  'Code: 48 89 e5 41 54 53 48 8b 5f 08 <48> 8b 43 10 48 85 c0 74 2a 5b 41 5c 5d c3',
  'RSP: 0018:ffffb2f160b239a0 EFLAGS: 00010286',
  'RAX: 0000000000000000 RBX: 0000000000000000 RCX: 0000000000000006',
  'RDX: 0000000000000000 RSI: 0000000000000096 RDI: ffff9bf9ffc56850',
  'R13: ffff9bf9f048da00 R14: 0000000000000000 R15: ffffb2f160b23a48',
  'FS:  0000000000000000(0000) GS:ffff9bf9ffc40000(0000) knlGS:0000000000000000',
  'CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033',
  'CR2: 0000000000000010 CR3: 000000003a60a002 CR4: 00000000003706e0',
  'Call Trace:',
  ' <IRQ>',
  ' ? __die+0x23/0x70',
  ' foo_irq+0x41/0x60 [foo]',
  ' __handle_irq_event_percpu+0x4a/0x180',
  ' </IRQ>',
  ' <TASK>',
  ' foo_work_fn+0x77/0x120 [foo]',
  ' process_one_work+0x1c7/0x380',
  ' worker_thread+0x4d/0x380',
  ' kthread+0xd7/0x100',
  ' ret_from_fork+0x2c/0x50',
  ' </TASK>',
  'Modules linked in: foo(OE) nfsv3 nfs lockd grace sunrpc [last unloaded: bar]',
  '---[ end trace 0000000000000000 ]---',
];

const ARM64 = [
  'Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008',
  'Mem abort info:',
  '  ESR = 0x0000000096000006',
  'Internal error: Oops: 0000000096000006 [#1] PREEMPT SMP',
  'Modules linked in: nfs lockd',
  'CPU: 1 PID: 77 Comm: sh Not tainted 6.6.0 #2',
  'Hardware name: linux,dummy-virt (DT)',
  'pstate: 60400005 (nZCv daif +PAN -UAO -TCO -DIT -SSBS BTYPE=--)',
  'pc : nfs_unlock_request+0x18/0x40 [nfs]',
  'lr : nfs_end_page_writeback+0x30/0x90 [nfs]',
  'sp : ffff80008279bb50',
  'x29: ffff80008279bb50 x28: ffff0000c1234000 x27: 0000000000000000',
  'x2 : 0000000000000000 x1 : 0000000000000001 x0 : 0000000000000000',
  'Call trace:',
  ' nfs_unlock_request+0x18/0x40 [nfs]',
  ' nfs_end_page_writeback+0x30/0x90 [nfs]',
  ' el0_svc+0x38/0x110',
  'Code: f9400001 b4000061 d503233f (f9400400)',
];

const withTime = (lines: string[], t0 = 100) =>
  lines.map((l, i) => `[${(t0 + i / 1000).toFixed(6).padStart(12)}] ${l}`);

describe('x86_64 report fields', () => {
  const [r] = parseLog(withTime(X86).join('\n'));

  it('has the title, kind and faulting frame', () => {
    expect(r!.title).toBe('BUG: unable to handle kernel NULL pointer dereference in foo_handle');
    expect(r!.kind).toBe('null-deref');
    expect(r!.ipFrame).toMatchObject({ func: 'foo_handle.isra.0', offset: 0x1c, size: 0x90, module: 'foo' });
  });

  it('parses registers by name', () => {
    expect(r!.registers).toMatchObject({
      RIP: '0010:foo_handle.isra.0+0x1c/0x90',
      RSP: '0018:ffffb2f160b239a0',
      EFLAGS: '00010286',
      RBX: '0000000000000000',
      RDI: 'ffff9bf9ffc56850',
      R13: 'ffff9bf9f048da00',
      CR2: '0000000000000010',
      CS: '0010',
    });
  });

  it('parses Code: with the faulting byte', () => {
    expect(r!.code?.bytes[r!.code.faultIndex!]).toBe('48');
    expect(r!.code?.faultIndex).toBe(10);
  });

  it('parses frames with their stack context and reliability', () => {
    const f = r!.frames;
    expect(f.map((x) => x.func)).toEqual([
      '__die',
      'foo_irq',
      '__handle_irq_event_percpu',
      'foo_work_fn',
      'process_one_work',
      'worker_thread',
      'kthread',
      'ret_from_fork',
    ]);
    expect(f[0]).toMatchObject({ reliable: false, context: 'irq' });
    expect(f[1]).toMatchObject({ reliable: true, context: 'irq', module: 'foo', offset: 0x41, size: 0x60 });
    expect(f[3]).toMatchObject({ context: 'task', module: 'foo' });
  });

  it('parses modules, taint, release, build, hardware, CPU, PID and comm', () => {
    expect(r!.modules).toEqual(['foo', 'nfsv3', 'nfs', 'lockd', 'grace', 'sunrpc']);
    expect(r!.taint).toBe('GWOE');
    expect(r!.kernelRelease).toBe('6.1.0-18-amd64');
    expect(r!.kernelBuild).toBe('#1 Debian 6.1.76-1');
    expect(r!.hardware).toBe('QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014');
    expect([r!.cpu, r!.pid, r!.comm]).toEqual([3, 4242, 'kworker/3:1']);
    expect(r!.startLine).toBe(1);
    expect(r!.endLine).toBe(X86.length);
  });
});

describe('arm64 report fields', () => {
  const [r] = parseLog(withTime(ARM64).join('\n'));
  it('names the pc function and parses arm64 registers, code and frames', () => {
    expect(r!.title).toBe('BUG: unable to handle kernel NULL pointer dereference in nfs_unlock_request');
    expect(r!.registers).toMatchObject({
      pc: 'nfs_unlock_request+0x18/0x40',
      lr: 'nfs_end_page_writeback+0x30/0x90',
      sp: 'ffff80008279bb50',
      x29: 'ffff80008279bb50',
      x0: '0000000000000000',
      pstate: '60400005',
    });
    expect(r!.code).toMatchObject({ bytes: ['f9400001', 'b4000061', 'd503233f', 'f9400400'], faultIndex: 3 });
    expect(r!.frames.map((f) => f.func)).toEqual(['nfs_unlock_request', 'nfs_end_page_writeback', 'el0_svc']);
    expect(r!.modules).toEqual(['nfs', 'lockd']);
    expect(r!.taint).toBeNull();
    expect(r!.kernelRelease).toBe('6.6.0');
  });
});

describe('line prefixes', () => {
  const variants: Record<string, string[]> = {
    none: X86,
    timestamp: withTime(X86),
    'timestamp+caller': X86.map((l, i) => `[  ${(100 + i / 1000).toFixed(6)}][ T4242] ${l}`),
    'cpu caller': X86.map((l) => `[C3] ${l}`),
    loglevel: X86.map((l, i) => `<4>[  ${(100 + i / 1000).toFixed(6)}] ${l}`),
    syslog: X86.map((l) => `Nov 25 18:20:15 host1 kernel: ${l}`),
    'syslog+timestamp': withTime(X86).map((l) => `Nov  5 08:01:02 host1 kernel: ${l}`),
    'journalctl iso': X86.map((l) => `2026-11-25T18:20:15.123456+00:00 host1 kernel: ${l}`),
  };
  for (const [name, lines] of Object.entries(variants)) {
    it(`parses the same report with ${name} prefixes`, () => {
      const reps = parseLog(['some earlier message', ...lines].join('\n'));
      expect(reps).toHaveLength(1);
      expect(reps[0]!.title).toBe('BUG: unable to handle kernel NULL pointer dereference in foo_handle');
      expect(reps[0]!.frames.map((f) => f.func)).toContain('foo_work_fn');
      expect(reps[0]!.modules).toHaveLength(6);
      expect(reps[0]!.startLine).toBe(2);
    });
  }

  it('keeps only the crashing task when another CPU interleaves its lines (printk caller ids)', () => {
    const mine = X86.map((l, i) => `[  ${(100 + i / 1000).toFixed(6)}][ T4242] ${l}`);
    const other = X86.map(
      (_, i) => `[  ${(100 + i / 1000).toFixed(6)}][ T9999]  other_task_fn+0x${(i + 1).toString(16)}/0x100`,
    );
    const mixed = mine.flatMap((l, i) => [l, other[i]!]);
    const [r] = parseLog(mixed.join('\n'));
    expect(r!.context).toBe('T4242');
    expect(r!.frames.map((f) => f.func)).not.toContain('other_task_fn');
    expect(r!.title).toBe('BUG: unable to handle kernel NULL pointer dereference in foo_handle');
  });

  it('ignores other programs in a syslog', () => {
    const lines = X86.map((l) => `Nov 25 18:20:15 host1 kernel: ${l}`);
    lines.splice(3, 0, 'Nov 25 18:20:15 host1 sshd[77]: WARNING: something user-space');
    const reps = parseLog(lines.join('\n'));
    expect(reps).toHaveLength(1);
  });
});

describe('several reports', () => {
  it('finds each report of a long log in order with its line range', () => {
    const log = [
      ...withTime(['boot ok', 'NFS: Invalid unlock attempted'], 1),
      ...withTime(X86, 10),
      ...withTime(
        Array.from({ length: 300 }, (_, i) => `eth0: link event ${i}`),
        20,
      ),
      ...withTime(ARM64, 30),
    ];
    const reps = parseLog(log.join('\n'));
    expect(reps.map((r) => r.kind)).toEqual(['null-deref', 'null-deref']);
    expect(reps[0]!.startLine).toBe(3);
    expect(reps[0]!.messages).toEqual(['boot ok', 'NFS: Invalid unlock attempted']);
    expect(reps[1]!.startLine).toBe(3 + X86.length + 300);
    expect(reps[0]!.endLine).toBeLessThan(reps[1]!.startLine);
  });
});

describe('module lists printed without a console prefix', () => {
  const ts = (l: string) => `[  100.000000] ${l}`;
  const report = (moduleLines: string[], after: string[] = []) =>
    [
      ts('WARNING: CPU: 1 PID: 796 at kernel/sched/core.c:2342 preempt_notifier_register+0x30/0x70'),
      ...moduleLines,
      ...after,
      ts('CPU: 1 PID: 796 Comm: EMT Tainted: G        W  OE   4.2.0-rc2 #1'),
      ts('RIP: 0010:[<ffffffff8109c740>]  [<ffffffff8109c740>] preempt_notifier_register+0x30/0x70'),
      ts('Call Trace:'),
      ts(' [<ffffffff8176ff14>] dump_stack+0x45/0x57'),
      ts(' [<ffffffff81074a8a>] warn_slowpath_common+0x8a/0xc0'),
      ts('---[ end trace 0000000000000000 ]---'),
    ].join('\n');

  it('takes a wrapped continuation with no timestamp into the report', () => {
    // Only a long line wraps (the kernel's console line limit): 40 modules, then the rest.
    const many = Array.from({ length: 40 }, (_, i) => `mod${i}`);
    const [w] = parseLog(
      report([ts(`Modules linked in: ${many.join(' ')}`), 'pci_stub e1000e video [last unloaded: kvm]']),
    );
    expect(w?.modules).toEqual([...many, 'pci_stub', 'e1000e', 'video']);
    expect(w?.title).toBe('WARNING in preempt_notifier_register');
    // A short line was not wrapped: what follows it is not taken for modules.
    const [r] = parseLog(
      report([
        ts('Modules linked in: vboxpci(OE) vboxnetadp(OE) joydev'),
        'pci_stub e1000e video [last unloaded: kvm]',
      ]),
    );
    expect(r?.modules).toEqual(['vboxpci', 'vboxnetadp', 'joydev']);
    expect(r?.title).toBe('WARNING in preempt_notifier_register');
  });

  it('takes an unprefixed `Modules linked in:` line a line or two after the report', () => {
    const [r] = parseLog(
      report([
        'registering preempt_notifier while notifiers disabled',
        'Modules linked in: vboxdrv(OE) joydev',
      ]),
    );
    expect(r?.modules).toEqual(['vboxdrv', 'joydev']);
    expect(r?.taint).toBe('GWOE');
  });

  it('does not take an unprefixed stack dump or other text after the module list', () => {
    const [r] = parseLog(
      report(
        [ts('Modules linked in: joydev')],
        ['ffff880003247cc8 ffffffff8176ff14 0000000000000000', 'usb 1-1: new device'],
      ),
    );
    expect(r?.modules).toEqual(['joydev']);
  });

  it('leaves unprefixed lines alone in a report of a printk caller id (they cannot be told apart)', () => {
    const log = [
      '[  100.000000][ T796] WARNING: CPU: 1 PID: 796 at kernel/sched/core.c:2342 preempt_notifier_register+0x30/0x70',
      '[  100.000001][ T796] Modules linked in: joydev',
      'pci_stub e1000e',
      '[  100.000002][ T796] CPU: 1 PID: 796 Comm: EMT Not tainted 4.2.0-rc2 #1',
    ].join('\n');
    expect(parseLog(log)[0]?.modules).toEqual(['joydev']);
  });
});

describe('a kernel line glued to the end of a program line', () => {
  it('starts the report at the console timestamp, so that it takes the lines after it', () => {
    const log = [
      '[  270.000000] IP-Config: no response after 100 secs - giving up',
      '/init: 384: .: [  271.403835] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000200',
      '[  271.412757] CPU: 7 UID: 0 PID: 1 Comm: init Not tainted 6.13.0 #1',
      '[  271.422397] Hardware name: Google Steelix board (DT)',
      '[  271.427348] Call trace:',
      '[  271.429782]  show_stack+0x20/0x38 (C)',
      '[  271.433437]  dump_stack_lvl+0xc8/0xf8',
      '[  271.440392]  panic+0x3d0/0x438',
      '[  271.443436]  do_exit+0x84c/0xa28',
      '[  271.446654]  __arm64_sys_exit+0x20/0x28',
      '[  271.473256] SMP: stopping secondary CPUs',
    ].join('\n');
    const [r, ...rest] = parseLog(log);
    expect(rest).toEqual([]);
    expect(r?.title).toBe('kernel panic: Attempted to kill init!');
    expect(r?.corrupted).toBe(false);
    expect(r?.hardware).toBe('Google Steelix board (DT)');
    expect(r?.pid).toBe(1);
    expect(r?.frames.map((f) => f.func).slice(0, 3)).toEqual(['show_stack', 'dump_stack_lvl', 'panic']);
    expect(r?.startLine).toBe(2);
  });

  it('leaves a log without console timestamps as it is', () => {
    const log = ['foo: [bar] Kernel panic - not syncing: Fatal exception', 'Call Trace:'].join('\n');
    const [r] = parseLog(log);
    expect(r?.title).toBe('kernel panic: Fatal exception');
  });
});

describe('frames the kernel could not name', () => {
  it('keeps a bare kernel address in its place in the trace, reliable or not', () => {
    const log = [
      '[    5.269686] BUG: unable to handle page fault for address: 0000000000200286',
      '[    5.269687] Oops: 0000 [#1] PREEMPT SMP PTI',
      '[    5.269698] RIP: 0010:string_nocheck+0x19/0x3d',
      '[    5.285952] Call Trace:',
      '[    5.285961]  driver_register+0x9e/0xdb',
      '[    5.285962]  ? 0xffffffffc00b7000',
      '[    5.285963]  do_one_initcall+0x90/0x1ae',
      '[    5.285964]  [<ffffffffc00c1000>] 0xffffffffc00c1000',
      '[    5.285965]  do_init_module+0x4b/0x1fd',
    ].join('\n');
    const [r] = parseLog(log);
    expect(r?.frames.map((f) => [f.func, f.reliable, f.address])).toEqual([
      ['driver_register', true, null],
      ['0xffffffffc00b7000', false, 'ffffffffc00b7000'],
      ['do_one_initcall', true, null],
      ['0xffffffffc00c1000', true, 'ffffffffc00c1000'],
      ['do_init_module', true, null],
    ]);
  });

  it('keeps them in a SLUB report, whose INFO: lines and stacks are its own (no Call Trace)', () => {
    const log = [
      '[   99.408388] =============================================================================',
      '[   99.408393] BUG kmalloc-64 (Not tainted): Poison overwritten',
      '[   99.408394] -----------------------------------------------------------------------------',
      '[   99.408394]',
      '[   99.408398] INFO: 0xf2751962-0xf2751995. First byte 0x98 instead of 0x6b',
      '[   99.408402] INFO: Allocated in 0xfdc88c28 age=79 cpu=0 pid=1329',
      '[   99.408407]  __slab_alloc.isra.50.constprop.56+0x49f/0x533',
      '[   99.408410]  kmem_cache_alloc_trace+0x10d/0x140',
      '[   99.408412]  0xfdc88c28',
      '[   99.408417]  do_one_initcall+0x112/0x160',
    ].join('\n');
    const [r, ...rest] = parseLog(log);
    expect(rest).toEqual([]);
    expect(r?.title).toBe('BUG kmalloc-NUM (Not tainted): Poison overwritten');
    expect(r?.frames.map((f) => f.func)).toEqual([
      '__slab_alloc.isra.50.constprop.56',
      'kmem_cache_alloc_trace',
      '0xfdc88c28',
      'do_one_initcall',
    ]);
  });

  it('does not take a short (user-space) address for a kernel frame', () => {
    const log = [
      '[16164.400000] Unable to handle kernel pointer dereference in virtual kernel address space',
      '[16164.400001] Call Trace:',
      '[16164.400002] ([<00000000001c0c8a>] will_oops_init+0x2a/0x40)',
      '[16164.400552]  [<000003fffd4a1d92>] 0x3fffd4a1d92',
    ].join('\n');
    const [r] = parseLog(log);
    expect(r?.frames.some((f) => f.func.startsWith('0x'))).toBe(false);
  });
});
