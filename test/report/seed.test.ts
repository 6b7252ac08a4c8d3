import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLog } from '../../src/report/index.ts';
import { frameSignature, SAME_BUCKET_THRESHOLD, stackSimilarity } from '../../src/signature/index.ts';

const seed = resolve(import.meta.dirname, '../../../shared/seed');
const read = (f: string) => readFileSync(resolve(seed, f), 'utf8');

describe('seed: NFS kernel BUG on two machines', () => {
  const a = parseLog(read('machine-a.log'));
  const b = parseLog(read('machine-b.log'));

  it('finds exactly one report per machine', () => {
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
  });

  it('is a kernel BUG at fs/nfs/pagelist.c:382 with the NFS message attached', () => {
    for (const r of [a[0]!, b[0]!]) {
      expect(r.kind).toBe('bug');
      expect(r.bugLocation).toEqual({ file: 'fs/nfs/pagelist.c', line: 382 });
      expect(r.messages).toContain('NFS: Invalid unlock attempted');
      // The RIP line (nfs_unlock_request+0x37) is elided in both logs: the title names the top of
      // the call trace instead of syzkaller's `kernel BUG in corrupted`.
      expect(r.title).toBe('kernel BUG in nfs_end_page_writeback');
      expect(r.corrupted).toBe(false);
      expect(r.frames[0]?.func).toBe('nfs_end_page_writeback');
      expect(r.frames[0]?.module).toBe('nfs');
      expect(r.startLine).toBe(3);
    }
  });

  it('gives both machines the same title', () => {
    expect(a[0]!.title).toBe(b[0]!.title);
  });

  it('puts both machines in the same bucket although the traces differ below do_writepages', () => {
    const sa = frameSignature(a[0]!);
    const sb = frameSignature(b[0]!);
    expect(sa.slice(0, 7)).toEqual(sb.slice(0, 7));
    expect(sa).not.toEqual(sb);
    expect(stackSimilarity(sa, sb)).toBeGreaterThanOrEqual(SAME_BUCKET_THRESHOLD);
  });

  it('keeps a report of a different bug apart', () => {
    const other = parseLog(
      [
        '[  100.000001] BUG: kernel NULL pointer dereference, address: 0000000000000008',
        '[  100.000002] #PF: supervisor read access in kernel mode',
        '[  100.000003] Oops: 0000 [#1] SMP NOPTI',
        '[  100.000004] CPU: 2 PID: 77 Comm: kworker/2:1 Not tainted 4.19.0 #1',
        '[  100.000005] RIP: 0010:ext4_da_write_end+0x3a/0x2f0',
        '[  100.000006] Call Trace:',
        '[  100.000007]  generic_perform_write+0xf3/0x1b0',
        '[  100.000008]  __generic_file_write_iter+0xfa/0x1c0',
        '[  100.000009]  ext4_file_write_iter+0xb9/0x3c0',
        '[  100.000010]  new_sync_write+0x12d/0x1d0',
        '[  100.000011]  vfs_write+0xa5/0x1a0',
        '[  100.000012]  ksys_write+0x57/0xd0',
        '[  100.000013]  do_syscall_64+0x5b/0x1c0',
        '[  100.000014]  entry_SYSCALL_64_after_hwframe+0x44/0xa9',
      ].join('\n'),
    );
    expect(other).toHaveLength(1);
    expect(other[0]!.title).toBe(
      'BUG: unable to handle kernel NULL pointer dereference in ext4_da_write_end',
    );
    const s = stackSimilarity(frameSignature(a[0]!), frameSignature(other[0]!));
    expect(s).toBeLessThan(SAME_BUCKET_THRESHOLD);
    expect(s).toBeLessThan(0.1);
  });
});
