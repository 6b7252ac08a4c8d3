// The one engine that reads the oops table (oopses.ts): given the lines of one report (prefixes
// stripped, other contexts and `? ` frames dropped), it picks the format whose title matches
// earliest, extracts the guilty frame with the format's stack spec, and renders title, alt titles
// and the corrupted verdict. Everything works line by line; every regex runs on a single line.
import { demangle } from './demangle.ts';
import type { FrameExtractor, Oops, OopsFormat, ReportStep, StackPart, StackSpec } from './oopses.ts';
import {
  CORRUPTED_LINES,
  FRAME_RES,
  RISCV_STACK_START,
  SKIP_PATTERNS,
  STACK_START,
  STALL_ANCHORS,
  STRIP_FRAME_PREFIXES,
} from './patterns.ts';

export const CORRUPTED_NO_FRAMES = 'extracted no frames';

interface Pos {
  line: number;
  col: number;
}

const before = (a: Pos, b: Pos): boolean => a.line < b.line || (a.line === b.line && a.col < b.col);
const samePos = (a: Pos, b: Pos): boolean => a.line === b.line && a.col === b.col;

export interface Description {
  title: string;
  altTitles: string[];
  corrupted: string;
  format: OopsFormat | null;
  /** Raw name of the key frame (before syscall-prefix stripping), when one was extracted. */
  frame: string | null;
}

interface ExtractedFrame {
  canonical: string;
  raw: string;
}

/**
 * Whether a frame is generic for a format: the shared skip list or the format's own extras. The
 * shared list is one regex with one verdict memo for every format (the same kernel functions recur
 * in every report of a log); each format's extras are a small regex of their own, shared by every
 * format with the same extras. Verdicts are remembered per name, bounded.
 */
class SkipTest {
  private readonly re: RegExp;
  private readonly seen = new Map<string, boolean>();
  constructor(source: string) {
    this.re = new RegExp(source);
  }
  test(f: string): boolean {
    let v = this.seen.get(f);
    if (v === undefined) {
      v = this.re.test(f);
      if (this.seen.size >= SKIP_VERDICTS_MAX) this.seen.clear();
      // f is a slice of the line, itself a slice of a whole input chunk: key the map by a copy so
      // that it does not keep the chunks alive (concatenation then slice makes a fresh string).
      this.seen.set(` ${f}`.slice(1), v);
    }
    return v;
  }
}

const SKIP_VERDICTS_MAX = 1 << 14;
const COMMON_SKIP = new SkipTest(SKIP_PATTERNS.join('|'));
const extraSkips = new Map<string, SkipTest>();
const specSkips = new WeakMap<StackSpec, SkipTest | null>();

/** The format's own skip patterns (null when it has none). */
function extraSkip(spec: StackSpec): SkipTest | null {
  let t = specSkips.get(spec);
  if (t === undefined) {
    const src = (spec.skip ?? []).join('|');
    t = src === '' ? null : (extraSkips.get(src) ?? null);
    if (src !== '' && t === null) {
      t = new SkipTest(src);
      extraSkips.set(src, t);
    }
    specSkips.set(spec, t);
  }
  return t;
}

/** A superset of the stack-start keywords (STACK_START, RISCV_STACK_START): a line without one starts no stack. */
const STACK_START_HINT = /[Tt]race|Allocated|Freed|acktrace|Uninit was stored|badaddr/;

function isStackStart(line: string): boolean {
  // Most lines hold none of the keywords: one pre-filter instead of nine searches per line.
  if (!STACK_START_HINT.test(line)) return false;
  for (const r of STACK_START) if (r.test(line)) return true;
  return RISCV_STACK_START.test(line);
}

function isCorruptedLine(line: string): boolean {
  return line.includes('should_fail') && CORRUPTED_LINES.some((r) => r.test(line));
}

function skipped(extra: SkipTest | null, f: string): boolean {
  return COMMON_SKIP.test(f) || extra?.test(f) === true;
}

function appendFrames(frames: string[], m: RegExpExecArray | null, skip: SkipTest | null): void {
  if (!m) return;
  for (let i = 1; i < m.length; i++) {
    const raw = m[i];
    if (raw === undefined) continue;
    const f = raw.startsWith('_R') || raw.startsWith('_Z') ? demangle(raw) : raw;
    if (!skipped(skip, f)) frames.push(f);
  }
}

/** Drops the one syscall-wrapper prefix that leaves the shortest name (`__x64_sys_foo` -> `sys_foo`). */
export function stripFramePrefix(frame: string): string {
  let best = frame;
  for (const p of STRIP_FRAME_PREFIXES) {
    if (frame.startsWith(p) && frame.length - p.length < best.length) best = frame.slice(p.length);
  }
  return best;
}

/** Stalls loop somewhere in a region: name the frame just above the first generic dispatcher. */
function stallFrame(frames: string[]): [string, number] {
  let prev = frames[0] ?? '';
  let prevIdx = 0;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    if (STALL_ANCHORS.some((a) => a.test(f))) {
      if (f.includes('smp_call_function')) return ['smp_call_function', i];
      return [prev, prevIdx];
    }
    prev = f;
    prevIdx = i;
  }
  return ['', -1];
}

const HANG_SKIP = [
  'sched',
  '_lock',
  '_slowlock',
  'down',
  'rwsem',
  'completion',
  'kthread',
  'wait',
  'synchronize',
  'context_switch',
  '__switch_to',
  'cancel_delayed_work',
  'rcu_barrier',
];
const HANG_ANCHORS: [string, string][] = [
  ['rtnl_lock', ''],
  ['synchronize_rcu', 'synchronize_rcu'],
  ['synchronize_srcu', 'synchronize_rcu'],
  ['synchronize_net', 'synchronize_rcu'],
  ['synchronize_sched', 'synchronize_rcu'],
];

/** Hung tasks block in generic waits: group rtnl_lock and synchronize_* hangs, else the first non-waiting frame. */
function hangFrame(frames: string[]): [string, number] {
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    for (const [anchor, repl] of HANG_ANCHORS) {
      if (f.includes(anchor)) return [repl === '' ? f : repl, i];
    }
  }
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    if (!HANG_SKIP.some((s) => f.includes(s))) return [f, i];
  }
  return ['', -1];
}

function keyFrame(raw: string[], extractor: FrameExtractor | undefined): ExtractedFrame {
  if (raw.length === 0) return { canonical: '', raw: '' };
  const stripped = raw.map(stripFramePrefix);
  if (!extractor) return { canonical: stripped[0]!, raw: raw[0]! };
  const [f, idx] = extractor === 'stall' ? stallFrame(stripped) : hangFrame(stripped);
  if (f !== '') return { canonical: f, raw: raw[idx]! };
  return { canonical: '', raw: '' };
}

function extractWithParts(
  lines: string[],
  parts: StackPart[],
  skip: SkipTest | null,
  extractor: FrameExtractor | undefined,
): { frames: ExtractedFrame[]; ok: boolean } {
  let i = 0;
  let raw: string[] = [];
  const results: ExtractedFrame[] = [];
  let ok = true;
  let traces = 0;
  nextPart: for (let partIdx = 0; ; partIdx++) {
    if (partIdx === parts.length || (parts[partIdx] === 'trace' && traces > 0)) {
      let k = keyFrame(raw, extractor);
      if (k.canonical === '') {
        k = { canonical: 'corrupted', raw: 'corrupted' };
        ok = false;
      }
      results.push(k);
      raw = [];
    }
    if (partIdx === parts.length) break;
    const part = parts[partIdx]!;
    if (part === 'trace') {
      traces++;
      while (i < lines.length) {
        const ln = lines[i++]!;
        if (isCorruptedLine(ln)) {
          ok = false;
          continue nextPart;
        }
        if (isStackStart(ln)) continue nextPart;
        const nextSpec = parts[partIdx + 1];
        if (nextSpec !== undefined && nextSpec !== 'trace') {
          const m = nextSpec.exec(ln);
          if (m) {
            appendFrames(raw, m, skip);
            partIdx++;
            continue nextPart;
          }
        }
        let m: RegExpExecArray | null = null;
        for (const fr of FRAME_RES) {
          m = fr.exec(ln);
          if (m) break;
        }
        appendFrames(raw, m, skip);
      }
    } else {
      while (i < lines.length) {
        const ln = lines[i++]!;
        if (isCorruptedLine(ln)) {
          ok = false;
          continue nextPart;
        }
        const m = part.exec(ln);
        if (!m) continue;
        appendFrames(raw, m, skip);
        break;
      }
    }
  }
  return { frames: results, ok };
}

function extractStackFrames(spec: StackSpec, lines: string[]): { frames: ExtractedFrame[]; ok: boolean } {
  const skip = extraSkip(spec);
  const r = extractWithParts(lines, spec.parts, skip, spec.extractor);
  if (r.ok || !spec.parts2) return r;
  return extractWithParts(lines, spec.parts2, skip, spec.extractor);
}

/** Renders a title template: %1..%n are positional arguments. */
export function render(fmt: string, args: string[]): string {
  return fmt.replace(/%(\d+)/g, (_m, n: string) => {
    const v = args[Number(n) - 1];
    return v === undefined ? '%!v(BADINDEX)' : v;
  });
}

interface Match {
  pos: Pos;
  groups: string[];
}

function groupsOf(m: RegExpExecArray): string[] {
  const g: string[] = [];
  for (let i = 1; i < m.length; i++) g.push(m[i] ?? '');
  return g;
}

function findTitle(f: OopsFormat, lines: string[], candidates: number[]): Match | null {
  if (f.anchored) {
    const m = f.title.exec(lines[0] ?? '');
    return m && m.index === 0 ? { pos: { line: 0, col: 0 }, groups: groupsOf(m) } : null;
  }
  for (const li of candidates) {
    const m = f.title.exec(lines[li]!);
    if (m) return { pos: { line: li, col: m.index }, groups: groupsOf(m) };
    if (f.twoLines && li + 1 < lines.length) {
      const m2 = f.title.exec(`${lines[li]!}\n${lines[li + 1]!}`);
      if (m2 && m2.index <= lines[li]!.length)
        return { pos: { line: li, col: m2.index }, groups: groupsOf(m2) };
    }
  }
  return null;
}

function matchSteps(steps: ReportStep[], lines: string[]): Match | null {
  const first = steps[0]!;
  for (let start = 0; start < lines.length; start++) {
    const m0 = first.re.exec(lines[start]!);
    if (!m0) continue;
    const groups = groupsOf(m0);
    let li = start;
    let ok = true;
    for (let s = 1; s < steps.length && ok; s++) {
      const st = steps[s]!;
      ok = false;
      const last = st.next ? Math.min(li + 1, lines.length - 1) : lines.length - 1;
      for (let j = li + 1; j <= last; j++) {
        const m = st.re.exec(lines[j]!);
        if (m) {
          groups.push(...groupsOf(m));
          li = j;
          ok = true;
          break;
        }
      }
    }
    // Later start lines cannot do better for the later steps than this one did: stop here.
    return ok ? { pos: { line: start, col: m0.index }, groups } : null;
  }
  return null;
}

function sliceFrom(lines: string[], pos: Pos): string[] {
  const out = lines.slice(pos.line);
  if (out.length > 0 && pos.col > 0) out[0] = out[0]!.slice(pos.col);
  return out;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** syzkaller's extractDescription over the report lines of one oops. */
export function extractDescription(lines: string[], oops: Oops): Description {
  const candidates: number[] = [];
  for (let i = 0; i < lines.length; i++) if (lines[i]!.includes(oops.header)) candidates.push(i);
  let start: Pos = { line: Number.POSITIVE_INFINITY, col: 0 };
  let desc = '';
  let corrupted = '';
  let altTitles: string[] = [];
  let format: OopsFormat | null = null;
  let matchedTitle = false;
  let frame: string | null = null;
  for (const f of oops.formats) {
    const t = findTitle(f, lines, candidates);
    if (!t) continue;
    if (before(start, t.pos)) continue;
    if (samePos(t.pos, start) && desc !== '') continue;
    if (before(t.pos, start)) {
      desc = '';
      format = null;
      start = t.pos;
    }
    matchedTitle = true;
    let m: Match = t;
    if (f.report) {
      const r = matchSteps(f.report, lines);
      if (!r) continue;
      m = r;
    }
    let frames: ExtractedFrame[] = [];
    corrupted = '';
    if (f.stack) {
      const r = extractStackFrames(f.stack, sliceFrom(lines, m.pos));
      frames = r.frames;
      if (!r.ok) corrupted = CORRUPTED_NO_FRAMES;
    }
    // Index loops, not map/spread: these arrays are empty (small-integer elements) or hold strings
    // and objects, and optimised code specialised on one kind is thrown away on the other.
    const args = m.groups.slice();
    for (let k = 0; k < frames.length; k++) args.push(frames[k]!.canonical);
    desc = render(f.fmt, args);
    for (const a of f.alt ?? []) altTitles.push(render(a, args));
    // Alt titles with the raw frame, and with each syscall prefix stripped on its own.
    for (let i = 0; i <= STRIP_FRAME_PREFIXES.length; i++) {
      const prefix = i === 0 ? '' : STRIP_FRAME_PREFIXES[i - 1]!;
      let add = i === 0;
      const a2 = m.groups.slice();
      for (let k = 0; k < frames.length; k++) {
        const raw = frames[k]!.raw;
        const trimmed = prefix !== '' && raw.startsWith(prefix) ? raw.slice(prefix.length) : raw;
        if (trimmed !== raw) add = true;
        a2.push(trimmed);
      }
      if (!add) continue;
      const alt = render(f.fmt, a2);
      if (alt !== desc) altTitles.push(alt);
      for (const a of f.alt ?? []) altTitles.push(render(a, a2));
    }
    altTitles = unique(altTitles);
    format = f;
    frame = frames[0]?.raw ?? null;
  }
  if (desc === '') {
    if (matchedTitle) corrupted = 'matched title but not report regexp';
    for (const li of candidates) {
      const l = lines[li]!;
      desc = l.slice(l.indexOf(oops.header));
      break;
    }
  }
  if (corrupted === '' && format?.corrupted) corrupted = 'report format is marked as corrupted';
  return { title: desc, altTitles, corrupted, format, frame };
}

const TIMESTAMP_IN_TITLE = /\[ *[0-9]+\.[0-9]+\]/;

function isStackStartLine(ln: string, starts: RegExp[]): boolean {
  return STACK_START_HINT.test(ln) && starts.some((k) => k.test(ln));
}

/** syzkaller's isCorrupted: a title with a merged timestamp, or a stack keyword without frames after it. */
export function checkCorrupted(title: string, lines: string[], format: OopsFormat | null): string {
  if (TIMESTAMP_IN_TITLE.test(title)) return 'title matches corrupted regexp';
  if (!format || format.noStackTrace) return '';
  const starts = [...STACK_START, RISCV_STACK_START];
  // First line of each stack-start keyword, in one pass with a cheap pre-filter.
  const first = new Array<number>(starts.length).fill(-1);
  for (let i = 0; i < lines.length; i++) {
    const ln = lines[i]!;
    if (!STACK_START_HINT.test(ln)) continue;
    for (let k = 0; k < starts.length; k++) if (first[k] === -1 && starts[k]!.test(ln)) first[k] = i;
  }
  let hasStack = false;
  for (let k = 0; k < starts.length; k++) {
    const at = first[k]!;
    if (at < 0) continue;
    // lines(report[match:]) in syzkaller counts the empty piece after the final newline.
    if (lines.length - at + 1 < 4) return 'call trace is missed';
    let corrupted = true;
    const rest = lines.length - at - 1;
    for (let i = 0; i < 15 && i < rest; i++) {
      const ln = lines[at + 1 + i]!;
      if (isStackStartLine(ln, starts)) break;
      if (ln.includes('(stack is not available)') || FRAME_RES.some((r) => r.test(ln))) {
        hasStack = true;
        corrupted = false;
        break;
      }
    }
    if (starts[k] !== RISCV_STACK_START && corrupted) return 'no frames in a stack trace';
  }
  if (!hasStack) return 'no stack trace in report';
  return '';
}
