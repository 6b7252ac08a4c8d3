// Streaming crash-log parser: takes a console log in chunks of any size, keeps only a bounded
// window of recent lines plus the reports that are open, and emits each CrashReport when it ends.
// Memory is bounded by the window, the number of open reports and the per-report line cap, not by
// the size of the log. Work per line is constant except when a report closes (linear in its size).
import { buildReport, type ReportLine } from './build.ts';
import { continuedModules } from './fields.ts';
import { matchOops, type Oops, REPORT_START_IGNORES } from './oopses.ts';
import {
  CONTEXT_CONSOLE,
  CONTEXT_NONE,
  embeddedTimestamp,
  isCallerContext,
  isCpuContext,
  isTaskContext,
  type LinePrefix,
  parsePrefix,
  plainConsoleEnd,
} from './prefix.ts';
import { hasInfoWithStack, LINE_HOT, nextColonHeader, nextNonConsoleLine, SCAN_LITERALS } from './scan.ts';
import type { CrashReport } from './types.ts';

export interface ParserOptions {
  /** Lines a report keeps at most (longer reports are cut; the rest of the log still parses). */
  maxReportLines?: number;
  /** A report in a printk caller context closes after this many log lines without one of its own. */
  idleLines?: number;
  /** Reports open at the same time at most (one per printk caller context). */
  maxOpenReports?: number;
  /**
   * false: every line is parsed one by one, with no native scan skipping lines that cannot matter
   * (the reference behaviour the fast path must reproduce exactly; for tests). Default true.
   */
  fastPath?: boolean;
}

/** Longer lines are cut before any pattern sees them: printk lines are at most 1 KiB anyway. */
export const MAX_LINE_CHARS = 4096;
const PREFIX_WINDOW = 256;
/** A report closes after this many consecutive lines that look like no part of an oops. */
const QUIET_LINES = 60;
/** Lines that belong to an oops: frames, registers, stack markers, lockdep and sanitizer details. */
const REPORTISH =
  /\+0x[0-9a-f]|^\s*(?:\[<|<\/?[A-Z#]+>|\? |#\d+:|Call [Tt]race|Code:|(?:R[A-Z0-9]{2}|E[A-Z]{2}|[CDEFGS]S|CR\d|DR\d|x\d{1,2}|pc|lr|sp|r\d{1,2}|ip|fp|psr|pstate|NIP|MSR|GPR\d\d|epc|ra|gp|tp|[ast]\d{1,2}|status) ?:|CPU: |Hardware name|Modules linked|---\[|Kernel|={8}|Memory state|[0-9a-f]{8,})|[Bb]acktrace|Allocated|Freed|held|at: /;
/** Characters of skipped text kept for the next report's prefix (>= PREFIX_WINDOW typical lines). */
const LOOKBACK_CHARS = 64 * 1024;
/** A line with a kernel timestamp: the kernel's own output has started. */
const KERNEL_LINE = /(?:^|\n)(?:<\d+>)?\[ *\d+\.\d+\]/;
/** Lines a report keeps after a later report started (for its corrupted checks). */
const TAIL_LINES = 400;
const REPLAY_MARK = '** replaying previous printk message **';
const VM_DISCONNECTED = 'serialport: VM disconnected.';
const STACK_START_ANY = /Call [Tt]race|[Bb]acktrace:|Allocated by task|Freed by task/;
const SENDING_NMI = 'Sending NMI from CPU';
const DISABLING_LOCK_DEBUGGING = 'Disabling lock debugging due to kernel taint';

interface OpenReport {
  oops: Oops;
  context: string;
  startLine: number;
  prefix: ReportLine[];
  lines: ReportLine[];
  textLines: number;
  minLines: number;
  skipText: boolean;
  cpuTraceback: boolean;
  lastSeen: number;
  /** Started before any kernel output (timestamps, `Linux version`) was seen. */
  preBoot: boolean;
  seq: number;
  /** A later report started: lines now only extend the tail. */
  tail: boolean;
  /** Consecutive lines that look like no part of an oops (the report has ended in all but name). */
  quiet: number;
  tailLeft: number;
  /** Its newest line is part of a module list (`Modules linked in:` or a continuation of one). */
  inModules: boolean;
  /** Where the next line of this context may be in the current chunk (see nextOwnLine). */
  needle: string;
  nextChunk: number;
  nextFrom: number;
  nextAt: number;
}

/** A processed line of the look-back window. */
interface WindowLine {
  prefix: LinePrefix;
  lineNo: number;
}

/** Lines the fast path skipped, kept raw: parsed only if a report starts and needs its prefix. */
interface WindowText {
  /** Complete lines, each ending with a newline (at most LOOKBACK_CHARS, cut at a line start). */
  text: string;
  /** Line number of the last line. */
  last: number;
  lines: number;
}

interface Pending {
  raw: string;
  lineNo: number;
  /** LINE_HOT holds: the line may start a report (tested once per line). */
  hot: boolean;
}

export class CrashLogParser {
  private readonly maxReportLines: number;
  private readonly idleLines: number;
  private readonly maxOpen: number;
  private readonly fastPath: boolean;
  private readonly onReport: (r: CrashReport) => void;
  private carry = '';
  private lineNo = 0;
  private pending: Pending | null = null;
  /** The newest lines (processed or skipped, oldest first): where a new report finds its prefix. */
  private window: (WindowLine | WindowText)[] = [];
  private windowLines = 0;
  /** Counts push() calls: the scan positions cached below are valid within one chunk only. */
  private chunkNo = 0;
  /** Next match at or after scanFrom in the current chunk: of the headers with a colon, then of each SCAN_LITERALS entry (-1: none). */
  private scanFrom = -1;
  private readonly scanAt: number[] = new Array<number>(SCAN_LITERALS.length + 1).fill(-1);
  private open: OpenReport[] = [];
  private done: { seq: number; report: CrashReport; firmware: boolean; noFormat: boolean }[] = [];
  private kernelSeen = false;
  /** A line with a console timestamp or caller id was seen: the kernel's lines carry a prefix. */
  private prefixedSeen = false;
  private seq = 0;
  private vmDisconnected = false;
  private ended = false;

  constructor(onReport: (r: CrashReport) => void, options: ParserOptions = {}) {
    this.onReport = onReport;
    this.maxReportLines = options.maxReportLines ?? 5000;
    this.idleLines = options.idleLines ?? 1000;
    this.maxOpen = options.maxOpenReports ?? 16;
    this.fastPath = options.fastPath ?? true;
  }

  /** Feeds a chunk of the log (any size, may split lines anywhere). */
  push(chunk: string): void {
    if (this.ended) throw new Error('CrashLogParser: push() after end()');
    let start = 0;
    let text = chunk;
    this.chunkNo++;
    this.scanFrom = -1;
    if (this.carry.length > 0) {
      const nl = chunk.indexOf('\n');
      if (nl < 0) {
        this.carry = appendCapped(this.carry, chunk);
        return;
      }
      this.line(appendCapped(this.carry, chunk.slice(0, nl)));
      this.carry = '';
      start = nl + 1;
    }
    for (;;) {
      if (this.canSkip()) {
        // Fast path: lines up to the next possible header that belong to no open report (none is
        // open, or all have printk caller ids that the line does not hold) only feed the line
        // count and the look-back window; native scans find the next line that matters.
        let stop = this.nextCandidateLine(text, start);
        let unprefixed = false;
        for (const r of this.open) {
          // A CPU back-trace also takes the lines of every CPU's caller id: none is a plain console line.
          if (r.context === CONTEXT_NONE || r.cpuTraceback) unprefixed = true;
          else stop = Math.min(stop, this.nextOwnLine(r, text, start));
        }
        if (unprefixed) stop = nextNonConsoleLine(text, start, stop);
        if (stop > start) {
          this.skip(text, start, stop);
          start = stop;
        }
      }
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      // The scan that finds the fast path's stops also says whether this line may hold a header
      // (no regex over the line); only the info messages with a stack are looked for here.
      const raw = text.slice(start, Math.min(nl, start + MAX_LINE_CHARS + 1));
      if (this.fastPath) {
        const hit = this.firstHit(text, start);
        this.line(raw, (hit >= 0 && hit < nl) || hasInfoWithStack(raw));
      } else {
        this.line(raw);
      }
      start = nl + 1;
    }
    if (start < text.length) this.carry = text.slice(start, start + MAX_LINE_CHARS + 1);
    text = '';
  }

  /** Flushes the last line and every open report. */
  end(): void {
    if (this.ended) return;
    if (this.carry.length > 0) {
      this.line(this.carry);
      this.carry = '';
    }
    this.ended = true;
    this.flushPending(null);
    for (const r of [...this.open]) this.close(r);
    this.emitReady(true);
  }

  /**
   * Whether lines may be skipped: the held-back line starts no report, and no open report takes
   * console lines (a report of console context does). A report of unprefixed lines, and a CPU
   * back-trace (a caller id's report that also collects every CPU's lines), take none of the plain
   * console lines: those are skipped up to the next line that is not one (see nextNonConsoleLine).
   */
  private canSkip(): boolean {
    if (!this.fastPath) return false;
    const p = this.pending;
    if (p?.hot) return false;
    // The held-back line may turn its report into a CPU back-trace that collects every CPU's lines.
    if (p !== null && this.open.length > 0 && p.raw.includes(SENDING_NMI)) return false;
    for (const r of this.open) {
      if (!(isCallerContext(r.context) || r.context === CONTEXT_NONE)) return false;
    }
    return true;
  }

  /** Start of the first complete line at or after `from` that may hold a header (or the end of the complete lines). */
  private nextCandidateLine(text: string, from: number): number {
    const lastNl = text.lastIndexOf('\n');
    if (lastNl < from) return from;
    const first = this.firstHit(text, from);
    if (first < 0 || first > lastNl) return lastNl + 1;
    return text.lastIndexOf('\n', first - 1) + 1;
  }

  /** Position of the first match of a scanned header (or the hang-up marker) at or after `from` in this chunk, or -1. */
  private firstHit(text: string, from: number): number {
    // A scan result stays valid until `from` passes it: nothing it looks for lies between.
    const fresh = this.scanFrom < 0 || from < this.scanFrom;
    const at = this.scanAt;
    let first = -1;
    for (let k = 0; k < at.length; k++) {
      if (fresh || (at[k]! >= 0 && at[k]! < from)) {
        if (k === 0) {
          at[0] = nextColonHeader(text, from);
        } else {
          at[k] = text.indexOf(SCAN_LITERALS[k - 1]!, from);
        }
      }
      if (at[k]! >= 0 && (first < 0 || at[k]! < first)) first = at[k]!;
    }
    this.scanFrom = from;
    return first;
  }

  /** Start of the first complete line at or after `from` that may hold r's caller id (or the end of the complete lines). */
  private nextOwnLine(r: OpenReport, text: string, from: number): number {
    const lastNl = text.lastIndexOf('\n');
    if (lastNl < from) return from;
    if (r.nextChunk !== this.chunkNo || from < r.nextFrom || (r.nextAt >= 0 && r.nextAt < from)) {
      r.nextChunk = this.chunkNo;
      r.nextFrom = from;
      r.nextAt = text.indexOf(r.needle, from);
    }
    const at = r.nextAt;
    if (at < 0 || at > lastNl) return lastNl + 1;
    return text.lastIndexOf('\n', at - 1) + 1;
  }

  /** Consumes complete lines text[a, b) that hold no header while no report is open. */
  private skip(text: string, a: number, b: number): void {
    const firstNl = text.indexOf('\n', a);
    if (this.pending) this.flushPending(text.slice(a, firstNl));
    const region = text.slice(a, b);
    let n = 0;
    for (let i = region.indexOf('\n'); i >= 0; i = region.indexOf('\n', i + 1)) n++;
    this.lineNo += n;
    if (!this.prefixedSeen && KERNEL_LINE.test(region)) this.prefixedSeen = true;
    if (!this.kernelSeen && (this.prefixedSeen || region.includes('Linux version '))) {
      this.kernelSeen = true;
      this.done = this.done.filter((d) => !d.firmware);
    }
    // Keep only what the next report's prefix can need, unparsed.
    let kept = region;
    let keptLines = n;
    if (region.length > LOOKBACK_CHARS) {
      kept = region.slice(region.indexOf('\n', region.length - LOOKBACK_CHARS) + 1);
      keptLines = 0;
      for (let i = kept.indexOf('\n'); i >= 0; i = kept.indexOf('\n', i + 1)) keptLines++;
    }
    if (keptLines > 0) this.toWindow({ text: kept, last: this.lineNo, lines: keptLines });
    // Reports whose idle limit passed in the skipped lines close now (process() would have closed
    // them on the first of those lines: none of them was of their context).
    for (let i = this.open.length - 1; i >= 0; i--) {
      const r = this.open[i]!;
      if (this.lineNo - r.lastSeen > (r.tail ? TAIL_LINES : this.idleLines)) this.close(r);
    }
  }

  private toWindow(w: WindowLine | WindowText): void {
    this.window.push(w);
    this.windowLines += 'text' in w ? w.lines : 1;
    if (this.windowLines > 2 * PREFIX_WINDOW) {
      // Drop the oldest entries while PREFIX_WINDOW lines remain.
      let k = 0;
      let left = this.windowLines;
      for (; k < this.window.length - 1; k++) {
        const w0 = this.window[k]!;
        const c = 'text' in w0 ? w0.lines : 1;
        if (left - c < PREFIX_WINDOW) break;
        left -= c;
      }
      this.window = this.window.slice(k);
      this.windowLines = left;
    }
  }

  /** One complete line; `hot` when known to be a superset of LINE_HOT's answer (a scan hit in the line). */
  private line(raw0: string, hot?: boolean): void {
    let raw = raw0.length > MAX_LINE_CHARS ? raw0.slice(0, MAX_LINE_CHARS) : raw0;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    this.lineNo++;
    this.flushPending(raw);
    this.pending = { raw, lineNo: this.lineNo, hot: hot ?? LINE_HOT.test(raw) };
  }

  /** Processes the held-back line now that the next one (or the end) is known. */
  private flushPending(next: string | null): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    this.process(p.raw, p.lineNo, p.hot, next);
  }

  /**
   * One line, with `hot` from one native scan (whether it may hold a header, the hang-up marker or
   * an info message with a stack): most lines hold none, and then the checks below need not run.
   */
  private process(raw: string, lineNo: number, hot: boolean, next: string | null): void {
    // The rare work of hot lines is in functions called for every line (they return at once
    // unless hot): optimised code deopts where it first reaches a call or property access that
    // had no type feedback when it was compiled, and this function is compiled early.
    this.noteHangup(hot, raw);
    let prefix = parsePrefix(raw, false);
    if (hot && prefix.context === CONTEXT_NONE && this.prefixedSeen) prefix = this.gluedLine(raw, prefix);
    if (prefix.foreign) return;
    if (!this.prefixedSeen && prefix.context !== CONTEXT_NONE) this.prefixedSeen = true;
    if (!this.kernelSeen && (prefix.context !== CONTEXT_NONE || raw.includes('Linux version '))) {
      this.kernelSeen = true;
      this.done = this.done.filter((d) => !d.firmware);
    }
    const oops = this.hotLine(hot, raw, prefix.context, next);
    // close() splices this.open, only ever the report at hand: iterate from the end.
    for (let i = this.open.length - 1; i >= 0; i--) {
      const r = this.open[i]!;
      if (prefix.context === r.context || (r.cpuTraceback && isCpuContext(prefix.context))) {
        this.append(r, prefix, lineNo);
      } else if (prefix.context === CONTEXT_NONE && continuesModules(r, prefix.stripped, lineNo)) {
        this.appendModules(r, prefix.stripped, lineNo);
      } else if (lineNo - r.lastSeen > (r.tail ? TAIL_LINES : this.idleLines)) {
        this.close(r);
      }
    }
    if (oops) this.start(oops, prefix, lineNo);
    this.toWindow({ prefix, lineNo });
  }

  /**
   * A hot unprefixed line in a log of prefixed lines whose kernel line starts after other text
   * (see embeddedTimestamp): read from the timestamp on, so that the report it may start is of the
   * console's context and takes the lines that follow.
   */
  private gluedLine(raw: string, prefix: LinePrefix): LinePrefix {
    const at = embeddedTimestamp(raw);
    return at < 0 ? prefix : parsePrefix(raw.slice(at), false);
  }

  /** A hot line with the console-hangup marker: the VM went away (checked for every line). */
  private noteHangup(hot: boolean, raw: string): void {
    if (hot && !this.vmDisconnected && raw.includes(VM_DISCONNECTED)) this.vmDisconnected = true;
  }

  /**
   * The report a line starts (null: none), after the bookkeeping a header or an info message with
   * a stack does to the open reports. Called for every line: returns at once unless hot.
   */
  private hotLine(hot: boolean, raw: string, context: string, next: string | null): Oops | null {
    if (!hot) return null;
    let oops = matchOops(raw);
    // A truncated message that the console replays in full right after: wait for the full copy.
    if (oops && next?.includes(REPLAY_MARK)) oops = null;
    if (oops) {
      const owner = this.ownerOf(context);
      if (owner && !owner.tail && REPORT_START_IGNORES.some((r) => r.test(raw))) return null;
      // A second report: the open ones of this context keep only a bounded tail (syzkaller's
      // secondReportPos), used for the corrupted checks and, with a caller id, for the title.
      const shared = context === CONTEXT_NONE || context === CONTEXT_CONSOLE;
      for (const r of this.open) if (shared || r.context === context) this.toTail(r);
      return oops;
    }
    if (this.open.length > 0 && hasInfoWithStack(raw)) {
      const owner = this.ownerOf(context);
      if (owner) this.toTail(owner);
    }
    return null;
  }

  private toTail(r: OpenReport): void {
    if (r.tail) return;
    r.tail = true;
    r.tailLeft = TAIL_LINES;
  }

  /** The newest open report of this context that is not already in its tail. */
  private ownerOf(context: string): OpenReport | undefined {
    for (let i = this.open.length - 1; i >= 0; i--) {
      const r = this.open[i]!;
      if (r.context === context && !r.tail) return r;
    }
    return undefined;
  }

  private start(oops: Oops, prefix: LinePrefix, lineNo: number): void {
    // Up to 5 earlier lines of the same context (50 with a task caller id) are the report's prefix,
    // from the newest PREFIX_WINDOW lines (skipped text is parsed here, newest line first).
    const context = prefix.context;
    const caller = isCallerContext(context);
    const max = isTaskContext(context) ? 50 : 5;
    const pre: ReportLine[] = [];
    let seen = 0;
    for (let i = this.window.length - 1; i >= 0 && pre.length < max && seen < PREFIX_WINDOW; i--) {
      const w = this.window[i]!;
      if (!('text' in w)) {
        addPrefixLine(pre, prefix.context, w.prefix, w.lineNo);
        seen++;
        continue;
      }
      // w.text ends with a newline: walk its lines from the last one back. A line that cannot be
      // of the report's context is not parsed: a caller id's text must be in it, and a report of
      // unprefixed lines takes no plain console line (most of the window, in a busy log).
      let end = w.text.length - 1;
      let no = w.last;
      while (end >= 0 && pre.length < max && seen < PREFIX_WINDOW) {
        const s = end > 0 ? w.text.lastIndexOf('\n', end - 1) : -1;
        const raw = w.text.slice(s + 1, Math.min(end, s + 1 + MAX_LINE_CHARS));
        if (caller ? raw.includes(context) : context !== CONTEXT_NONE || plainConsoleEnd(raw, 0) < 0) {
          addPrefixLine(pre, context, parsePrefix(raw.endsWith('\r') ? raw.slice(0, -1) : raw, false), no);
        }
        no--;
        seen++;
        end = s;
      }
    }
    pre.reverse();
    const r: OpenReport = {
      oops,
      context: prefix.context,
      startLine: lineNo,
      prefix: pre,
      lines: [{ text: prefix.stripped, lineNo, questionable: false, cut: false, tail: false }],
      textLines: 1,
      minLines: prefix.stripped.includes('BUG: KMSAN:') ? 16 : 22,
      skipText: false,
      cpuTraceback: prefix.stripped.includes(SENDING_NMI),
      lastSeen: lineNo,
      preBoot: !this.kernelSeen && prefix.context === CONTEXT_NONE,
      seq: this.seq++,
      tail: false,
      quiet: 0,
      tailLeft: 0,
      inModules: false,
      // The caller id after `[` and its padding (`T1234]`): every console line has a `[`, so a
      // search for the whole context would stop at each of them.
      needle: prefix.context.replace(/^\[ */, ''),
      nextChunk: 0,
      nextFrom: 0,
      nextAt: -1,
    };
    this.open.push(r);
    if (this.open.length > this.maxOpen) this.close(this.open[0]!);
  }

  private append(r: OpenReport, prefix: LinePrefix, lineNo: number): void {
    r.lastSeen = lineNo;
    const text = prefix.stripped;
    const tail = r.tail;
    if (tail && --r.tailLeft <= 0) {
      this.close(r);
      return;
    }
    if (prefix.questionable) {
      r.lines.push({ text, lineNo, questionable: true, cut: r.skipText, tail });
    } else {
      r.textLines++;
      let cut = r.skipText;
      if (text.includes(DISABLING_LOCK_DEBUGGING)) cut = true;
      else if (text.includes(SENDING_NMI)) r.cpuTraceback = true;
      else if (
        (text.includes('Kernel panic - not syncing') ||
          text.includes('WARNING: possible circular locking dependency detected')) &&
        r.textLines > r.minLines
      ) {
        // panic_on_warn and oops-induced lockdep splats repeat the stack: the report ends here.
        r.skipText = true;
        cut = true;
      }
      r.lines.push({ text, lineNo, questionable: false, cut, tail });
    }
    r.inModules = isModuleLine(r, text);
    r.quiet = REPORTISH.test(text) ? 0 : r.quiet + 1;
    if (r.lines.length >= this.maxReportLines || r.quiet >= QUIET_LINES) this.close(r);
  }

  /**
   * An unprefixed module-list line inside a console report (see continuesModules): kept for its
   * fields only (cut), so titles and the corrupted checks see the report as syzkaller does.
   */
  private appendModules(r: OpenReport, text: string, lineNo: number): void {
    r.lastSeen = lineNo;
    r.lines.push({ text, lineNo, questionable: false, cut: true, tail: false });
    r.inModules = true;
    if (r.lines.length >= this.maxReportLines) this.close(r);
  }

  private close(r: OpenReport): void {
    const i = this.open.indexOf(r);
    if (i < 0) return;
    this.open.splice(i, 1);
    const report = buildReport(r.oops, r.context, r.prefix, r.lines, this.vmDisconnected);
    // Boot firmware (TF-A, U-Boot, coreboot, depthcharge) and test harnesses print bare `INFO: ...`
    // / `WARNING: ...` lines: such a line without a console prefix, that matches no kernel format
    // (catch-alls for cut lines aside) and has no stack, is not the kernel's. Before any kernel
    // output it is held until the kernel's output shows up (then dropped); once the kernel's lines
    // are known to carry a console prefix (a second boot's firmware, a harness after boot), it is
    // dropped at once.
    const bare =
      r.context === CONTEXT_NONE &&
      (r.oops.header === 'INFO:' || r.oops.header === 'WARNING:') &&
      report.frames.length === 0 &&
      report.ipFrame === null &&
      !r.lines.some((l) => STACK_START_ANY.test(l.text)) &&
      !matchesKernelFormat(r.oops, r.lines[0]?.text ?? '');
    if (bare && this.prefixedSeen) return;
    const firmware = bare && r.preBoot;
    // In a log the kernel never got to (firmware only), a bare line that matches no format at all
    // is dropped too; one that matches a catch-all for cut lines (`INFO:` alone) stays, as in syzkaller.
    const noFormat = firmware && !r.oops.formats.some((f) => f.title.test(r.lines[0]?.text ?? ''));
    if (firmware && this.kernelSeen) return;
    this.done.push({ seq: r.seq, report, firmware, noFormat });
    this.emitReady(false);
  }

  /** Emits closed reports in the order they started. */
  private emitReady(all: boolean): void {
    this.done.sort((a, b) => a.seq - b.seq);
    const oldestOpen = this.open.reduce((m, r) => Math.min(m, r.seq), Number.POSITIVE_INFINITY);
    while (this.done.length > 0) {
      const d = this.done[0]!;
      if (!all && (d.seq > oldestOpen || (d.firmware && !this.kernelSeen))) break;
      this.done.shift();
      if (all && d.firmware && d.noFormat) continue;
      this.onReport(d.report);
    }
  }
}

/** Adds a window line to a new report's prefix if it is of the report's context and has text. */
function addPrefixLine(pre: ReportLine[], context: string, p: LinePrefix, lineNo: number): void {
  if (p.foreign || p.context !== context || p.stripped.length === 0 || p.questionable) return;
  pre.push({ text: p.stripped, lineNo, questionable: false, cut: false, tail: false });
}

function appendCapped(a: string, b: string): string {
  if (a.length >= MAX_LINE_CHARS + 1) return a;
  return (a + b).slice(0, MAX_LINE_CHARS + 1);
}

/** Whether a report's newest line, `text`, is (part of) its module list. */
function isModuleLine(r: OpenReport, text: string): boolean {
  return text.includes('Modules linked in:') || (r.inModules && continuedModules(text) !== null);
}

/**
 * Whether an unprefixed line belongs to a console report as part of its module list: a long list
 * wraps, and some consoles print the wrapped part (or the whole `Modules linked in:` line) with no
 * timestamp. Only for reports of plain console lines (no caller id: with one, the fast path skips
 * unprefixed lines and they cannot be told apart), and only next to the report's own lines.
 */
function continuesModules(r: OpenReport, text: string, lineNo: number): boolean {
  if (r.context !== CONTEXT_CONSOLE || r.tail) return false;
  if (text.includes('Modules linked in:')) return lineNo - r.lastSeen <= 3;
  return r.inModules && r.lastSeen === lineNo - 1 && continuedModules(text) !== null;
}

/** Whether a line matches one of the oops's formats, not counting catch-alls for cut lines. */
function matchesKernelFormat(oops: Oops, line: string): boolean {
  return oops.formats.some((f) => f.corrupted !== true && f.title.test(line));
}
