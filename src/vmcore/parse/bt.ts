// `bt` output (x86_64 and arm64), with -f/-F/-FF stack words, -a/foreach (several tasks), exception
// frames with their registers and `--- <IRQ stack> ---` transitions. crash 8.0.2 formats, as printed
// by x86_64_print_stack_entry()/x86_64_exception_frame() and arm64's equivalents.
import { CrashParseError, canonHex, isElision, isHex, lines, splitSymOff } from './common.ts';

export interface StackWord {
  /** Stack address of the word. */
  address: string;
  /** Raw token as printed (`ffff...`, `fixture_crash+98`, `[ffff..:cache]`). */
  text: string;
  /** Numeric value when printed as hex (plain `bt -f`, or the address inside `[addr:cache]`). */
  value: string | null;
  /** `-F`: symbol the word points into. */
  symbol: string | null;
  offset: number | null;
  /** `-F`/`-FF`: the word points into a slab object of this cache (`[cache]` or `[addr:cache]`). */
  slabCache: string | null;
}

export interface ExceptionFrame {
  /** `[exception RIP: nfs_unlock_request+55]`, null for the user-mode register dump at syscall entry. */
  symbol: string | null;
  offset: number | null;
  /** Register name (upper case as printed: RIP, RSP, RBX, R8, ORIG_RAX, CS; arm64: PC, LR, SP, X19) -> canonical hex. */
  registers: Record<string, string>;
  /** crash printed `WARNING: possibly bogus exception frame`. */
  bogus: boolean;
}

export type StackContext = 'task' | 'irq' | 'softirq' | 'nmi' | 'exception' | 'user';

export interface BtFrame {
  level: number;
  /** Stack address printed in brackets: where the return address into `func` is stored (x86_64). */
  sp: string;
  func: string;
  /** The return address / pc printed after `at`. */
  pc: string;
  module: string | null;
  /** Source line (`bt -l`). */
  file: string | null;
  line: number | null;
  /** Which stack this frame is on (changes at `--- <IRQ stack> ---`). */
  stack: StackContext;
  /** Registers dumped after this frame line (exception frame), if any. */
  exception: ExceptionFrame | null;
  /** `bt -f` / `-F` / `-FF` stack words printed under this frame. */
  words: StackWord[];
}

export interface BtTask {
  pid: number;
  task: string;
  cpu: number | null;
  command: string;
  frames: BtFrame[];
  /** True when the transcript elided lines (`...`) inside this backtrace. */
  elided: boolean;
  warnings: string[];
}

const HEADER_RE = /^PID:\s+(\d+)\s+TASK:\s+([0-9a-f]+)\s+CPU:\s+(\d+|-)\s+COMMAND:\s+"(.*)"\s*$/;
const FRAME_RE = /^#(\d+)\s+\[([0-9a-f]+)\]\s+(\S+)\s+at\s+([0-9a-f]+)(?:\s+\[([^\]\s]+)\])?(.*)$/;
const EXC_RE = /^\[exception RIP:\s+([^\]\s]+)\]\s*$/;
const REG_PAIR_RE = /([A-Z][A-Z0-9_]*):\s+([0-9a-f]+)/g;
const WORD_LINE_RE = /^([0-9a-f]{8,16}):\s+(.*)$/;
const SRC_RE = /^(\S+\.[chSs]):\s+(\d+)\s*$/;
const CTX_RE = /^---\s+<(.+)>\s+---$/;

function contextOf(marker: string): StackContext {
  const m = marker.toLowerCase();
  if (m.includes('nmi')) return 'nmi';
  if (m.includes('soft')) return 'softirq';
  if (m.includes('irq')) return 'irq';
  if (m.includes('exception')) return 'exception';
  return 'task';
}

function parseWord(address: string, tok: string): StackWord {
  const w: StackWord = { address, text: tok, value: null, symbol: null, offset: null, slabCache: null };
  if (tok.startsWith('[') && tok.endsWith(']')) {
    const inner = tok.slice(1, -1);
    const colon = inner.indexOf(':');
    if (colon > 0 && isHex(inner.slice(0, colon))) {
      w.value = canonHex(inner.slice(0, colon));
      w.slabCache = inner.slice(colon + 1);
    } else {
      w.slabCache = inner;
    }
  } else if (isHex(tok)) {
    w.value = canonHex(tok);
  } else {
    const so = splitSymOff(tok);
    w.symbol = so.symbol;
    w.offset = so.offset;
  }
  return w;
}

/** Parses the register pairs of one register-dump line into regs; returns false if none. */
export function parseRegisterLine(line: string, regs: Record<string, string>): boolean {
  let found = false;
  // Register dump lines are short; a long line is not one (and would make the scan quadratic).
  if (line.length > 512) return false;
  for (const m of line.matchAll(REG_PAIR_RE)) {
    regs[m[1]!] = canonHex(m[2]!);
    found = true;
  }
  return found;
}

/** Parses `bt`, `bt -f/-F/-FF/-l`, `bt -a` and `foreach bt` output into one entry per task. */
export function parseBt(text: string): BtTask[] {
  const tasks: BtTask[] = [];
  let task: BtTask | null = null;
  let frame: BtFrame | null = null;
  let stack: StackContext = 'task';
  let exc: ExceptionFrame | null = null;
  for (const raw of lines(text)) {
    const line = raw.trim();
    if (line === '') continue;
    const h = HEADER_RE.exec(line);
    if (h) {
      task = {
        pid: Number(h[1]),
        task: canonHex(h[2]!),
        cpu: h[3] === '-' ? null : Number(h[3]),
        command: h[4]!,
        frames: [],
        elided: false,
        warnings: [],
      };
      tasks.push(task);
      frame = null;
      exc = null;
      stack = 'task';
      continue;
    }
    if (!task) {
      if (line.startsWith('WARNING') || line.startsWith('bt:')) continue;
      continue;
    }
    if (isElision(line)) {
      task.elided = true;
      exc = null;
      frame = null;
      continue;
    }
    const f = FRAME_RE.exec(line);
    if (f) {
      frame = {
        level: Number(f[1]),
        sp: canonHex(f[2]!),
        func: f[3]!,
        pc: canonHex(f[4]!),
        module: f[5] ?? null,
        file: null,
        line: null,
        stack,
        exception: null,
        words: [],
      };
      task.frames.push(frame);
      exc = null;
      continue;
    }
    const c = CTX_RE.exec(line);
    if (c) {
      stack = contextOf(c[1]!);
      continue;
    }
    const e = EXC_RE.exec(line);
    if (e) {
      const so = splitSymOff(e[1]!);
      exc = { symbol: so.symbol, offset: so.offset, registers: {}, bogus: false };
      attachException(task, frame, exc);
      continue;
    }
    if (line.startsWith('WARNING: possibly bogus exception frame')) {
      const last = frame?.exception ?? exc;
      if (last) last.bogus = true;
      task.warnings.push(line);
      continue;
    }
    if (/^(RIP|PC|R[A-Z0-9]+|X\d+|ORIG_RAX|LR|SP|PSTATE):\s/.test(line) && !WORD_LINE_RE.test(line)) {
      if (!exc) {
        exc = { symbol: null, offset: null, registers: {}, bogus: false };
        attachException(task, frame, exc);
      }
      parseRegisterLine(line, exc.registers);
      // arm64 prints the faulting function after PC: `PC: ffff8000086a9b48  [sysrq_handle_crash+24]`.
      const pc = /^PC:\s+[0-9a-f]+\s+\[([^\]\s]+)\]/.exec(line);
      if (pc && exc.symbol === null) {
        const so = splitSymOff(pc[1]!);
        exc.symbol = so.symbol;
        exc.offset = so.offset;
      }
      continue;
    }
    const w = WORD_LINE_RE.exec(line);
    if (w && frame) {
      const addr = BigInt(`0x${w[1]}`);
      const toks = w[2]!.trim().split(/\s+/);
      toks.forEach((tok, i) => {
        frame!.words.push(parseWord((addr + BigInt(8 * i)).toString(16), tok));
      });
      continue;
    }
    const s = SRC_RE.exec(line);
    if (s && frame) {
      frame.file = s[1]!;
      frame.line = Number(s[2]);
      continue;
    }
    task.warnings.push(line);
  }
  if (tasks.length === 0 && text.trim() !== '') {
    throw new CrashParseError('bt', 'no `PID: ... TASK: ...` header found');
  }
  return tasks;
}

function attachException(task: BtTask, frame: BtFrame | null, exc: ExceptionFrame): void {
  if (frame && !frame.exception) frame.exception = exc;
  else if (!frame) {
    // Exception frame before any frame line (transcript elided the top frames): keep it on a
    // placeholder so it is not lost.
    const ph: BtFrame = {
      level: -1,
      sp: '0',
      func: '?',
      pc: '0',
      module: null,
      file: null,
      line: null,
      stack: 'task',
      exception: exc,
      words: [],
    };
    task.frames.push(ph);
  } else {
    // A second register dump after the same frame line (rare): attach to a placeholder copy.
    task.frames.push({ ...frame, level: frame.level, exception: exc, words: [] });
  }
}

/** The exception frame of a task that names a kernel function (the faulting RIP), if any. */
export function kernelException(t: BtTask): { frame: BtFrame; exception: ExceptionFrame } | null {
  for (const fr of t.frames) {
    if (fr.exception?.symbol && !fr.exception.bogus) return { frame: fr, exception: fr.exception };
  }
  return null;
}
