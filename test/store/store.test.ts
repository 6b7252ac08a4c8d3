// The store on both dialects, same code: seed bucketing, idempotence, logs without crashes, bad
// input, queries and filters, analyses, rebucket determinism.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLog } from '../../src/report/index.ts';
import { frameSignature } from '../../src/signature/index.ts';
import { openStore } from '../../src/store/index.ts';
import type { KyselyStore } from '../../src/store/store.ts';
import { corpusReports } from './corpus.ts';
import { dialects, freshDb, shared, type TestDb } from './helpers.ts';

const machineA = readFileSync(join(shared, 'seed/machine-a.log'), 'utf8');
const machineB = readFileSync(join(shared, 'seed/machine-b.log'), 'utf8');

describe.each(dialects())('store on %s', (dialect) => {
  let db: TestDb;
  let store: KyselyStore;

  beforeAll(async () => {
    db = await freshDb(dialect);
    store = await openStore(db.url);
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('seed: machine-a as host A and machine-b as host B -> one bucket, count 2, hosts A and B', async () => {
    const a = await store.ingestLog({ text: machineA, host: 'A', source: 'machine-a.log' });
    const b = await store.ingestLog({ text: machineB, host: 'B', source: 'machine-b.log' });
    expect(a.crashes).toHaveLength(1);
    expect(b.crashes).toHaveLength(1);
    expect(a.crashes[0]!.rule).toBe('new');
    expect(b.crashes[0]!.bucketId).toBe(a.crashes[0]!.bucketId);
    expect(['title+stack', 'stack', 'title']).toContain(b.crashes[0]!.rule);
    const list = await store.listBuckets();
    expect(list.items).toHaveLength(1);
    const bucket = list.items[0]!;
    expect(bucket.count).toBe(2);
    expect(bucket.hosts).toEqual(['A', 'B']);
    expect(bucket.title).toBe(parseLog(machineA)[0]!.title);
    const full = await store.getBucket(bucket.id);
    expect(full!.members.map((m) => m.host).sort()).toEqual(['A', 'B']);
    expect(full!.hostCounts).toEqual([
      { name: 'A', count: 1 },
      { name: 'B', count: 1 },
    ]);
    expect(full!.signature).toEqual(frameSignature(parseLog(machineA)[0]!));
    expect(full!.representativeCrashId).toBe(a.crashes[0]!.crashId);
    const joined = full!.members.find((m) => m.host === 'B')!;
    expect(joined.rule).toBe(b.crashes[0]!.rule);
    if (joined.rule !== 'title') expect(joined.similarity).toBeGreaterThan(0);
  });

  it('lists host names sorted, up to a limit', async () => {
    await store.ingestLog({
      text: '[    0.000000] Linux version 6.1.0\n',
      host: 'zz-last',
      source: 'boot-zz.log',
    });
    const all = await store.listHosts();
    expect(all).toEqual([...all].sort());
    expect(all).toEqual(expect.arrayContaining(['A', 'B', 'zz-last']));
    expect(await store.listHosts(2)).toEqual(all.slice(0, 2));
  });

  it('idempotence: the same log from the same host twice -> one crash', async () => {
    const before = await store.stats();
    const again = await store.ingestLog({ text: machineA, host: 'A', source: 'machine-a.log' });
    expect(again.duplicateLog).toBe(true);
    expect(again.crashes.map((c) => c.created)).toEqual([false]);
    const after = await store.stats();
    expect(after.crashes).toBe(before.crashes);
    expect(after.logs).toBe(before.logs);
  });

  it('idempotence: the same text from two hosts -> two crashes in one bucket', async () => {
    const c = await store.ingestLog({ text: machineA, host: 'C', source: 'machine-a.log' });
    expect(c.crashes[0]!.created).toBe(true);
    const list = await store.listBuckets();
    expect(list.items).toHaveLength(1);
    expect(list.items[0]!.count).toBe(3);
    expect(list.items[0]!.hosts).toEqual(['A', 'B', 'C']);
  });

  it('a batch with the same report twice for one host stores it once', async () => {
    const before = await store.stats();
    const rs = await store.ingestLogs([
      { text: machineB, host: 'D', source: 'x' },
      { text: `${machineB}\n`, host: 'D', source: 'y' },
    ]);
    expect(rs[0]!.crashes[0]!.created).toBe(true);
    expect(rs[1]!.crashes[0]!.created).toBe(false);
    expect(rs[1]!.crashes[0]!.crashId).toBe(rs[0]!.crashes[0]!.crashId);
    expect((await store.stats()).crashes).toBe(before.crashes + 1);
  });

  it('a log without any crash is kept and reported as such', async () => {
    const r = await store.ingestLog({
      text: '[    0.000000] Linux version 6.1.0-18-amd64\n[    1.234567] systemd[1]: Started Journal Service.\n',
      host: 'quiet',
      source: 'boot.log',
    });
    expect(r.noCrash).toBe(true);
    expect(r.crashes).toEqual([]);
    const logs = await store.listNoCrashLogs();
    expect(logs.map((l) => l.source)).toContain('boot.log');
    const log = await store.getLog(r.logId);
    expect(log!.noCrash).toBe(true);
    expect(log!.text).toContain('Started Journal Service');
    expect((await store.stats()).noCrashLogs).toBeGreaterThanOrEqual(1);
  });

  it('bad input: empty and binary are refused with the input named; invalid UTF-8 is kept with a warning', async () => {
    await expect(store.ingestLog({ text: new Uint8Array(0), source: 'empty.log' })).rejects.toThrow(
      /empty\.log: empty/,
    );
    const bin = new Uint8Array(4096);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 7919) % 256;
    await expect(store.ingestLog({ text: bin, source: 'vmcore.bin' })).rejects.toThrow(
      /vmcore\.bin: binary content/,
    );
    const bad = Buffer.concat([
      Buffer.from(machineA.slice(0, 40)),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from(machineA.slice(40)),
    ]);
    const r = await store.ingestLog({ text: bad, host: 'utf', source: 'bad-utf8.log' });
    expect(r.warnings.join('\n')).toMatch(/invalid UTF-8/);
    expect(r.crashes).toHaveLength(1);
    const crash = await store.getCrash(r.crashes[0]!.crashId);
    expect(crash!.host).toBe('utf');
  });

  it('getCrash returns the raw text verbatim, the parsed report, host and kernel', async () => {
    const r = await store.ingestLog({ text: machineB, host: 'E', kernel: '4.19.0-test', source: 'b.log' });
    const c = await store.getCrash(r.crashes[0]!.crashId);
    expect(c).not.toBeNull();
    const report = parseLog(machineB)[0]!;
    const lines = machineB.split('\n').slice(report.startLine - 1, report.endLine);
    expect(c!.rawText).toBe(lines.join('\n'));
    expect(c!.report.title).toBe(report.title);
    expect(c!.report.frames.length).toBe(report.frames.length);
    expect(c!.host).toBe('E');
    expect(c!.kernel).toBe('4.19.0-test');
    expect(c!.logSource).toBe('b.log');
    expect(c!.bucketId).toBe(r.crashes[0]!.bucketId);
    expect((await store.getLog(c!.logId))!.text).toBe(machineB);
    // A log that is exactly one report is stored once and read back whole.
    const cut = await store.ingestLog({ text: `${c!.rawText}\n`, host: 'cut', source: 'cut.log' });
    expect((await store.getLog(cut.logId))!.text).toBe(`${c!.rawText}\n`);
    expect(await store.getCrash(999_999)).toBeNull();
    expect(await store.getBucket(999_999)).toBeNull();
  });

  it('filters: since, host, kernel (exact and prefix), search, sort and paging; per-day counts', async () => {
    const t = (d: string) => `${d}T12:00:00.000Z`;
    await store.ingestLog({ text: machineA, host: 'F', kernel: '6.1.0-1', occurredAt: t('2024-01-10') });
    await store.ingestLog({ text: machineA, host: 'F', kernel: '6.1.0-1', occurredAt: t('2024-01-12') });
    await store.ingestLog({ text: machineB, host: 'G', kernel: '6.1.0-2', occurredAt: t('2024-01-12') });
    const byHost = await store.listBuckets({ host: 'F' });
    expect(byHost.items).toHaveLength(1);
    expect(byHost.items[0]!.count).toBe(2);
    expect(byHost.items[0]!.hosts).toEqual(['F']);
    expect((await store.listBuckets({ kernel: '6.1.0-2' })).items[0]!.count).toBe(1);
    expect((await store.listBuckets({ kernel: '6.1.*' })).items[0]!.count).toBe(3);
    expect((await store.listBuckets({ kernel: 'nope' })).items).toEqual([]);
    const title = parseLog(machineA)[0]!.title;
    const frame = frameSignature(parseLog(machineA)[0]!)[0]!;
    expect((await store.listBuckets({ search: title.slice(2, 12).toUpperCase() })).items).toHaveLength(1);
    expect((await store.listBuckets({ search: frame })).items).toHaveLength(1);
    expect((await store.listBuckets({ search: 'no such frame 50%_' })).items).toEqual([]);
    const withDays = await store.listBuckets({ host: 'F', perDayDays: 5, until: t('2024-01-12') });
    expect(withDays.items[0]!.perDay).toEqual([
      { day: '2024-01-08', count: 0 },
      { day: '2024-01-09', count: 0 },
      { day: '2024-01-10', count: 1 },
      { day: '2024-01-11', count: 0 },
      { day: '2024-01-12', count: 1 },
    ]);
    // Without the host filter the sparkline counts G's crash that day too.
    const all = await store.listBuckets({ kernel: '6.1.*', perDayDays: 1, until: t('2024-01-12') });
    expect(all.items[0]!.perDay).toEqual([{ day: '2024-01-12', count: 2 }]);
    const since = await store.listBuckets({ since: '2024-01-11T00:00:00Z', until: '2024-01-31T00:00:00Z' });
    expect(since.items[0]!.count).toBe(2);
    expect(since.items[0]!.hosts).toEqual(['F', 'G']);
    const b = await store.getBucket(since.items[0]!.id);
    const days = await store.bucketPerDay(b!.id, { since: '2024-01-10', until: '2024-01-12' });
    expect(days.map((d) => d.count)).toEqual([1, 0, 2]);
  });

  it('logs with several reports give several crashes; other titles get their own buckets', async () => {
    const kasan = readFileSync(join(shared, 'corpora/squad/multiple_issues_dmesg.log'), 'utf8');
    const reports = parseLog(kasan);
    const r = await store.ingestLog({ text: kasan, host: 'multi', source: 'multiple_issues_dmesg.log' });
    expect(r.crashes).toHaveLength(reports.length);
    expect(r.crashes.map((c) => c.title)).toEqual(reports.map((x) => x.title));
    for (const c of r.crashes) {
      const stored = await store.getCrash(c.crashId);
      expect(stored!.title).toBe(c.title);
    }
    const titles = new Set(r.crashes.map((c) => c.title));
    const buckets = new Set(r.crashes.map((c) => c.bucketId));
    expect(buckets.size).toBeGreaterThanOrEqual(Math.min(titles.size, 2));
  });

  it('bucket counts equal their members and first/last seen their extremes', async () => {
    const { items } = await store.listBuckets({ limit: 1000 });
    const st = await store.stats();
    expect(items.reduce((n, b) => n + b.count, 0)).toBe(st.crashes);
    for (const it of items) {
      const b = await store.getBucket(it.id, { members: { limit: 10_000 } });
      expect(b!.members).toHaveLength(b!.count);
      const times = b!.members.map((m) => m.occurredAt).sort();
      expect(b!.firstSeen).toBe(times[0]);
      expect(b!.lastSeen).toBe(times[times.length - 1]);
    }
  });

  it('analyses attach to crashes and buckets', async () => {
    const { items } = await store.listBuckets();
    const bucketId = items[0]!.id;
    const crashId = (await store.listBucketCrashes(bucketId, { limit: 1 }))[0]!.id;
    const id = await store.addAnalysis({
      kind: 'vmcore',
      title: 'nfs_page refcount',
      crashId,
      bucketId,
      markdown: '# req\n',
      json: { req: 'ffff9bf9f048da00' },
      meta: { kernel: '4.19' },
    });
    const a = await store.getAnalysis(id);
    expect(a).toMatchObject({
      kind: 'vmcore',
      crashId,
      bucketId,
      markdown: '# req\n',
      html: null,
      json: { req: 'ffff9bf9f048da00' },
    });
    expect(a!.formats).toEqual(['md', 'json']);
    expect((await store.listAnalyses({ crashId })).map((x) => x.id)).toContain(id);
    expect((await store.getBucket(bucketId))!.analyses.map((x) => x.id)).toContain(id);
    expect((await store.getCrash(crashId))!.analyses.map((x) => x.id)).toContain(id);
    await expect(
      store.addAnalysis({ kind: 'source', title: 'x', crashId: 999_999, markdown: 'x' }),
    ).rejects.toThrow(/crash 999999/);
    await expect(store.addAnalysis({ kind: 'source', title: 'x' })).rejects.toThrow(/at least one/);
  });

  it('rebucket is deterministic and keeps every crash in a bucket', async () => {
    const before = await store.listBuckets({ limit: 1000 });
    const r1 = await store.rebucket();
    const after1 = await store.listBuckets({ limit: 1000 });
    const r2 = await store.rebucket();
    const after2 = await store.listBuckets({ limit: 1000 });
    expect(r1.crashes).toBe((await store.stats()).crashes);
    expect(r2.moved).toBe(0);
    expect(after2.items).toEqual(after1.items);
    // The rules did not change, so rebucketing what ingest bucketed changes nothing.
    expect(r1.moved).toBe(0);
    expect(after1.items.map((b) => [b.id, b.count])).toEqual(before.items.map((b) => [b.id, b.count]));
    // Ingest after a rebucket sees the rebuilt buckets.
    const r = await store.ingestLog({ text: machineB, host: 'after-rebucket' });
    expect(r.crashes[0]!.bucketId).toBe(after1.items.find((b) => b.title === r.crashes[0]!.title)!.id);
  });

  it('a stored report inside a new log is not written again, next to a new one', async () => {
    // A writer that has met no stored key yet: on PostgreSQL its first try is plain INSERTs,
    // which the stored crash fails with a unique violation; the batch is retried skipping
    // stored keys (and the writer keeps doing so for a while).
    const writer = await openStore(db.url);
    try {
      const d = writer.opened.db;
      const storedOnD = await d
        .selectFrom('crashes as c')
        .innerJoin('hosts as h', 'h.id', 'c.host_id')
        .select('c.id')
        .where('h.name', '=', 'D')
        .execute();
      expect(storedOnD).toHaveLength(1);
      const before = await writer.stats();
      const extra = corpusReports(40).find((r) => !r.text.includes('nfs_'))!;
      const rs = await writer.ingestLogs([
        { text: `ktriage test: a line before the report\n${machineB}`, host: 'D', source: 'z' },
        { text: extra.text, host: 'D', source: 'extra' },
      ]);
      expect(rs.map((r) => r.duplicateLog)).toEqual([false, false]);
      expect(rs[0]!.crashes.map((c) => [c.created, c.crashId])).toEqual([[false, Number(storedOnD[0]!.id)]]);
      expect(rs[1]!.crashes.map((c) => c.created)).toEqual([true]);
      const after = await writer.stats();
      expect(after.crashes).toBe(before.crashes + 1);
      expect(after.logs).toBe(before.logs + 2);
      if (dialect === 'postgres')
        expect((writer as unknown as { pgCareful: number }).pgCareful).toBeGreaterThan(0);
    } finally {
      await writer.close();
    }
  });
});
