// Container formats: kdump directories, pstore records, journalctl exports; and ingest of a tree
// of them through ingestPaths (SQLite; the write path is the same code on PostgreSQL).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLog } from '../../src/report/index.ts';
import { decodeLog, extractLog, joinPstoreParts, kdumpInfo, pstoreHeader } from '../../src/store/formats.ts';
import { openStore } from '../../src/store/index.ts';
import { ingestPaths } from '../../src/store/ingest-files.ts';
import type { KyselyStore } from '../../src/store/store.ts';
import { shared } from './helpers.ts';

const machineA = readFileSync(join(shared, 'seed/machine-a.log'), 'utf8');
const seedReport = parseLog(machineA)[0]!;
/** The seed's lines without the `[ 123.456]` prefix, as journald stores kernel messages. */
const messages = machineA
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => l.replace(/^\[\s*\d+\.\d+\]\s?/, ''));

describe('kdumpInfo', () => {
  it('takes host and time from kexec-tools directory names', () => {
    expect(kdumpInfo('/var/crash/10.0.0.7-2024-01-15-10:23:45/vmcore-dmesg.txt')).toEqual({
      host: '10.0.0.7',
      occurredAt: '2024-01-15T10:23:45.000Z',
    });
    expect(kdumpInfo('/var/crash/web-01.example.com-2023-12-31-23:59:07/vmcore-dmesg.txt')).toEqual({
      host: 'web-01.example.com',
      occurredAt: '2023-12-31T23:59:07.000Z',
    });
  });
  it("reads Debian kdump-tools' YYYYMMDDHHMM layout (no host)", () => {
    expect(kdumpInfo('/var/crash/202401151023/dmesg.202401151023')).toEqual({
      host: null,
      occurredAt: '2024-01-15T10:23:00.000Z',
    });
  });
  it('ignores other files', () => {
    expect(kdumpInfo('/tmp/foo.log')).toBeNull();
  });
});

describe('journal exports', () => {
  const kernelLines = messages.map(
    (m, i) => `Jan 15 10:23:${String(10 + (i % 40)).padStart(2, '0')} web-7 kernel: ${m}`,
  );
  it('journalctl short text: strips the prefix, keeps kernel lines, takes host and time', () => {
    const text = [
      '-- Boot 3f2c0000000000000000000000000000 --',
      'Jan 15 10:23:09 web-7 systemd[1]: Starting nfs-client.target...',
      ...kernelLines,
    ].join('\n');
    const ex = extractLog(text, 'journal.txt');
    expect(ex.format).toBe('journal');
    expect(ex.host).toBe('web-7');
    expect(ex.text).not.toContain('systemd');
    const r = parseLog(ex.text);
    expect(r).toHaveLength(1);
    expect(r[0]!.title).toBe(seedReport.title);
    expect(r[0]!.frames.map((f) => f.func)).toEqual(seedReport.frames.map((f) => f.func));
    expect(ex.lineTimes![r[0]!.startLine - 1]).toMatch(/-01-15T10:23:\d\d\.000Z$/);
  });

  it('journalctl -o json: MESSAGE strings and byte arrays, kernel transport only', () => {
    const t0 = Date.UTC(2024, 0, 15, 10, 23, 45) * 1000;
    const lines = [
      JSON.stringify({
        MESSAGE: 'Started foo',
        _HOSTNAME: 'db-3',
        _TRANSPORT: 'journal',
        __REALTIME_TIMESTAMP: String(t0),
      }),
      ...messages.map((m, i) =>
        JSON.stringify({
          MESSAGE: i === 3 ? [...Buffer.from(m)] : m,
          _HOSTNAME: 'db-3',
          _TRANSPORT: 'kernel',
          __REALTIME_TIMESTAMP: String(t0 + i * 1_000_000),
        }),
      ),
    ];
    const ex = extractLog(lines.join('\n'), 'journal.json');
    expect(ex.format).toBe('journal-json');
    expect(ex.host).toBe('db-3');
    expect(ex.text).not.toContain('Started foo');
    const r = parseLog(ex.text);
    expect(r).toHaveLength(1);
    expect(r[0]!.title).toBe(seedReport.title);
    expect(ex.lineTimes![r[0]!.startLine - 1]).toBe(
      new Date(t0 / 1000 + (r[0]!.startLine - 1) * 1000).toISOString(),
    );
  });

  it('journalctl -o export: KEY=value blocks, including a binary-safe field', () => {
    const blocks = messages.map((m, i) => {
      const fields = [`__REALTIME_TIMESTAMP=${1705314225000000 + i}`, '_HOSTNAME=nfs-9', '_TRANSPORT=kernel'];
      if (i === 2) {
        const len = Buffer.alloc(8);
        len.writeUInt32LE(Buffer.byteLength(m), 0);
        return `${fields.join('\n')}\nMESSAGE\n${len.toString('latin1')}${m}\n`;
      }
      return `${fields.join('\n')}\nMESSAGE=${m}\n`;
    });
    const text = `__CURSOR=s=abc\n${blocks.join('\n')}`;
    const ex = extractLog(text, 'journal.export');
    expect(ex.format).toBe('journal-export');
    expect(ex.host).toBe('nfs-9');
    const r = parseLog(ex.text);
    expect(r).toHaveLength(1);
    expect(r[0]!.title).toBe(seedReport.title);
  });

  it('malformed JSON lines in a JSON export are counted, not fatal', () => {
    const text = `${JSON.stringify({ MESSAGE: messages[0], _TRANSPORT: 'kernel' })}\n{not json\n${messages
      .slice(1)
      .map((m) => JSON.stringify({ MESSAGE: m, _TRANSPORT: 'kernel' }))
      .join('\n')}`;
    const ex = extractLog(text, 'j.json');
    expect(ex.warnings.join()).toMatch(/1 line\(s\) .* not JSON \(first: line 2\)/);
    expect(parseLog(ex.text)).toHaveLength(1);
  });
});

describe('pstore', () => {
  it('reads the header and joins parts newest-last', () => {
    expect(pstoreHeader('Oops#1 Part2\nfoo')).toEqual({ reason: 'Oops', count: 1, part: 2 });
    expect(pstoreHeader('[ 1.0] foo')).toBeNull();
    const lines = machineA.split('\n');
    const half = Math.floor(lines.length / 2);
    const older = `Oops#1 Part2\n${lines.slice(0, half).join('\n')}\n`;
    const newer = `Oops#1 Part1\n${lines.slice(half).join('\n')}`;
    const joined = joinPstoreParts([
      { part: 1, text: newer },
      { part: 2, text: older },
    ]);
    expect(parseLog(joined)[0]!.title).toBe(seedReport.title);
    expect(parseLog(joined)[0]!.frames.length).toBe(seedReport.frames.length);
  });
});

describe('decodeLog', () => {
  it('names the input on refusal', () => {
    expect(() => decodeLog(Buffer.alloc(0), 'x.log')).toThrow('x.log: empty input');
    expect(() =>
      decodeLog(
        Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0]),
        'vmlinux',
      ),
    ).toThrow(/vmlinux: binary content/);
  });
  it('keeps text padded with NULs (ramoops) and warns', () => {
    const buf = Buffer.concat([Buffer.from(machineA), Buffer.alloc(10)]);
    const d = decodeLog(buf, 'ramoops');
    expect(d.text).toBe(machineA);
    expect(d.warnings.join()).toMatch(/NUL bytes removed/);
  });
});

describe('ingestPaths over a tree of kdump, pstore and journal files', () => {
  let dir: string;
  let dbDir: string;
  let store: KyselyStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ktriage-formats-'));
    dbDir = mkdtempSync(join(tmpdir(), 'ktriage-formats-db-'));
    const crash = join(dir, 'var/crash/10.1.2.3-2024-02-01-08:00:00');
    mkdirSync(crash, { recursive: true });
    writeFileSync(join(crash, 'vmcore-dmesg.txt'), machineA);
    writeFileSync(
      join(crash, 'vmcore'),
      Buffer.from([0x4b, 0x44, 0x55, 0x4d, 0, 0, 1, 2, 3, 0, 0, 0, 9, 9, 0, 0]),
    );
    const ps = join(dir, 'pstore');
    mkdirSync(ps);
    const lines = machineA.split('\n');
    writeFileSync(join(ps, 'dmesg-ramoops-1'), `Oops#1 Part1\n${lines.slice(10).join('\n')}`);
    writeFileSync(join(ps, 'dmesg-ramoops-2'), `Oops#1 Part2\n${lines.slice(0, 10).join('\n')}\n`);
    writeFileSync(join(dir, 'empty.log'), '');
    writeFileSync(join(dir, 'quiet.log'), '[    0.000000] Linux version 6.1.0\n');
    store = await openStore(join(dbDir, 'k.db'));
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(dbDir, { recursive: true, force: true });
  });

  it('takes host and time from the kdump dir, joins pstore parts, reports bad and crash-less files', async () => {
    const errors: string[] = [];
    const s = await ingestPaths(store, [dir], {
      progress: false,
      onError: (src, why) => errors.push(`${src}: ${why}`),
    });
    expect(errors.some((e) => e.includes('empty.log') && /empty/.test(e))).toBe(true);
    expect(errors.some((e) => e.includes('vmcore') && /binary/.test(e))).toBe(true);
    expect(s.noCrash.some((n) => n.endsWith('quiet.log'))).toBe(true);
    expect(s.crashes).toBe(2);
    const crashes = await store.listCrashes();
    const kd = crashes.find((c) => c.host === '10.1.2.3');
    expect(kd).toBeDefined();
    expect(kd!.occurredAt).toBe('2024-02-01T08:00:00.000Z');
    const ps = crashes.find((c) => c.host === 'unknown')!;
    expect(ps.title).toBe(seedReport.title);
    const full = await store.getCrash(ps.id);
    expect(full!.logSource).toMatch(/dmesg-ramoops-1 \(\+1 parts\)/);
    expect(full!.report.frames.length).toBe(seedReport.frames.length);
    // Re-running stores nothing new.
    const again = await ingestPaths(store, [dir], { progress: false });
    expect(again.created).toBe(0);
    expect((await store.stats()).crashes).toBe(2);
  });

  it('stops between inputs when its signal is aborted, keeping the batches already written', async () => {
    const many = mkdtempSync(join(tmpdir(), 'ktriage-formats-many-'));
    try {
      for (let i = 0; i < 5; i++) writeFileSync(join(many, `m${i}.log`), `console log ${i}\n${machineA}`);
      const ac = new AbortController();
      const seen: string[] = [];
      const run = ingestPaths(store, [many], {
        progress: false,
        host: 'cancel-test',
        batchLogs: 1,
        signal: ac.signal,
        onResult: (r) => {
          seen.push(r.source);
          if (seen.length === 2) ac.abort(new Error('job cancelled'));
        },
      });
      await expect(run).rejects.toThrow(/job cancelled/);
      expect(seen).toHaveLength(2);
      const logs = await store.opened.db
        .selectFrom('logs as l')
        .innerJoin('hosts as h', 'h.id', 'l.host_id')
        .select('l.source')
        .where('h.name', '=', 'cancel-test')
        .execute();
      expect(logs.map((l) => l.source).sort()).toEqual([...seen].sort());
    } finally {
      rmSync(many, { recursive: true, force: true });
    }
  });
});
