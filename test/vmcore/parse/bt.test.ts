import { describe, expect, it } from 'vitest';
import { kernelException, parseBt } from '../../../src/vmcore/parse/index.ts';
import { readShared, SAMPLES, section } from './helpers.ts';

const bug = readShared(`${SAMPLES}/crash-bt-bug.txt`);
const pass1 = readShared(`${SAMPLES}/crash-elf-pass1.txt`);
const seed = readShared('seed/crash-session.txt');

describe('parseBt', () => {
  it('parses a 6.1 bt with an exception frame and the user-mode registers', () => {
    const [t, partial] = parseBt(bug);
    expect(t!.pid).toBe(1);
    expect(t!.task).toBe('ffff8e7541210000');
    expect(t!.cpu).toBe(0);
    expect(t!.command).toBe('init');
    expect(t!.frames.map((f) => f.level)).toEqual([...Array(19).keys()]);
    const ex = kernelException(t!)!;
    expect(ex.frame.func).toBe('asm_exc_invalid_op');
    expect(ex.exception.symbol).toBe('fixture_crash');
    expect(ex.exception.offset).toBe(98);
    expect(ex.exception.registers.RBX).toBe('ffff8e7542689050');
    expect(ex.exception.registers.R8).toBe('0');
    expect(ex.exception.registers.RSP).toBe('ffffd51540013c50');
    expect(ex.exception.registers.ORIG_RAX).toBe('ffffffffffffffff');
    expect(t!.frames[5]).toMatchObject({
      func: 'fixture_level2',
      module: 'vmcore_fixture',
      sp: 'ffffd51540013c60',
      pc: 'ffffffffc02240e2',
    });
    expect(t!.frames[7]!.func).toBe('trigger_set.cold');
    const user = t!.frames[18]!.exception!;
    expect(user.symbol).toBeNull();
    expect(user.registers.CS).toBe('33');
    expect(partial!.frames).toHaveLength(4);
  });

  it('parses bt -a with an IRQ stack transition and a bogus exception frame', () => {
    const text = section(pass1, /^PID: 0 .*swapper\/1/, /^PID: 1 /);
    const [t] = parseBt(text);
    expect(t!.command).toBe('swapper/1');
    expect(t!.frames[2]!.stack).toBe('task');
    expect(t!.frames[3]!.stack).toBe('irq');
    expect(t!.frames[3]!.exception!.bogus).toBe(true);
    expect(t!.warnings.some((w) => w.includes('bogus'))).toBe(true);
  });

  it('parses bt -f stack words per frame', () => {
    const text = section(pass1, /^PID: 1 /, /^\/build\/module/, 5);
    const [t] = parseBt(text);
    const f0 = t!.frames[0]!;
    expect(f0.words[0]).toMatchObject({ address: 'ffffd51540013a60', value: '8' });
    expect(f0.words[1]).toMatchObject({ address: 'ffffd51540013a68', value: 'ffffd51540013ae0' });
    const f4 = t!.frames[4]!;
    expect(f4.exception!.symbol).toBe('fixture_crash');
    // The word at the exception RSP is what fixture_crash pushed last (RBX).
    expect(f4.words.find((w) => w.address === 'ffffd51540013c50')!.value).toBe('ffff8e7542689050');
    expect(t!.frames[5]!.words.map((w) => w.value)).toEqual(['ffff8e7542689050', 'ffffffffc02240fe']);
  });

  it('parses -FF symbolic words and [addr:cache] annotations', () => {
    // Format of crash's `bt -FF` (help bt: "-FF ... both the address and the name of the slab cache").
    const text = [
      'PID: 1        TASK: ffff8e7541210000  CPU: 0    COMMAND: "init"',
      ' #5 [ffffd51540013c60] fixture_level2 at ffffffffc02240e2 [vmcore_fixture]',
      '    ffffd51540013c68: [ffff8e7542689050:fixture_obj] fixture_level1+14 ',
      '    ffffd51540013c78: [kmalloc-64]      fixture_list     ',
    ].join('\n');
    const [t] = parseBt(text);
    const w = t!.frames[0]!.words;
    expect(w[0]).toMatchObject({
      address: 'ffffd51540013c68',
      value: 'ffff8e7542689050',
      slabCache: 'fixture_obj',
    });
    expect(w[1]).toMatchObject({
      address: 'ffffd51540013c70',
      symbol: 'fixture_level1',
      offset: 14,
      value: null,
    });
    expect(w[2]).toMatchObject({ slabCache: 'kmalloc-64', value: null });
    expect(w[3]).toMatchObject({ symbol: 'fixture_list', offset: 0 });
  });

  it('tolerates the seed transcript: no indentation, elided frames', () => {
    const text = section(seed, /^PID: 3930345/, /^crash> dis/);
    const [t] = parseBt(text);
    expect(t!.elided).toBe(true);
    const ex = kernelException(t!)!;
    expect(ex.exception.symbol).toBe('nfs_unlock_request');
    expect(ex.exception.offset).toBe(55);
    expect(ex.exception.registers.RBX).toBe('ffff9bf9f048da00');
    expect(ex.exception.registers.R14).toBe('ffff9bf9f048da00');
    expect(t!.frames.filter((f) => f.level >= 0).map((f) => f.level)).toEqual([0, 1, 7, 8, 9]);
    expect(t!.frames.find((f) => f.level === 7)).toMatchObject({
      func: 'nfs_end_page_writeback',
      module: 'nfs',
      pc: 'ffffffffc096165d',
    });
  });

  it('rejects text without a task header', () => {
    expect(() => parseBt('bt: invalid task or pid value: 99999')).toThrow(/bt/);
  });
});

describe('parseBt on arm64', () => {
  it('takes the faulting function from the PC line and the X registers', () => {
    // Layout of crash's arm64 exception frame (arm64_print_exception_frame in crash's arm64.c).
    const text = [
      'PID: 1234   TASK: ffff0000c2a1a100  CPU: 3   COMMAND: "sh"',
      ' #0 [ffff80000a1b3a90] machine_kexec at ffff8000080299e8',
      ' #5 [ffff80000a1b3c70] el1_abort at ffff800008cf0d1c',
      ' #6 [ffff80000a1b3ca0] el1h_64_sync_handler at ffff800008cf0f48',
      ' #7 [ffff80000a1b3de0] el1h_64_sync at ffff800008011484',
      '     PC: ffff8000086a9b48  [sysrq_handle_crash+24]',
      '     LR: ffff8000086aa1e0  [__handle_sysrq+136]',
      '     SP: ffff80000a1b3df0  PSTATE: 60400005',
      '    X29: ffff80000a1b3df0  X28: ffff0000c2a1a100  X27: 0000000000000000',
      '    X20: ffff0000c0a8e000  X19: 0000000000000063  X18: 0000000000000000',
      ' #8 [ffff80000a1b3df0] sysrq_handle_crash at ffff8000086a9b44',
    ].join('\n');
    const [t] = parseBt(text);
    const ex = kernelException(t!)!;
    expect(ex.exception.symbol).toBe('sysrq_handle_crash');
    expect(ex.exception.offset).toBe(24);
    expect(ex.exception.registers).toMatchObject({
      PC: 'ffff8000086a9b48',
      SP: 'ffff80000a1b3df0',
      X19: '63',
      X28: 'ffff0000c2a1a100',
    });
    expect(t!.frames.at(-1)!.func).toBe('sysrq_handle_crash');
  });
});
