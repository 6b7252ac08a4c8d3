// Structured fields of one report: frames with their stack context, registers by name, Code:
// bytes, modules, taint, kernel release and build, hardware, CPU/PID/comm, bug location and the
// messages just before the report. One pass over the report's lines; every regex is single-line.
import type { ReportLine } from './build.ts';
import type { CodeBytes, CrashReport, Frame, FrameContext, SourceLocation } from './types.ts';

export type ReportFields = Omit<
  CrashReport,
  'kind' | 'title' | 'altTitles' | 'type' | 'corrupted' | 'corruptedReason' | 'guiltyFrame'
>;

// ` [<ffffffff81234567>] ? func.isra.0+0x1f/0x40 [mod]` and friends (x86, arm64, riscv, s390, ppc).
const PC_TOKEN = /^\[(?:<?(?:0x)?([0-9a-f]+)>?|[\w.]+\+\d+\/\d+)\] ?/;
const FRAME_BODY =
  /^\.?([A-Za-z_$][\w.$]*)\+(0x[0-9a-f]+)\/(0x[0-9a-f]+)(?: \[([\w-]+)(?: [^\]]*)?\])?(?: ([\w./-]+\.[chSsro]+):(\d+)(?::\d+)?)?( \[inline\])?/;
// Symbolized inlined frame: `func file.c:NN [inline]`.
const INLINE_FRAME = /^([A-Za-z_$][\w.$]*) ([\w./-]+\.[chS]):(\d+)(?::\d+)? \[inline\]/;
// 32-bit arm: `[<c0101234>] (callee) from [<c0105678>] (caller+0x1c/0x40)`; newer: `callee from caller+0x1c/0x40`.
const ARM_FROM = /^\(([A-Za-z_$][\w.$]*)(?:\+(0x[0-9a-f]+)\/(0x[0-9a-f]+))?(?: \[([\w-]+)\])?\) from /;
// arm since 5.x: `unwind_backtrace from show_stack+0x10/0x14` (the caller's offset follows `from`).
const ARM_FROM_BARE = /^([A-Za-z_$][\w.$]*) from [A-Za-z_$][\w.$]*\+0x[0-9a-f]+\/0x[0-9a-f]+/;
// ppc: `[c000000000123456] [c000000000234567] func+0x1/0x2 (unreliable)`.

// A kernel frame the kernel could not name (module init code already freed, a BPF or JIT page):
// the address alone, `? 0xffffffffc00b7000` or `[<ffffffffc00b7000>] 0xffffffffc00b7000`. Only
// full-width addresses in the upper half (the kernel's on x86, arm, riscv and ppc, 32 or 64 bits):
// a shorter one is user space, as the last frame of an s390 trace (`0x3fffd4a1d92`).
const RAW_FRAME = /^\s*(?:\[<?[0-9a-f]+>?\] ?)?(\? )?0x([89a-f][0-9a-f]{7}|[89a-f][0-9a-f]{15})$/;

const STACK_MARK = /^\s*<(\/?)(IRQ|NMI|SOFTIRQ|TASK|EOI|#DF|#MC|#DB|#BP|#NM|#SS|#VC)>/;
// Regexes used per line live here, not as literals in the functions (a literal is a new RegExp
// object each time it is evaluated).
const INTERRUPT_FRAME = /^\s*--- interrupt: /;
const USER_RIP = /^\s*RIP: 0033:/;
const ARM64_PC_LR = /^\s*(?:pc|lr) : /;
const ARM64_PC_LR_VALUE = /^\s*(pc|lr) : (\S+)/;

function parseNum(hex: string | undefined): number | null {
  if (hex === undefined) return null;
  const n = Number.parseInt(hex, 16);
  return Number.isFinite(n) ? n : null;
}

/** Every frame form fills the same fields (one object shape); only where they come from differs. */
function newFrame(
  func: string,
  offset: number | null,
  size: number | null,
  module: string | null,
  address: string | null,
  reliable: boolean,
  context: FrameContext,
  inlined: boolean,
  file: string | null,
  line: number | null,
): Frame {
  return { func, offset, size, module, address, reliable, context, inlined, file, line };
}

/** Parses one frame line; null if it is not a frame. */
export function parseFrameLine(text: string, context: FrameContext): Frame | null {
  let s = text.trimStart();
  if (s.startsWith('<')) {
    // `<IRQ>  [<ffffffff81656735>] dump_stack+0x19/0x1b`: a marker and a frame on one line.
    const close = s.indexOf('>');
    if (close > 0 && close < 12) s = s.slice(close + 1).trimStart();
  }
  let reliable = true;
  let address: string | null = null;
  for (let k = 0; k < 2; k++) {
    const pc = PC_TOKEN.exec(s);
    if (!pc) break;
    address ??= pc[1] ?? null;
    s = s.slice(pc[0].length).trimStart();
  }
  if (s.startsWith('? ')) {
    reliable = false;
    s = s.slice(2);
  }
  if (text.endsWith(' (unreliable)')) reliable = false;
  const arm = ARM_FROM.exec(s);
  if (arm)
    return newFrame(
      arm[1]!,
      parseNum(arm[2]?.slice(2)),
      parseNum(arm[3]?.slice(2)),
      arm[4] ?? null,
      address,
      reliable,
      context,
      false,
      null,
      null,
    );
  const from = ARM_FROM_BARE.exec(s);
  if (from) return newFrame(from[1]!, null, null, null, address, reliable, context, false, null, null);
  const m = FRAME_BODY.exec(s);
  if (m)
    return newFrame(
      m[1]!,
      parseNum(m[2]!.slice(2)),
      parseNum(m[3]!.slice(2)),
      m[4] ?? null,
      address,
      reliable,
      context,
      m[7] !== undefined,
      m[5] ?? null,
      m[6] !== undefined ? Number(m[6]) : null,
    );
  const inl = INLINE_FRAME.exec(s);
  if (inl)
    return newFrame(inl[1]!, null, null, null, address, reliable, context, true, inl[2]!, Number(inl[3]));
  return null;
}

const MAIN_STACK_START =
  /Call [Tt]race:|Backtrace:|^\s*backtrace(?: \(crc [0-9a-f]+\))?:|^Stack:|^\s*Call trace:/;
const OTHER_STACK_START =
  /^(?:Allocated by task|Freed by task|Last potentially related work creation:|Second to last potentially related|Uninit was (?:created|stored)|Local variable|Memory state around|The buggy address)/;

/** Frame context from a stack marker line, or undefined if the line is not one. */
function markerContext(text: string, stack: FrameContext[]): boolean {
  const m = STACK_MARK.exec(text);
  if (!m) {
    if (INTERRUPT_FRAME.test(text) || text.includes('Exception stack(')) {
      stack.push('exception');
      return true;
    }
    return false;
  }
  const closing = m[1] === '/';
  const name = m[2]!;
  if (name === 'TASK') {
    if (!closing) stack.splice(0, stack.length, 'task');
    return true;
  }
  if (name === 'EOI') {
    if (stack.length > 1) stack.pop();
    return true;
  }
  const ctx: FrameContext =
    name === 'IRQ' ? 'irq' : name === 'NMI' ? 'nmi' : name === 'SOFTIRQ' ? 'softirq' : 'exception';
  if (closing) {
    if (stack.length > 1) stack.pop();
  } else {
    stack.push(ctx);
  }
  return true;
}

// Register dumps: `RAX: ... RBX: ...`, `pc : f+0x..`, `x29: ...`, `r10: ... r9 : ...`, `NIP:  c0...`, `GPR00: ...`.
const X86_REG_LINE =
  /^\s*(?:RIP|EIP|RSP|ESP|RAX|EAX|RDX|EDX|RBP|EBP|RSI|ESI|R0[89]|R1[0-5]|FS|GS|CS|DS|ES|SS|CR[0-4]|DR[0-7]|EFLAGS):/;
const ARM_REG_LINE =
  /^\s*(?:pc|lr|sp|ip|fp|psr|pstate|x\d{1,2}|r\d{1,2}|epc|ra|gp|tp|t\d|s\d{1,2}|a\d|status|badaddr|cause|orig_a0)\s*:/;
const PPC_REG_LINE = /^\s*(?:NIP|LR|CTR|REGS|MSR|CR|XER|CFAR|DAR|DSISR|IRQMASK|SOFTE|TRAP|GPR\d\d):/;
/** 2.6.x x86_64 prints `CPU 1 ` on a line of its own after the module list. */
const OLD_CPU_LINE = /^\s*CPU \d+\s*$/;
// Older x86 oopses (2.6.x): `CPU:    0`, `EIP: 0060:[<c0598bd2>] EFLAGS: 00210286 CPU: 0`, `CPU 1`,
// `EFLAGS: 00010202   (2.6.18-1.2798.fc6 #1)`, `eax: 00000008   ebx: ...`, `ds: 007b   es: 007b ...`
// and `Process modprobe (pid: 4467, ti=c7878000 ...)` (also x86_64 `threadinfo`, arm `stack limit`).
const LEGACY_CPU =
  /^\s*(?:CPU:\s+(\d+)\s*$|EIP: [0-9a-f]{4}:\[<[0-9a-f]+>\] EFLAGS: [0-9a-f]+ CPU: (\d+)|CPU (\d+)\s*$)/;
const LEGACY_RELEASE = /^\s*EFLAGS: [0-9a-f]+\s+\((\S+) (#[^)]*)\)\s*$/;
const LEGACY_PROCESS = /^\s*Process (.{1,64}?) \(pid: (\d+), /;
const I386_REG_LINE = /^\s*(?:eax|esi|ds):/;
// Taint letters, a group of them per token; Red Hat kernels may glue their dashes to the last
// group (`Tainted: GF          O--------------   3.10.0-54.0.1.el7.s390x`).
const TAINT_TOKEN = /^([A-Z]{1,18})(-+)?$/;
const S390_PSW = /^\s*Krnl PSW : ([0-9a-f]+) ([0-9a-f]+)/;
const S390_GPRS = /^\s*Krnl GPRS: (.*)$/;
const HEX_ROW = /^\s*(?:[0-9a-f]{16} ?){1,4}$/;

/** Copies the entries of `from` whose keys `into` lacks, in `from`'s order. */
function addMissing(into: Map<string, string>, from: Map<string, string>): void {
  // forEach, not for-of: optimised code that first meets a Map iterator's result objects deopts.
  from.forEach((v, k) => {
    if (!into.has(k)) into.set(k, v);
  });
}

function addRegisterPairs(line: string, regs: Map<string, string>): void {
  const gpr = /^\s*GPR(\d\d):\s*(.*)$/.exec(line);
  if (gpr) {
    const base = Number(gpr[1]);
    const vals = gpr[2]!.trim().split(/\s+/);
    vals.forEach((v, i) => {
      regs.set(`r${base + i}`, v);
    });
    return;
  }
  const toks = line.trim().split(/\s+/);
  let i = 0;
  while (i < toks.length) {
    let tok = toks[i]!;
    let name: string;
    let value: string | undefined;
    const colon = tok.indexOf(':');
    if (colon > 0 && colon < tok.length - 1 && /^[A-Za-z]/.test(tok)) {
      // `GS:ffff88803ec00000(0000)` or `RIP:0010:...` glued forms.
      name = tok.slice(0, colon);
      value = tok.slice(colon + 1);
      i += 1;
    } else if (colon === tok.length - 1 && colon > 0) {
      name = tok.slice(0, colon);
      value = toks[i + 1];
      i += 2;
    } else if (toks[i + 1] === ':') {
      name = tok;
      value = toks[i + 2];
      i += 3;
    } else {
      i += 1;
      continue;
    }
    if (value === undefined || !/^[A-Za-z][A-Za-z0-9_]{0,7}$/.test(name)) continue;
    tok = value;
    if (tok.startsWith('[<') && tok.endsWith('>]')) tok = tok.slice(2, -2);
    regs.set(name, tok);
    // `sp : ffff... (x29..)`: arm64 pc/lr values carry `func+0x../0x..`; keep what was printed.
  }
}

const CODE_LINE = /^\s*Code: (.*)$/;

export function parseCode(raw: string): CodeBytes | null {
  const toks = raw.trim().split(/\s+/);
  const bytes: string[] = [];
  let faultIndex: number | null = null;
  for (const t of toks) {
    let tok = t;
    let fault = false;
    if ((tok.startsWith('<') && tok.endsWith('>')) || (tok.startsWith('(') && tok.endsWith(')'))) {
      tok = tok.slice(1, -1);
      fault = true;
    }
    if (!/^[0-9a-fA-F]{2,16}$/.test(tok)) {
      if (bytes.length === 0) continue;
      break;
    }
    if (fault && faultIndex === null) faultIndex = bytes.length;
    bytes.push(tok.toLowerCase());
  }
  if (bytes.length === 0) return null;
  return { bytes, faultIndex, raw: raw.trim() };
}

const CPU_LINE = /CPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (.{1,64}?) (Tainted: |Not tainted)/;

interface CpuLine {
  cpu: number;
  pid: number;
  comm: string;
  taint: string | null;
  release: string | null;
  build: string | null;
}

/** `CPU: 0 PID: 1 Comm: sh Tainted: G        W  OE     6.1.0-18-amd64 #1 Debian 6.1.76-1`. */
export function parseCpuLine(line: string): CpuLine | null {
  const m = CPU_LINE.exec(line);
  if (!m) return null;
  return {
    cpu: Number(m[1]),
    pid: Number(m[2]),
    comm: m[3]!,
    ...afterTaint(line.slice(m.index + m[0].length), m[4] === 'Tainted: '),
  };
}

/** Taint letters, release and build after `Tainted: ` / `Not tainted`. */
function afterTaint(
  rest: string,
  tainted: boolean,
): { taint: string | null; release: string | null; build: string | null } {
  const toks = rest.trim().split(/\s+/);
  let i = 0;
  let taint = '';
  if (tainted) {
    for (let m = TAINT_TOKEN.exec(toks[i] ?? ''); m; m = TAINT_TOKEN.exec(toks[i] ?? '')) {
      taint += m[1]!;
      i++;
      if (m[2]) break;
    }
  }
  // Red Hat kernels print a run of dashes before the release (`Not tainted ------------ 3.10.0-...`).
  while (i < toks.length && /^-+$/.test(toks[i]!)) i++;
  const release = toks[i] ?? '';
  const build = toks
    .slice(i + 1)
    .join(' ')
    .trim();
  return {
    taint: taint === '' ? null : taint,
    release: release === '' ? null : release,
    build: build === '' ? null : build,
  };
}
const WARN_CPU = /CPU: ?(\d+) PID: (\d+) at /;
const HUNG_TASK = /INFO: task (.{1,64}):(\d+) blocked/;
const HARDWARE = /^\s*Hardware name: (.*)$/;
const MODULES = /^\s*Modules linked in:(.*)$/;
const BUG_AT =
  /(?:kernel BUG at|BUG: failure at|WARNING: .*? at|invalid context at|in|at) ([\w./-]+\.[chS]):(\d+)/;
const LINUX_VERSION = /Linux version (\S+) (.*)$/;
const STRUCTURAL =
  /^\s*(?:\[<|\[[0-9a-f]{8,}\]|\? |<\/?[A-Z#]+>|[\w.$]+\+0x[0-9a-f]+\/|\(\w|Call [Tt]race|Code:|Modules linked in|---\[ |RIP:|[A-Z]{2,3}[0-9]*: |[a-z]{1,3}\d* ?: |CPU:|Hardware name|Kernel panic|Kernel Offset|Rebooting in|=====|Memory state|[0-9a-f]{8,}: |\s*\w+ [\w./-]+\.[ch]:\d+|.*\bat: )/;

/** Taint letters after `Tainted: ` (`G        W  OE     4.19.0 #1` -> `GWOE`), up to the release. */
export function parseTaint(line: string): string | null {
  const at = line.indexOf('Tainted: ');
  if (at < 0) return null;
  let letters = '';
  for (const tok of line.slice(at + 9).split(' ')) {
    if (tok === '') continue;
    const m = TAINT_TOKEN.exec(tok);
    if (!m) break;
    letters += m[1]!;
    if (m[2]) break;
  }
  return letters === '' ? null : letters;
}

// `Pid: 3017, comm: 94cpufreq Not tainted 2.6.33.1-19.fc13.x86_64 #1` (before 3.x: no CPU: line).
const OLD_PID_LINE = /^\s*Pid: (\d+), comm: (.{1,64}?) (Tainted: |Not tainted)/;
// `EIP is at f+0x3/0x7 [oops]`, `PC is at f+0x..`, `NIP [c00..] f+0x..`, `Krnl PSW : .. (f+0x../0x..)`.
const IP_LINES: RegExp[] = [
  /^\s*(?:RIP|EIP|IP|PC|pc) is at (.*)$/,
  /^\s*RIP: [0-9a-f]{4}:(?:\[<[0-9a-f]+>\]\s+\[<[0-9a-f]+>\]\s+)?(\S.*)$/,
  /^\s*(?:EIP|RIP): [0-9a-f]{4}:\[<[0-9a-f]+>\] (?:\[<[0-9a-f]+>\] )?(\S+\+0x.*)$/,
  /^\s*IP: \[<[0-9a-f]+>\] (.*)$/,
  /^\s*IP: ([A-Za-z_].*)$/,
  /^\s*pc : (.*)$/,
  /^\s*NIP \[[0-9a-f]+\] (.*)$/,
  /^\s*epc : (.*)$/,
  /^\s*Krnl PSW : [0-9a-f]+ [0-9a-f]+ \((.*)\)$/,
];
const IP_HINT = /RIP|EIP|IP:|pc |PC is|NIP|epc|PSW/;
const CUT_HERE = /^-+\[ cut here \]-+$/;
const MODULE_TOKEN = /^[\w-]+(?:\([A-Z+-]+\))?$/;

/**
 * After a long `Modules linked in:` line: whether line t continues the list (old kernels and
 * syslog captures wrap it). 0: it does not (or the list is not open), 1: more modules (added),
 * 2: the last of them (`[last unloaded: ...]` follows).
 */
/**
 * The module names of a line that continues a wrapped module list (`mod1 mod2(OE) [last unloaded:
 * m]`), and whether the list ends there; null when the line is not names only (a stack dump's hex
 * words, the `CPU 1` line of 2.6.x, any other text).
 */
export function continuedModules(t: string): { names: string[]; closes: boolean } | null {
  const last = t.indexOf('[last unloaded');
  const names = (last >= 0 ? t.slice(0, last) : t)
    .trim()
    .split(/\s+/)
    .filter((x) => x !== '');
  if (
    names.length === 0 ||
    !names.every((x) => MODULE_TOKEN.test(x)) ||
    names.every((x) => /^[0-9a-f]{8,}$/.test(x)) ||
    OLD_CPU_LINE.test(t)
  )
    return null;
  return { names, closes: last >= 0 };
}

function moduleContinuation(open: boolean, t: string, modules: string[]): number {
  if (!open) return 0;
  const c = continuedModules(t);
  if (c === null) return 0;
  for (const x of c.names) modules.push(cleanModule(x));
  return c.closes ? 2 : 1;
}

/** The modules named in `text` (whitespace-separated), appended to `modules`. */
function addModules(text: string, modules: string[]): void {
  const toks = text.trim().split(/\s+/);
  for (let k = 0; k < toks.length; k++) if (toks[k]!.length > 0) modules.push(cleanModule(toks[k]!));
}

function cleanModule(tok: string): string {
  const p = tok.indexOf('(');
  return p > 0 ? tok.slice(0, p) : tok;
}

/** The state of one report's field scan (one object shape, so that the per-line functions stay monomorphic). */
class FieldScan {
  frames: Frame[] = [];
  // A Map while collecting (register names vary per architecture: a plain object would change
  // shape with every new name), a plain object in the result (it is stored as JSON).
  registers = new Map<string, string>();
  code: CodeBytes | null = null;
  codeIsUser = false;
  modules: string[] = [];
  taint: string | null = null;
  kernelRelease: string | null = null;
  kernelBuild: string | null = null;
  hardware: string | null = null;
  cpu: number | null = null;
  pid: number | null = null;
  comm: string | null = null;
  bugLocation: SourceLocation | null = null;
  ipFrame: Frame | null = null;
  inModules = false;
  stack: FrameContext[] = ['task'];
  inMain = false;
  mainDone = false;
  sawMain = false;
  s390Gprs = -1;
  fallbackFrames: Frame[] = [];
}

// extractFields' per-line work is split in two functions (stack and frames; everything else):
// TurboFan compiles each on its own, the loop over the lines is a small function of its own (no
// large on-stack-replacement compile), and a deopt in one part recompiles that part only.

/** Stack headers, context markers and frames of line t; true when the line is done with. */
function stackLine(st: FieldScan, l: ReportLine, t: string, hasOffset: boolean): boolean {
  if (MAIN_STACK_START.test(t)) {
    if (!st.mainDone) {
      st.inMain = true;
      st.sawMain = true;
    }
    return true;
  }
  if (OTHER_STACK_START.test(t)) {
    if (st.inMain) st.mainDone = true;
    st.inMain = false;
  }
  if (markerContext(t, st.stack) && !t.includes('+0x')) return true;
  const cur = st.stack[st.stack.length - 1] ?? 'unknown';
  if (hasOffset && (!l.cut || !st.sawMain)) {
    const f = parseFrameLine(t, cur);
    if (f) {
      if (st.inMain && !st.mainDone) st.frames.push(f);
      else if (!st.sawMain) st.fallbackFrames.push(f);
      return true;
    }
  } else if (((st.inMain && !st.mainDone) || !st.sawMain) && !l.cut && t.includes('0x')) {
    const raw = RAW_FRAME.exec(t);
    if (raw) {
      // func is the address itself: the trace keeps its place, and no symbol is invented.
      const f = newFrame(
        `0x${raw[2]!}`,
        null,
        null,
        null,
        raw[2]!,
        raw[1] === undefined,
        cur,
        false,
        null,
        null,
      );
      if (st.inMain) st.frames.push(f);
      else st.fallbackFrames.push(f);
      return true;
    }
  }
  return false;
}

/**
 * s390 registers (`Krnl PSW :`, `Krnl GPRS:` and the rows that continue it); true when t was one.
 * Called for every line of otherLine (rare lines in a function of their own: see stackLine).
 */
function s390Line(st: FieldScan, t: string): boolean {
  const krnl = t.includes('Krnl');
  const psw = krnl ? S390_PSW.exec(t) : null;
  if (psw) {
    st.registers.set('PSW_mask', psw[1]!);
    st.registers.set('PSW_addr', psw[2]!);
    return true;
  }
  const g = krnl ? S390_GPRS.exec(t) : null;
  if (g) {
    const vals = g[1]!.trim().split(/\s+/);
    for (let i = 0; i < vals.length; i++) st.registers.set(`r${i}`, vals[i]!);
    st.s390Gprs = vals.length;
    return true;
  }
  if (st.s390Gprs >= 0 && st.s390Gprs < 16 && HEX_ROW.test(t)) {
    const vals = t.trim().split(/\s+/);
    for (let i = 0; i < vals.length; i++) st.registers.set(`r${st.s390Gprs++}`, vals[i]!);
    return true;
  }
  return false;
}

/** CPU, release and build, comm and PID from the lines of older x86 (and arm) oopses (LEGACY_*). */
function legacyLine(st: FieldScan, t: string): void {
  if (st.cpu === null && t.includes('CPU')) {
    const c = LEGACY_CPU.exec(t);
    if (c) st.cpu = Number(c[1] ?? c[2] ?? c[3]);
  }
  if (st.kernelRelease === null && t.includes('EFLAGS:') && t.includes('(')) {
    const v = LEGACY_RELEASE.exec(t);
    if (v) {
      st.kernelRelease = v[1]!;
      st.kernelBuild = v[2]!;
    }
  }
  if (st.pid === null && t.includes('(pid: ')) {
    const p = LEGACY_PROCESS.exec(t);
    if (p) {
      st.comm = p[1]!;
      st.pid = Number(p[2]);
    }
  }
}

/** Every other field from line t (CPU/PID/comm, taint, release, IP frame, hardware, modules, Code:, registers, bug location). */
function otherLine(st: FieldScan, t: string, hasOffset: boolean, idx: number, lines: ReportLine[]): void {
  if ((st.kernelRelease === null || st.cpu === null) && t.includes('CPU')) {
    const c = parseCpuLine(t);
    if (c) {
      st.cpu = c.cpu;
      st.pid = c.pid;
      st.comm = c.comm;
      if (c.release !== null) {
        st.taint = c.taint;
        st.kernelRelease = c.release;
        st.kernelBuild = c.build;
      }
      return;
    }
    const w = WARN_CPU.exec(t);
    if (w && st.cpu === null) {
      st.cpu = Number(w[1]);
      st.pid = Number(w[2]);
    }
  }
  if (st.kernelRelease === null && st.pid === null && t.includes('Pid: ')) {
    const o = OLD_PID_LINE.exec(t);
    if (o) {
      st.pid = Number(o[1]);
      st.comm = o[2]!;
      const rest = afterTaint(t.slice(o.index + o[0].length), o[3] === 'Tainted: ');
      st.taint = rest.taint;
      st.kernelRelease = rest.release?.replace(/^\(/, '') ?? null;
      st.kernelBuild = rest.build?.replace(/\)$/, '') ?? null;
    }
  }
  if (st.ipFrame === null && hasOffset && IP_HINT.test(t)) {
    for (const r of IP_LINES) {
      const m = r.exec(t);
      if (!m) continue;
      const f = parseFrameLine(m[1]!, 'exception');
      if (f)
        st.ipFrame = newFrame(
          f.func,
          f.offset,
          f.size,
          f.module,
          f.address,
          true,
          f.context,
          f.inlined,
          f.file,
          f.line,
        );
      break;
    }
  }
  if (st.hardware === null && t.includes('Hardware name')) {
    const h = HARDWARE.exec(t);
    if (h) {
      st.hardware = h[1]!.trim();
      return;
    }
  }
  // Called for every line (returns at once unless inModules): a call reached only in the rare
  // case would have no type feedback, and optimised code deopts when it first gets there.
  const more = moduleContinuation(st.inModules, t, st.modules);
  if (more > 0) {
    if (more === 2) st.inModules = false;
    return;
  }
  st.inModules = false;
  const mod = t.includes('Modules linked') ? MODULES.exec(t) : null;
  if (mod && st.modules.length === 0) {
    // Only a long line can have been wrapped.
    st.inModules = !mod[1]!.includes('[last unloaded') && t.length >= 150;
    let rest = mod[1]!;
    const last = rest.indexOf('[last unloaded');
    if (last >= 0) rest = rest.slice(0, last);
    addModules(rest, st.modules);
    return;
  }
  const cd = t.includes('Code:') ? CODE_LINE.exec(t) : null;
  if (cd) {
    // The kernel's Code: line wins over a user-space one (printed after `RIP: 0033:`).
    const parsed = parseCode(cd[1]!);
    const user = USER_RIP.test(lines[idx - 1]?.text ?? '');
    if (parsed && (st.code === null || (st.codeIsUser && !user))) {
      st.code = parsed;
      st.codeIsUser = user;
    }
    return;
  }
  if (s390Line(st, t)) return;
  legacyLine(st, t);
  if (
    t.includes(':') &&
    (X86_REG_LINE.test(t) || ARM_REG_LINE.test(t) || PPC_REG_LINE.test(t) || I386_REG_LINE.test(t))
  ) {
    const ripUser = USER_RIP.test(t);
    // User-space register dumps (after `RIP: 0033:`) do not overwrite the kernel ones.
    if (!ripUser || !st.registers.has('RIP')) {
      const tmp = new Map<string, string>();
      addRegisterPairs(t, tmp);
      addMissing(st.registers, tmp);
    }
    if (ARM64_PC_LR.test(t)) {
      // arm64 keeps the symbolic value: `pc : f+0x1/0x2 [mod]`.
      const m = ARM64_PC_LR_VALUE.exec(t);
      if (m && !st.registers.has(m[1]!)) st.registers.set(m[1]!, m[2]!);
    }
  }
  if (st.taint === null && t.includes('Tainted: ')) st.taint = parseTaint(t);
  if (st.kernelRelease === null) {
    const v = t.includes('Linux version') ? LINUX_VERSION.exec(t) : null;
    if (v) {
      st.kernelRelease = v[1]!;
      st.kernelBuild = v[2]!.trim();
    }
  }
  if (st.bugLocation === null && idx < 4) {
    const b = BUG_AT.exec(t);
    if (b) st.bugLocation = { file: b[1]!, line: Number(b[2]) };
  }
}

/** Fields of a report from its prefix (lines before the header) and its own lines. */
export function extractFields(prefix: ReportLine[], lines: ReportLine[], context: string): ReportFields {
  const st = new FieldScan();
  // The report ends at its last line that looks like part of an oops (or its third line): lines
  // are in input order, so scan back from the end to the first such line.
  let endLine = lines[Math.min(2, lines.length - 1)]?.lineNo ?? 0;
  for (let idx = lines.length - 1; idx >= 3; idx--) {
    if (STRUCTURAL.test(lines[idx]!.text)) {
      endLine = Math.max(endLine, lines[idx]!.lineNo);
      break;
    }
  }

  const header = lines[0]?.text ?? '';
  const loc = BUG_AT.exec(header);
  if (loc) st.bugLocation = { file: loc[1]!, line: Number(loc[2]) };
  const hung = HUNG_TASK.exec(header);
  if (hung) {
    st.comm = hung[1]!;
    st.pid = Number(hung[2]);
  }

  for (let idx = 0; idx < lines.length; idx++) {
    const l = lines[idx]!;
    const t = l.text;
    // Cheap substring tests first: most report lines are none of the things looked for.
    const hasOffset = t.includes('+0x') || t.includes('[inline]');
    if (!stackLine(st, l, t, hasOffset)) otherLine(st, t, hasOffset, idx, lines);
  }
  // Prefix lines: the messages printed just before the report (the cut-here marker is decoration).
  // Index loops, not map/filter/spread: `prefix` is often empty (small-integer elements) and
  // optimised code specialised on one elements kind is thrown away on the other.
  const messages: string[] = [];
  const parts: string[] = [];
  for (let k = 0; k < prefix.length; k++) {
    const t = prefix[k]!.text;
    parts.push(t);
    const trimmed = t.trim();
    if (trimmed.length > 0 && !CUT_HERE.test(trimmed)) messages.push(t);
  }
  for (let k = 0; k < lines.length; k++) if (!lines[k]!.questionable) parts.push(lines[k]!.text);
  const outFrames = st.frames.length > 0 ? st.frames : st.fallbackFrames;
  let ctxStr: string | null = null;
  if (context.length >= 3 && context.charCodeAt(0) === 0x5b) {
    // The caller id without brackets or padding (prefix.ts callerId, written out here: a small
    // helper reached only for caller-id logs gets no type feedback of its own once inlined, and
    // this function was deoptimised again at each such report).
    ctxStr = context.slice(1, -1).trim();
  } else {
    for (let k = 0; k < outFrames.length && ctxStr === null; k++)
      if (outFrames[k]!.reliable) ctxStr = outFrames[k]!.context;
  }
  const text = parts.join('\n');
  return {
    bugLocation: st.bugLocation,
    ipFrame: st.ipFrame,
    messages,
    frames: outFrames,
    registers: Object.fromEntries(st.registers),
    code: st.code,
    modules: st.modules,
    taint: st.taint,
    kernelRelease: st.kernelRelease,
    kernelBuild: st.kernelBuild,
    hardware: st.hardware,
    cpu: st.cpu,
    pid: st.pid,
    comm: st.comm,
    context: ctxStr,
    startLine: lines[0]?.lineNo ?? 0,
    endLine,
    text: `${text}\n`,
  };
}
