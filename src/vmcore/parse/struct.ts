// gdb-style values as crash prints them: `struct T ADDR [-x|-d]`, `p EXPR`, `task`, `struct T.a,b ADDR`.
// Nested structs, anonymous unions/structs (a `{` with no name), arrays (`{1, 2, 3}`,
// `<repeats N times>`), strings, pointers with `<symbol>` and `"string"` annotations, enums.
// Transcript elisions (`...`) inside a value become `elided` members. A hand-written tokenizer:
// linear in the input, no regex backtracking.
import { CrashParseError, fmtHex } from './common.ts';

export interface Scalar {
  kind: 'scalar';
  /** Text as printed (`0xffff... <fixture_list>`, `TASK_RUNNING`, `"init\000"`). */
  text: string;
  /** Numeric value as canonical 64-bit hex (negatives two's complement), when the value is a number. */
  hex: string | null;
  /** `<symbol+off>` annotation of a pointer. */
  symbol: string | null;
  /** The string (escapes kept as printed) of a char array or of a `char *` annotation. */
  string: string | null;
  /** An identifier value (enum constant, `true`). */
  ident: string | null;
}
export interface Member {
  name: string | null;
  value: Value;
}
export interface StructValue {
  kind: 'struct';
  members: Member[];
}
export interface ArrayValue {
  kind: 'array';
  items: Value[];
}
export interface Elided {
  kind: 'elided';
}
export type Value = Scalar | StructValue | ArrayValue | Elided;

type Tok = { t: '{' | '}' | ',' | '=' | 'nl' } | { t: 'text'; v: string } | { t: 'str'; v: string };

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let cur = '';
  const flush = () => {
    if (cur.trim() !== '') out.push({ t: 'text', v: cur.trim() });
    cur = '';
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      // A string literal; `\"` and `\\` escapes.
      flush();
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== '"' && text[j] !== '\n') {
        if (text[j] === '\\' && j + 1 < text.length) {
          s += text[j]! + text[j + 1]!;
          j += 2;
        } else s += text[j++]!;
      }
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    if (ch === "'") {
      // A char literal (`'\000'`) is part of a scalar text.
      const end = text.indexOf("'", i + (text[i + 1] === '\\' ? 2 : 1) + 1);
      if (end > i && end - i <= 6) {
        cur += text.slice(i, end + 1);
        i = end + 1;
        continue;
      }
    }
    if (ch === '<') {
      // `<symbol+off>` / `<repeats 15 times>`: copied verbatim (may contain `=`).
      const end = text.indexOf('>', i);
      const nl = text.indexOf('\n', i);
      if (end > i && (nl < 0 || end < nl)) {
        cur += text.slice(i, end + 1);
        i = end + 1;
        continue;
      }
    }
    if (ch === '{' || ch === '}' || ch === ',' || ch === '=' || ch === '\n') {
      flush();
      out.push({ t: ch === '\n' ? 'nl' : ch });
      i++;
      continue;
    }
    if (ch === '\r') {
      i++;
      continue;
    }
    cur += ch;
    i++;
  }
  flush();
  return out;
}

function scalarOf(parts: string[], strings: string[]): Scalar {
  const text = [...parts, ...strings.map((s) => `"${s}"`)].join(' ').trim();
  const first = parts[0] ?? '';
  let hex: string | null = null;
  let symbol: string | null = null;
  let ident: string | null = null;
  // Strip a cast prefix: `(struct fixture_obj *) 0xffff...`.
  const castless = first.replace(/^\([^)]*\)\s*/, '');
  const num = /^(-?)(0x[0-9a-f]+|\d+)(?:\s|$)/i.exec(castless);
  if (num) {
    let v = BigInt(num[2]!);
    if (num[1] === '-') v = -v;
    hex = fmtHex(v);
  } else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(castless)) {
    ident = castless;
  }
  const sym = /<([^>]+)>/.exec(castless);
  if (sym && !sym[1]!.startsWith('repeats ')) symbol = sym[1]!;
  return { kind: 'scalar', text, hex, symbol, string: strings.length > 0 ? strings.join('') : null, ident };
}

class Parser {
  i = 0;
  constructor(readonly toks: Tok[]) {}
  peek(k = 0): Tok | undefined {
    return this.toks[this.i + k];
  }
  skipNl(): void {
    while (this.peek()?.t === 'nl') this.i++;
  }
  /** A value: a braced aggregate or a scalar running to `,`, `}` or end of line. */
  value(): Value {
    this.skipNl();
    const t = this.peek();
    if (t?.t === '{') return this.braced();
    const parts: string[] = [];
    const strings: string[] = [];
    for (;;) {
      const x = this.peek();
      if (!x || x.t === ',' || x.t === '}' || x.t === 'nl' || x.t === '{') break;
      if (x.t === 'text') parts.push(x.v);
      else if (x.t === 'str') strings.push(x.v);
      else if (x.t === '=') parts.push('=');
      this.i++;
    }
    if (parts.length === 1 && parts[0] === '...' && strings.length === 0) return { kind: 'elided' };
    return scalarOf(parts, strings);
  }
  braced(): StructValue | ArrayValue {
    this.i++; // '{'
    const items: Member[] = [];
    for (;;) {
      this.skipNl();
      const t = this.peek();
      if (!t) break;
      if (t.t === '}') {
        this.i++;
        break;
      }
      if (t.t === ',') {
        this.i++;
        continue;
      }
      if (t.t === 'text' && t.v === '...') {
        this.i++;
        items.push({ name: null, value: { kind: 'elided' } });
        continue;
      }
      if (t.t === 'text' && this.peek(1)?.t === '=' && /^[A-Za-z_$][\w$.[\]]*$/.test(t.v)) {
        this.i += 2;
        items.push({ name: t.v, value: this.value() });
        continue;
      }
      const before = this.i;
      items.push({ name: null, value: this.value() });
      if (this.i === before) this.i++;
    }
    if (items.some((m) => m.name !== null)) return { kind: 'struct', members: items };
    // No named member: an array, or a struct made only of anonymous members (kept as array items;
    // field lookups descend into both).
    return { kind: 'array', items: items.map((m) => m.value) };
  }
}

export interface PrintedValue {
  /** Member or symbol name (`fixture_global`, `id`), or null for `$3 = ...`. */
  name: string | null;
  /** gdb history number (`$3`). */
  history: number | null;
  /** `struct nfs_page` for `struct T ADDR` blocks, or the cast type printed before a pointer. */
  type: string | null;
  value: Value;
}

/** Parses any sequence of printed values: `struct T {..}` blocks, `name = $N = value`, `$N = value`, `name = value` lines. */
export function parsePrint(text: string, command = 'p'): PrintedValue[] {
  const p = new Parser(tokenize(text));
  const out: PrintedValue[] = [];
  for (;;) {
    p.skipNl();
    const t = p.peek();
    if (!t) break;
    if (t.t === 'text' && p.peek(1)?.t === '{') {
      const m = /^((?:struct|union)\s+\S+)$/.exec(t.v);
      p.i++;
      out.push({ name: null, history: null, type: m ? m[1]! : t.v, value: p.braced() });
      continue;
    }
    if (t.t === 'text' && p.peek(1)?.t === '=') {
      let name: string | null = null;
      let history: number | null = null;
      while (p.peek()?.t === 'text' && p.peek(1)?.t === '=') {
        const v = (p.peek() as { v: string }).v;
        const h = /^\$(\d+)$/.exec(v);
        if (h) history = Number(h[1]);
        else name = v;
        p.i += 2;
      }
      const value = p.value();
      let type: string | null = null;
      if (value.kind === 'scalar') {
        const cast = /^\(([^)]*)\)/.exec(value.text);
        if (cast) type = cast[1]!;
      }
      out.push({ name, history, type, value });
      continue;
    }
    if (t.t === 'text' && t.v === '...') {
      p.i++;
      continue;
    }
    // Anything else (a warning line, stray text) is skipped up to the end of the line.
    while (p.peek() && p.peek()!.t !== 'nl') p.i++;
  }
  if (out.length === 0 && text.trim() !== '') throw new CrashParseError(command, 'no value found');
  return out;
}

export interface StructBlock {
  /** `struct nfs_page`, or null for `struct T.a,b` member lines. */
  type: string | null;
  value: StructValue | ArrayValue;
}

/** Parses `struct T ADDR [-x]` output (one block per address), and `struct T.a,b ADDR` member lines. */
export function parseStruct(text: string): StructBlock[] {
  const vals = parsePrint(text, 'struct');
  const out: StructBlock[] = [];
  let loose: Member[] | null = null;
  for (const v of vals) {
    if (v.type && (v.value.kind === 'struct' || v.value.kind === 'array')) {
      loose = null;
      out.push({ type: v.type, value: v.value });
    } else if (v.name) {
      if (!loose) {
        loose = [];
        out.push({ type: null, value: { kind: 'struct', members: loose } });
      }
      loose.push({ name: v.name, value: v.value });
    }
  }
  return out;
}

/** Members reachable from a value, descending into anonymous members and anonymous-only groups. */
function* membersOf(v: Value): Generator<Member> {
  if (v.kind === 'struct') {
    for (const m of v.members) {
      if (m.name !== null) yield m;
    }
    for (const m of v.members) {
      if (m.name === null) yield* membersOf(m.value);
    }
  } else if (v.kind === 'array') {
    for (const it of v.items) if (it.kind === 'struct' || it.kind === 'array') yield* membersOf(it);
  }
}

/** Looks up a dotted field path (`wb_kref.refcount.refs.counter`), seeing through anonymous members like C does. */
export function getField(v: Value, path: string): Value | null {
  let cur: Value | null = v;
  for (const part of path.split('.')) {
    if (!cur) return null;
    let next: Value | null = null;
    for (const m of membersOf(cur)) {
      if (m.name === part) {
        next = m.value;
        break;
      }
    }
    cur = next;
  }
  return cur;
}

/** The numeric value of a scalar field as bigint, or null. */
export function fieldBig(v: Value, path: string): bigint | null {
  const f = getField(v, path);
  return f?.kind === 'scalar' && f.hex !== null ? BigInt(`0x${f.hex}`) : null;
}

/** All (path, scalar) leaves of a value, in print order; anonymous levels add no path element. */
export function leaves(v: Value, prefix = ''): { path: string; value: Scalar }[] {
  const out: { path: string; value: Scalar }[] = [];
  if (v.kind === 'scalar') out.push({ path: prefix, value: v });
  else if (v.kind === 'struct') {
    for (const m of v.members)
      out.push(...leaves(m.value, m.name === null ? prefix : prefix ? `${prefix}.${m.name}` : m.name));
  } else if (v.kind === 'array') {
    const anonymous = v.items.every(
      (it) => it.kind === 'struct' || it.kind === 'array' || it.kind === 'elided',
    );
    v.items.forEach((it, i) => {
      out.push(...leaves(it, anonymous ? prefix : `${prefix}[${i}]`));
    });
  }
  return out;
}
