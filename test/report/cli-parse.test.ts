// `ktriage parse` end to end: spawns the real CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const seedA = resolve(root, '../shared/seed/machine-a.log');
const seedB = resolve(root, '../shared/seed/machine-b.log');

function ktriage(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/ktriage.mjs'), ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const KEYS = [
  'title',
  'altTitles',
  'kind',
  'corrupted',
  'guiltyFrame',
  'bugLocation',
  'frames',
  'registers',
  'code',
  'modules',
  'taint',
  'kernelRelease',
  'hardware',
  'cpu',
  'pid',
  'comm',
  'context',
  'startLine',
  'endLine',
];

describe('ktriage parse', () => {
  it('prints one JSON object per file per line with every field', () => {
    const r = ktriage(['parse', '--json', seedA, seedB]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    const objs = lines.map((l) => JSON.parse(l) as { file: string; reports: Record<string, unknown>[] });
    expect(objs.map((o) => o.file)).toEqual([seedA, seedB]);
    for (const o of objs) {
      expect(o.reports).toHaveLength(1);
      const rep = o.reports[0]!;
      for (const k of KEYS) expect(rep, k).toHaveProperty(k);
      expect(rep.bugLocation).toEqual({ file: 'fs/nfs/pagelist.c', line: 382 });
      expect(rep.kind).toBe('bug');
    }
    expect(objs[0]!.reports[0]!.title).toBe(objs[1]!.reports[0]!.title);
  });

  it('reads stdin for -', () => {
    const r = ktriage(['parse', '--json', '-'], readFileSync(seedA, 'utf8'));
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout) as { file: string; reports: { title: string }[] };
    expect(o.file).toBe('-');
    expect(o.reports[0]!.title.startsWith('kernel BUG in ')).toBe(true);
  });

  it('prints a readable summary without --json', () => {
    const r = ktriage(['parse', seedA]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kernel BUG in ');
    expect(r.stdout).toContain('fs/nfs/pagelist.c:382');
    expect(r.stdout).toContain('NFS: Invalid unlock attempted');
    expect(r.stdout).toContain('1 report');
  });

  it('names an unreadable file on stderr, exits 2 and still processes the others', () => {
    const missing = resolve(root, 'no-such-dir/no-such.log');
    const r = ktriage(['parse', '--json', missing, seedB, root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).toContain(root);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect((JSON.parse(lines[0]!) as { file: string }).file).toBe(seedB);
  });

  it('prints an empty report list for a log without crashes', () => {
    const r = ktriage(
      ['parse', '--json', '-'],
      '[    0.000000] Linux version 6.1.0 (gcc 12)\n[    1.0] ok\n',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ file: '-', reports: [] });
  });

  it('decodes UTF-8 characters split across read chunks (ASCII chunks take a copy-only path)', () => {
    const MB = 1 << 20;
    // Two reports whose hardware names hold a 2-byte and a 3-byte character cut by the 1 MiB and
    // 2 MiB read boundaries (after 1 and 2 of their bytes).
    const report = (no: number, name: string) =>
      Buffer.from(
        `[    ${no}.000000] BUG: bad thing\n[    ${no}.000001] Hardware name: ${name}\n` +
          `[    ${no}.000002] Call Trace:\n[    ${no}.000003]  foo+0x1/0x2\n`,
      );
    const parts: Buffer[] = [];
    let size = 0;
    const add = (b: Buffer) => {
      parts.push(b);
      size += b.length;
    };
    const padTo = (at: number) => {
      const n = at - size;
      add(Buffer.concat([Buffer.from('[    0.1] '), Buffer.alloc(n - 11, 0x79), Buffer.from('\n')]));
    };
    const r1 = report(1, 'caf\u00e9 one');
    padTo(MB - r1.indexOf(0xc3) - 1);
    add(r1);
    const r2 = report(2, 'euro \u20ac two');
    padTo(2 * MB - r2.indexOf(0xe2) - 2);
    add(r2);
    const dir = mkdtempSync(join(tmpdir(), 'ktriage-cli-utf8-'));
    try {
      const file = join(dir, 'split.log');
      writeFileSync(file, Buffer.concat(parts));
      const r = ktriage(['parse', '--json', file]);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { reports: { hardware: string }[] };
      expect(out.reports.map((x) => x.hardware)).toEqual(['caf\u00e9 one', 'euro \u20ac two']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
