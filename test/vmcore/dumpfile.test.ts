// Pre-flight checks of dump files, on synthetic dumps built here byte by byte (ELF64 core with a
// VMCOREINFO note, makedumpfile's flattened stream, compressed kdump) and cut at every interesting
// place. The real dumps are checked in live.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDumpFile, parseVmcoreinfo, readBuildId } from '../../src/vmcore/dumpfile.ts';
import type { CrashError } from '../../src/vmcore/errors.ts';
import { preflight } from '../../src/vmcore/session.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ktriage-dumpfile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, data: Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, data);
  return p;
}

function note(name: string, type: number, desc: Buffer): Buffer {
  const n = Buffer.from(`${name}\0`);
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const h = Buffer.alloc(12);
  h.writeUInt32LE(n.length, 0);
  h.writeUInt32LE(desc.length, 4);
  h.writeUInt32LE(type, 8);
  return Buffer.concat([h, pad(n), pad(desc)]);
}

/** ELF64 core: header, 2 program headers (NOTE with VMCOREINFO, LOAD of `loadSize` bytes). */
function elfCore(loadSize: number, vmcoreinfo: string): Buffer {
  const notes = note('VMCOREINFO', 0, Buffer.from(vmcoreinfo));
  const eh = Buffer.alloc(64);
  eh.writeUInt32BE(0x7f454c46, 0);
  eh[4] = 2;
  eh[5] = 1;
  eh[6] = 1;
  eh.writeUInt16LE(4, 16); // ET_CORE
  eh.writeUInt16LE(62, 18); // x86_64
  eh.writeBigUInt64LE(64n, 32); // phoff
  eh.writeUInt16LE(64, 52);
  eh.writeUInt16LE(56, 54);
  eh.writeUInt16LE(2, 56);
  const ph = Buffer.alloc(112);
  const noteOff = 64 + 112;
  ph.writeUInt32LE(4, 0);
  ph.writeBigUInt64LE(BigInt(noteOff), 8);
  ph.writeBigUInt64LE(BigInt(notes.length), 32);
  ph.writeUInt32LE(1, 56);
  ph.writeBigUInt64LE(BigInt(noteOff + notes.length), 56 + 8);
  ph.writeBigUInt64LE(BigInt(loadSize), 56 + 32);
  ph.writeBigUInt64LE(BigInt(loadSize), 56 + 40);
  return Buffer.concat([eh, ph, notes, Buffer.alloc(loadSize, 0xab)]);
}

/** Flattened stream: 4 KiB header, records (offset, size, data), end marker. */
function flattened(chunks: number[]): Buffer {
  const head = Buffer.alloc(4096);
  head.write('makedumpfile', 0, 'latin1');
  const parts = [head];
  let off = 0n;
  for (const n of chunks) {
    const r = Buffer.alloc(16);
    r.writeBigInt64BE(off, 0);
    r.writeBigInt64BE(BigInt(n), 8);
    parts.push(r, Buffer.alloc(n, 1));
    off += BigInt(n);
  }
  const end = Buffer.alloc(16);
  end.writeBigInt64BE(-1n, 0);
  end.writeBigInt64BE(-1n, 8);
  parts.push(end);
  return Buffer.concat(parts);
}

/** Compressed kdump with `pages` dumped pages of 100 bytes each (and VMCOREINFO in the sub-header block). */
function kdump(pages: number, vmcoreinfo = ''): Buffer {
  const bs = 4096;
  const head = Buffer.alloc(bs);
  head.write('KDUMP   ', 0, 'latin1');
  head.writeInt32LE(6, 8);
  head.writeInt32LE(bs, 428);
  head.writeInt32LE(1, 432); // sub_hdr_size (blocks)
  head.writeUInt32LE(2, 436); // bitmap_blocks
  const sub = Buffer.alloc(bs);
  if (vmcoreinfo) {
    // Where QEMU puts it: after the 104-byte sub-header, in the sub-header's block.
    sub.writeBigInt64LE(BigInt(bs + 104), 32);
    sub.writeBigUInt64LE(BigInt(vmcoreinfo.length), 40);
    sub.write(vmcoreinfo, 104, 'latin1');
  }
  const bitmaps = Buffer.alloc(2 * bs);
  for (let i = 0; i < pages; i++) {
    bitmaps[i >> 3]! |= 1 << (i & 7);
    bitmaps[bs + (i >> 3)]! |= 1 << (i & 7);
  }
  const descStart = 4 * bs;
  const dataStart = descStart + pages * 24;
  const descs = Buffer.alloc(pages * 24);
  for (let i = 0; i < pages; i++) {
    descs.writeBigInt64LE(BigInt(dataStart + i * 100), i * 24);
    descs.writeUInt32LE(100, i * 24 + 8);
  }
  return Buffer.concat([head, sub, bitmaps, descs, Buffer.alloc(pages * 100, 7)]);
}

/**
 * The flattened stream (`makedumpfile -F`, QEMU kdump-*) of a logical file: records of `chunk` bytes
 * in a scrambled order, the first one written twice (garbage first: the later record wins).
 */
function flatten(logical: Buffer, chunk: number, omit = -1): Buffer {
  const head = Buffer.alloc(4096);
  head.write('makedumpfile', 0, 'latin1');
  const rec = (off: number, data: Buffer) => {
    const r = Buffer.alloc(16);
    r.writeBigInt64BE(BigInt(off), 0);
    r.writeBigInt64BE(BigInt(data.length), 8);
    return [r, data];
  };
  const offs: number[] = [];
  for (let o = 0; o < logical.length; o += chunk) offs.push(o);
  const order = [...offs.filter((_, i) => i % 2 === 1), ...offs.filter((_, i) => i % 2 === 0)];
  const parts = [head, ...rec(0, Buffer.alloc(Math.min(chunk, logical.length), 0x55))];
  for (const o of order) if (o !== omit) parts.push(...rec(o, logical.subarray(o, o + chunk)));
  const end = Buffer.alloc(16);
  end.writeBigInt64BE(-1n, 0);
  end.writeBigInt64BE(-1n, 8);
  return Buffer.concat([...parts, end]);
}

const INFO = 'OSRELEASE=6.1.0-56-amd64\nPAGESIZE=4096\nBUILD-ID=0123456789abcdef0123456789abcdef01234567\n';

describe('checkDumpFile', () => {
  it('accepts a complete ELF core and reads its VMCOREINFO', () => {
    const p = write(
      'ok.elf',
      elfCore(10000, 'OSRELEASE=6.1.0-50-amd64\nBUILD-ID=abcd1234\nKERNELOFFSET=1c000000\n'),
    );
    const c = checkDumpFile(p);
    expect(c.format).toBe('elf');
    expect(c.truncated).toBe(false);
    expect(c.problem).toBeNull();
    expect(c.vmcoreinfo?.OSRELEASE).toBe('6.1.0-50-amd64');
    expect(c.vmcoreinfo?.['BUILD-ID']).toBe('abcd1234');
  });

  it('finds every cut of an ELF core', () => {
    const full = elfCore(5000, 'OSRELEASE=x\n');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: full.length - 1 }), (cut) => {
        const c = checkDumpFile(write('cut.elf', full.subarray(0, cut)));
        if (cut < 4) {
          expect(c.format).toBe('unknown');
          expect(c.problem).not.toBeNull();
        } else {
          expect(c.truncated).toBe(true);
          expect(c.problem).toMatch(/cut short|file has/);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('accepts a complete flattened stream and finds every cut', () => {
    const full = flattened([4096, 100, 3000]);
    expect(checkDumpFile(write('ok.flat', full))).toMatchObject({
      format: 'flattened',
      truncated: false,
      problem: null,
    });
    fc.assert(
      fc.property(fc.integer({ min: 12, max: full.length - 1 }), (cut) => {
        const c = checkDumpFile(write('cut.flat', full.subarray(0, cut)));
        expect(c.format).toBe('flattened');
        expect(c.truncated).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('accepts a complete compressed kdump and finds a cut in descriptors or data', () => {
    const full = kdump(40);
    expect(checkDumpFile(write('ok.kdump', full))).toMatchObject({ format: 'kdump', truncated: false });
    for (const cut of [500, 4 * 4096 + 10, full.length - 1, full.length - 150]) {
      const c = checkDumpFile(write('cut.kdump', full.subarray(0, cut)));
      expect(c.truncated, `cut at ${cut}`).toBe(true);
    }
  });

  it('reads VMCOREINFO from the sub-header of a compressed kdump and through a flattened stream', () => {
    const logical = kdump(40, INFO);
    const k = checkDumpFile(write('info.kdump', logical));
    expect(k.vmcoreinfo?.['BUILD-ID']).toBe('0123456789abcdef0123456789abcdef01234567');
    expect(k.vmcoreinfo?.OSRELEASE).toBe('6.1.0-56-amd64');
    for (const chunk of [64, 1000, 4096, 1 << 20]) {
      const f = checkDumpFile(write('info.flat', flatten(logical, chunk)));
      expect(f, `records of ${chunk} bytes`).toMatchObject({
        format: 'flattened',
        truncated: false,
        problem: null,
      });
      expect(f.vmcoreinfo?.['BUILD-ID'], `records of ${chunk} bytes`).toBe(
        '0123456789abcdef0123456789abcdef01234567',
      );
    }
    // No VMCOREINFO (header_version 6 but offset 0), or a hole where it should be: none, no guess.
    expect(checkDumpFile(write('noinfo.flat', flatten(kdump(4), 1000))).vmcoreinfo).toBeNull();
    const holed = checkDumpFile(write('holed.flat', flatten(logical, 4096, 4096)));
    expect(holed).toMatchObject({ format: 'flattened', truncated: false, vmcoreinfo: null });
  });

  it('rejects files that are no dump', () => {
    expect(checkDumpFile(write('empty', Buffer.alloc(0))).problem).toBe('empty file');
    expect(checkDumpFile(write('text', Buffer.from('hello world\n'))).problem).toMatch(/not a kernel dump/);
    const exe = elfCore(10, '');
    exe.writeUInt16LE(2, 16); // ET_EXEC: a vmlinux passed as the dump
    expect(checkDumpFile(write('exec', exe)).problem).toMatch(/not a core file/);
  });

  it('names a missing file', () => {
    expect(() => checkDumpFile(path.join(dir, 'nope'))).toThrow(/vmcore .*nope/);
  });
});

describe('preflight', () => {
  function elfWithBuildId(id: string): Buffer {
    // A minimal ELF with one SHT_NOTE section holding the GNU build-id.
    const n = note('GNU', 3, Buffer.from(id, 'hex'));
    const eh = Buffer.alloc(64);
    eh.writeUInt32BE(0x7f454c46, 0);
    eh[4] = 2;
    eh[5] = 1;
    eh.writeUInt16LE(2, 16);
    const shoff = 64 + n.length;
    eh.writeBigUInt64LE(BigInt(shoff), 40);
    eh.writeUInt16LE(64, 58);
    eh.writeUInt16LE(2, 60);
    const sh = Buffer.alloc(128);
    sh.writeUInt32LE(7, 64 + 4);
    sh.writeBigUInt64LE(64n, 64 + 24);
    sh.writeBigUInt64LE(BigInt(n.length), 64 + 32);
    return Buffer.concat([eh, n, sh]);
  }

  it('reads the GNU build-id of an ELF', () => {
    expect(readBuildId(write('vmlinux-id', elfWithBuildId('0123456789abcdef0123456789abcdef01234567')))).toBe(
      '0123456789abcdef0123456789abcdef01234567',
    );
  });

  it('stops a vmlinux whose build-id differs from the dump', () => {
    const vmcore = write(
      'id.elf',
      elfCore(100, 'OSRELEASE=6.1.0-50-amd64\nBUILD-ID=0123456789abcdef0123456789abcdef01234567\n'),
    );
    expect(
      preflight({
        vmlinux: write('good', elfWithBuildId('0123456789abcdef0123456789abcdef01234567')),
        vmcore,
      }).format,
    ).toBe('elf');
    try {
      preflight({
        vmlinux: write('bad', elfWithBuildId('ff23456789abcdef0123456789abcdef01234567')),
        vmcore,
      });
      throw new Error('no error');
    } catch (e) {
      expect((e as CrashError).code).toBe('vmlinux-mismatch');
      expect((e as Error).message).toContain('6.1.0-50-amd64');
    }
  });

  it('stops a vmlinux whose build-id differs from a flattened or compressed kdump', () => {
    const good = write('good2', elfWithBuildId('0123456789abcdef0123456789abcdef01234567'));
    const bad = write('bad2', elfWithBuildId('ff23456789abcdef0123456789abcdef01234567'));
    for (const [name, data] of [
      ['id.kdump', kdump(10, INFO)],
      ['id.flat', flatten(kdump(10, INFO), 512)],
    ] as const) {
      const vmcore = write(name, data);
      expect(preflight({ vmlinux: good, vmcore }).vmcoreinfo?.OSRELEASE).toBe('6.1.0-56-amd64');
      expect(() => preflight({ vmlinux: bad, vmcore })).toThrow(
        /build-id ff23.*does not match vmcore .*build-id 0123/,
      );
    }
  });

  it('names the missing input', () => {
    expect(() => preflight({ vmlinux: path.join(dir, 'no vmlinux'), vmcore: path.join(dir, 'x') })).toThrow(
      /vmlinux .*no vmlinux/,
    );
  });

  it('parses VMCOREINFO text', () => {
    expect(parseVmcoreinfo('A=1\nSYMBOL(x)=ffff\n\0\0')).toEqual({ A: '1', 'SYMBOL(x)': 'ffff' });
  });
});
