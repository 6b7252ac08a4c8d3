// Console line prefixes: what a console, syslog or journal puts before the kernel's own text, and
// the printk "context" of a line (syzkaller's rule: no timestamp -> "", timestamp only -> "console",
// printk caller id -> the id text such as "[ T1234]"). Every function here is linear in the line.

export const CONTEXT_NONE = '';
export const CONTEXT_CONSOLE = 'console';

export interface LinePrefix {
  /** syzkaller-compatible context: "", "console" or the bracketed caller id as printed. */
  context: string;
  /** The line with the prefix removed (kept as is when there is no timestamp, as syzkaller does). */
  stripped: string;
  /** `? func` frames (and powerpc `(unreliable)`): the unwinder was not sure. */
  questionable: boolean;
  /** Seconds since boot from `[ 123.456]`, or null. */
  time: number | null;
  /** printk loglevel from `<4>`, or null. */
  level: number | null;
  /** A syslog/journal line of another program than the kernel: not part of any kernel report. */
  foreign: boolean;
}

const MONTHS = new Set(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']);

// `Nov 25 18:20:15 host kernel: ` (syslog, journalctl -k short) or
// `2026-11-25T18:20:15.123456+00:00 host kernel: ` (rsyslog precise, journalctl -o short-iso).
const SYSLOG_RE =
  /^(?:[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) \S+ ([^\s:[]+)(?:\[\d+\])?: /;
const DROPPED_RE = /^\*\* \d+ printk messages dropped \*\* /;
const LEVEL_RE = /^<(\d+)>/;
// timestampEnd()'s side results: where the seconds start, and whether the padding held a tab.
let timeStart = 0;
let timeTab = false;

// The char-code walks below read `i < n ? s.charCodeAt(i) : -1` in place (-1 past the end:
// optimised code that reads past the end of a string deopts), not through a helper: the parse
// command runs with TurboFan inlining off, and a call per character costs more than the test.

/** `[ \t*digits.digits]` at the start of s (syzkaller's timestamp): the index after `]`, else 0. */
function timestampEnd(s: string): number {
  const n = s.length;
  let i = 1;
  let tab = false;
  let c = i < n ? s.charCodeAt(i) : -1;
  while (c === 0x20 || c === 0x09) {
    if (c === 0x09) tab = true;
    c = ++i < n ? s.charCodeAt(i) : -1;
  }
  const start = i;
  while (c >= 0x30 && c <= 0x39) c = ++i < n ? s.charCodeAt(i) : -1;
  if (i === start || c !== 0x2e) return 0;
  const frac = ++i;
  c = i < n ? s.charCodeAt(i) : -1;
  while (c >= 0x30 && c <= 0x39) c = ++i < n ? s.charCodeAt(i) : -1;
  if (i === frac || c !== 0x5d) return 0;
  timeStart = start;
  timeTab = tab;
  return i + 1;
}

/**
 * The value of the decimal `digits.digits` in s[a, b) without a substring: integer numerator over a
 * power of ten, both exact below 2^53, so the one rounding of the division gives the same double as
 * Number() on the text. Longer numbers (never printed by the kernel) go through Number().
 */
function timestampSeconds(s: string, a: number, b: number): number {
  if (b - a > 16) return Number(s.slice(a, b));
  let n = 0;
  let scale = 1;
  let frac = false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) frac = true;
    else {
      n = n * 10 + (c - 0x30);
      if (frac) scale *= 10;
    }
  }
  return n / scale;
}

/** `[ *[CT]digits]` at s[at] (a printk caller id): the index after `]`, else 0. No regex, no substring. */
function callerEnd(s: string, at: number): number {
  const n = s.length;
  if (at >= n || s.charCodeAt(at) !== 0x5b) return 0;
  let i = at + 1;
  let c = i < n ? s.charCodeAt(i) : -1;
  while (c === 0x20) c = ++i < n ? s.charCodeAt(i) : -1;
  if (c !== 0x43 && c !== 0x54) return 0;
  const digits = ++i;
  c = i < n ? s.charCodeAt(i) : -1;
  while (c >= 0x30 && c <= 0x39) c = ++i < n ? s.charCodeAt(i) : -1;
  if (i === digits || c !== 0x5d) return 0;
  return i + 1;
}

/** Strips a syslog/journal prefix; null when the line is another program's. */
function stripSyslog(line: string): string | null {
  const c = line.length > 0 ? line.charCodeAt(0) : -1;
  // Cheap first-character test: most console lines start with '[' and need no regex.
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) {
    if (c >= 0x41 && !MONTHS.has(line.slice(0, 3))) return line;
    const m = SYSLOG_RE.exec(line);
    if (m) return m[1] === 'kernel' ? line.slice(m[0].length) : null;
  }
  return line;
}

/**
 * Parses the prefix of one console line (no trailing newline). `withTime` false leaves `time` null
 * (the streaming parser never reads it: no number parsed per line).
 */
export function parsePrefix(raw: string, withTime = true): LinePrefix {
  // Most console lines start with `[`: no syslog, dropped-messages, login or loglevel text before
  // the timestamp. The other forms are parsed apart: a deopt on their rare paths does not throw
  // away the compiled code of the common one.
  if (raw.length > 0 && raw.charCodeAt(0) === 0x5b) return bracketPrefix(raw, raw, false, null, withTime);
  return otherPrefix(raw, withTime);
}

/** The index after `[ 12.345678] ` when a plain console line starts at text[i] (parsePrefix's console context), else -1. */
export function plainConsoleEnd(text: string, i: number): number {
  if (text.charCodeAt(i) !== 0x5b) return -1;
  let j = i + 1;
  let c = text.charCodeAt(j);
  while (c === 0x20 || c === 0x09) c = text.charCodeAt(++j);
  const digits = j;
  while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++j);
  if (j === digits || c !== 0x2e) return -1;
  const frac = ++j;
  c = text.charCodeAt(j);
  while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++j);
  if (j === frac || c !== 0x5d || text.charCodeAt(j + 1) !== 0x20) return -1;
  return j + 2;
}

/**
 * Where a console timestamp (`[  271.403835] `) starts after other text on the line, or -1: a
 * program wrote to the console without ending its line (`/init: 384: .: [  271.4] Kernel panic`),
 * and the kernel's line begins at the timestamp. Linear: each `[` is looked at once.
 */
export function embeddedTimestamp(raw: string): number {
  for (let b = raw.indexOf('[', 1); b >= 0; b = raw.indexOf('[', b + 1))
    if (plainConsoleEnd(raw, b) >= 0) return b;
  return -1;
}

/** parsePrefix of a line that does not start with `[`. */
function otherPrefix(raw: string, withTime: boolean): LinePrefix {
  const fromSyslog = stripSyslog(raw);
  if (fromSyslog === null) {
    return {
      context: CONTEXT_NONE,
      stripped: raw,
      questionable: false,
      time: null,
      level: null,
      foreign: true,
    };
  }
  const line = fromSyslog;
  const syslog = line !== raw;
  let rest = line;
  let level: number | null = null;
  // Optional "** N printk messages dropped ** " and "<anything> login: " junk before the timestamp.
  // The first character of rest, kept current as rest changes (-1: empty).
  let c0 = rest.length > 0 ? rest.charCodeAt(0) : -1;
  if (c0 === 0x2a) {
    const d = DROPPED_RE.exec(rest);
    if (d) {
      rest = rest.slice(d[0].length);
      c0 = rest.length > 0 ? rest.charCodeAt(0) : -1;
    }
  }
  if (c0 !== 0x5b && c0 !== 0x3c) {
    const login = rest.indexOf(' login: ');
    if (login >= 0) {
      const after = rest.slice(login + 8);
      const a0 = after.length > 0 ? after.charCodeAt(0) : -1;
      if (a0 === 0x5b || a0 === 0x3c) {
        rest = after;
        c0 = a0;
      }
    }
  }
  if (c0 === 0x3c) {
    const l = LEVEL_RE.exec(rest);
    if (l) {
      level = Number(l[1]);
      rest = rest.slice(l[0].length);
      c0 = rest.length > 0 ? rest.charCodeAt(0) : -1;
    }
  }
  if (c0 === 0x5b) return bracketPrefix(line, rest, syslog, level, withTime);
  // No timestamp: syzkaller keeps the line as is; we only drop syslog/loglevel decoration.
  const stripped = syslog || level !== null ? rest : line;
  return { context: CONTEXT_NONE, stripped, questionable: false, time: null, level, foreign: false };
}

/**
 * The rest of parsePrefix once `rest` (line without its syslog, loglevel ... decoration) starts
 * with `[`: a timestamp and/or a caller id.
 */
function bracketPrefix(
  line: string,
  rest: string,
  syslog: boolean,
  level: number | null,
  withTime: boolean,
): LinePrefix {
  let time: number | null = null;
  let context = CONTEXT_NONE;
  let stripped = line;
  const t = timestampEnd(rest);
  if (t > 0) {
    if (withTime) time = timestampSeconds(rest, timeStart, t - 1);
    let at = t;
    let caller: string | null = null;
    const ce = callerEnd(rest, at);
    if (ce > 0) {
      caller = rest.slice(at, ce);
      at = ce;
    }
    if (at < rest.length && rest.charCodeAt(at) === 0x20) {
      context = caller ?? CONTEXT_CONSOLE;
      stripped = rest.slice(at + 1);
    } else if (at === rest.length || (caller === null && (timeTab || level !== null))) {
      // `[\t68764.975944]Call Trace:`: a tab-padded timestamp glued to the text (some syslog
      // captures), or `<6>[    1.127622]BUG: ...` after a loglevel (some /dev/kmsg readers).
      context = caller ?? CONTEXT_CONSOLE;
      stripped = rest.slice(at);
    }
  } else {
    // A bare caller id without a timestamp (`[C1] text`, `[ T12] text`).
    const ce = callerEnd(rest, 0);
    if (ce > 0 && ce < rest.length && rest.charCodeAt(ce) === 0x20) {
      context = rest.slice(0, ce);
      stripped = rest.slice(ce + 1);
    }
  }
  if (context === CONTEXT_NONE) {
    // No timestamp: syzkaller keeps the line as is; we only drop syslog/loglevel decoration.
    stripped = syslog || level !== null ? rest : line;
    return { context, stripped, questionable: false, time, level, foreign: false };
  }
  // `<EOI>` lines are never questionable; they are rare, so it is checked last.
  const questionable =
    (stripped.includes(' ? ') || stripped.endsWith(' (unreliable)')) && !stripped.includes('<EOI>');
  return { context, stripped, questionable, time, level, foreign: false };
}

/** The caller id without brackets or padding (`[ T1234]` -> `T1234`), or null. */
export function callerId(context: string): string | null {
  if (context.length < 3 || context.charCodeAt(0) !== 0x5b) return null;
  return context.slice(1, -1).trim();
}

/** A printk caller id context (`[ T123]`, `[C1]`), as opposed to console or none. */
export function isCallerContext(context: string): boolean {
  return context.charCodeAt(0) === 0x5b;
}

const CPU_CONTEXT = /^\[ *C\d+\]$/;
const TASK_CONTEXT = /^\[ *T\d+\]$/;

export function isCpuContext(context: string): boolean {
  return CPU_CONTEXT.test(context);
}

export function isTaskContext(context: string): boolean {
  return TASK_CONTEXT.test(context);
}
