// Checks of a vmcore (and its vmlinux) BEFORE crash is started: what format it is, whether it is
// complete, and which kernel build it is from. crash takes 10-30 s to load a 6.1 vmlinux and then
// reports a cut-short dump with a vague "read error", or none at all until a command touches the
// missing pages; reading the dump's own headers gives a precise error at once.
//
// Formats: ELF64 core (kdump /proc/vmcore, QEMU dump-guest-memory "elf"), makedumpfile's
// flattened stream (QEMU "kdump-zlib" etc., `makedumpfile -F`), and the compressed kdump
// ("KDUMP   ", makedumpfile -c/-l/-p/-z, `makedumpfile -R`).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CrashError } from './errors.ts';

export type DumpFormat = 'elf' | 'flattened' | 'kdump' | 'unknown';

export interface DumpCheck {
  format: DumpFormat;
  size: number;
  /** Bytes the headers say the file must have at least. */
  expectedSize: number | null;
  truncated: boolean;
  /** Why the file is considered truncated / unreadable. */
  problem: string | null;
  /** VMCOREINFO key/values when found (ELF notes; the kdump sub-header of compressed and flattened dumps). */
  vmcoreinfo: Record<string, string> | null;
}

function readAt(fd: number, pos: number, len: number): Buffer {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got === len ? buf : buf.subarray(0, got);
}

/** Identifies the dump format and checks the file against its own headers. */
export function checkDumpFile(path: string): DumpCheck {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CrashError('input-missing', `vmcore ${path}: ${(e as Error).message}`, { input: path });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new CrashError('input-missing', `vmcore ${path}: not a regular file`, { input: path });
    const size = st.size;
    const head = readAt(fd, 0, 64);
    const base: DumpCheck = {
      format: 'unknown',
      size,
      expectedSize: null,
      truncated: false,
      problem: null,
      vmcoreinfo: null,
    };
    if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) return { ...base, ...checkElf(fd, size) };
    if (head.subarray(0, 12).toString('latin1') === 'makedumpfile')
      return { ...base, ...checkFlattened(fd, size) };
    if (head.subarray(0, 8).toString('latin1') === 'KDUMP   ') return { ...base, ...checkKdump(fd, size) };
    return {
      ...base,
      problem: size === 0 ? 'empty file' : 'no ELF, KDUMP or makedumpfile signature: not a kernel dump',
    };
  } finally {
    closeSync(fd);
  }
}

function checkElf(fd: number, size: number): Partial<DumpCheck> {
  const eh = readAt(fd, 0, 64);
  if (eh.length < 64)
    return { format: 'elf', truncated: true, expectedSize: 64, problem: 'ELF header cut short' };
  if (eh[4] !== 2 || eh[5] !== 1) return { format: 'elf', problem: 'not a little-endian ELF64 file' };
  const type = eh.readUInt16LE(16);
  if (type !== 4)
    return {
      format: 'elf',
      problem: `ELF type ${type} is not a core file (ET_CORE): a vmlinux or a program?`,
    };
  const phoff = Number(eh.readBigUInt64LE(32));
  const shoff = Number(eh.readBigUInt64LE(40));
  const phentsize = eh.readUInt16LE(54);
  let phnum = eh.readUInt16LE(56);
  if (phnum === 0xffff) {
    // PN_XNUM: the real count is in section header 0's sh_info (QEMU's paging dumps use it).
    const sh0 = readAt(fd, shoff, 64);
    if (sh0.length < 64)
      return {
        format: 'elf',
        truncated: true,
        expectedSize: shoff + 64,
        problem: 'section header 0 (PN_XNUM count) cut short',
      };
    phnum = sh0.readUInt32LE(44);
  }
  const phEnd = phoff + phnum * phentsize;
  if (phEnd > size) {
    return {
      format: 'elf',
      truncated: true,
      expectedSize: phEnd,
      problem: `program headers end at ${phEnd}, file has ${size} bytes`,
    };
  }
  const ph = readAt(fd, phoff, phnum * phentsize);
  let need = phEnd;
  let vmcoreinfo: Record<string, string> | null = null;
  for (let i = 0; i < phnum; i++) {
    const o = i * phentsize;
    const ptype = ph.readUInt32LE(o);
    const off = Number(ph.readBigUInt64LE(o + 8));
    const filesz = Number(ph.readBigUInt64LE(o + 32));
    if (filesz > 0) need = Math.max(need, off + filesz);
    if (ptype === 4 && vmcoreinfo === null && off + filesz <= size && filesz < 1 << 20) {
      vmcoreinfo = findVmcoreinfo(readAt(fd, off, filesz));
    }
  }
  if (need > size) {
    return {
      format: 'elf',
      truncated: true,
      expectedSize: need,
      vmcoreinfo,
      problem: `segments end at byte ${need}, file has ${size} (${((100 * size) / need).toFixed(1)}%)`,
    };
  }
  return { format: 'elf', expectedSize: need, vmcoreinfo };
}

/** Finds the VMCOREINFO note among ELF notes and parses its KEY=VALUE lines. */
function findVmcoreinfo(notes: Buffer): Record<string, string> | null {
  let o = 0;
  while (o + 12 <= notes.length) {
    const namesz = notes.readUInt32LE(o);
    const descsz = notes.readUInt32LE(o + 4);
    const nameOff = o + 12;
    const descOff = nameOff + ((namesz + 3) & ~3);
    const next = descOff + ((descsz + 3) & ~3);
    if (next > notes.length || namesz > 64) break;
    const name = notes
      .subarray(nameOff, nameOff + namesz)
      .toString('latin1')
      .replace(/\0+$/, '');
    if (name === 'VMCOREINFO')
      return parseVmcoreinfo(notes.subarray(descOff, descOff + descsz).toString('latin1'));
    o = next;
  }
  return null;
}

export function parseVmcoreinfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1).replace(/\0+$/, '');
  }
  return out;
}

/** Reads `len` bytes at `pos` of the (logical) kdump file; fewer when not all of them are there. */
type Reader = (pos: number, len: number) => Buffer;

/**
 * VMCOREINFO of a compressed kdump: disk_dump_header, then kdump_sub_header one block in
 * (makedumpfile's diskdump_mod.h; QEMU's dump.c writes the same), whose offset_vmcoreinfo and
 * size_vmcoreinfo (header_version 3+) point at the raw KEY=VALUE text, and offset_note/size_note
 * (version 4+) at the ELF notes holding it. Null when the dump carries none.
 */
function kdumpVmcoreinfo(read: Reader): Record<string, string> | null {
  const h = read(0, 464);
  if (h.length < 464 || h.subarray(0, 8).toString('latin1') !== 'KDUMP   ') return null;
  const version = h.readInt32LE(8);
  const blockSize = h.readInt32LE(428);
  if (version < 3 || blockSize <= 0 || blockSize > 1 << 20) return null;
  const sub = read(blockSize, 64);
  if (sub.length < 48) return null;
  const off = Number(sub.readBigInt64LE(32));
  const len = Number(sub.readBigUInt64LE(40));
  if (off > 0 && len > 0 && len < 1 << 20) {
    const text = read(off, len);
    if (text.length === len) return parseVmcoreinfo(text.toString('latin1'));
  }
  if (version >= 4 && sub.length >= 64) {
    const noteOff = Number(sub.readBigInt64LE(48));
    const noteLen = Number(sub.readBigUInt64LE(56));
    if (noteOff > 0 && noteLen > 0 && noteLen < 1 << 24) {
      const notes = read(noteOff, noteLen);
      if (notes.length === noteLen) return findVmcoreinfo(notes);
    }
  }
  return null;
}

/** One record of a flattened stream: `len` bytes for logical offset `off`, stored at file position `pos`. */
interface FlatRecord {
  off: number;
  len: number;
  pos: number;
}

/**
 * Reads the logical (rearranged) kdump file through the records of a flattened stream. Records may
 * overlap or come out of order (makedumpfile writes the bitmaps after the pages of each cycle):
 * later ones win, as when `makedumpfile -R` replays them. Returns fewer bytes when the records
 * leave a hole in the range.
 */
function flattenedReader(fd: number, records: FlatRecord[]): Reader {
  return (pos, len) => {
    const out = Buffer.alloc(len);
    const have = new Uint8Array(len);
    for (const r of records) {
      const s = Math.max(pos, r.off);
      const e = Math.min(pos + len, r.off + r.len);
      if (s >= e) continue;
      readAt(fd, r.pos + (s - r.off), e - s).copy(out, s - pos);
      have.fill(1, s - pos, e - pos);
    }
    const hole = have.indexOf(0);
    return hole < 0 ? out : out.subarray(0, hole);
  };
}

/**
 * Records of a flattened stream kept for reading the kdump headers: those within the first
 * HEADER_SPAN logical bytes (makedumpfile and QEMU put the disk_dump_header, the sub-header,
 * VMCOREINFO and the notes right at the start, before the bitmaps and the pages).
 */
const HEADER_SPAN = 16 << 20;

/** makedumpfile's flattened format: a 4 KiB header, then (offset, size) big-endian records, then an end record of -1. */
function checkFlattened(fd: number, size: number): Partial<DumpCheck> {
  const HEADER = 4096;
  if (size < HEADER)
    return {
      format: 'flattened',
      truncated: true,
      expectedSize: HEADER,
      problem: 'flattened header cut short',
    };
  let pos = HEADER;
  let records = 0;
  const head: FlatRecord[] = [];
  for (;;) {
    if (pos + 16 > size) {
      return {
        format: 'flattened',
        truncated: true,
        expectedSize: pos + 16,
        problem: `stream ends at byte ${size} after ${records} records without the end marker`,
      };
    }
    const rec = readAt(fd, pos, 16);
    const off = rec.readBigInt64BE(0);
    const len = rec.readBigInt64BE(8);
    if (off === -1n)
      return {
        format: 'flattened',
        expectedSize: pos + 16,
        vmcoreinfo: kdumpVmcoreinfo(flattenedReader(fd, head)),
      };
    if (off < 0n || len < 0n || len > BigInt(size)) {
      return {
        format: 'flattened',
        problem: `corrupt record ${records} at byte ${pos} (offset ${off}, size ${len})`,
      };
    }
    if (off < BigInt(HEADER_SPAN)) head.push({ off: Number(off), len: Number(len), pos: pos + 16 });
    pos += 16 + Number(len);
    records++;
    if (pos > size) {
      return {
        format: 'flattened',
        truncated: true,
        expectedSize: pos,
        problem: `record ${records} needs bytes up to ${pos}, file has ${size}`,
      };
    }
  }
}

/** Compressed kdump: header block, sub-header, two bitmaps, page descriptors, pages. */
function checkKdump(fd: number, size: number): Partial<DumpCheck> {
  const h = readAt(fd, 0, 464);
  if (h.length < 464)
    return { format: 'kdump', truncated: true, expectedSize: 464, problem: 'kdump header cut short' };
  const blockSize = h.readInt32LE(428);
  const subHdrSize = h.readInt32LE(432);
  const bitmapBlocks = h.readUInt32LE(436);
  if (blockSize <= 0 || blockSize > 1 << 20 || subHdrSize < 0 || bitmapBlocks === 0) {
    return {
      format: 'kdump',
      problem: `implausible kdump header (block_size ${blockSize}, bitmap_blocks ${bitmapBlocks})`,
    };
  }
  const bitmapStart = (1 + subHdrSize) * blockSize;
  const bitmapLen = bitmapBlocks * blockSize;
  const descStart = bitmapStart + bitmapLen;
  if (descStart > size) {
    return {
      format: 'kdump',
      truncated: true,
      expectedSize: descStart,
      problem: `bitmaps end at ${descStart}, file has ${size}`,
    };
  }
  // Count the pages in the second bitmap (dumped pages): one page descriptor (24 bytes) each.
  let pages = 0;
  const half = bitmapLen / 2;
  const CHUNK = 1 << 20;
  for (let o = 0; o < half; o += CHUNK) {
    const b = readAt(fd, bitmapStart + half + o, Math.min(CHUNK, half - o));
    for (const byte of b) {
      let v = byte;
      while (v) {
        v &= v - 1;
        pages++;
      }
    }
  }
  const vmcoreinfo = kdumpVmcoreinfo((pos, len) => readAt(fd, pos, len));
  if (pages === 0) return { format: 'kdump', expectedSize: descStart, vmcoreinfo };
  const lastDesc = descStart + (pages - 1) * 24;
  if (lastDesc + 24 > size) {
    return {
      format: 'kdump',
      truncated: true,
      expectedSize: lastDesc + 24,
      problem: `page descriptors end at ${lastDesc + 24}, file has ${size}`,
      vmcoreinfo,
    };
  }
  // Descriptors are written in pfn order but data may be shared (zero page); take the maximum end
  // over the last descriptors, which is where the data of the highest pages lives.
  let need = lastDesc + 24;
  const tailCount = Math.min(pages, 4096);
  const d = readAt(fd, descStart + (pages - tailCount) * 24, tailCount * 24);
  for (let i = 0; i + 24 <= d.length; i += 24) {
    const off = Number(d.readBigInt64LE(i));
    const sz = d.readUInt32LE(i + 8);
    need = Math.max(need, off + sz);
  }
  if (need > size) {
    return {
      format: 'kdump',
      truncated: true,
      expectedSize: need,
      problem: `page data ends at ${need}, file has ${size}`,
      vmcoreinfo,
    };
  }
  return { format: 'kdump', expectedSize: need, vmcoreinfo };
}

/** GNU build-id of an ELF file (vmlinux), from its PT_NOTE segments or SHT_NOTE sections; null if none. */
export function readBuildId(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CrashError('input-missing', `vmlinux ${path}: ${(e as Error).message}`, { input: path });
  }
  try {
    const eh = readAt(fd, 0, 64);
    if (eh.length < 64 || eh.readUInt32BE(0) !== 0x7f454c46 || eh[4] !== 2 || eh[5] !== 1) return null;
    const shoff = Number(eh.readBigUInt64LE(40));
    const shentsize = eh.readUInt16LE(58);
    const shnum = eh.readUInt16LE(60);
    if (shoff === 0 || shnum === 0 || shentsize < 64) return null;
    const sh = readAt(fd, shoff, shnum * shentsize);
    for (let i = 0; i + shentsize <= sh.length; i += shentsize) {
      if (sh.readUInt32LE(i + 4) !== 7) continue; // SHT_NOTE
      const off = Number(sh.readBigUInt64LE(i + 24));
      const sz = Number(sh.readBigUInt64LE(i + 32));
      if (sz > 1 << 16) continue;
      const notes = readAt(fd, off, sz);
      let o = 0;
      while (o + 12 <= notes.length) {
        const namesz = notes.readUInt32LE(o);
        const descsz = notes.readUInt32LE(o + 4);
        const ntype = notes.readUInt32LE(o + 8);
        const nameOff = o + 12;
        const descOff = nameOff + ((namesz + 3) & ~3);
        const name = notes
          .subarray(nameOff, nameOff + namesz)
          .toString('latin1')
          .replace(/\0+$/, '');
        if (name === 'GNU' && ntype === 3) return notes.subarray(descOff, descOff + descsz).toString('hex');
        o = descOff + ((descsz + 3) & ~3);
      }
    }
    return null;
  } finally {
    closeSync(fd);
  }
}
