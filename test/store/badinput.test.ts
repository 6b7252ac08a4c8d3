// Bad input through the CLI: binary, empty, invalid UTF-8, no crash, stdin, and a 200 MB log. Each
// bad file gets a message naming it; the good files of the same run are still stored.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLog } from '../../src/report/index.ts';
import { openStore } from '../../src/store/index.ts';
import { bin, repoRoot, runCli, shared } from './helpers.ts';

const machineA = readFileSync(join(shared, 'seed/machine-a.log'), 'utf8');
const machineB = readFileSync(join(shared, 'seed/machine-b.log'), 'utf8');

describe('ingest of bad input (CLI)', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ktriage-bad-'));
    db = join(dir, 'k.db');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names each bad file, keeps going, stores the good ones, exits 2', async () => {
    const inputs = join(dir, 'in');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(inputs);
    writeFileSync(join(inputs, 'a-empty.log'), '');
    const elf = Buffer.alloc(8192);
    elf.write('\x7fELF', 0, 'latin1');
    for (let i = 16; i < elf.length; i++) elf[i] = (i * 37) & 0xff;
    writeFileSync(join(inputs, 'b-vmlinux'), elf);
    writeFileSync(
      join(inputs, 'c-latin1.log'),
      Buffer.concat([
        Buffer.from(machineA.slice(0, 20)),
        Buffer.from([0xe9, 0xff]),
        Buffer.from(machineA.slice(20)),
      ]),
    );
    writeFileSync(
      join(inputs, 'd-quiet.log'),
      '[    0.000000] Linux version 6.1.0-18-amd64\n[    0.1] Command line: ro quiet\n',
    );
    writeFileSync(join(inputs, 'e-good.log'), machineB);
    const r = await runCli(['ingest', '--db', db, '--host', 'h', inputs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a-empty\.log: empty input/);
    expect(r.stderr).toMatch(/b-vmlinux: binary content/);
    expect(r.stderr).toMatch(/c-latin1\.log: warning: invalid UTF-8/);
    expect(r.stdout).toMatch(/no crash report found in .*d-quiet\.log \(log kept\)/);
    expect(r.stdout).toMatch(/^3 log\(s\): 2 crash report\(s\), 2 new/m);
    const store = await openStore(db);
    try {
      const st = await store.stats();
      expect(st.crashes).toBe(2);
      expect(st.noCrashLogs).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('reads stdin with -', async () => {
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, [bin, 'ingest', '--db', db, '--host', 'piped', '-'], {
        cwd: repoRoot,
      });
      let out = '';
      p.stdout.on('data', (d) => {
        out += d;
      });
      p.on('close', (code) => resolve({ code, out }));
      p.stdin.end(machineA);
    });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/1 crash report\(s\), 1 new/);
    const b = await runCli(['buckets', '--db', db, '--json', '--host', 'piped']);
    const list = JSON.parse(b.stdout) as { title: string; count: number; hosts: string[] }[];
    expect(list).toEqual([
      expect.objectContaining({ title: parseLog(machineA)[0]!.title, count: 1, hosts: ['piped'] }),
    ]);
    expect(Object.keys(list[0]!).sort()).toEqual([
      'count',
      'firstSeen',
      'hosts',
      'id',
      'kernels',
      'lastSeen',
      'title',
    ]);
  });

  it('a 200 MB log: ingested in one go, both reports found, the text beyond the cap not stored', async () => {
    const big = join(dir, 'big.log');
    const fd = openSync(big, 'w');
    const line = (i: number) =>
      `[${(i / 1000).toFixed(6).padStart(12)}] eth0: rx packet ${i} len 1500 proto 0x0800\n`;
    let size = 0;
    let chunk = '';
    let i = 0;
    const target = 200 * 1024 * 1024;
    let wroteMiddle = false;
    while (size < target) {
      chunk += line(i++);
      if (chunk.length > 1 << 20) {
        writeSync(fd, chunk);
        size += chunk.length;
        chunk = '';
        if (!wroteMiddle && size > target / 2) {
          writeSync(fd, machineA);
          size += machineA.length;
          wroteMiddle = true;
        }
      }
    }
    writeSync(fd, `${chunk}${machineB}`);
    closeSync(fd);
    const t0 = Date.now();
    const r = await runCli(['ingest', '--db', db, '--host', 'bigbox', '--json', big]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { crashes: number; created: number };
    expect(s.crashes).toBe(2);
    expect(s.created).toBe(2);
    expect(r.stderr).toMatch(/big\.log: warning: log is \d+ bytes .* only the reports' lines are stored/);
    const store = await openStore(db);
    try {
      const crashes = await store.listCrashes({ host: 'bigbox' });
      expect(crashes).toHaveLength(2);
      const c = await store.getCrash(crashes[0]!.id);
      expect(c!.rawText.length).toBeLessThan(10_000);
      expect((await store.getLog(c!.logId))!.text).toBeNull();
    } finally {
      await store.close();
    }
    // Not a timing assertion; printed so a slowdown is visible in the test log.
    console.log(`200 MB log ingested in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 600_000);
});
