// arm64: callee-saved registers (x19-x28) of callers from the stp/str saves in the callee's
// prologue, placed through the callee's frame pointer. The session below is hand-made in the layout
// crash 8.0.2 prints on arm64 (crash's arm64.c, arm64_back_trace_cmd with BT_FULL): each frame line
// is `#N [FP] func at PC-4`, FP being the function's x29 (its frame record); the stack words
// [FP(N-1), FP(N)) come just before line #N; the exception frame follows the faulting function's
// line. The frames and values are consistent with the prologues (AAPCS64: stp x29, x30 pre-index
// then mov x29, sp; or sub sp + stp x29, x30 + add x29, sp, #N for a larger frame).
import { describe, expect, it } from 'vitest';
import { analyzeTranscript } from '../../src/analysis/index.ts';
import type { AnalysisReport, FrameReport } from '../../src/analysis/model.ts';

const REQ = 'ffff0000c5a3e700';

const dis = (name: string, base: bigint, lines: string[]) =>
  [
    `crash> dis ${name}`,
    ...lines.map(
      (l, i) => `0x${(base + BigInt(4 * i)).toString(16)} <${name}${i ? `+${4 * i}` : ''}>:\t${l}`,
    ),
  ].join('\n');

const F0 = 0xffff800001234900n;
const F1 = 0xffff800001234a00n;
const F2 = 0xffff800001234b00n;
const F3 = 0xffff800001234c00n;

const BT = `crash> bt -f
PID: 1        TASK: ffff0000c1214200  CPU: 1    COMMAND: "init"
 #0 [ffff80000a1b3a90] machine_kexec at ffff8000080299e8
    ffff80000a1b3a90: ffff80000a1b3af0 ffff800008118a64 
 #1 [ffff80000a1b3af0] __crash_kexec at ffff800008118a60
    ffff80000a1b3af0: ffff80000a1b3c80 ffff80000802a310 
 #2 [ffff80000a1b3c80] die at ffff80000802a30c
    ffff80000a1b3c80: ffff80000a1b3d40 ffff800008011484 
 #3 [ffff80000a1b3d40] el1h_64_sync at ffff800008011480
 #4 [ffff80000a1b3d60] fixture_unlock_request at ffff800001234924 [vmcore_fixture]
     PC: ffff800001234928  [fixture_unlock_request+40]
     LR: ffff800001234a1c  [fixture_end_page_writeback+28]
     SP: ffff80000a1b3d60  PSTATE: 60400005
    X29: ffff80000a1b3d60  X28: ffff0000c1214200  X27: 0000000000000000
    X26: 0000000000000000  X25: 0000000000000000  X24: ffff0000c1a8e000
    X23: 0000000000000001  X22: ffff0000c0a00e48  X21: ffff0000c2200021
    X20: 0000000000000012  X19: ${REQ}  X18: 0000000000000000
    X17: 0000000000000000  X16: 0000000000000000  X15: 0000000000000000
    X14: 0000000000000000  X13: 0000000000000000  X12: 0000000000000000
    X11: 0000000000000000  X10: 0000000000000000   X9: 0000000000000000
     X8: 0000000000000000   X7: 0000000000000000   X6: 0000000000000000
     X5: 0000000000000000   X4: 0000000000000000   X3: 0000000000000000
     X2: 0000000000000000   X1: 0000000000000000   X0: ${REQ}
    ORIG_X0: 0000000000000000  SYSCALLNO: ffffffffffffffff
    ffff80000a1b3d60: ffff80000a1b3d90 ffff800001234a1c 
    ffff80000a1b3d70: ${REQ} ffff0000c1100020 
    ffff80000a1b3d80: ffff0000c2200021 0000000000000000 
 #5 [ffff80000a1b3d90] fixture_end_page_writeback at ffff800001234a18 [vmcore_fixture]
    ffff80000a1b3d90: ffff80000a1b3df0 ffff800001234b24 
    ffff80000a1b3da0: ffff0000c2200019 ffff0000c2200020 
    ffff80000a1b3db0: 0000000000000000 0000000000000000 
    ffff80000a1b3dc0: 0000000000000000 0000000000000000 
    ffff80000a1b3dd0: 0000000000000000 0000000000000000 
    ffff80000a1b3de0: ffff0000c3300021 0000000000000000 
 #6 [ffff80000a1b3df0] fixture_redirty_request at ffff800001234b20 [vmcore_fixture]
    ffff80000a1b3df0: ffff80000a1b3e10 ffff800001234c10 
    ffff80000a1b3e00: ffff0000c3300019 ffff0000c3300020 
 #7 [ffff80000a1b3e10] fixture_do_writepage at ffff800001234c0c [vmcore_fixture]
    ffff80000a1b3e10: ffff80000a1b3e30 ffff800001234d40 
    ffff80000a1b3e20: 0000000000000000 0000000000000000 
 #8 [ffff80000a1b3e30] trigger_set at ffff800001234d3c [vmcore_fixture]
`;

const SESSION = [
  'crash> sys\n     RELEASE: 6.1.0-50-arm64\n     MACHINE: aarch64  (unknown Mhz)',
  BT,
  dis('fixture_unlock_request', F0, [
    'paciasp',
    'stp\tx29, x30, [sp, #-48]!',
    'mov\tx29, sp',
    'stp\tx19, x20, [sp, #16]',
    'str\tx21, [sp, #32]',
    'mov\tx19, x0',
    'ldr\tx20, [x19, #56]',
    'tbz\tw20, #0, 0xffff800001234928 <fixture_unlock_request+40>',
    'ldp\tx19, x20, [sp, #16]',
    'ret',
    'brk\t#0x800',
  ]),
  dis('fixture_end_page_writeback', F1, [
    'paciasp',
    'stp\tx29, x30, [sp, #-32]!',
    'mov\tx29, sp',
    'stp\tx19, x20, [sp, #16]',
    'mov\tx19, x0',
    'mov\tx0, x19',
    'bl\t0xffff800001234900 <fixture_unlock_request>',
    'ldp\tx19, x20, [sp, #16]',
    'ldp\tx29, x30, [sp], #32',
    'autiasp',
    'ret',
  ]),
  dis('fixture_redirty_request', F2, [
    'paciasp',
    'sub\tsp, sp, #0x60',
    'stp\tx29, x30, [sp, #64]',
    'add\tx29, sp, #0x40',
    'stp\tx19, x20, [sp, #80]',
    'str\tx21, [sp, #48]',
    'mov\tx19, x0',
    'mov\tx0, x19',
    'bl\t0xffff800001234a00 <fixture_end_page_writeback>',
    'ret',
  ]),
  dis('fixture_do_writepage', F3, [
    'paciasp',
    'stp\tx29, x30, [sp, #-16]!',
    'mov\tx29, sp',
    'bl\t0xffff800001234b00 <fixture_redirty_request>',
    'ldp\tx29, x30, [sp], #16',
    'ret',
  ]),
  'crash> whatis fixture_unlock_request\nvoid fixture_unlock_request(struct fixture_req *);',
  'crash> whatis fixture_end_page_writeback\nvoid fixture_end_page_writeback(struct fixture_req *);',
].join('\n');

const frame = (r: AnalysisReport, f: string): FrameReport => r.frames.find((x) => x.function === f)!;
const val = (r: AnalysisReport, f: string, reg: string) => frame(r, f).registers[reg]?.value ?? null;

describe('arm64 registers saved by prologues', () => {
  it("reads the callers' x19-x21 from the slots the callees' stp/str saved them in", async () => {
    const r = await analyzeTranscript(SESSION);
    expect(r.kernel.arch).toBe('arm64');
    // The faulting function appears once (crash's own frame line for it, at PC-4, is the same activation).
    expect(r.frames.map((f) => f.function)).toEqual([
      'fixture_unlock_request',
      'fixture_end_page_writeback',
      'fixture_redirty_request',
      'fixture_do_writepage',
      'trigger_set',
    ]);
    // fixture_unlock_request saved its caller's x19/x20 at x29+16/+24 and x21 at x29+32 (x29 from the exception frame).
    expect(val(r, 'fixture_end_page_writeback', 'X19')).toBe(REQ);
    expect(val(r, 'fixture_end_page_writeback', 'X20')).toBe('ffff0000c1100020');
    expect(val(r, 'fixture_end_page_writeback', 'X21')).toBe('ffff0000c2200021');
    const d = frame(r, 'fixture_end_page_writeback').registers.X19!.derivation.map((s) => s.text);
    expect(d[0]).toMatch(/stp x19, x20, \[sp, #16\] saves fixture_end_page_writeback's X19 at x29 \+16/);
    expect(d[1]).toMatch(/x29 of fixture_unlock_request = ffff80000a1b3d60, from X29 of the exception frame/);
    expect(d[2]).toBe(`stack word [ffff80000a1b3d70] = ${REQ}`);
    // The frame line's address is fixture_end_page_writeback's x29 for the next level up.
    expect(val(r, 'fixture_redirty_request', 'X19')).toBe('ffff0000c2200019');
    expect(val(r, 'fixture_redirty_request', 'X20')).toBe('ffff0000c2200020');
    // Not saved and not written by fixture_end_page_writeback: the same value one level up.
    expect(val(r, 'fixture_redirty_request', 'X21')).toBe('ffff0000c2200021');
    // sub sp + stp x29, x30 + add x29, sp, #0x40: saves above and below x29.
    expect(val(r, 'fixture_do_writepage', 'X19')).toBe('ffff0000c3300019');
    expect(val(r, 'fixture_do_writepage', 'X20')).toBe('ffff0000c3300020');
    expect(val(r, 'fixture_do_writepage', 'X21')).toBe('ffff0000c3300021');
    // fixture_do_writepage neither saves nor writes them.
    expect(val(r, 'trigger_set', 'X19')).toBe('ffff0000c3300019');
    // Registers the callees never touch keep the exception frame's values.
    expect(val(r, 'fixture_end_page_writeback', 'X24')).toBe('ffff0000c1a8e000');
    // The request argument, from both sides.
    const a = frame(r, 'fixture_unlock_request').arguments[0]!;
    expect(a.value).toBe(REQ);
    expect(a.type).toBe('struct fixture_req *');
  });

  it('follows the data: a different saved word gives a different register, a missing word an open question', async () => {
    const other = SESSION.replace(`ffff80000a1b3d70: ${REQ} `, 'ffff80000a1b3d70: ffff0000deadbee0 ');
    const r = await analyzeTranscript(other);
    expect(val(r, 'fixture_end_page_writeback', 'X19')).toBe('ffff0000deadbee0');
    const cut = SESSION.replace(/ {4}ffff80000a1b3e00: [^\n]*\n/, '');
    const r2 = await analyzeTranscript(cut);
    expect(val(r2, 'fixture_do_writepage', 'X19')).toBeNull();
    expect(r2.summary.open.some((q) => q.commands.includes('rd -64 ffff80000a1b3e00 1'))).toBe(true);
  });

  it('does not place a save without a frame pointer', async () => {
    // The same prologue without `mov x29, sp`: the slot cannot be tied to the frame address.
    const nofp = SESSION.replace(
      `${(F1 + 8n).toString(16)} <fixture_end_page_writeback+8>:\tmov\tx29, sp`,
      `${(F1 + 8n).toString(16)} <fixture_end_page_writeback+8>:\tnop`,
    );
    const r = await analyzeTranscript(nofp);
    const x19 = frame(r, 'fixture_redirty_request').registers.X19!;
    expect(x19.value).toBeNull();
    expect(x19.derivation[0]!.text).toMatch(/sets no frame pointer/);
  });
});

describe('caller links', async () => {
  const { callerReaches } = await import('../../src/analysis/regs.ts');
  const { parseDis } = await import('../../src/vmcore/parse/index.ts');
  const x86 = (lines: string[]) => ({
    dis: parseDis(lines.join('\n')),
    command: 'dis -l f',
  });
  const code = x86([
    '0xffffffffa1000000 <vfs_write>:\tpush   %rbp',
    '0xffffffffa1000001 <vfs_write+1>:\tcall   0xffffffffa2000000 <kernfs_fop_write_iter>',
    '0xffffffffa1000006 <vfs_write+6>:\tcall   *%rax',
    '0xffffffffa1000008 <vfs_write+8>:\tcall   0xffffffffa3000000 <__x86_indirect_thunk_rax>',
    '0xffffffffa100000d <vfs_write+13>:\tcall   0xffffffffa3000000 <__indirect_thunk_start>',
    '0xffffffffa1000012 <vfs_write+18>:\tmov    %rax,%rbx',
    '0xffffffffa1000015 <vfs_write+21>:\tret',
  ]);
  it('accepts a direct call of the callee and indirect calls, rejects other calls and non-calls (stale return addresses)', () => {
    expect(callerReaches(code, 0xffffffffa1000006n, 'x86_64', 'kernfs_fop_write_iter').reaches).toBe(true);
    expect(callerReaches(code, 0xffffffffa1000006n, 'x86_64', 'filp_close').reaches).toBe(false);
    expect(callerReaches(code, 0xffffffffa1000008n, 'x86_64', 'anything').reaches).toBe(true);
    expect(callerReaches(code, 0xffffffffa100000dn, 'x86_64', 'anything').reaches).toBe(true);
    // crash names the retpoline thunk by the section label at its address on some builds.
    expect(callerReaches(code, 0xffffffffa1000012n, 'x86_64', 'anything').reaches).toBe(true);
    expect(callerReaches(code, 0xffffffffa1000015n, 'x86_64', 'kernfs_fop_write_iter').reaches).toBe(false);
    expect(callerReaches(null, 0xffffffffa1000015n, 'x86_64', 'x').reaches).toBeNull();
    // A return address not in the listing, or right after an elision (`...`): unknown, not broken.
    expect(callerReaches(code, 0xffffffffa1000011n, 'x86_64', 'x').reaches).toBeNull();
    const elided = x86([
      '0xffffffffa1000000 <vfs_write>:\tpush   %rbp',
      '...',
      '0xffffffffa1000006 <vfs_write+6>:\tmov    %rax,%rbx',
    ]);
    expect(callerReaches(elided, 0xffffffffa1000006n, 'x86_64', 'kernfs_fop_write_iter').reaches).toBeNull();
  });
  it('reads the branch itself on arm64 (crash shows LR - 4)', () => {
    const r = SESSION.split('crash> ');
    const f1 = r.find((x) => x.startsWith('dis fixture_end_page_writeback'))!;
    const c = { dis: parseDis(f1), command: 'dis fixture_end_page_writeback' };
    expect(callerReaches(c, F1 + 24n, 'arm64', 'fixture_unlock_request').reaches).toBe(true);
    expect(callerReaches(c, F1 + 24n, 'arm64', 'fixture_do_writepage').reaches).toBe(false);
    expect(callerReaches(c, F1 + 28n, 'arm64', 'fixture_unlock_request').reaches).toBe(false);
  });
});
