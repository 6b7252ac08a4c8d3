import { describe, expect, it } from 'vitest';
import { parseDis, parseInstructionText, writtenRegisters } from '../../../src/vmcore/parse/index.ts';
import { readShared, SAMPLES, section } from './helpers.ts';

const seed = readShared('seed/crash-session.txt');
const pass1 = readShared(`${SAMPLES}/crash-elf-pass1.txt`);

describe('parseDis', () => {
  it('parses dis -l with source lines and tabs (crash 8.0.2 on 6.1)', () => {
    const text = section(pass1, /^\/build\/module\/vmcore_fixture.c: 48/, /^fixture_global/);
    const d = parseDis(text);
    const first = d.instructions[0]!;
    expect(first).toMatchObject({
      address: 'ffffffffc0224060',
      symbol: 'fixture_crash',
      offset: 0,
      mnemonic: 'nopl',
      annotation: 'FTRACE NOP',
      file: '/build/module/vmcore_fixture.c',
      line: 48,
    });
    const push = d.instructions[1]!;
    expect(push.mnemonic).toBe('push');
    expect(push.operands).toEqual([{ kind: 'reg', reg: 'rbp', name: 'rbp', width: 64 }]);
    const movesi = d.instructions[2]!;
    expect(movesi.operands.map((o) => (o.kind === 'reg' ? o.reg : o.kind))).toEqual(['rsi', 'rbp']);
    expect(writtenRegisters(movesi)).toEqual(['rbp']);
    const load = d.instructions.find((i) => i.offset === 35)!;
    expect(load.operands[0]).toMatchObject({ kind: 'mem', base: 'rbx', disp: 8n });
    expect(load.operands[1]).toMatchObject({ kind: 'reg', reg: 'rax', width: 32 });
    expect(load.line).toBe(58);
    const call = d.instructions.find((i) => i.mnemonic === 'call')!;
    expect(call.operands[0]).toEqual({
      kind: 'target',
      address: 'ffffffffc0224040',
      symbol: 'fixture_touch',
      offset: 0,
    });
    const idx = d.instructions.find((i) => i.offset === 75)!;
    expect(idx.operands[0]).toMatchObject({ kind: 'mem', base: 'rdx', index: 'rax', scale: 1, disp: 0n });
    const ud2 = d.instructions.find((i) => i.offset === 98)!;
    expect(ud2.mnemonic).toBe('ud2');
    expect(ud2.line).toBe(52);
    expect(d.instructions.filter((i) => i.symbol === 'fixture_level1')).toHaveLength(11);
  });

  it('parses the seed disassembly (no tabs, lock prefix, elided gaps)', () => {
    const text = section(seed, /^crash> dis -l nfs_end_page_writeback/, /^crash> struct/);
    const d = parseDis(text);
    expect(d.instructions.map((i) => i.offset)).toEqual([11, 98, 104]);
    expect(d.gapsBefore).toEqual([1, 2]);
    const unlock = parseDis(section(seed, /^crash> dis -l nfs_unlock_request/, /^crash> dis -l nfs_end/));
    const lock = unlock.instructions.find((i) => i.offset === 17)!;
    expect(lock.prefixes).toEqual(['lock']);
    expect(lock.mnemonic).toBe('andb');
    expect(lock.operands[0]).toEqual({ kind: 'imm', value: 0xfen });
    expect(lock.operands[1]).toMatchObject({ kind: 'mem', base: 'rdi', disp: 0x40n });
    const repz = unlock.instructions.find((i) => i.offset === 31)!;
    expect(repz.prefixes).toEqual(['repz']);
    expect(repz.mnemonic).toBe('ret');
    const movImm = unlock.instructions.find((i) => i.offset === 43)!;
    expect(movImm.operands[0]).toEqual({ kind: 'imm', value: 0xffffffffc0970df0n });
    expect(writtenRegisters(movImm)).toEqual(['rdi']);
    const test = unlock.instructions.find((i) => i.offset === 26)!;
    expect(test.operands[1]).toMatchObject({ kind: 'reg', reg: 'rax', name: 'ah', width: 8 });
    expect(writtenRegisters(test)).toEqual([]);
    const jmp = unlock.instructions.find((i) => i.offset === 38)!;
    expect(jmp.operands[0]).toMatchObject({ kind: 'target', symbol: 'wake_up_bit' });
  });

  it('parses AArch64 operands (destination first, writeback)', () => {
    const stp = parseInstructionText('stp\tx29, x30, [sp, #-48]!');
    expect(stp.syntax).toBe('arm64');
    expect(stp.operands[2]).toMatchObject({ kind: 'mem', base: 'sp', disp: -48n, writeback: true });
    const ldr = parseInstructionText('ldr\tw0, [x19, #8]');
    expect(ldr.operands[0]).toMatchObject({ kind: 'reg', reg: 'x0', width: 32 });
    const i = { ...ldr, address: '0', symbol: 'f', offset: 0, file: null, line: null };
    expect(writtenRegisters(i)).toEqual(['x0']);
  });

  it('parses indirect calls and segment-prefixed memory', () => {
    const c = parseInstructionText('call   *0x10(%rax)');
    expect(c.indirect).toBe(true);
    expect(c.operands[0]).toMatchObject({ kind: 'mem', base: 'rax', disp: 16n });
    const g = parseInstructionText('mov    %gs:0x1fbc0,%rax');
    expect(g.operands[0]).toMatchObject({ kind: 'mem', segment: 'gs', disp: 0x1fbc0n, base: null });
  });
});
