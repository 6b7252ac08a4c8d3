// Scans the patch text of one commit (`git log -p -U0` or a mailed patch) for touched files and
// touched C functions. A hunk header names the nearest line ABOVE the hunk that looks like a
// function start, which is wrong when the hunk adds a new function after it, deletes one, or
// changes top-level declarations after its closing brace; so the +/- lines are walked as well and
// function boundaries (definition lines, closing braces at column 0, top-level declarations)
// decide which function each changed line belongs to.

export type FileStatus = 'A' | 'M' | 'D' | 'R' | 'C';

export interface TouchedFile {
  path: string;
  oldPath: string | null;
  status: FileStatus;
}

/** Bit flags of how a function was touched. */
export const BODY = 1;
export const ADDED = 2;
export const REMOVED = 4;

export interface TouchedFunc {
  path: string;
  func: string;
  flags: number;
}

const KEYWORDS = new Set([
  'if',
  'for',
  'while',
  'switch',
  'return',
  'sizeof',
  'typeof',
  '__typeof__',
  'defined',
  '__attribute__',
  'asm',
  '__asm__',
  'do',
  'else',
  'case',
  'goto',
]);

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdent(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

/**
 * The function a line starts the definition of, or null: `static int foo(int a)`, `foo(struct x *p,`
 * (DPDK and BSD style with the type on the line above), `SYSCALL_DEFINE3(open, ...)` -> `sys_open`.
 * Declarations (ending in `;`), initialisers (`=` before the paren) and statements are rejected.
 */
export function definedName(line: string): string | null {
  if (line.length === 0 || !isIdentStart(line.charCodeAt(0))) return null;
  const paren = line.indexOf('(');
  if (paren <= 0) return null;
  const trimmed = line.trimEnd();
  if (trimmed.endsWith(';')) return null;
  let end = paren;
  while (end > 0 && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
  let start = end;
  while (start > 0 && isIdent(line.charCodeAt(start - 1))) start--;
  if (start === end || !isIdentStart(line.charCodeAt(start))) return null;
  // The prefix holds only the return type and qualifiers.
  for (let i = 0; i < start; i++) {
    const c = line.charCodeAt(i);
    if (!(isIdent(c) || c === 32 || c === 9 || c === 42)) return null;
  }
  const name = line.slice(start, end);
  if (KEYWORDS.has(name)) return null;
  if (name.startsWith('SYSCALL_DEFINE') || name.startsWith('COMPAT_SYSCALL_DEFINE')) {
    let j = paren + 1;
    while (j < line.length && line[j] === ' ') j++;
    let k = j;
    while (k < line.length && isIdent(line.charCodeAt(k))) k++;
    if (k > j) return `${name.startsWith('COMPAT') ? 'compat_sys_' : 'sys_'}${line.slice(j, k)}`;
  }
  return name;
}

/** The function named by a hunk header's text, when the header is a function start. */
export function headerFunction(header: string): string | null {
  // Hunk headers are trimmed to 80 bytes by git; a missing paren means no function or truncation.
  return definedName(header);
}

function isCFile(path: string): boolean {
  return path.endsWith('.c') || path.endsWith('.h');
}

function unquote(p: string): string {
  if (!p.startsWith('"')) return p;
  // C-style quoting of unusual paths; octal escapes are bytes of UTF-8.
  const bytes: number[] = [];
  for (let i = 1; i < p.length - 1; i++) {
    const ch = p[i]!;
    if (ch === '\\' && i + 1 < p.length - 1) {
      const n = p[i + 1]!;
      if (n >= '0' && n <= '7') {
        bytes.push(Number.parseInt(p.slice(i + 1, i + 4), 8));
        i += 3;
        continue;
      }
      const map: Record<string, number> = { n: 10, t: 9, '"': 34, '\\': 92, a: 7, b: 8, f: 12, r: 13, v: 11 };
      bytes.push(map[n] ?? n.charCodeAt(0));
      i++;
      continue;
    }
    bytes.push(...Buffer.from(ch));
  }
  return Buffer.from(bytes).toString('utf8');
}

function stripPrefix(p: string): string {
  const u = unquote(p.endsWith('\t') ? p.slice(0, -1) : p);
  // `--- a/x` / `+++ b/x`; git adds a trailing tab after names with spaces.
  const t = u.endsWith('\t') ? u.slice(0, -1) : u;
  if (t.startsWith('a/') || t.startsWith('b/')) return t.slice(2);
  return t;
}

/**
 * Incremental scanner: feed the lines of one commit's patch with line(), read files/funcs, then
 * reset() for the next commit. Headers are recognised by position (hunk line counts), so a removed
 * line whose text is `-- a/x` is never mistaken for a file header.
 */
export class DiffScanner {
  files: TouchedFile[] = [];
  private funcMap = new Map<string, TouchedFunc>();
  private cur: TouchedFile | null = null;
  private isC = false;
  private oldLeft = 0;
  private newLeft = 0;
  private headerFunc: string | null = null;
  private fn: string | null = null;
  private side: ' ' | '-' | '+' = ' ';
  private pendingBlank = false;
  /** The current function where the run of removed lines began. */
  private blockStart: string | null = null;
  /** Lines of the current hunk seen so far (a mail may end a hunk early). */
  inHunk = false;

  reset(): void {
    this.files = [];
    this.funcMap = new Map();
    this.cur = null;
    this.isC = false;
    this.oldLeft = 0;
    this.newLeft = 0;
    this.inHunk = false;
  }

  get funcs(): TouchedFunc[] {
    return [...this.funcMap.values()];
  }

  private touch(func: string, flag: number): void {
    if (!this.cur) return;
    const key = `${this.cur.path}\0${func}`;
    const t = this.funcMap.get(key);
    if (t) t.flags |= flag;
    else this.funcMap.set(key, { path: this.cur.path, func, flags: flag });
  }

  private startFile(line: string): void {
    // `diff --git a/X b/Y`: exact for equal names; the ---/+++ and rename lines refine it.
    const rest = line.slice(11);
    let path = rest;
    if (rest.startsWith('a/')) {
      const half = (rest.length - 1) / 2;
      if (Number.isInteger(half) && rest.slice(half + 1, half + 3) === 'b/') path = rest.slice(half + 3);
      else {
        const b = rest.indexOf(' b/');
        path = b >= 0 ? rest.slice(b + 3) : rest.slice(2);
      }
    } else if (rest.startsWith('"')) {
      const close = rest.indexOf('" ');
      path = stripPrefix(close > 0 ? rest.slice(close + 2) : rest);
    }
    this.cur = { path, oldPath: null, status: 'M' };
    this.files.push(this.cur);
    this.isC = isCFile(path);
    this.oldLeft = 0;
    this.newLeft = 0;
    this.inHunk = false;
  }

  private setPath(p: string): void {
    if (!this.cur) return;
    this.cur.path = p;
    this.isC = isCFile(p);
  }

  /** Feeds one line of patch text (no trailing newline). */
  line(s: string): void {
    if (this.inHunk) {
      const c = s.charCodeAt(0);
      if (c === 45 /* - */ && this.oldLeft > 0) {
        this.oldLeft--;
        if (this.isC) this.changed(s, '-');
        this.checkEnd();
        return;
      }
      if (c === 43 /* + */ && this.newLeft > 0) {
        this.newLeft--;
        if (this.isC) this.changed(s, '+');
        this.checkEnd();
        return;
      }
      if (
        c === 32 /* context (not with -U0, but mailed patches have it) */ &&
        this.oldLeft > 0 &&
        this.newLeft > 0
      ) {
        this.oldLeft--;
        this.newLeft--;
        if (this.isC) this.context(s);
        this.checkEnd();
        return;
      }
      if (c === 92 /* \ No newline */) return;
      // Anything else ends the hunk (a truncated mailed patch).
      this.endRun();
      this.inHunk = false;
    }
    if (s.startsWith('diff --git ')) {
      this.startFile(s);
      return;
    }
    if (!this.cur) return;
    if (s.startsWith('@@ ')) {
      this.startHunk(s);
      return;
    }
    if (s.startsWith('new file mode')) this.cur.status = 'A';
    else if (s.startsWith('deleted file mode')) this.cur.status = 'D';
    else if (s.startsWith('rename from ')) {
      this.cur.oldPath = unquote(s.slice(12));
      this.cur.status = 'R';
    } else if (s.startsWith('rename to ')) this.setPath(unquote(s.slice(10)));
    else if (s.startsWith('copy from ')) {
      this.cur.oldPath = unquote(s.slice(10));
      this.cur.status = 'C';
    } else if (s.startsWith('copy to ')) this.setPath(unquote(s.slice(8)));
    else if (s.startsWith('+++ ')) {
      const p = s.slice(4);
      if (p !== '/dev/null') this.setPath(stripPrefix(p));
    } else if (s.startsWith('--- ')) {
      const p = s.slice(4);
      if (p !== '/dev/null' && this.cur.status === 'D') this.setPath(stripPrefix(p));
    }
  }

  private checkEnd(): void {
    if (this.oldLeft === 0 && this.newLeft === 0) {
      this.endRun();
      this.inHunk = false;
    }
  }

  private startHunk(s: string): void {
    // @@ -a[,b] +c[,d] @@ header
    this.pendingBlank = false;
    let i = 4;
    let oldCount = 1;
    let newCount = 1;
    const readNum = (): number => {
      let n = 0;
      while (i < s.length) {
        const c = s.charCodeAt(i);
        if (c < 48 || c > 57) break;
        n = n * 10 + (c - 48);
        i++;
      }
      return n;
    };
    readNum();
    if (s[i] === ',') {
      i++;
      oldCount = readNum();
    }
    while (i < s.length && s[i] !== '+') i++;
    i++;
    readNum();
    if (s[i] === ',') {
      i++;
      newCount = readNum();
    }
    const close = s.indexOf('@@', i);
    const header = close >= 0 ? s.slice(close + 2).trim() : '';
    this.oldLeft = oldCount;
    this.newLeft = newCount;
    this.inHunk = oldCount + newCount > 0;
    this.headerFunc = this.isC ? headerFunction(header) : null;
    this.fn = this.headerFunc;
    this.side = ' ';
  }

  /** Context lines (mailed patches) move the function boundary state without marking anything. */
  private context(s: string): void {
    if (this.side !== ' ') this.endRun();
    this.side = ' ';
    this.boundary(s.slice(1), false, 0);
  }

  private changed(s: string, side: '-' | '+'): void {
    // Removed lines then added lines describe the same place: the added run starts from the
    // function the removed run started in (the header's, for -U0 hunks).
    if (side !== this.side && this.side !== ' ') this.endRun();
    if (side === '-' && this.side !== '-') this.blockStart = this.fn;
    if (side === '+' && this.side === '-') this.fn = this.blockStart;
    this.side = side;
    this.boundary(s.slice(1), true, side === '+' ? ADDED : REMOVED);
  }

  /** Decides which function the line belongs to, updating the current function. */
  private boundary(text: string, mark: boolean, defFlag: number): void {
    const c = text.charCodeAt(0);
    if (isIdentStart(c)) {
      this.pendingBlank = false;
      const def = definedName(text);
      if (def) {
        this.fn = def;
        if (mark) this.touch(def, defFlag);
        return;
      }
      // A goto label (`out:`) stays inside the function; anything else at column 0 is top level.
      const colon = text.indexOf(':');
      if (colon > 0 && text.slice(colon + 1).trim() === '' && /^[A-Za-z_]\w*$/.test(text.slice(0, colon))) {
        if (mark && this.fn) this.touch(this.fn, BODY);
        return;
      }
      this.fn = null;
      return;
    }
    // Braces at column 0 are structure shared by every function (diff may align them with any
    // of them), so they mark nothing; a closing one ends the current function.
    if (c === 125 /* } */) {
      this.pendingBlank = false;
      this.fn = null;
      return;
    }
    if (c === 123 /* { */) return;
    const t = text.trimStart();
    if (t.length === 0) {
      // Blank lines belong to the function only if body lines follow (or nothing else does).
      if (mark && this.fn) this.pendingBlank = true;
      return;
    }
    // Comments at column 0 (`/*`, ` * `) are neutral: a comment block before a new function
    // belongs to neither; indented comments are inside a body.
    if (c === 47 /* / */ || (c === 32 && t.startsWith('*') && text.length - t.length === 1)) {
      this.pendingBlank = false;
      return;
    }
    if (mark && this.fn) {
      this.touch(this.fn, BODY);
      this.pendingBlank = false;
    }
  }

  /** End of a run of changed lines: blank lines with nothing after them count for the function. */
  private endRun(): void {
    if (this.pendingBlank && this.fn) this.touch(this.fn, BODY);
    this.pendingBlank = false;
  }
}
