// `dis` / `dis -l` output: one instruction per line (`0xADDR <sym+off>:\tmnemonic operands`), with
// `file: line` source lines before the instructions they cover (`-l`). Operands are parsed for
// AT&T x86_64 syntax (source first) and gdb's AArch64 syntax (destination first).
import { canonHex, isElision, lines } from './common.ts';

export type Operand =
  | { kind: 'reg'; reg: string; name: string; width: number }
  | {
      kind: 'mem';
      base: string | null;
      index: string | null;
      scale: number;
      disp: bigint;
      segment: string | null;
      /** gdb's AArch64 pre/post-indexed forms (`[sp, #-48]!`) write back the base register. */
      writeback: boolean;
    }
  | { kind: 'imm'; value: bigint }
  | { kind: 'target'; address: string; symbol: string | null; offset: number | null };

export interface Instruction {
  address: string;
  symbol: string;
  offset: number;
  /** `lock`, `rep`, `repz`, ... */
  prefixes: string[];
  mnemonic: string;
  operands: Operand[];
  /** The operand text as printed. */
  operandText: string;
  /** Indirect branch/call (`*%rax`, `*0x8(%rax)`). */
  indirect: boolean;
  /** Trailing annotation, e.g. `FTRACE NOP`. */
  annotation: string | null;
  file: string | null;
  line: number | null;
  syntax: 'att' | 'arm64';
}

export interface Disassembly {
  instructions: Instruction[];
  /** Indices i such that lines were elided between instructions i-1 and i. */
  gapsBefore: number[];
}

const INSN_RE = /^(0x[0-9a-f]+)\s+<([^>+\s]+)(?:\+(\d+))?>:\s*(.*)$/;
const SRC_RE = /^(\S+):\s+(\d+)\s*$/;
const PREFIXES = new Set([
  'lock',
  'rep',
  'repz',
  'repe',
  'repnz',
  'repne',
  'notrack',
  'bnd',
  'data16',
  'addr32',
  'rex',
  'rex.W',
  'cs',
  'ds',
]);

const X86_FAMILY: Record<string, [string, number]> = {};
(() => {
  const legacy: [string, string, string, string, string][] = [
    ['rax', 'eax', 'ax', 'al', 'ah'],
    ['rbx', 'ebx', 'bx', 'bl', 'bh'],
    ['rcx', 'ecx', 'cx', 'cl', 'ch'],
    ['rdx', 'edx', 'dx', 'dl', 'dh'],
  ];
  for (const [q, d, w, b, h] of legacy) {
    X86_FAMILY[q] = [q, 64];
    X86_FAMILY[d] = [q, 32];
    X86_FAMILY[w] = [q, 16];
    X86_FAMILY[b] = [q, 8];
    X86_FAMILY[h] = [q, 8];
  }
  const idx: [string, string, string, string][] = [
    ['rsi', 'esi', 'si', 'sil'],
    ['rdi', 'edi', 'di', 'dil'],
    ['rbp', 'ebp', 'bp', 'bpl'],
    ['rsp', 'esp', 'sp', 'spl'],
  ];
  for (const [q, d, w, b] of idx) {
    X86_FAMILY[q] = [q, 64];
    X86_FAMILY[d] = [q, 32];
    X86_FAMILY[w] = [q, 16];
    X86_FAMILY[b] = [q, 8];
  }
  for (let i = 8; i <= 15; i++) {
    X86_FAMILY[`r${i}`] = [`r${i}`, 64];
    X86_FAMILY[`r${i}d`] = [`r${i}`, 32];
    X86_FAMILY[`r${i}w`] = [`r${i}`, 16];
    X86_FAMILY[`r${i}b`] = [`r${i}`, 8];
  }
  X86_FAMILY.rip = ['rip', 64];
})();

/** The full register a (sub-)register name belongs to: `%ebp` -> rbp, `w19` -> x19. */
export function regFamily(
  name: string,
  syntax: 'att' | 'arm64' = 'att',
): { reg: string; width: number } | null {
  const n = name.replace(/^%/, '').toLowerCase();
  const x = syntax === 'att' ? X86_FAMILY[n] : undefined;
  if (x) return { reg: x[0], width: x[1] };
  const a = /^([xw])(\d+)$/.exec(n);
  if (a && Number(a[2]) <= 30) return { reg: `x${a[2]}`, width: a[1] === 'x' ? 64 : 32 };
  if (n === 'sp' || n === 'wsp') return { reg: 'sp', width: 64 };
  if (n === 'xzr' || n === 'wzr') return { reg: 'xzr', width: 64 };
  if (/^(cs|ds|es|fs|gs|ss)$/.test(n)) return { reg: n, width: 16 };
  if (/^[xyz]mm\d+$/.test(n) || /^cr\d$/.test(n)) return { reg: n, width: 128 };
  return null;
}

/** Splits an operand list at top-level commas (not inside parentheses or brackets). */
function splitOperands(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

function parseDisp(s: string): bigint {
  if (s === '') return 0n;
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  const v = body.startsWith('0x') ? BigInt(body) : /^\d+$/.test(body) ? BigInt(body) : 0n;
  return neg ? -v : v;
}

function attOperand(tok: string, isBranch: boolean): Operand | null {
  let t = tok.trim();
  if (t.startsWith('*')) t = t.slice(1);
  if (t.startsWith('$')) return { kind: 'imm', value: parseDisp(t.slice(1)) };
  if (t.startsWith('%') && !t.includes(':') && !t.includes('(')) {
    const f = regFamily(t);
    return f ? { kind: 'reg', reg: f.reg, name: t.slice(1), width: f.width } : null;
  }
  let segment: string | null = null;
  const seg = /^%(cs|ds|es|fs|gs|ss):(.*)$/.exec(t);
  if (seg) {
    segment = seg[1]!;
    t = seg[2]!;
  }
  const tgt = /^(0x[0-9a-f]+)(?:\s+<([^>+]+)(?:\+(\d+))?>)?$/.exec(t);
  if (tgt && (isBranch || tgt[2]) && !segment) {
    return {
      kind: 'target',
      address: canonHex(tgt[1]!),
      symbol: tgt[2] ?? null,
      offset: tgt[3] ? Number(tgt[3]) : tgt[2] ? 0 : null,
    };
  }
  const m = /^(-?(?:0x[0-9a-f]+|\d+))?(?:\(([^)]*)\))?(?:\s+<.*>)?$/.exec(t);
  if (m && (m[1] !== undefined || m[2] !== undefined)) {
    let base: string | null = null;
    let index: string | null = null;
    let scale = 1;
    if (m[2] !== undefined) {
      const parts = m[2].split(',').map((p) => p.trim());
      if (parts[0]) base = regFamily(parts[0])?.reg ?? null;
      if (parts[1]) index = regFamily(parts[1])?.reg ?? null;
      if (parts[2]) scale = Number(parts[2]);
    }
    return { kind: 'mem', base, index, scale, disp: parseDisp(m[1] ?? ''), segment, writeback: false };
  }
  return null;
}

function armOperand(tok: string, isBranch: boolean): Operand | null {
  const t = tok.trim();
  if (t.startsWith('#')) return { kind: 'imm', value: parseDisp(t.slice(1)) };
  const tgt = /^(0x[0-9a-f]+)(?:\s+<([^>+]+)(?:\+(\d+))?>)?$/.exec(t);
  if (tgt && isBranch) {
    return {
      kind: 'target',
      address: canonHex(tgt[1]!),
      symbol: tgt[2] ?? null,
      offset: tgt[3] ? Number(tgt[3]) : null,
    };
  }
  const mem = /^\[([^\]]*)\](!?)$/.exec(t);
  if (mem) {
    const parts = mem[1]!.split(',').map((p) => p.trim());
    const base = parts[0] ? (regFamily(parts[0], 'arm64')?.reg ?? null) : null;
    let disp = 0n;
    let index: string | null = null;
    if (parts[1]?.startsWith('#')) disp = parseDisp(parts[1].slice(1));
    else if (parts[1]) index = regFamily(parts[1], 'arm64')?.reg ?? null;
    return { kind: 'mem', base, index, scale: 1, disp, segment: null, writeback: mem[2] === '!' };
  }
  const f = regFamily(t, 'arm64');
  if (f) return { kind: 'reg', reg: f.reg, name: t, width: f.width };
  return null;
}

function isBranchMnemonic(m: string): boolean {
  return /^(j[a-z]+|call[a-z]*|jmp[a-z]*|b|bl|blr|br|b\.[a-z]+|cbn?z|tbn?z|loop[a-z]*)$/.test(m);
}

/** Parses the text after `<sym+off>:` into prefixes, mnemonic and operands. */
export function parseInstructionText(
  body: string,
): Pick<
  Instruction,
  'prefixes' | 'mnemonic' | 'operands' | 'operandText' | 'indirect' | 'annotation' | 'syntax'
> {
  let t = body.trim();
  let annotation: string | null = null;
  if (t.endsWith(']')) {
    const open = t.lastIndexOf('[');
    const inner = t.slice(open + 1, -1);
    if (open >= 0 && /^[A-Z][A-Z _]+$/.test(inner)) {
      annotation = inner;
      t = t.slice(0, open).trim();
    }
  }
  // gdb comments (`# 0xffffffff... <sym>`) carry the resolved address of rip-relative operands.
  const hash = t.indexOf(' # ');
  if (hash >= 0) t = t.slice(0, hash).trim();
  const words = t.split(/\s+/);
  const prefixes: string[] = [];
  while (words.length > 1 && PREFIXES.has(words[0]!)) prefixes.push(words.shift()!);
  const mnemonic = words.shift() ?? '';
  const operandText = words.join(' ');
  const syntax: 'att' | 'arm64' =
    operandText.includes('%') || operandText.includes('$')
      ? 'att'
      : /\b[xw]\d+\b|\bsp\b|#/.test(operandText)
        ? 'arm64'
        : 'att';
  const branch = isBranchMnemonic(mnemonic);
  const operands: Operand[] = [];
  for (const tok of splitOperands(operandText)) {
    const op = syntax === 'att' ? attOperand(tok, branch) : armOperand(tok, branch);
    if (op) operands.push(op);
  }
  return {
    prefixes,
    mnemonic,
    operands,
    operandText,
    indirect: operandText.trim().startsWith('*') || /^(blr|br)$/.test(mnemonic),
    annotation,
    syntax,
  };
}

/** Parses `dis [-l] [-r] ADDR|SYMBOL [count]` output. */
export function parseDis(text: string): Disassembly {
  const instructions: Instruction[] = [];
  const gapsBefore: number[] = [];
  let file: string | null = null;
  let line: number | null = null;
  let gap = false;
  for (const raw of lines(text)) {
    const l = raw.trim();
    if (l === '') continue;
    if (isElision(l)) {
      gap = true;
      continue;
    }
    const m = INSN_RE.exec(l);
    if (m) {
      if (gap && instructions.length > 0) gapsBefore.push(instructions.length);
      gap = false;
      instructions.push({
        address: canonHex(m[1]!),
        symbol: m[2]!,
        offset: m[3] ? Number(m[3]) : 0,
        ...parseInstructionText(m[4]!),
        file,
        line,
      });
      continue;
    }
    const s = SRC_RE.exec(l);
    if (s) {
      file = s[1]!;
      line = Number(s[2]);
    }
  }
  return { instructions, gapsBefore };
}

/** Operands an instruction writes (x86 AT&T: the last operand for most; arm64: the first). */
export function writtenRegisters(insn: Instruction): string[] {
  const m = insn.mnemonic;
  const regs: string[] = [];
  if (insn.syntax === 'att') {
    if (
      /^(cmp|test|bt|push|jmp|j[a-z]+|call|ret|nop|ud2|int3|lfence|mfence|sfence|pause|hlt|cli|sti|endbr64)/.test(
        m,
      ) &&
      !/^(btr|bts|btc)/.test(m)
    ) {
      if (m.startsWith('push')) regs.push('rsp');
      if (m.startsWith('call')) regs.push('rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'rsp');
      if (m.startsWith('ret')) regs.push('rsp');
      return regs;
    }
    if (m.startsWith('pop')) {
      const op = insn.operands[0];
      if (op?.kind === 'reg') regs.push(op.reg);
      regs.push('rsp');
      return regs;
    }
    if (/^(xchg|xadd|cmpxchg)/.test(m)) {
      for (const op of insn.operands) if (op.kind === 'reg') regs.push(op.reg);
      if (m.startsWith('cmpxchg')) regs.push('rax');
      return regs;
    }
    if (/^(mul|imul|div|idiv)/.test(m) && insn.operands.length === 1) return ['rax', 'rdx'];
    if (/^(cltq|cqto|cltd|cwtl|rdtsc|cpuid|rdmsr)/.test(m))
      return ['rax', 'rdx', 'rbx', 'rcx'].slice(0, m === 'cpuid' ? 4 : 2);
    if (/^(rep|stos|movs|lods|scas)/.test(m)) return ['rdi', 'rsi', 'rcx'];
    const last = insn.operands[insn.operands.length - 1];
    if (last?.kind === 'reg') regs.push(last.reg);
    return regs;
  }
  // AArch64: stores and compares write no register (except writeback); everything else writes op 0.
  if (
    /^(str|stp|stur|stlr|cmp|cmn|tst|b|b\..*|cbn?z|tbn?z|ret|nop|brk|hint|dmb|dsb|isb|prfm|paciasp|autiasp|bti)/.test(
      m,
    ) &&
    !/^(bl|blr)$/.test(m)
  ) {
    for (const op of insn.operands) if (op.kind === 'mem' && op.writeback && op.base) regs.push(op.base);
    return regs;
  }
  if (m === 'bl' || m === 'blr') {
    for (let i = 0; i <= 18; i++) regs.push(`x${i}`);
    regs.push('x30');
    return regs;
  }
  const first = insn.operands[0];
  if (first?.kind === 'reg') regs.push(first.reg);
  if (m === 'ldp' && insn.operands[1]?.kind === 'reg') regs.push((insn.operands[1] as { reg: string }).reg);
  for (const op of insn.operands) if (op.kind === 'mem' && op.writeback && op.base) regs.push(op.base);
  return regs;
}
