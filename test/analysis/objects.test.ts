// Flag definitions from a kernel source tree (--src tier) and object building rules.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { analyzeTranscript } from '../../src/analysis/index.ts';
import { buildObject, enumFromSource } from '../../src/analysis/objects.ts';
import { parseKernelVersion } from '../../src/knowledge/index.ts';
import { parseStruct } from '../../src/vmcore/parse/index.ts';
import { linuxSrc } from '../support/linux-src.ts';
import { readShared } from '../vmcore/parse/helpers.ts';

const SRC = linuxSrc();
const needSrc = SRC === null && process.env.KTRIAGE_REQUIRE_ALL === '1';

describe('enums from a kernel source tree', () => {
  it('reads an enum with explicit values, aliases and preprocessor lines', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ktriage-src-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(path.join(dir, 'include/linux'), { recursive: true });
    writeFileSync(
      path.join(dir, 'include/linux/x.h'),
      'enum {\n\tPG_A = 0,\t/* a */\n\tPG_B,\n#ifdef CONFIG_X\n\tPG_C,\n#endif\n\tPG_D = 7,\n\t__NR_X,\n\tPG_ALIAS = PG_B,\n};\n',
    );
    expect(enumFromSource(dir, 'include/linux/x.h', 'PG_A')).toEqual([
      { bit: 0, name: 'PG_A' },
      { bit: 1, name: 'PG_B' },
      { bit: 2, name: 'PG_C' },
      { bit: 7, name: 'PG_D' },
      { bit: 1, name: 'PG_ALIAS' },
    ]);
    expect(enumFromSource(dir, 'include/linux/missing.h', 'PG_A')).toBeNull();
  });

  it.skipIf(SRC === null && !needSrc)(
    "decodes wb_flags from Debian's linux-source-6.1 with --src",
    async () => {
      if (!SRC)
        throw new Error(
          'KTRIAGE_REQUIRE_ALL=1 but no linux-source tree ($KTRIAGE_LINUX_SRC, $KTRIAGE_CACHE/linux-source-*)',
        );
      const r = await analyzeTranscript(readShared('seed/crash-session.txt'), { kernel: '4.19', src: SRC });
      const wb = r.objects.find((o) => o.type === 'struct nfs_page')!.flags[0]!;
      expect(wb.set).toEqual(['PG_MAPPED', 'PG_INODE_REF']);
      expect(wb.source).toMatch(/^kernel source: include\/linux\/nfs_page.h/);
    },
  );
});

describe('buildObject', () => {
  it('finds empty and linked list heads, counts and self pointers by value', () => {
    const [b] = parseStruct(
      'struct x {\n  a = {\n    next = 0xffff000000000010,\n    prev = 0xffff000000000010\n  },\n  b = {\n    next = 0xffff000000009000,\n    prev = 0xffff000000009100\n  },\n  me = 0xffff000000000000,\n  users = {\n    counter = 0x3\n  }\n}',
    );
    const o = buildObject({
      address: 'ffff000000000000',
      type: 'struct x',
      typeSource: 'test',
      command: 'struct x ffff000000000000',
      value: b!.value as never,
      size: 64,
      version: parseKernelVersion('6.1'),
      flagLookup: () => null,
      known: [],
    });
    expect(o.lists.map((l) => [l.path, l.state])).toEqual([
      ['a', 'empty'],
      ['b', 'linked'],
    ]);
    expect(o.selfPointers).toEqual(['me']);
    expect(o.refcounts).toEqual([{ path: 'users.counter', value: 3 }]);
  });
});

describe('with a real source index of Debian 6.1 (--src INDEX)', () => {
  it.skipIf(SRC === null && !needSrc)(
    'decodes wb_flags from the index and lists who clears PG_BUSY',
    async () => {
      if (!SRC)
        throw new Error(
          'KTRIAGE_REQUIRE_ALL=1 but no linux-source tree ($KTRIAGE_LINUX_SRC, $KTRIAGE_CACHE/linux-source-*)',
        );
      const { indexTree, openSourceIndex } = await import('../../src/source/index.ts');
      const ixDir = mkdtempSync(path.join(tmpdir(), 'ktriage-ix-'));
      onTestFinished(() => rmSync(ixDir, { recursive: true, force: true }));
      const index = path.join(ixDir, 'nfs.db');
      await indexTree({
        tree: SRC,
        index,
        jobs: 0,
        only: ['include/linux/nfs_page.h', 'fs/nfs/pagelist.c', 'fs/nfs/write.c'],
      });
      const ix = openSourceIndex(index);
      try {
        const r = await analyzeTranscript(readShared('seed/crash-session.txt'), {
          kernel: '4.19',
          srcIndex: ix,
        });
        const wb = r.objects.find((o) => o.type === 'struct nfs_page')!.flags[0]!;
        expect(wb.set).toEqual(['PG_MAPPED', 'PG_INODE_REF']);
        expect(wb.source).toMatch(/^source index: .*nfs_page\.h/);
        const busy = r.invariants.find((i) => i.id === 'nfs_page.busy-when-unlocking')!;
        expect(busy.writers!.map((w) => w.func)).toContain('nfs_unlock_request');
        expect(
          r.summary.known.some((k) =>
            /^PG_BUSY of nfs_page\.wb_flags is cleared .*nfs_unlock_request/.test(k),
          ),
        ).toBe(true);
      } finally {
        ix.close();
      }
    },
  );
});
