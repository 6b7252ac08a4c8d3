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
});
