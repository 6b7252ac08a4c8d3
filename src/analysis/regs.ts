// Registers per frame and arguments by data flow over the disassembly.
//  - Callee-saved registers of a caller = the callee's value when the callee does not write the
//    register on the paths from its entry to its own stop point, or the stack slot where the
//    callee's prologue pushed it (read from `bt -f` words).
//  - An argument of a call = the value the caller put in RDI/RSI/... before the call, traced back
//    through `mov %reg,%rdi` to the caller's callee-saved register; or, from the callee's side,
//    a `mov %rdi,%rbx` at entry whose destination is not written again before the stop point.
import type { Disassembly, Instruction, Operand } from '../vmcore/parse/index.ts';
import { writtenRegisters } from '../vmcore/parse/index.ts';
import { buildCfg, type Cfg, indexAt, pathsTo } from './cfg.ts';
import type {
  Confidence,
  DerivationStep,
  FrameArgument,
  FrameReport,
  MemoryLoad,
  OpenQuestion,
  RecoveredValue,
} from './model.ts';

export const X86_CALLEE_SAVED = ['rbx', 'rbp', 'r12', 'r13', 'r14', 'r15'];
export const X86_ARGS = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'];
export const ARM64_CALLEE_SAVED = ['x19', 'x20', 'x21', 'x22', 'x23', 'x24', 'x25', 'x26', 'x27', 'x28'];
export const ARM64_ARGS = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'];

export interface LogicalFrame {
  index: number;
  level: number | null;
  func: string;
  module: string | null;
  pc: bigint;
  sp: bigint;
}

export interface FunctionCode {
  dis: Disassembly;
  command: string;
}

export interface Prototype {
  params: { name: string | null; type: string }[];
  source: string;
}

/** Member layout by type name, for naming memory loads. */
export type LayoutLookup = (
  type: string,
) => { members: { offset: number; name: string; type: string }[]; source: string } | null;

export interface RegsInput {
  arch: 'x86_64' | 'arm64';
  frames: LogicalFrame[];
  /** Registers at the fault (the exception frame), lower-case names -> value. */
  faultRegs: Map<string, bigint>;
  faultSource: string;
  code: (func: string) => FunctionCode | null;
  stackWords: Map<string, bigint>;
  stackSource: string | null;
  prototype: (func: string) => Prototype | null;
  layout: LayoutLookup;
}

interface RV {
  /** The caller passes its own incoming argument register through unchanged. */
  passThrough?: { caller: string; call: string; source: string };
  value: bigint | null;
  expression?: string;
  confidence: Confidence;
  derivation: DerivationStep[];
}

const ORDER: Confidence[] = ['certain', 'high', 'medium', 'low'];
const lower = (a: Confidence, b: Confidence): Confidence => (ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b);
const hex = (v: bigint) => v.toString(16);
const R = (r: string) => r.toUpperCase();

function toReport(v: RV): RecoveredValue {
  const out: RecoveredValue = {
    value: v.value === null ? null : hex(v.value),
    confidence: v.confidence,
    derivation: v.derivation,
  };
  if (v.expression) out.expression = v.expression;
  return out;
}

function insnText(i: Instruction): string {
  return `${i.symbol}+${i.offset}: ${[...i.prefixes, i.mnemonic].join(' ')} ${i.operandText}`.trim();
}

function regOp(o: Operand | undefined): string | null {
  return o?.kind === 'reg' && o.width === 64 ? o.reg : null;
}

/** Where the prologue (entry up to the first branch or call on the path) saves callee-saved registers, as offsets from the entry RSP. */
export function prologueSaves(
  cfg: Cfg,
  path: Set<number>,
  point: number,
  calleeSaved: string[],
): Map<string, { offset: number; insn: Instruction }> {
  return prologueFrame(cfg, path, point, calleeSaved).saves;
}

/**
 * The prologue's register saves (offsets from the entry SP) and, on arm64, where it points the
 * frame pointer: `mov x29, sp` / `add x29, sp, #N` after `stp x29, x30, [sp, #-M]!` gives x29 as
 * an offset from the entry SP, so a save's slot is x29 + (save offset - fp offset). Stops at the
 * first branch or call on the path and at the stop point.
 */
export function prologueFrame(
  cfg: Cfg,
  path: Set<number>,
  point: number,
  calleeSaved: string[],
): {
  saves: Map<string, { offset: number; insn: Instruction }>;
  fpOffset: number | null;
  fpInsn: Instruction | null;
} {
  const saves = new Map<string, { offset: number; insn: Instruction }>();
  let fpOffset: number | null = null;
  let fpInsn: Instruction | null = null;
  if (!cfg.complete) return { saves, fpOffset, fpInsn };
  let rsp = 0;
  for (let k = 0; k < cfg.insns.length && k < point; k++) {
    if (!path.has(k)) continue;
    const ins = cfg.insns[k]!;
    const m = ins.mnemonic;
    if (cfg.gaps.has(k)) break;
    if (ins.syntax === 'att') {
      if (m === 'push' || m === 'pushq') {
        rsp -= 8;
        const r = regOp(ins.operands[0]);
        if (r && calleeSaved.includes(r) && !saves.has(r)) saves.set(r, { offset: rsp, insn: ins });
        continue;
      }
      if (/^sub/.test(m) && ins.operands[0]?.kind === 'imm' && regOp(ins.operands[1]) === 'rsp') {
        rsp -= Number(ins.operands[0].value);
        continue;
      }
      if (/^mov/.test(m) && ins.operands[1]?.kind === 'mem' && ins.operands[1].base === 'rsp') {
        const r = regOp(ins.operands[0]);
        if (r && calleeSaved.includes(r) && !saves.has(r))
          saves.set(r, { offset: rsp + Number(ins.operands[1].disp), insn: ins });
        continue;
      }
      if (/^(j|call|ret|ud2)/.test(m)) break;
    } else {
      // AArch64: stp/str of callee-saved registers relative to sp, with pre-index writeback.
      if ((m === 'stp' || m === 'str') && ins.operands.some((o) => o.kind === 'mem' && o.base === 'sp')) {
        const mem = ins.operands.find((o) => o.kind === 'mem')!;
        if (mem.kind !== 'mem') continue;
        if (mem.writeback) rsp += Number(mem.disp);
        const base = mem.writeback ? rsp : rsp + Number(mem.disp);
        const regs = ins.operands.filter((o) => o.kind === 'reg').map((o) => (o.kind === 'reg' ? o.reg : ''));
        regs.forEach((r, i) => {
          if (calleeSaved.includes(r) && !saves.has(r)) saves.set(r, { offset: base + 8 * i, insn: ins });
        });
        continue;
      }
      if (m === 'sub' && regOp(ins.operands[0]) === 'sp' && ins.operands[2]?.kind === 'imm') {
        rsp -= Number(ins.operands[2].value);
        continue;
      }
      // The frame pointer: x29 = sp (+ N). Only the first setting counts (later code may reuse x29 only as FP).
      if (fpOffset === null && regOp(ins.operands[0]) === 'x29' && regOp(ins.operands[1]) === 'sp') {
        if (m === 'mov' && ins.operands.length === 2) {
          fpOffset = rsp;
          fpInsn = ins;
          continue;
        }
        if (m === 'add' && ins.operands[2]?.kind === 'imm') {
          fpOffset = rsp + Number(ins.operands[2].value);
          fpInsn = ins;
          continue;
        }
      }
      if (/^(b|bl|blr|br|ret|cbn?z|tbn?z|b\.)/.test(m)) break;
    }
  }
  return { saves, fpOffset, fpInsn };
}

/** The first instruction on the path that writes reg, excluding prologue saves. */
function writersOnPath(
  cfg: Cfg,
  path: Set<number>,
  reg: string,
  from = 0,
  to = Number.POSITIVE_INFINITY,
): Instruction[] {
  const out: Instruction[] = [];
  for (const k of [...path].sort((a, b) => a - b)) {
    if (k < from || k >= to) continue;
    const ins = cfg.insns[k]!;
    if (writtenRegisters(ins).includes(reg)) out.push(ins);
  }
  return out;
}

function gapsOnPath(cfg: Cfg, path: Set<number>, from = 0, to = Number.POSITIVE_INFINITY): boolean {
  for (const k of path) if (k >= from && k <= to && cfg.gaps.has(k)) return true;
  return false;
}

interface FrameState {
  regs: Map<string, RV>;
  cfg: Cfg | null;
  point: number | null;
  path: Set<number> | null;
  code: FunctionCode | null;
}

/** Runs register and argument recovery over the frames (innermost first). */
export function recoverFrames(inp: RegsInput): { frames: FrameReport[]; open: OpenQuestion[] } {
  const calleeSaved = inp.arch === 'x86_64' ? X86_CALLEE_SAVED : ARM64_CALLEE_SAVED;
  const argRegs = inp.arch === 'x86_64' ? X86_ARGS : ARM64_ARGS;
  const open: OpenQuestion[] = [];
  const states: FrameState[] = [];
  const askOnce = (q: string, cmd: string) => {
    if (!open.some((o) => o.commands.includes(cmd))) open.push({ question: q, commands: [cmd] });
  };
  /** The stack word at `slot` where `func` saved `reg`; when the input lacks it, asks for it. */
  const savedWord = (slot: bigint, func: string, reg: string): bigint | undefined => {
    const w = inp.stackWords.get(hex(slot));
    if (w === undefined)
      askOnce(
        `The stack words of ${func}'s frame (saved ${reg} at ${hex(slot)})`,
        inp.stackSource ? `rd -64 ${hex(slot)} 1` : 'bt -f',
      );
    return w;
  };

  // Frame 0: everything the exception frame shows.
  inp.frames.forEach((f, i) => {
    const code = inp.code(f.func);
    let cfg: Cfg | null = null;
    let point: number | null = null;
    let path: Set<number> | null = null;
    if (code) {
      cfg = buildCfg(code.dis, f.func);
      if (cfg.insns.length === 0) cfg = null;
    }
    if (cfg) {
      // x86_64 callers' PCs are return addresses (the call is the instruction before); crash's arm64
      // frames show the branch itself (LR - 4, arm64_print_stackframe_entry).
      point =
        i === 0 || inp.arch === 'arm64'
          ? (indexAt(cfg, f.pc, false) ?? indexAt(cfg, f.pc, true))
          : indexAt(cfg, f.pc, true);
      if (point !== null) path = pathsTo(cfg, point);
    }
    states.push({ regs: new Map(), cfg, point, path, code });
  });
  const s0 = states[0];
  if (s0) {
    const f0 = inp.frames[0]!;
    for (const [r, v] of inp.faultRegs) {
      s0.regs.set(r, {
        value: v,
        confidence: 'certain',
        derivation: [
          {
            text: `${R(r)} = ${hex(v)} at ${f0.func} (registers of the exception frame)`,
            source: inp.faultSource,
          },
        ],
      });
    }
  }

  // Callers: callee-saved registers from the callee (not written -> same value; saved -> stack slot).
  for (let i = 0; i + 1 < inp.frames.length; i++) {
    const callee = inp.frames[i]!;
    const caller = inp.frames[i + 1]!;
    const cs = states[i]!;
    const out = states[i + 1]!.regs;
    const entrySp = caller.sp;
    if (!cs.cfg || cs.point === null || !cs.path) {
      askOnce(
        `Which callee-saved registers does ${callee.func} save or write? (needed for the registers of ${caller.func})`,
        `dis -l ${callee.func}`,
      );
      continue;
    }
    const pf = prologueFrame(cs.cfg, cs.path, cs.point, calleeSaved);
    const saves = pf.saves;
    const gaps = gapsOnPath(cs.cfg, cs.path) || !cs.cfg.complete;
    const stopAt = cs.cfg.insns[cs.point]!;
    // arm64: crash 8.0.2's `bt` prints each frame as `#N [FP] func at PC`, FP being the function's
    // own frame pointer (x29, the address of its frame record; arm64_print_stackframe_entry and
    // arm64_unwind_frame in crash's arm64.c); the faulting function's x29 is in the exception frame.
    const calleeFp = inp.arch === 'arm64' ? (i === 0 ? (inp.faultRegs.get('x29') ?? null) : callee.sp) : null;
    const fpSource =
      i === 0
        ? `X29 of the exception frame (${inp.faultSource})`
        : `the frame address of #${callee.level} in \`bt\``;
    for (const r of calleeSaved) {
      const saved = saves.get(r);
      if (saved && inp.arch === 'arm64') {
        if (pf.fpOffset === null || calleeFp === null) {
          out.set(r, {
            value: null,
            expression: `saved by ${insnText(saved.insn)} at entry SP ${saved.offset >= 0 ? '+' : ''}${saved.offset}`,
            confidence: 'low',
            derivation: [
              {
                text: `${insnText(saved.insn)} saves ${R(r)}; ${pf.fpOffset === null ? `${callee.func} sets no frame pointer (mov x29, sp) before +${stopAt.offset}, so the slot cannot be placed` : 'the frame pointer of this frame is unknown'}`,
                source: cs.code!.command,
              },
            ],
          });
          continue;
        }
        const rel = saved.offset - pf.fpOffset;
        const slot = calleeFp + BigInt(rel);
        const w = savedWord(slot, callee.func, R(r));
        if (w === undefined) continue;
        out.set(r, {
          value: w,
          confidence: 'high',
          derivation: [
            {
              text: `${insnText(saved.insn)} saves ${caller.func}'s ${R(r)} at x29 ${rel >= 0 ? '+' : ''}${rel} (x29 set by ${insnText(pf.fpInsn!)})`,
              source: cs.code!.command,
            },
            {
              text: `x29 of ${callee.func} = ${hex(calleeFp)}, from ${fpSource}`,
              source: i === 0 ? inp.faultSource : 'bt',
            },
            { text: `stack word [${hex(slot)}] = ${hex(w)}`, source: inp.stackSource ?? 'bt -f' },
          ],
        });
        continue;
      }
      if (saved) {
        const slot = entrySp + BigInt(saved.offset);
        const w = savedWord(slot, callee.func, R(r));
        if (w === undefined) continue;
        out.set(r, {
          value: w,
          confidence: 'high',
          derivation: [
            {
              text: `${insnText(saved.insn)} saves ${caller.func}'s ${R(r)} at entry RSP ${hex(entrySp)} ${saved.offset} = ${hex(slot)}`,
              source: cs.code!.command,
            },
            { text: `stack word [${hex(slot)}] = ${hex(w)}`, source: inp.stackSource ?? 'bt -f' },
          ],
        });
        continue;
      }
      const v = cs.regs.get(r);
      if (!v) continue;
      const writers = writersOnPath(cs.cfg, cs.path, r);
      if (writers.length > 0 && !cs.cfg.complete) {
        out.set(r, {
          value: null,
          expression: `unknown: ${callee.func} writes ${R(r)} (${insnText(writers[0]!)}) and its prologue, where it would save it, is elided`,
          confidence: 'low',
          derivation: [
            {
              text: `the listing of ${callee.func} starts at +${cs.cfg.insns[0]!.offset}; the save of ${R(r)} is not visible`,
              source: cs.code!.command,
            },
          ],
        });
        askOnce(
          `The prologue of ${callee.func} (where it saves callee-saved registers) and its stack words`,
          `dis -l ${callee.func}`,
        );
        continue;
      }
      if (writers.length > 0) {
        out.set(r, {
          value: null,
          expression: `unknown: ${callee.func} writes ${R(r)} (${insnText(writers[0]!)}) without a save seen in the listing`,
          confidence: 'low',
          derivation: [
            {
              text: `${insnText(writers[0]!)} overwrites ${R(r)} before ${stopAt.symbol}+${stopAt.offset}`,
              source: cs.code!.command,
            },
          ],
        });
        continue;
      }
      const conf = lower(v.confidence, gaps ? 'medium' : 'high');
      const steps: DerivationStep[] = [
        ...v.derivation,
        {
          text: `${callee.func} does not write ${R(r)} on the paths from its entry to +${stopAt.offset}${gaps ? ' (as far as the listing shows: parts are elided)' : ''}, so ${caller.func}'s ${R(r)} at the call = ${v.value === null ? '?' : hex(v.value)}`,
          source: cs.code!.command,
        },
      ];
      out.set(r, { value: v.value, confidence: conf, derivation: steps });
      if (gaps)
        askOnce(
          `The full disassembly of ${callee.func} (elided in the transcript) to confirm it does not write ${R(r)}`,
          `dis -l ${callee.func}`,
        );
    }
  }

  // Arguments.
  const reports: FrameReport[] = [];
  const passThroughs: { frame: number; arg: number; info: NonNullable<RV['passThrough']> }[] = [];
  inp.frames.forEach((f, i) => {
    const st = states[i]!;
    const proto = inp.prototype(f.func);
    const nArgs = proto ? proto.params.length : argRegs.length;
    const args: FrameArgument[] = [];
    const notes: string[] = [];
    for (let k = 0; k < nArgs && k < argRegs.length; k++) {
      const reg = argRegs[k]!;
      const cands: RV[] = [];
      // Caller side: the caller's setup of the argument register before its call.
      const callerIdx = i + 1;
      if (callerIdx < inp.frames.length) {
        const cst = states[callerIdx]!;
        if (cst.cfg && cst.point !== null) {
          const c = fromCallerSetup(cst, inp.frames[callerIdx]!, f, reg, k, states[callerIdx]!.regs);
          if (c) cands.push(c);
        } else if (proto) {
          askOnce(
            `How ${inp.frames[callerIdx]!.func} sets up the arguments of its call to ${f.func}`,
            `dis -l ${inp.frames[callerIdx]!.func}`,
          );
        }
      }
      // Callee side: the register is still live at the stop point, or was copied to a register that is.
      if (st.cfg && st.point !== null && st.path) {
        const c = fromCalleeEntry(st, f, reg, k);
        if (c) cands.push(c);
      }
      if (cands.length === 0 && !proto) continue;
      const known = cands.filter((c) => c.value !== null);
      let best: RV;
      if (known.length > 0) {
        best = known.reduce((a, b) => (ORDER.indexOf(a.confidence) <= ORDER.indexOf(b.confidence) ? a : b));
        const disagree = known.some((c) => c.value !== best.value);
        if (disagree) {
          notes.push(
            `argument ${k} (${R(reg)}): derivations disagree (${known.map((c) => hex(c.value!)).join(' vs ')})`,
          );
          best = { ...best, confidence: 'low' };
        } else if (known.length > 1) {
          best = {
            ...best,
            confidence: lower('high', ORDER[Math.max(0, ORDER.indexOf(best.confidence) - 1)]!),
            derivation: [
              ...best.derivation,
              { text: 'confirmed by a second, independent derivation:', source: 'rule:cross-check' },
              ...known.find((c) => c !== best)!.derivation,
            ],
          };
        }
      } else if (cands.length > 0) {
        best = cands[0]!;
      } else {
        best = { value: null, expression: 'unknown', confidence: 'low', derivation: [] };
      }
      const p = proto?.params[k];
      if (best.value === null && best.passThrough)
        passThroughs.push({ frame: i, arg: k, info: best.passThrough });
      args.push({
        index: k,
        register: R(reg),
        name: p?.name ?? null,
        type: p?.type ?? null,
        typeSource: proto?.source ?? null,
        ...toReport(best),
      });
    }
    const registers: Record<string, RecoveredValue> = {};
    for (const r of calleeSaved) {
      const v = st.regs.get(r);
      if (v) registers[R(r)] = toReport(v);
    }
    if (i === 0) {
      for (const [r, v] of st.regs) if (!calleeSaved.includes(r)) registers[R(r)] = toReport(v);
    }
    reports.push({
      index: i,
      level: f.level,
      function: f.func,
      module: f.module,
      pc: hex(f.pc),
      sp: hex(f.sp),
      registers,
      arguments: args,
      loads: namedLoads(st, f, proto, inp.layout, argRegs),
      notes,
    });
  });
  // Pass-through arguments take the caller's own argument, outermost first.
  for (const pt of passThroughs.sort((a, b) => b.frame - a.frame)) {
    const a = reports[pt.frame]?.arguments.find((x) => x.index === pt.arg);
    const ca = reports[pt.frame + 1]?.arguments.find((x) => x.index === pt.arg);
    if (!a || !ca || ca.value === null) continue;
    a.value = ca.value;
    delete a.expression;
    a.confidence = ca.confidence;
    a.derivation = [
      ...ca.derivation,
      {
        text: `${pt.info.caller} does not write ${a.register} before ${pt.info.call}: the callee's argument ${pt.arg} is ${pt.info.caller}'s own argument ${pt.arg}`,
        source: pt.info.source,
      },
    ];
  }
  return { frames: reports, open };
}

function fromCallerSetup(
  cst: FrameState,
  caller: LogicalFrame,
  callee: LogicalFrame,
  reg: string,
  k: number,
  callerRegs: Map<string, RV>,
): RV | null {
  const cfg = cst.cfg!;
  const call = cfg.insns[cst.point!]!;
  const isCall = /^(call|bl)/.test(call.mnemonic);
  const tgt = call.operands.find((o) => o.kind === 'target');
  const tgtName = tgt?.kind === 'target' ? tgt.symbol : null;
  const callStep: DerivationStep = {
    text: `${insnText(call)}${isCall ? '' : ' (not a call: the frame may be a tail call or the unwinder guessed)'}`,
    source: cst.code!.command,
  };
  if (!isCall) return null;
  if (tgtName && tgtName !== callee.func && !call.indirect) return null;
  let gap = false;
  for (let j = cst.point! - 1; j >= 0; j--) {
    if (cfg.gaps.has(j + 1)) gap = true;
    const ins = cfg.insns[j]!;
    if (!writtenRegisters(ins).includes(reg)) continue;
    const src = ins.operands[0];
    const base = (
      extra: DerivationStep[],
      value: bigint | null,
      conf: Confidence,
      expression?: string,
    ): RV => {
      const steps = [
        ...extra,
        {
          text: `${insnText(ins)} sets ${R(reg)} (argument ${k}) before ${callStep.text}${gap ? '; instructions between them are elided in the listing and assumed not to change it' : ''}`,
          source: cst.code!.command,
        },
      ];
      const out: RV = { value, confidence: gap ? lower(conf, 'medium') : conf, derivation: steps };
      if (expression) out.expression = expression;
      return out;
    };
    const m = ins.mnemonic;
    if (/^mov/.test(m) && src?.kind === 'reg' && src.width === 64) {
      const v = callerRegs.get(src.reg);
      // The source must not change between the copy and the call.
      let changed = false;
      for (let t = j + 1; t < cst.point!; t++)
        if (writtenRegisters(cfg.insns[t]!).includes(src.reg)) changed = true;
      if (changed) return base([], null, 'low', `${R(src.reg)} before a later write`);
      if (!v || v.value === null)
        return base([], null, 'low', `${caller.func}'s ${R(src.reg)} at the call (unknown)`);
      return base(v.derivation, v.value, v.confidence);
    }
    if (/^mov/.test(m) && src?.kind === 'imm') return base([], src.value & 0xffffffffffffffffn, 'high');
    if (/^xor/.test(m) && src?.kind === 'reg' && src.reg === reg && regOp(ins.operands[1]) === null)
      return base([], 0n, 'high');
    if (/^lea/.test(m) && src?.kind === 'mem' && src.base && !src.index) {
      const v = callerRegs.get(src.base);
      if (v?.value != null)
        return base(v.derivation, (v.value + src.disp) & 0xffffffffffffffffn, v.confidence);
      return base([], null, 'low', `${R(src.base)}${src.disp >= 0n ? '+' : ''}${src.disp}`);
    }
    if (/^mov/.test(m) && src?.kind === 'mem' && src.base) {
      return base(
        [],
        null,
        'low',
        `*(${R(src.base)}${src.disp >= 0n ? '+0x' : '-0x'}${(src.disp < 0n ? -src.disp : src.disp).toString(16)})`,
      );
    }
    return base([], null, 'low', `set by ${insnText(ins)}`);
  }
  // Nothing in the caller writes the register before the call: it passes its own argument on.
  if (cfg.complete && !gap && cfg.gaps.size === 0) {
    return {
      value: null,
      expression: `${caller.func}'s own argument in ${R(reg)}`,
      confidence: 'low',
      derivation: [],
      passThrough: { caller: caller.func, call: callStep.text, source: cst.code!.command },
    };
  }
  return null;
}

function fromCalleeEntry(st: FrameState, f: LogicalFrame, reg: string, k: number): RV | null {
  const cfg = st.cfg!;
  const path = st.path!;
  const stop = cfg.insns[st.point!]!;
  const sorted = [...path].sort((a, b) => a - b);
  const gaps = gapsOnPath(cfg, path) || !cfg.complete;
  // The register itself is still live at the stop point.
  const direct = st.regs.get(reg);
  if (direct?.value != null && writersOnPath(cfg, path, reg).length === 0) {
    return {
      value: direct.value,
      confidence: lower(direct.confidence, gaps ? 'medium' : 'high'),
      derivation: [
        ...direct.derivation,
        {
          text: `${f.func} does not write ${R(reg)} before +${stop.offset}: it still holds argument ${k}`,
          source: st.code!.command,
        },
      ],
    };
  }
  // A copy at entry into a register that keeps it until the stop point.
  for (const kk of sorted) {
    const ins = cfg.insns[kk]!;
    if (writtenRegisters(ins).includes(reg)) return null;
    if (!/^mov/.test(ins.mnemonic) || regOp(ins.operands[0]) !== reg) continue;
    const dst = regOp(ins.operands[1]);
    if (!dst) continue;
    if (writersOnPath(cfg, path, dst, kk + 1).length > 0) continue;
    const v = st.regs.get(dst);
    if (!v || v.value === null) continue;
    const before = !cfg.complete
      ? ' (the listing starts at +' +
        cfg.insns[0]!.offset +
        '; earlier instructions are elided and assumed not to write it)'
      : '';
    return {
      value: v.value,
      confidence: lower(v.confidence, gaps ? 'medium' : 'high'),
      derivation: [
        ...v.derivation,
        {
          text: `${insnText(ins)} copies argument ${k} (${R(reg)}) into ${R(dst)} at entry${before}; ${R(dst)} is not written again before +${stop.offset}`,
          source: st.code!.command,
        },
      ],
    };
  }
  return null;
}

/** Memory loads through registers of known pointer type, named by struct field (type from the prototype, layout from struct -o or the knowledge pack). */
function namedLoads(
  st: FrameState,
  f: LogicalFrame,
  proto: Prototype | null,
  layout: LayoutLookup,
  argRegs: string[],
): MemoryLoad[] {
  if (!st.cfg || !st.path || !proto) return [];
  // Register -> pointed-to struct type, and how that is known.
  const types = new Map<string, { type: string; how: string }>();
  proto.params.forEach((p, k) => {
    const t = /^(struct\s+\w+)\s*\*$/.exec(p.type.trim());
    if (t && argRegs[k])
      types.set(argRegs[k]!, { type: t[1]!, how: `argument ${k} of ${f.func}, ${proto.source}` });
  });
  const out: MemoryLoad[] = [];
  const sorted = [...st.path, ...(st.point !== null ? [st.point] : [])].sort((a, b) => a - b);
  for (const k of sorted) {
    const ins = st.cfg.insns[k]!;
    let loaded: { type: string; how: string } | null = null;
    for (const o of ins.operands) {
      if (o.kind !== 'mem' || !o.base || o.index || !types.has(o.base) || /^(lea|nop)/.test(ins.mnemonic))
        continue;
      const { type, how } = types.get(o.base)!;
      const l = layout(type);
      const off = Number(o.disp);
      let field: string | null = null;
      if (l) {
        const mm = [...l.members].filter((m) => m.offset <= off).sort((a, b) => b.offset - a.offset)[0];
        if (mm) {
          field = `${type.replace(/^struct\s+/, '')}.${mm.name}${mm.offset === off ? '' : `+${off - mm.offset}`}`;
          const pt = /^(struct\s+\w+)\s*\*$/.exec(mm.type.trim());
          if (pt && mm.offset === off && /^mov/.test(ins.mnemonic))
            loaded = { type: pt[1]!, how: `loaded from ${field}` };
        }
      }
      out.push({
        address: ins.address,
        instruction: insnText(ins),
        base: R(o.base),
        offset: off,
        field,
        baseType: `${type} * (${R(o.base)}: ${how})`,
        layoutSource: l?.source ?? null,
      });
    }
    // Type propagation: register copies keep it, loads of pointer members start it, other writes end it.
    const dst = writtenRegisters(ins);
    const src = regOp(ins.operands[0]);
    const d = regOp(ins.operands[1]);
    if (/^mov/.test(ins.mnemonic) && src && d && types.has(src)) {
      types.set(d, types.get(src)!);
    } else {
      for (const r of dst) types.delete(r);
      if (loaded && d) types.set(d, loaded);
    }
  }
  return out;
}

/**
 * Branch targets that stand for an indirect call: retpoline thunks (__x86_indirect_thunk_rax, which
 * crash may name by the section label at the same address, __indirect_thunk_start, as on Debian
 * 6.1.0-56), call-depth thunks, static calls.
 */
const INDIRECT_THUNK = /(^|_)indirect_(call_|jump_)?thunk|^__SCT__|^__static_call/;

/**
 * Whether the caller's call before its return address (x86_64) or at its branch (arm64, crash shows
 * LR - 4) can have entered the callee: a direct call must name it; an indirect call may reach
 * anything. false for a direct call to another function or no call at all: crash's backtrace
 * listed a stale return address (or a tail call hides a function). null when the code is unknown.
 */
export function callerReaches(
  code: FunctionCode | null,
  pc: bigint,
  arch: 'x86_64' | 'arm64',
  callee: string,
): { reaches: boolean | null; insn: Instruction | null } {
  if (!code) return { reaches: null, insn: null };
  const list = code.dis.instructions;
  const at = list.findIndex((i) => BigInt(`0x${i.address}`) === pc);
  // x86_64: the instruction listed just before the return address, with no elision between them;
  // arm64: the branch at the shown address itself.
  if (at < 0 || (arch === 'x86_64' && (at === 0 || code.dis.gapsBefore.includes(at))))
    return { reaches: null, insn: null };
  const insn = arch === 'arm64' ? list[at]! : list[at - 1]!;
  const isCall = arch === 'arm64' ? /^(bl|blr)$/.test(insn.mnemonic) : /^call/.test(insn.mnemonic);
  if (!isCall) return { reaches: false, insn };
  if (insn.indirect) return { reaches: true, insn };
  const t = insn.operands.find((o) => o.kind === 'target');
  const sym = t?.kind === 'target' ? t.symbol : null;
  if (!sym) return { reaches: null, insn };
  const base = (s: string) => s.replace(/\.(isra|constprop|part|cold)(\.\d+)*$/g, '');
  if (INDIRECT_THUNK.test(sym)) return { reaches: true, insn };
  return { reaches: base(sym) === base(callee), insn };
}
