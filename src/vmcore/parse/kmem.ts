// `kmem ADDR` (which slab cache, slab, allocated or free, the page) and `kmem -s` (cache table),
// crash 8.0.2 SLUB formats (dump_kmem_cache_slub / do_slab_slub / dump_mem_map).
import { CrashParseError, canonHex, lines } from './common.ts';

export interface KmemCache {
  cache: string;
  name: string;
  objSize: number;
  allocated: number;
  total: number;
  slabs: number;
  /** Slab size as printed (`8k`, `32k`). */
  slabSize: string;
}

export interface KmemSlab {
  slab: string;
  memory: string;
  node: number;
  total: number;
  allocated: number;
  free: number;
}

export interface KmemPage {
  page: string;
  physical: string;
  mapping: string | null;
  index: string;
  count: number;
  flags: string;
  /** Names crash decoded from the flags (6.1: `slab,head`), if printed. */
  flagNames: string[];
}

export interface KmemAddress {
  cache: KmemCache | null;
  slab: KmemSlab | null;
  /** The object containing the address, and whether it is allocated (`[addr]`) or free. */
  object: { address: string; allocated: boolean; note: string | null } | null;
  page: KmemPage | null;
  /** Other lines (vmalloc areas, symbols, `... is not a kernel address` etc). */
  other: string[];
}

function headerCols(l: string): string[] {
  return l.trim().split(/\s+/);
}

function parseCacheRow(cols: string[], header: string[]): KmemCache | null {
  // 8.0.2: CACHE OBJSIZE ALLOCATED TOTAL SLABS SSIZE NAME; older: CACHE NAME OBJSIZE ...
  const get = (h: string) => header.indexOf(h);
  const nameIdx = get('NAME');
  if (nameIdx < 0 || cols.length < header.length) return null;
  const nameFirst = nameIdx === 1;
  const name = nameFirst ? cols[1]! : cols.slice(nameIdx).join(' ');
  const at = (h: string) => cols[get(h)] ?? '';
  const cache = at('CACHE');
  if (!/^[0-9a-f]+$/.test(cache)) return null;
  const num = (h: string) => Number(at(h));
  return {
    cache: canonHex(cache),
    name,
    objSize: num('OBJSIZE'),
    allocated: num('ALLOCATED'),
    total: num('TOTAL'),
    slabs: num('SLABS'),
    slabSize: at('SSIZE'),
  };
}

/** Parses `kmem -s` / `kmem -S` cache tables (one row per cache). */
export function parseKmemS(text: string): KmemCache[] {
  const out: KmemCache[] = [];
  let header: string[] | null = null;
  for (const raw of lines(text)) {
    const l = raw.trim();
    if (l.startsWith('CACHE') && l.includes('NAME')) {
      header = headerCols(l);
      continue;
    }
    if (!header || l === '') continue;
    const row = parseCacheRow(headerCols(l), header);
    if (row) out.push(row);
  }
  if (!header && text.trim() !== '') throw new CrashParseError('kmem -s', 'no CACHE header');
  return out;
}

/** Parses `kmem ADDR`. */
export function parseKmemAddress(text: string): KmemAddress {
  const res: KmemAddress = { cache: null, slab: null, object: null, page: null, other: [] };
  let section: 'none' | 'cache' | 'slab' | 'objects' | 'page' = 'none';
  let header: string[] = [];
  for (const raw of lines(text)) {
    const l = raw.trim();
    if (l === '') continue;
    if (l.startsWith('CACHE') && l.includes('NAME')) {
      section = 'cache';
      header = headerCols(l);
      continue;
    }
    if (l.startsWith('SLAB') && l.includes('MEMORY')) {
      section = 'slab';
      continue;
    }
    if (l.startsWith('FREE / [ALLOCATED]')) {
      section = 'objects';
      continue;
    }
    if (l.startsWith('PAGE') && l.includes('PHYSICAL')) {
      section = 'page';
      header = headerCols(l);
      continue;
    }
    const cols = headerCols(l);
    if (section === 'cache' && !res.cache) {
      res.cache = parseCacheRow(cols, header);
      if (res.cache) continue;
    }
    if (section === 'slab' && !res.slab && cols.length >= 6 && /^[0-9a-f]+$/.test(cols[0]!)) {
      res.slab = {
        slab: canonHex(cols[0]!),
        memory: canonHex(cols[1]!),
        node: Number(cols[2]),
        total: Number(cols[3]),
        allocated: Number(cols[4]),
        free: Number(cols[5]),
      };
      continue;
    }
    if (section === 'objects') {
      const m = /^(\[)?([0-9a-f]{8,16})(\])?\s*(.*)$/.exec(l);
      if (m && !res.object) {
        res.object = {
          address: canonHex(m[2]!),
          allocated: m[1] === '[' && m[3] === ']',
          note: m[4] ? m[4] : null,
        };
        continue;
      }
    }
    if (section === 'page' && !res.page && cols.length >= 6 && /^[0-9a-f]+$/.test(cols[0]!)) {
      // PAGE PHYSICAL MAPPING INDEX CNT FLAGS [names]; MAPPING may be blank in some versions.
      const hasMapping = cols.length >= 6;
      res.page = {
        page: canonHex(cols[0]!),
        physical: canonHex(cols[1]!),
        mapping: hasMapping ? canonHex(cols[2]!) : null,
        index: cols[3]!,
        count: Number(cols[4]),
        flags: canonHex(cols[5]!),
        flagNames: cols[6] ? cols.slice(6).join(' ').split(',').filter(Boolean) : [],
      };
      continue;
    }
    res.other.push(l);
  }
  if (!res.cache && !res.page && res.other.length === 0) throw new CrashParseError('kmem', 'empty output');
  return res;
}
