// Symbol demangling for frame names in titles: Rust v0 (`_R...`, the kernel's Rust code) and
// Itanium C++ (`_Z...`), both without parameters, as syzkaller does before picking a frame.
// Anything that does not parse is returned unchanged. Linear: each byte is read once, backrefs
// are bounded by a depth limit.

class Cursor {
  constructor(
    readonly s: string,
    public i = 0,
  ) {}
  peek(): string {
    return this.s[this.i] ?? '';
  }
  eat(c: string): boolean {
    if (this.s[this.i] === c) {
      this.i++;
      return true;
    }
    return false;
  }
}

class Bad extends Error {}

function base62(c: Cursor): number {
  if (c.eat('_')) return 0;
  let n = 0;
  for (;;) {
    const ch = c.peek();
    if (ch === '_') {
      c.i++;
      return n + 1;
    }
    const d = /[0-9]/.test(ch)
      ? ch.charCodeAt(0) - 48
      : /[a-z]/.test(ch)
        ? ch.charCodeAt(0) - 87
        : /[A-Z]/.test(ch)
          ? ch.charCodeAt(0) - 29
          : -1;
    if (d < 0) throw new Bad();
    n = n * 62 + d;
    c.i++;
    if (n > 1e9) throw new Bad();
  }
}

/** Skips a disambiguator (a base-62 hash that can exceed any safe integer). */
function skipBase62(c: Cursor): void {
  while (/[0-9a-zA-Z]/.test(c.peek())) c.i++;
  if (!c.eat('_')) throw new Bad();
}

function decimal(c: Cursor): number {
  let n = 0;
  let any = false;
  while (/[0-9]/.test(c.peek())) {
    n = n * 10 + (c.s.charCodeAt(c.i) - 48);
    c.i++;
    any = true;
    if (n > 1e6) throw new Bad();
  }
  if (!any) throw new Bad();
  return n;
}

function rustIdent(c: Cursor): string {
  if (c.eat('s')) skipBase62(c);
  if (c.peek() === 'u') throw new Bad(); // punycode: not needed for kernel symbols
  const len = decimal(c);
  c.eat('_');
  const id = c.s.slice(c.i, c.i + len);
  if (id.length !== len) throw new Bad();
  c.i += len;
  return id;
}

const BASIC: Record<string, string> = {
  a: 'i8',
  b: 'bool',
  c: 'char',
  d: 'f64',
  e: 'str',
  f: 'f32',
  h: 'u8',
  i: 'isize',
  j: 'usize',
  l: 'i32',
  m: 'u32',
  n: 'i128',
  o: 'u128',
  s: 'i16',
  t: 'u16',
  u: '()',
  v: '...',
  x: 'i64',
  y: 'u64',
  z: '!',
  p: '_',
};

function rustType(c: Cursor, depth: number): string {
  const ch = c.peek();
  if (BASIC[ch] !== undefined && !/[A-Z]/.test(ch)) {
    c.i++;
    return BASIC[ch]!;
  }
  if (ch === 'R' || ch === 'Q') {
    c.i++;
    if (c.peek() === 'L') {
      c.i++;
      base62(c);
    }
    return `&${ch === 'Q' ? 'mut ' : ''}${rustType(c, depth + 1)}`;
  }
  if (ch === 'S') {
    c.i++;
    return `[${rustType(c, depth + 1)}]`;
  }
  if (ch === 'B') return backref(c, depth, rustType);
  return rustPath(c, depth + 1);
}

function backref<T>(c: Cursor, depth: number, f: (c: Cursor, depth: number) => T): T {
  c.i++;
  const at = base62(c) + 2; // offsets count from after `_R`
  if (depth > 20 || at >= c.i) throw new Bad();
  return f(new Cursor(c.s, at), depth + 1);
}

function rustPath(c: Cursor, depth: number): string {
  if (depth > 40) throw new Bad();
  const ch = c.peek();
  c.i++;
  switch (ch) {
    case 'C':
      return rustIdent(c);
    case 'N': {
      const ns = c.peek();
      c.i++;
      const parent = rustPath(c, depth + 1);
      const id = rustIdent(c);
      if (/[A-Z]/.test(ns)) return `${parent}::{${ns === 'C' ? 'closure' : 'shim'}${id ? `:${id}` : ''}}`;
      return id === '' ? parent : `${parent}::${id}`;
    }
    case 'M': {
      if (c.peek() === 's') {
        c.i++;
        skipBase62(c);
      }
      rustPath(c, depth + 1);
      return `<${rustType(c, depth + 1)}>`;
    }
    case 'X': {
      if (c.peek() === 's') {
        c.i++;
        skipBase62(c);
      }
      rustPath(c, depth + 1);
      const ty = rustType(c, depth + 1);
      return `<${ty} as ${rustPath(c, depth + 1)}>`;
    }
    case 'Y': {
      const ty = rustType(c, depth + 1);
      return `<${ty} as ${rustPath(c, depth + 1)}>`;
    }
    case 'I': {
      const p = rustPath(c, depth + 1);
      // Generic arguments are not part of titles (syzkaller demangles without them).
      let guard = 0;
      while (!c.eat('E')) {
        if (c.i >= c.s.length || guard++ > 64) throw new Bad();
        if (c.peek() === 'L') {
          c.i++;
          base62(c);
        } else if (c.peek() === 'K') {
          throw new Bad();
        } else rustType(c, depth + 1);
      }
      return p;
    }
    case 'B':
      c.i--;
      return backref(c, depth, rustPath);
    default:
      throw new Bad();
  }
}

function itanium(s: string): string {
  const c = new Cursor(s, 2);
  const names: string[] = [];
  if (c.eat('N')) {
    while (/[KVr]/.test(c.peek())) c.i++;
    while (!c.eat('E')) {
      if (!/[0-9]/.test(c.peek())) throw new Bad();
      const len = decimal(c);
      names.push(s.slice(c.i, c.i + len));
      c.i += len;
      if (c.i > s.length) throw new Bad();
    }
  } else {
    const len = decimal(c);
    names.push(s.slice(c.i, c.i + len));
    c.i += len;
    if (c.i > s.length) throw new Bad();
  }
  return names.join('::');
}

/** Demangles a Rust v0 or Itanium C++ symbol without parameters; other names come back unchanged. */
export function demangle(name: string): string {
  try {
    if (name.startsWith('_R')) {
      const c = new Cursor(name, 2);
      const out = rustPath(c, 0);
      return out === '' ? name : out;
    }
    if (name.startsWith('_Z') && name.length > 2) return itanium(name) || name;
  } catch (e) {
    if (!(e instanceof Bad)) throw e;
  }
  return name;
}
