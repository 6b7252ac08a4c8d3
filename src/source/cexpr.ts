// Small, linear scanners over C expression text: member access chains (`&req->wb_head->wb_flags`)
// and integer constant expressions (enum values such as `1 << NFS_INO_FOO` or `BIT(3)`).

/** A member access chain: root variable (or `NAME()` for a call result) then the fields walked. */
export interface AccessPath {
  /** Root identifier; for `NFS_I(inode)->flags` this is `NFS_I()` (a call result). */
  root: string;
  /** Fields after the root, in order (`a->b.c` gives ['b', 'c']). Empty for a bare identifier. */
  fields: string[];
}

function isIdStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdChar(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57);
}
function skipSpace(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) i++;
    else break;
  }
  return i;
}
/** Index past the bracket group opened at `i` (`(` or `[`), or -1 when unbalanced. */
function skipGroup(s: string, i: number): number {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 40 || c === 91) depth++;
    else if (c === 41 || c === 93) {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return -1;
}

/**
 * Parses `&x->a.b[i]->c`, `(*x).a`, `NFS_I(inode)->flags` into a root and field list; null when the
 * text is not a plain access chain (casts, arithmetic, container_of with a type argument...).
 */
export function parseAccessPath(text: string): AccessPath | null {
  let i = skipSpace(text, 0);
  // Leading & and * and redundant parentheses around the whole root: `&(*p)->x` is rare; we
  // accept `&`, `*` and one `(` that encloses only the root.
  while (i < text.length && (text.charCodeAt(i) === 38 || text.charCodeAt(i) === 42))
    i = skipSpace(text, i + 1);
  let parenRoot = false;
  if (text.charCodeAt(i) === 40) {
    parenRoot = true;
    i = skipSpace(text, i + 1);
    while (i < text.length && text.charCodeAt(i) === 42) i = skipSpace(text, i + 1);
  }
  if (!isIdStart(text.charCodeAt(i))) return null;
  let j = i;
  while (j < text.length && isIdChar(text.charCodeAt(j))) j++;
  let root = text.slice(i, j);
  j = skipSpace(text, j);
  if (text.charCodeAt(j) === 40) {
    const e = skipGroup(text, j);
    if (e < 0) return null;
    root = `${root}()`;
    j = skipSpace(text, e);
  }
  if (parenRoot) {
    if (text.charCodeAt(j) !== 41) return null;
    j = skipSpace(text, j + 1);
  }
  const fields: string[] = [];
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 91) {
      const e = skipGroup(text, j);
      if (e < 0) return null;
      j = skipSpace(text, e);
      continue;
    }
    let k: number;
    if (c === 46) k = j + 1;
    else if (c === 45 && text.charCodeAt(j + 1) === 62) k = j + 2;
    else return null;
    k = skipSpace(text, k);
    if (!isIdStart(text.charCodeAt(k))) return null;
    let e = k;
    while (e < text.length && isIdChar(text.charCodeAt(e))) e++;
    fields.push(text.slice(k, e));
    j = skipSpace(text, e);
  }
  return { root, fields };
}

/** Splits a call's argument list text `(a, f(b, c), d)` at top-level commas (parens included or not). */
export function splitArgs(text: string): string[] {
  let s = text.trim();
  if (s.startsWith('(') && s.endsWith(')')) s = s.slice(1, -1);
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let quote = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quote) {
      if (c === 92) i++;
      else if (c === quote) quote = 0;
      continue;
    }
    if (c === 34 || c === 39) quote = c;
    else if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) depth--;
    else if (c === 44 && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = s.slice(start).trim();
  if (last !== '' || out.length > 0) out.push(last);
  return out;
}

/** Strips `&`, `*`, casts-free parentheses and whitespace: `&(f)` -> `f`; null unless an identifier. */
export function bareIdentifier(text: string): string | null {
  let s = text.trim();
  for (;;) {
    if (s.startsWith('&') || s.startsWith('*')) s = s.slice(1).trim();
    else if (s.startsWith('(') && s.endsWith(')') && skipGroup(s, 0) === s.length) s = s.slice(1, -1).trim();
    else break;
  }
  if (s.length === 0 || !isIdStart(s.charCodeAt(0))) return null;
  for (let i = 1; i < s.length; i++) if (!isIdChar(s.charCodeAt(i))) return null;
  return s;
}

// ---- integer constant expressions ----

type Tok = { k: 'n'; v: bigint } | { k: 'id'; v: string } | { k: 'op'; v: string };

const OPS3 = ['<<=', '>>='];
const OPS2 = ['<<', '>>', '<=', '>=', '==', '!=', '&&', '||'];

function tokenize(s: string): Tok[] | null {
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 92 /* line continuation */) {
      i++;
      continue;
    }
    if (c === 47 && s.charCodeAt(i + 1) === 42) {
      const e = s.indexOf('*/', i + 2);
      if (e < 0) return null;
      i = e + 2;
      continue;
    }
    if (c === 47 && s.charCodeAt(i + 1) === 47) break;
    if (c >= 48 && c <= 57) {
      let j = i;
      while (j < s.length && (isIdChar(s.charCodeAt(j)) || s.charCodeAt(j) === 46)) j++;
      const lit = s
        .slice(i, j)
        .replace(/[uUlL]+$/, '')
        .toLowerCase();
      try {
        if (lit.startsWith('0x')) toks.push({ k: 'n', v: BigInt(lit) });
        else if (lit.startsWith('0b')) toks.push({ k: 'n', v: BigInt(lit) });
        else if (lit.length > 1 && lit.startsWith('0')) toks.push({ k: 'n', v: BigInt(`0o${lit.slice(1)}`) });
        else toks.push({ k: 'n', v: BigInt(lit) });
      } catch {
        return null;
      }
      i = j;
      continue;
    }
    if (c === 39) {
      // character literal 'a' or '\n'
      const e = s.indexOf("'", i + 2);
      if (e < 0) return null;
      const body = s.slice(i + 1, e);
      const esc: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39 };
      const v = body.length === 1 ? body.charCodeAt(0) : body[0] === '\\' ? esc[body.slice(1)] : undefined;
      if (v === undefined) return null;
      toks.push({ k: 'n', v: BigInt(v) });
      i = e + 1;
      continue;
    }
    if (isIdStart(c)) {
      let j = i;
      while (j < s.length && isIdChar(s.charCodeAt(j))) j++;
      toks.push({ k: 'id', v: s.slice(i, j) });
      i = j;
      continue;
    }
    const three = s.slice(i, i + 3);
    const two = s.slice(i, i + 2);
    if (OPS3.includes(three)) return null;
    if (OPS2.includes(two)) {
      toks.push({ k: 'op', v: two });
      i += 2;
      continue;
    }
    if ('+-*/%&|^~!()<>?:,'.includes(s[i]!)) {
      toks.push({ k: 'op', v: s[i]! });
      i++;
      continue;
    }
    return null;
  }
  return toks;
}

const PREC: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '|': 3,
  '^': 4,
  '&': 5,
  '==': 6,
  '!=': 6,
  '<': 7,
  '>': 7,
  '<=': 7,
  '>=': 7,
  '<<': 8,
  '>>': 8,
  '+': 9,
  '-': 9,
  '*': 10,
  '/': 10,
  '%': 10,
};

function applyBinary(op: string, a: bigint, b: bigint): bigint | null {
  switch (op) {
    case '||':
      return a !== 0n || b !== 0n ? 1n : 0n;
    case '&&':
      return a !== 0n && b !== 0n ? 1n : 0n;
    case '|':
      return a | b;
    case '^':
      return a ^ b;
    case '&':
      return a & b;
    case '==':
      return a === b ? 1n : 0n;
    case '!=':
      return a !== b ? 1n : 0n;
    case '<':
      return a < b ? 1n : 0n;
    case '>':
      return a > b ? 1n : 0n;
    case '<=':
      return a <= b ? 1n : 0n;
    case '>=':
      return a >= b ? 1n : 0n;
    case '<<':
      return b < 0n || b > 128n ? null : a << b;
    case '>>':
      return b < 0n || b > 128n ? null : a >> b;
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0n ? null : a / b;
    case '%':
      return b === 0n ? null : a % b;
  }
  return null;
}

/** Function-like macros whose value we know (include/linux/bits.h, const.h). */
const KNOWN_MACROS: Record<string, (args: bigint[]) => bigint | null> = {
  BIT: (a) => (a.length === 1 ? 1n << a[0]! : null),
  BIT_ULL: (a) => (a.length === 1 ? 1n << a[0]! : null),
  _BITUL: (a) => (a.length === 1 ? 1n << a[0]! : null),
  _BITULL: (a) => (a.length === 1 ? 1n << a[0]! : null),
  GENMASK: (a) => (a.length === 2 && a[0]! >= a[1]! ? ((1n << (a[0]! - a[1]! + 1n)) - 1n) << a[1]! : null),
  GENMASK_ULL: (a) =>
    a.length === 2 && a[0]! >= a[1]! ? ((1n << (a[0]! - a[1]! + 1n)) - 1n) << a[1]! : null,
  _AC: (a) => (a.length >= 1 ? a[0]! : null),
  _UL: (a) => (a.length === 1 ? a[0]! : null),
  _ULL: (a) => (a.length === 1 ? a[0]! : null),
  UL: (a) => (a.length === 1 ? a[0]! : null),
  ULL: (a) => (a.length === 1 ? a[0]! : null),
};

/**
 * Evaluates an integer constant expression; identifiers are looked up in `env` (enum constants
 * and numeric #defines seen so far). Returns null for anything not evaluable (sizeof, casts...).
 */
export function evalIntExpr(text: string, env: (name: string) => bigint | undefined): bigint | null {
  const toks = tokenize(text);
  if (toks === null || toks.length === 0 || toks.length > 400) return null;
  let p = 0;
  const peekOp = (): string | null => {
    const t = toks[p];
    return t && t.k === 'op' ? t.v : null;
  };
  const parseUnary = (depth: number): bigint | null => {
    if (depth > 64) return null;
    const t = toks[p];
    if (!t) return null;
    if (t.k === 'op') {
      if (t.v === '(') {
        p++;
        const v = parseTernary(depth + 1);
        if (peekOp() !== ')') return null;
        p++;
        return v;
      }
      if (t.v === '-' || t.v === '+' || t.v === '~' || t.v === '!') {
        p++;
        const v = parseUnary(depth + 1);
        if (v === null) return null;
        return t.v === '-' ? -v : t.v === '+' ? v : t.v === '~' ? ~v : v === 0n ? 1n : 0n;
      }
      return null;
    }
    p++;
    if (t.k === 'n') return t.v;
    const fn = KNOWN_MACROS[t.v];
    if (fn && peekOp() === '(') {
      p++;
      const args: bigint[] = [];
      if (peekOp() !== ')') {
        for (;;) {
          const a = parseTernary(depth + 1);
          if (a === null) return null;
          args.push(a);
          if (peekOp() === ',') {
            p++;
            continue;
          }
          break;
        }
      }
      if (peekOp() !== ')') return null;
      p++;
      return fn(args);
    }
    const v = env(t.v);
    return v === undefined ? null : v;
  };
  const parseBinary = (minPrec: number, depth: number): bigint | null => {
    let lhs = parseUnary(depth);
    if (lhs === null) return null;
    for (;;) {
      const op = peekOp();
      const prec = op ? PREC[op] : undefined;
      if (!op || prec === undefined || prec < minPrec) return lhs;
      p++;
      const rhs = parseBinary(prec + 1, depth + 1);
      if (rhs === null) return null;
      lhs = applyBinary(op, lhs, rhs);
      if (lhs === null) return null;
    }
  };
  const parseTernary = (depth: number): bigint | null => {
    if (depth > 64) return null;
    const c = parseBinary(1, depth);
    if (c === null) return null;
    if (peekOp() !== '?') return c;
    p++;
    const a = parseTernary(depth + 1);
    if (a === null || peekOp() !== ':') return null;
    p++;
    const b = parseTernary(depth + 1);
    if (b === null) return null;
    return c !== 0n ? a : b;
  };
  const v = parseTernary(0);
  return v !== null && p === toks.length ? v : null;
}
