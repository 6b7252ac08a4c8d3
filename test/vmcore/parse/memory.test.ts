import { describe, expect, it } from 'vitest';
import {
  parseKmemAddress,
  parseKmemS,
  parseMod,
  parseRd,
  parseSearch,
  rdWords,
} from '../../../src/vmcore/parse/index.ts';
import { readShared, SAMPLES, section } from './helpers.ts';

const seed = readShared('seed/crash-session.txt');
const pass1 = readShared(`${SAMPLES}/crash-elf-pass1.txt`);
const pass2 = readShared(`${SAMPLES}/crash-elf-pass2.txt`);

describe('kmem', () => {
  it('parses the seed kmem ADDR: cache, slab, allocated object, page', () => {
    const k = parseKmemAddress(section(seed, /^CACHE/, /^crash> struct page/));
    expect(k.cache).toEqual({
      cache: 'ffff9c0a2749c700',
      name: 'secpath_cache',
      objSize: 128,
      allocated: 11389,
      total: 53376,
      slabs: 834,
      slabSize: '8k',
    });
    expect(k.slab).toEqual({
      slab: 'fffffb9d91c12300',
      memory: 'ffff9bf9f048c000',
      node: 0,
      total: 64,
      allocated: 50,
      free: 14,
    });
    expect(k.object).toEqual({ address: 'ffff9bf9f048da00', allocated: true, note: null });
    expect(k.page).toMatchObject({
      page: 'fffffb9d91c12340',
      physical: '247048d000',
      mapping: 'dead000000000400',
      count: 0,
      flags: '17ffffc0000000',
      flagNames: [],
    });
  });

  it('parses 6.1 kmem ADDR with decoded page flag names', () => {
    const k = parseKmemAddress(section(pass2, /^CACHE/, /^ffff8e7542689050:/, 1));
    expect(k.cache!.name).toBe('fixture_obj');
    expect(k.cache!.objSize).toBe(72);
    expect(k.object!.allocated).toBe(true);
    expect(k.page!.flagNames).toEqual(['slab']);
  });

  it('reports a free object (no brackets)', () => {
    const k = parseKmemAddress(
      'CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME\nffff8e754187d800       72          1        51      1     4k  fixture_obj\n  SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE\n  fffffcd38009a240  ffff8e7542689000     0     51          1    50\n  FREE / [ALLOCATED]\n   ffff8e7542689098  \n',
    );
    expect(k.object).toEqual({ address: 'ffff8e7542689098', allocated: false, note: null });
  });

  it('parses kmem -s rows', () => {
    const rows = parseKmemS(section(pass1, /^CACHE/, /^ffffffff93561900/, 0));
    expect(rows).toEqual([
      {
        cache: 'ffff8e75411be600',
        name: 'task_struct',
        objSize: 8392,
        allocated: 57,
        total: 66,
        slabs: 22,
        slabSize: '32k',
      },
    ]);
  });
});

describe('search and rd', () => {
  it('parses search hits', () => {
    const s = parseSearch(section(seed, /^crash> search/, null));
    expect(s.hits).toHaveLength(10);
    expect(s.hits[0]).toEqual({ address: 'ffff9bf9f048da10', value: 'fffffb9dd6f34dc0' });
    const s2 = parseSearch(section(pass2, /^ffff8e75411fbbf8: feedface/, /^\$1 = /));
    expect(s2.hits.map((h) => h.address)).toContain('ffffd51540013bf8');
  });

  it('parses rd -64 words with trailing spaces and ignores rd -a text lines', () => {
    const mem = parseRd(section(pass2, /^ffff8e7542689050: {2}feedface/, /^ffff8e75411fbbf8:/));
    expect(mem).toHaveLength(5);
    expect(mem[0]).toEqual({
      address: 'ffff8e7542689050',
      words: ['feedfacecafebeef', '1a5a500001234'],
      width: 8,
      ascii: null,
    });
    expect(rdWords(mem).get('ffff8e7542689080')).toBe('ffff8e7542689050');
    const text = parseRd('ffff8e7542689060:  662d65726f636d76 0000657275747869   vmcore-fixture..');
    expect(text[0]!.ascii).toBe('vmcore-fixture..');
    expect(() => parseRd('rd: invalid address')).toThrow(/rd/);
  });
});

describe('mod', () => {
  it('parses the seed (older column set) and 8.0.2 module tables', () => {
    const old = parseMod(section(seed, /^crash> mod \| grep nfs/, /^crash> mod -s nfs$/));
    expect(old.map((m) => m.name)).toEqual(['nfs_acl', 'nfsv3', 'nfs', 'nfsv4']);
    expect(old[2]).toEqual({
      module: 'ffffffffc0985c80',
      name: 'nfs',
      base: null,
      size: 311296,
      object: null,
      notes: ['CONFIG_KALLSYMS'],
    });
    const rows = parseMod(section(pass1, /^ {5}MODULE/, /^ {6}PID/, 0));
    expect(rows[3]).toEqual({
      module: 'ffffffffc0226040',
      name: 'vmcore_fixture',
      base: 'ffffffffc0224000',
      size: 16384,
      object: null,
      notes: ['CONFIG_KALLSYMS'],
    });
    const loaded = parseMod(section(pass2, /^ {5}MODULE/, /^struct/));
    expect(loaded[0]!.object).toBe('/fixtures/bug/vmcore_fixture.ko');
  });
});
