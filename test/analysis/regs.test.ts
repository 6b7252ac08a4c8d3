// Register and argument recovery on real crash 8.0.2 output from a Debian 6.1 fixture dump (the
// samples): `bt -f` words and `dis -l` listings. The module's BUG() scenario planted the object
// ffff8e7542689050 in RBX; fixture_crash clobbers RDI with a call before the BUG.
import { describe, expect, it } from 'vitest';
import { analyzeTranscript } from '../../src/analysis/index.ts';
import { liveSource, Q, transcriptSource } from '../../src/analysis/source.ts';
import { splitTranscript } from '../../src/vmcore/parse/index.ts';
import { readShared, SAMPLES, section } from '../vmcore/parse/helpers.ts';

const pass1 = readShared(`${SAMPLES}/crash-elf-pass1.txt`);
const btf = section(pass1, /^PID: 1 /, /^\/build\/module/, 5);
const dis = section(pass1, /^\/build\/module\/vmcore_fixture.c: 48/, /^fixture_global/);
const transcript = [
  'crash> bt -f',
  btf,
  'crash> dis -l fixture_crash',
  dis,
  'crash> dis -l fixture_level2',
  dis,
  'crash> dis -l fixture_level1',
  dis,
].join('\n');
const OBJ = 'ffff8e7542689050';

describe('registers and arguments from real 6.1 output', async () => {
  const r = await analyzeTranscript(transcript, { kernel: '6.1' });

  it('builds the logical frames from the exception frame', () => {
    expect(r.frames.slice(0, 4).map((f) => [f.function, f.level])).toEqual([
      ['fixture_crash', null],
      ['fixture_level2', 5],
      ['fixture_level1', 6],
      ['trigger_set.cold', 7],
    ]);
    expect(r.frames[0]!.module).toBe('vmcore_fixture');
  });

  it("recovers the callers' callee-saved registers from the prologue pushes and the bt -f words", () => {
    const l2 = r.frames[1]!;
    expect(l2.registers.RBX!.value).toBe(OBJ);
    expect(l2.registers.RBX!.derivation.map((d) => d.text)).toEqual([
      "fixture_crash+8: push %rbx saves fixture_level2's RBX at entry RSP ffffd51540013c60 -16 = ffffd51540013c50",
      `stack word [ffffd51540013c50] = ${OBJ}`,
    ]);
    expect(l2.registers.RBP!.value).toBe('ffffffffc0226090');
    // R12 is neither pushed nor written by fixture_crash: the fault value carries over.
    expect(l2.registers.R12!.value).toBe('2');
    expect(l2.registers.R12!.derivation[1]!.text).toMatch(/fixture_crash does not write R12/);
    const l1 = r.frames[2]!;
    expect(l1.registers.RBX!.value).toBe(OBJ);
    expect(l1.registers.RBX!.derivation[0]!.text).toMatch(
      /fixture_level2\+9: push %rbx .* = ffffd51540013c68/,
    );
  });

  it('recovers the first argument although RDI was clobbered by a call', () => {
    const a = r.frames[0]!.arguments[0]!;
    expect(a.value).toBe(OBJ);
    expect(a.derivation.some((d) => /fixture_crash\+9: mov %rdi,%rbx copies argument 0/.test(d.text))).toBe(
      true,
    );
    expect(r.frames[1]!.arguments[0]!.value).toBe(OBJ);
    expect(r.frames[2]!.arguments[0]!.value).toBe(OBJ);
  });

  it('asks for the missing disassembly instead of guessing further out', () => {
    expect(r.summary.open.some((q) => q.commands.includes('dis -l trigger_set.cold'))).toBe(true);
    const ts = r.frames[3]!;
    // fixture_level1 pushed trigger_set.cold's RBX at ffffd51540013c78, which holds 0.
    expect(ts.registers.RBX!.value).toBe('0');
    expect(ts.registers.RBX!.derivation[1]!.text).toBe('stack word [ffffd51540013c78] = 0');
  });
});

describe('command sources', () => {
  it('live: runs each command once and logs it; errors are not answers', async () => {
    const ran: string[] = [];
    const src = liveSource({
      async run(cmd) {
        ran.push(cmd);
        if (cmd.startsWith('kmem'))
          return { output: 'kmem: invalid address', errors: ['kmem: invalid address'] };
        return { output: `out of ${cmd}` };
      },
    });
    expect((await src.ask(Q.bt('-f')))!.output).toBe('out of bt -f');
    await src.ask(Q.bt('-f'));
    expect(await src.ask(Q.kmem('ffff1'))).toBeNull();
    expect(ran).toEqual(['bt -f', 'kmem ffff1']);
    expect(src.log.map((l) => l.status)).toEqual(['ran', 'error']);
  });

  it('transcript: matches commands by meaning (addresses with or without 0x, struct as a command)', async () => {
    const src = transcriptSource(
      splitTranscript(
        'crash> nfs_page 0xffff9bf9f048da00\nstruct nfs_page {\n}\ncrash> kmem 0xFFFF9BF9F048DA00\nCACHE\ncrash> bt\nPID: 1\ncrash> bt -f\nPID: 2',
      ),
    );
    expect((await src.ask(Q.struct('struct nfs_page', 'ffff9bf9f048da00')))!.command).toBe(
      'nfs_page 0xffff9bf9f048da00',
    );
    expect((await src.ask(Q.kmem('ffff9bf9f048da00')))!.output).toBe('CACHE');
    expect((await src.ask(Q.bt('-f')))!.command).toBe('bt -f');
    expect(await src.ask(Q.search('ffff9bf9f048da00'))).toBeNull();
    expect(src.log.find((l) => l.command === 'search -k ffff9bf9f048da00')!.status).toBe('missing');
  });
});

describe('search hit classes', async () => {
  const { classifyHits } = await import('../../src/analysis/search.ts');
  it('pairs kernel-image-mapping aliases with direct-map hits at a constant distance', () => {
    const direct = [0xffff898842891f78n, 0xffff898842891fb0n, 0xffff8988411ee978n];
    const delta = 0xffffffffa9a91f78n - 0xffff898842891f78n;
    const image = direct.map((d) => d + delta);
    const out = classifyHits({
      value: 1n,
      hits: [...direct, ...image, 0xffffffffa0000008n],
      regions: [],
      frames: [],
      framesElided: false,
      stackBase: null,
      valueIsPageCachePage: false,
      version: null,
      kmem: () => null,
    });
    expect(out.filter((h) => h.class === 'mapping-alias').map((h) => h.address)).toEqual(
      image.map((x) => x.toString(16)),
    );
    expect(out.find((h) => h.address === 'ffffffffa0000008')!.class).toBe('elsewhere');
  });
});

describe('typed loads', () => {
  it('names loads through arguments and through pointers loaded from known fields', async () => {
    const text = [
      'crash> bt',
      'PID: 1        TASK: ffff8e7541210000  CPU: 0    COMMAND: "x"',
      ' #4 [ffffc90000013ba0] asm_exc_invalid_op at ffffffff81000b96',
      '    [exception RIP: nfs_unlock_request+9]',
      '    RIP: ffffffffc0001009  RSP: ffffc90000013c50  RFLAGS: 00000246',
      '    RAX: ffffea0000000040  RBX: 0000000000000001  RCX: 0000000000000000',
      '    RDX: 0000000000000000  RSI: 0000000000000000  RDI: ffff888000001000',
      '    RBP: 0000000000000000   R8: 0000000000000000   R9: 0000000000000000',
      '    R10: 0000000000000000  R11: 0000000000000000  R12: 0000000000000000',
      '    R13: 0000000000000000  R14: 0000000000000000  R15: 0000000000000000',
      '    ORIG_RAX: ffffffffffffffff  CS: 0010  SS: 0018',
      ' #5 [ffffc90000013c50] nfs_end_page_writeback at ffffffffc0002010 [nfs]',
      'crash> dis -l nfs_unlock_request',
      '0xffffffffc0001000 <nfs_unlock_request>:\tmov    0x10(%rdi),%rax',
      '0xffffffffc0001004 <nfs_unlock_request+4>:\tmov    0x8(%rax),%rdx',
      '0xffffffffc0001008 <nfs_unlock_request+8>:\tnop',
      '0xffffffffc0001009 <nfs_unlock_request+9>:\tud2',
    ].join('\n');
    const r = await analyzeTranscript(text, { kernel: '4.19' });
    const loads = r.frames[0]!.loads;
    expect(loads.map((l) => [l.base, l.offset, l.field])).toEqual([
      ['RDI', 16, 'nfs_page.wb_page'],
      ['RAX', 8, null],
    ]);
    expect(loads[1]!.baseType).toMatch(/^struct page \* \(RAX: loaded from nfs_page\.wb_page\)/);
    // RDI is not written before the fault: it still holds req.
    expect(r.frames[0]!.arguments[0]).toMatchObject({ name: 'req', value: 'ffff888000001000' });
  });
});
