// View-model fixtures for the page renderers' unit tests (no store, no parser): a report with
// every section filled, and hostile strings in every field that comes from a log.
import type { CrashReport, Frame } from '../../../src/report/types.ts';
import type { Analysis, Bucket, BucketListItem, Crash, StoredLog } from '../../../src/store/types.ts';

/** Strings a log could carry that would be markup or script if not escaped. */
export const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(2)>',
  "'><svg onload=alert(3)>",
  'javascript:alert(4)',
  '</pre><iframe src=javascript:alert(5)>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection payload, literally.
  '`${alert(6)}`',
];
export const EVIL = HOSTILE.join(' ');

export function frame(func: string, over: Partial<Frame> = {}): Frame {
  return {
    func,
    offset: 0x37,
    size: 0x90,
    module: null,
    address: null,
    reliable: true,
    context: 'task',
    inlined: false,
    file: null,
    line: null,
    ...over,
  };
}

export function report(over: Partial<CrashReport> = {}): CrashReport {
  return {
    kind: 'bug',
    title: 'kernel BUG in nfs_unlock_request',
    altTitles: [],
    type: 'BUG',
    corrupted: false,
    corruptedReason: null,
    guiltyFrame: 'nfs_unlock_request',
    bugLocation: { file: 'fs/nfs/pagelist.c', line: 382 },
    messages: ['NFS: Invalid unlock attempted'],
    ipFrame: frame('nfs_unlock_request', { module: 'nfs', context: 'exception' }),
    frames: [
      frame('irq_exit', { context: 'irq', reliable: false }),
      frame('nfs_unlock_request', { module: 'nfs', file: 'fs/nfs/pagelist.c', line: 382 }),
      frame('nfs_end_page_writeback', { module: 'nfs' }),
      frame('do_writepages'),
    ],
    registers: { RIP: '0010:nfs_unlock_request+0x37/0x40 [nfs]', RBX: 'ffff9bf9f048da00' },
    code: { bytes: ['48', '89', 'df', '0f', '0b', '90'], faultIndex: 3, raw: '48 89 df <0f> 0b 90' },
    modules: ['nfs', 'lockd', 'sunrpc'],
    taint: 'GWOE',
    kernelRelease: '6.1.76',
    kernelBuild: '#1 SMP PREEMPT_DYNAMIC',
    hardware: 'QEMU Standard PC',
    cpu: 3,
    pid: 8436,
    comm: 'kworker/u8:2',
    context: 'T8436',
    startLine: 2,
    endLine: 4,
    text: 'kernel BUG at fs/nfs/pagelist.c:382!',
    ...over,
  };
}

export function crash(over: Partial<Crash> = {}): Crash {
  const r = over.report ?? report();
  return {
    id: 7,
    bucketId: 3,
    title: r.title,
    kind: r.kind,
    host: 'web-01',
    kernel: '6.1.76',
    occurredAt: '2026-11-20T10:00:00.000Z',
    receivedAt: '2026-11-20T10:00:05.000Z',
    rule: 'title+stack',
    similarity: 0.93,
    rawText: 'a\nb\nc',
    rawStartLine: 2,
    report: r,
    signature: ['nfs_unlock_request', 'nfs_end_page_writeback'],
    contentHash: 'abc',
    kernelBuild: null,
    logId: 11,
    logSource: 'upload',
    analyses: [],
    ...over,
  };
}

export function log(text: string, over: Partial<StoredLog> = {}): StoredLog {
  return {
    id: 11,
    source: 'upload',
    host: 'web-01',
    format: 'console',
    sha256: '00',
    size: text.length,
    receivedAt: '2026-11-20T10:00:05.000Z',
    crashCount: 1,
    noCrash: false,
    warnings: [],
    text,
    ...over,
  };
}

export function perDay(n: number, end = '2026-11-24'): { day: string; count: number }[] {
  const e = Date.parse(`${end}T00:00:00Z`);
  return Array.from({ length: n }, (_, i) => ({
    day: new Date(e - (n - 1 - i) * 86_400_000).toISOString().slice(0, 10),
    count: (i * 7) % 5,
  }));
}

/** What a bucket list item and a bucket say alike: the seed's bucket of two machines. */
const seedBucket = {
  id: 3,
  title: 'kernel BUG in nfs_unlock_request',
  count: 2,
  hosts: ['nfs-client-a', 'nfs-client-b'],
  kernels: ['4.19-distro'],
  firstSeen: '2026-11-20T10:00:00.000Z',
  lastSeen: '2026-11-22T10:00:03.000Z',
  kind: 'bug',
} as const;

export function bucketItem(over: Partial<BucketListItem> = {}): BucketListItem {
  return {
    ...seedBucket,
    hosts: [...seedBucket.hosts],
    kernels: [...seedBucket.kernels],
    perDay: perDay(28),
    ...over,
  };
}

export function bucket(over: Partial<Bucket> = {}): Bucket {
  return {
    ...seedBucket,
    hosts: [...seedBucket.hosts],
    kernels: [...seedBucket.kernels],
    signature: ['nfs_unlock_request', 'nfs_end_page_writeback'],
    representativeCrashId: 7,
    hostCounts: [
      { name: 'nfs-client-a', count: 1 },
      { name: 'nfs-client-b', count: 1 },
    ],
    kernelCounts: [{ name: '4.19-distro', count: 2 }],
    perDay: perDay(3),
    members: [crash(), crash({ id: 8, host: 'nfs-client-b', rule: 'new', similarity: null })],
    analyses: [],
    ...over,
  };
}

export function analysis(over: Partial<Analysis> = {}): Analysis {
  return {
    id: 5,
    kind: 'vmcore',
    title: 'vmcore triage',
    crashId: 7,
    bucketId: 3,
    createdAt: '2026-11-21T00:00:00.000Z',
    formats: ['md', 'html'],
    markdown: '# Triage\n\n`req` = ffff9bf9f048da00',
    html: '<h1>Triage</h1><p>req</p>',
    json: { req: 'ffff9bf9f048da00' },
    meta: { crash: '8.0.2' },
    jobId: null,
    ...over,
  };
}
