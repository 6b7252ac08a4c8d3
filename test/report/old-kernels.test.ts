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
});
