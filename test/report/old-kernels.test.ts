// Oops forms of older kernels that syzkaller's table (written for current kernels) has no entry for.
import { describe, expect, it } from 'vitest';
import { parseLog } from '../../src/report/index.ts';

describe('older kernels', () => {
  it('reports an x86 `double fault: 0000 [#N]` oops with the faulting function from RIP', () => {
    const log = [
      '<4>[  100.000000] double fault: 0000 [#3] SMP ',
      '<4>[  100.000001] Modules linked in: fuse ext2',
      '<4>[  100.000002] Pid: 19703, comm: make Tainted: P      D    2.6.31.5-127.fc12.x86_64 #1 Latitude E6430',
      '<4>[  100.000003] RIP: 0010:[<ffffffff8141cd77>]  [<ffffffff8141cd77>] do_page_fault+0x17/0x299',
      '<4>[  100.000004] RSP: 0018:ffff880008bbb018  EFLAGS: 00010096',
      '<4>[  100.000005] Call Trace:',
      '<4>[  100.000006]  [<ffffffff8141af75>] page_fault+0x25/0x30',
      '<4>[  100.000007] Code: ff ff 48 8b 43 28 <31> d2',
    ].join('\n');
    const [r, ...rest] = parseLog(log);
    expect(rest).toEqual([]);
    expect(r?.title).toBe('double fault in do_page_fault');
    expect(r?.kind).toBe('trap');
    expect(r?.pid).toBe(19703);
    expect(r?.taint).toBe('PD');
    expect(r?.kernelRelease).toBe('2.6.31.5-127.fc12.x86_64');
  });

  it('names a soft lockup of a pre-4.x x86_64 kernel by its syscall (entry: system_call_fastpath)', () => {
    const log = [
      '[  100.000000] BUG: soft lockup - CPU#9 stuck for 22s! [ceph-osd:12346]',
      '[  100.000001] CPU: 9 PID: 12346 Comm: ceph-osd Not tainted 3.16.6-200.el7.x86_64 #1',
      '[  100.000002] RIP: 0010:[<ffffffff810dabf2>]  [<ffffffff810dabf2>] queue_read_lock_slowpath+0x82/0x90',
      '[  100.000003] Call Trace:',
      '[  100.000004]  [<ffffffff8170fcfc>] _raw_read_lock+0x1c/0x30',
      '[  100.000005]  [<ffffffffa04fdceb>] btrfs_tree_read_lock+0x6b/0x140 [btrfs]',
      '[  100.000006]  [<ffffffff811fd6e5>] __btrfs_getxattr+0x65/0x120 [btrfs]',
      '[  100.000007]  [<ffffffff811fd9f5>] SyS_fgetxattr+0x65/0xa0',
      '[  100.000008]  [<ffffffff81711d29>] system_call_fastpath+0x16/0x1b',
      '[  100.000009] Code: 00 00 00 f3 90 8b 17 <39> d0',
    ].join('\n');
    const [r, ...rest] = parseLog(log);
    expect(rest).toEqual([]);
    expect(r?.title).toBe('BUG: soft lockup in fgetxattr');
    expect(r?.corrupted).toBe(false);
  });

  it('reads a kmsg-style line whose timestamp is glued to the text after a loglevel', () => {
    const log = [
      '<6>[    1.127622]BUG: unable to handle kernel NULL pointer dereference at 0000000000000118',
      '<6>[    1.127622]IP: [<ffffffff816356ee>] _raw_spin_lock+0xe/0x30',
      '<6>[    1.127622]Oops: 0002 [#1] SMP ',
      '<6>[    1.127622]Modules linked in: vfat fat',
      '<6>[    1.127622]Pid: 1949, comm: nepomukservices Not tainted 3.7.4-204.fc18.x86_64 #1 LENOVO 27672LG/27672LG',
      '<6>[    1.127622]RIP: 0010:[<ffffffff816356ee>]  [<ffffffff816356ee>] _raw_spin_lock+0xe/0x30',
      '<6>[    1.127622]Call Trace:',
      '<6>[    1.127622]  [<ffffffffa0646487>] fat_detach+0x27/0xd0 [fat]',
      '<6>[    1.127622]  [<ffffffffa0646588>] fat_evict_inode+0x58/0x60 [fat]',
      '<6>[    1.127622]  [<ffffffff811ae072>] evict+0xa2/0x1a0',
      '<6>[    1.127622]Code: 48 89 e5 <f0> 66 0f c1 07',
    ].join('\n');
    const [r, ...rest] = parseLog(log);
    expect(rest).toEqual([]);
    expect(r?.title).toBe('BUG: unable to handle kernel NULL pointer dereference in fat_detach');
    expect(r?.corrupted).toBe(false);
    expect(r?.kernelRelease).toBe('3.7.4-204.fc18.x86_64');
    expect(r?.modules).toEqual(['vfat', 'fat']);
    expect(r?.frames.map((f) => f.func)).toEqual(['fat_detach', 'fat_evict_inode', 'evict']);
    expect(r?.endLine).toBe(11);
  });

  it('names an RTNL assertion by its caller, from `?` frames when the kernel printed no other', () => {
    const log = [
      '<6>[    7.813765] RTNL: assertion failed at drivers/net/bonding/bond_main.c (4163)',
      '<6>[    7.813765] CPU: 2 PID: 2834 Comm: avahi-daemon Not tainted 3.12-trunk-amd64 #1 Debian 3.12.3-1~exp1',
      '<6>[    7.813765] Call Trace:',
      '<6>[    7.813765]  [<ffffffff8148a996>] ? dump_stack+0x41/0x51',
      '<6>[    7.813765]  [<ffffffffa06c6273>] ? bond_set_rx_mode+0xb3/0xc0 [bonding]',
      '<6>[    7.813765]  [<ffffffff813ae9be>] ? __dev_mc_add+0x4e/0x60',
      '<6>[    7.813765]  [<ffffffff81497af9>] ? system_call_fastpath+0x16/0x1b',
      '<4>[    7.813766] ---[ end trace 259b43274eeaaa27 ]---',
    ].join('\n');
    const [r, ...rest] = parseLog(log);
    expect(rest).toEqual([]);
    expect(r?.title).toBe('RTNL: assertion failed in bond_set_rx_mode');
    expect(r?.kind).toBe('warning');
    expect(r?.corrupted).toBe(false);
    expect(r?.frames.every((f) => !f.reliable)).toBe(true);
    // A reliable frame, where there is one, wins over the `?` ones.
    const mixed = log.replace('] ? __dev_mc_add', '] __dev_mc_add');
    expect(parseLog(mixed)[0]?.title).toBe('RTNL: assertion failed in __dev_mc_add');
  });

  it("keeps syzkaller's verdict on `?`-only traces for the formats of its table", () => {
    const log = [
      '[  100.000000] WARNING: CPU: 0 PID: 1 at kernel/foo.c:10 foo_bar+0x10/0x20',
      '[  100.000001] Modules linked in:',
      '[  100.000002] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 5.10.0 #1',
      '[  100.000003] Call Trace:',
      '[  100.000004]  ? foo_caller+0x1/0x2',
      '[  100.000005]  ? bar_caller+0x1/0x2',
      '[  100.000006]  ? baz_caller+0x1/0x2',
      '[  100.000007] ---[ end trace 0000000000000000 ]---',
    ].join('\n');
    const [r] = parseLog(log);
    expect(r?.title).toBe('WARNING in corrupted');
    expect(r?.corrupted).toBe(true);
  });

  it('names a sysctl table check failure by the registering caller, with or without `Call Trace:`', () => {
    const bare = [
      '<6>[    3.047228] sysctl table check failed: net/ath1/%parent  Sysctl already exists',
      '<6>[    3.047228] Pid: 4138, comm: wlanconfig Tainted: P          2.6.26-2-686 #1',
      '<6>[    3.047228]  [<c0135c88>] set_fail+0x30/0x39',
      '<6>[    3.047228]  [<c01360b0>] sysctl_check_table+0x41f/0x463',
      '<6>[    3.047228]  [<c01281b9>] __register_sysctl_paths+0xbe/0x10a',
      '<6>[    3.047228]  [<c0128220>] register_sysctl_paths+0x1b/0x1d',
      '<6>[    3.047228]  [<f8e29b53>] ieee80211_sysctl_vattach+0x135/0x21a [wlan]',
      '<6>[    3.047228]  [<f8e148e1>] ieee80211_vap_setup+0x304/0x30d [wlan]',
    ].join('\n');
    const [a] = parseLog(bare);
    expect(a?.title).toBe('sysctl table check failed in ieee80211_sysctl_vattach');
    expect(a?.taint).toBe('P');
    const withHeader = bare.replace(
      '\n<6>[    3.047228]  [<c0135c88>]',
      '\n<6>[    3.047228] Call Trace:\n<6>[    3.047228]  [<c0135c88>]',
    );
    const [b] = parseLog(withHeader);
    expect(b?.title).toBe('sysctl table check failed in ieee80211_sysctl_vattach');
    expect(b?.corrupted).toBe(false);
  });

  it('reads the release of a Red Hat kernel that prints dashes after the taint', () => {
    const log = [
      '[  100.000000] kernel BUG at fs/inode.c:1234!',
      '[  100.000001] invalid opcode: 0000 [#1] SMP',
      '[  100.000002] CPU: 1 PID: 42 Comm: umount Not tainted ----------------   3.10.0-33.el7.x86_64 #1',
      '[  100.000003] RIP: 0010:[<ffffffff811f8a4e>]  [<ffffffff811f8a4e>] evict+0x1ae/0x1b0',
      '[  100.000004] Call Trace:',
      '[  100.000005]  [<ffffffff811f9e1b>] iput+0xfb/0x190',
      '[  100.000006]  [<ffffffff811f49a0>] dput+0xb0/0x1a0',
      '[  100.000007] Code: 0f 0b <0f> 0b',
    ].join('\n');
    const [r] = parseLog(log);
    expect(r?.kernelRelease).toBe('3.10.0-33.el7.x86_64');
    expect(r?.kernelBuild).toBe('#1');
    expect(r?.taint).toBeNull();
    // The dashes may be glued to the last taint letters.
    const glued = log.replace('Not tainted ----------------', 'Tainted: GF          O--------------');
    const [g] = parseLog(glued);
    expect(g?.taint).toBe('GFO');
    expect(g?.kernelRelease).toBe('3.10.0-33.el7.x86_64');
  });

  it('reads CPU, release, comm, PID and the lower-case registers of a 2.6-era i386 oops', () => {
    const log = [
      '[   71.427722] BUG: unable to handle kernel NULL pointer dereference at virtual address 00000008',
      '[   71.427740] Oops: 0000 [#1]',
      '[   71.427756] Modules linked in: thinkpad_acpi ppdev',
      '[   71.427811] CPU:    0',
      '[   71.427814] EIP:    0060:[<c022a7b5>]    Not tainted VLI',
      '[   71.427815] EFLAGS: 00010202   (2.6.18-1.2798.fc6 #1)',
      '[   71.427867] EIP is at acpi_ns_internalize_name+0xd/0x83',
      '[   71.427892] eax: 00000008   ebx: 00000000   ecx: 00000000   edx: c7879e54',
      '[   71.427903] ds: 007b   es: 007b   ss: 0068',
      '[   71.427906] Process modprobe (pid: 4467, ti=c7878000 task=ce5c94c0 task.ti=c7878000)',
      '[   71.427930] Call Trace:',
      '[   71.427937]  [<c01c4390>] __sysfs_new_dirent+0x20/0x50',
      '[   71.427941]  [<c022a85c>] acpi_ns_get_node+0x31/0x93',
    ].join('\n');
    const [r] = parseLog(log);
    expect(r?.cpu).toBe(0);
    expect(r?.kernelRelease).toBe('2.6.18-1.2798.fc6');
    expect(r?.kernelBuild).toBe('#1');
    expect(r?.comm).toBe('modprobe');
    expect(r?.pid).toBe(4467);
    expect(r?.taint).toBeNull();
    expect(r?.registers).toMatchObject({ eax: '00000008', edx: 'c7879e54', ds: '007b', ss: '0068' });
  });

  it('reads the CPU from the EFLAGS line of a later i386 oops', () => {
    const log = [
      '[  100.000000] BUG: unable to handle kernel paging request at f88dec25',
      '[  100.000001] Oops: 0000 [#1] SMP',
      '[  100.000002] EIP: 0060:[<f88dec25>] EFLAGS: 00213246 CPU: 1',
      '[  100.000003] Call Trace:',
      '[  100.000004]  [<c01c4390>] __sysfs_new_dirent+0x20/0x50',
    ].join('\n');
    expect(parseLog(log)[0]?.cpu).toBe(1);
  });

  it('does not take the `CPU 1` line after a long module list for a module', () => {
    const mods = Array.from({ length: 30 }, (_, i) => `module_${i}`).join(' ');
    const log = [
      '[   42.863016] BUG: unable to handle kernel NULL pointer dereference at 0000000000000010',
      '[   42.863016] Oops: 0000 [#1] SMP ',
      `[   42.863016] Modules linked in: ${mods}`,
      '[   42.863016] CPU 1 ',
      '[   42.863016] Pid: 802, comm: wpa_supplicant Tainted: P           O 3.6.1-1.fc17.x86_64 #1 HP Presario',
      '[   42.863016] RIP: 0010:[<ffffffff81234567>]  [<ffffffff81234567>] foo_bar+0x10/0x20',
      '[   42.863016] Call Trace:',
      '[   42.863016]  [<ffffffff81234568>] baz+0x10/0x20',
    ].join('\n');
    const [r] = parseLog(log);
    expect(r?.modules).toHaveLength(30);
    expect(r?.cpu).toBe(1);
    expect(r?.pid).toBe(802);
  });

  it('reports an interrupt nobody claimed, titled without the machine-specific IRQ number', () => {
    const noise = Array.from(
      { length: 3000 },
      (_, i) => `[   10.${String(i).padStart(6, '0')}] usb 1-1: port ${i}: ok`,
    );
    const report = (irq: number) => [
      `[   68.975944] irq ${irq}: nobody cared (try booting with the "irqpoll" option)`,
      '[   68.975945] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 3.10.7-100.fc18.i686.PAE #1',
      '[   68.975946] Call Trace:',
      '[   68.975947]  [<c099a83c>] dump_stack+0x16/0x18',
      '[   68.975948]  [<c04cd159>] __report_bad_irq+0x29/0xd0',
      '[   68.975949]  [<c04cd576>] note_interrupt+0x166/0x1b0',
      '[   68.975950] handlers:',
      '[   68.975951] [<c07ee6c0>] usb_hcd_irq',
      `[   68.975952] Disabling IRQ #${irq}`,
    ];
    // After a long stretch of other lines, so that the fast path's scan has to find it.
    const a = parseLog([...noise, ...report(11)].join('\n'));
    const b = parseLog([...noise, ...report(16)].join('\n'), { fastPath: false });
    expect(a.map((r) => r.title)).toEqual(['irq: nobody cared']);
    expect(b.map((r) => r.title)).toEqual(['irq: nobody cared']);
    expect(a[0]?.frames.map((f) => f.func)).toEqual(['dump_stack', '__report_bad_irq', 'note_interrupt']);
  });
});
