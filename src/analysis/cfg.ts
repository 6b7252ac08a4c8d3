// A control-flow view of one function's disassembly: which instructions can run between the
// function's entry and a point (the fault or a call), so that "F does not write RBX before the
// fault" is judged on the paths that reach the fault, not on every instruction listed before it.
import type { Disassembly, Instruction } from '../vmcore/parse/index.ts';

export interface Cfg {
  insns: Instruction[];
  succ: number[][];
  pred: number[][];
  /** Instruction indices that a jump inside the function targets. */
  jumpTargets: Set<number>;
  /** Indices i with elided instructions between i-1 and i. */
  gaps: Set<number>;
  /** The listing starts at the function's entry (offset 0). */
  complete: boolean;
}

function isTerminal(i: Instruction): boolean {
  const m = i.mnemonic;
  return (
    /^ret/.test(m) ||
    m === 'ud2' ||
    m === 'int3' ||
    m === 'hlt' ||
    m === 'brk' ||
    (i.syntax === 'arm64' && m === 'ret')
  );
}

function isUncondJump(i: Instruction): boolean {
  return /^jmp/.test(i.mnemonic) || (i.syntax === 'arm64' && (i.mnemonic === 'b' || i.mnemonic === 'br'));
}

function isCondJump(i: Instruction): boolean {
  return (
    (/^j/.test(i.mnemonic) && !/^jmp/.test(i.mnemonic)) ||
    (i.syntax === 'arm64' && /^(b\.|cbn?z|tbn?z)/.test(i.mnemonic))
  );
}

/** Builds the CFG of the instructions of one function (those whose symbol is `func`). */
export function buildCfg(dis: Disassembly, func: string): Cfg {
  const idx: number[] = [];
  dis.instructions.forEach((ins, i) => {
    if (ins.symbol === func) idx.push(i);
  });
  const insns = idx.map((i) => dis.instructions[i]!);
  const gapsGlobal = new Set(dis.gapsBefore);
  const gaps = new Set<number>();
  idx.forEach((g, k) => {
    if (gapsGlobal.has(g) && k > 0) gaps.add(k);
  });
  const byAddr = new Map<string, number>();
  insns.forEach((ins, k) => {
    byAddr.set(ins.address, k);
  });
  const succ: number[][] = insns.map(() => []);
  const pred: number[][] = insns.map(() => []);
  const jumpTargets = new Set<number>();
  insns.forEach((ins, k) => {
    const target = ins.operands.find((o) => o.kind === 'target');
    const tk = target && target.kind === 'target' ? byAddr.get(target.address) : undefined;
    if (tk !== undefined && (isUncondJump(ins) || isCondJump(ins))) jumpTargets.add(tk);
    if (isTerminal(ins)) return;
    if (isUncondJump(ins)) {
      if (tk !== undefined) succ[k]!.push(tk);
      return;
    }
    if (isCondJump(ins) && tk !== undefined) succ[k]!.push(tk);
    if (k + 1 < insns.length) succ[k]!.push(k + 1);
  });
  succ.forEach((ss, k) => {
    for (const s of ss) pred[s]!.push(k);
  });
  return { insns, succ, pred, jumpTargets, gaps, complete: insns[0]?.offset === 0 };
}

/** Indices of instructions on some path from the first listed instruction to `point` (exclusive of point). */
export function pathsTo(cfg: Cfg, point: number): Set<number> {
  const fwd = new Set<number>();
  const stack = [0];
  while (stack.length > 0) {
    const k = stack.pop()!;
    if (fwd.has(k) || k >= cfg.insns.length) continue;
    fwd.add(k);
    if (k === point) continue;
    for (const s of cfg.succ[k]!) stack.push(s);
  }
  const bwd = new Set<number>();
  const st2 = [point];
  while (st2.length > 0) {
    const k = st2.pop()!;
    if (bwd.has(k)) continue;
    bwd.add(k);
    for (const p of cfg.pred[k]!) st2.push(p);
  }
  const out = new Set<number>();
  for (const k of fwd) if (bwd.has(k) && k !== point) out.add(k);
  // If the point is unreachable in the listing (elided parts), fall back to everything before it.
  if (!fwd.has(point)) for (let k = 0; k < point; k++) out.add(k);
  return out;
}

/** The index of the instruction at an address, or of the last one before it (for a return address: the call). */
export function indexAt(cfg: Cfg, address: bigint, before: boolean): number | null {
  let best: number | null = null;
  cfg.insns.forEach((ins, k) => {
    const a = BigInt(`0x${ins.address}`);
    if (before ? a < address : a === address) {
      if (best === null || BigInt(`0x${cfg.insns[best]!.address}`) < a) best = k;
    }
  });
  return best;
}
