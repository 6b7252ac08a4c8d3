// Type information: `struct -o T` (member offsets), `whatis`/`ptype` (struct bodies, function
// prototypes, enums). Member declarations are C text; names and sizes are pulled out of them.
import { CrashParseError, canonHex, lines } from './common.ts';

export interface MemberOffset {
  /** Byte offset (`[16]`), or null when the line printed an address instead (`struct -o T ADDR`). */
  offset: number | null;
  /** Address printed instead of an offset, canonical hex. */
  address: string | null;
  name: string;
  /** The declaration's type text (`struct page *`, `unsigned long`, `char [16]`). */
  type: string;
  /** Nesting depth (0 for the type's own members). */
  depth: number;
  /** Bit-field width, if any. */
  bits: number | null;
}

export interface StructLayout {
  kind: 'struct' | 'union';
  name: string;
  members: MemberOffset[];
  size: number | null;
}

/** Splits a C member declaration into name and type (`struct page *wb_page` -> wb_page / struct page *). */
export function splitDecl(decl: string): { name: string; type: string; bits: number | null } {
  // Hand-written scanning from the end (no backtracking regexes on user-supplied lines).
  let d = decl.trim();
  if (d.endsWith(';')) d = d.slice(0, -1).trimEnd();
  let bits: number | null = null;
  const colon = d.lastIndexOf(':');
  if (colon > 0 && /^\s*\d+$/.test(d.slice(colon + 1))) {
    bits = Number(d.slice(colon + 1));
    d = d.slice(0, colon).trimEnd();
  }
  // Function pointer: `void (*fn)(struct x *)`.
  const star = d.indexOf('(*');
  if (star >= 0) {
    const close = d.indexOf(')', star);
    if (close > star) {
      const name = d.slice(star + 2, close).trim();
      if (isIdent(name))
        return { name, type: (d.slice(0, star + 2) + d.slice(close)).replace(/\s+/g, ' '), bits };
    }
  }
  // Trailing array dimensions: `char name[16][2]`.
  let dims = '';
  while (d.endsWith(']')) {
    const open = d.lastIndexOf('[');
    if (open < 0) break;
    dims = d.slice(open) + dims;
    d = d.slice(0, open).trimEnd();
  }
  let i = d.length;
  while (i > 0 && /[A-Za-z0-9_]/.test(d[i - 1]!)) i--;
  const name = d.slice(i);
  if (!isIdent(name)) return { name: d, type: '', bits };
  return { name, type: `${d.slice(0, i).trim()}${dims ? ` ${dims}` : ''}`.trim(), bits };
}

function isIdent(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);
}

const OFF_RE = /^\[(0x[0-9a-f]+|\d+|[0-9a-f]{9,16})\]\s+(.*)$/;

/** Parses `struct -o T [ADDR]` (and `union -o`). */
export function parseStructOffsets(text: string): StructLayout {
  let layout: StructLayout | null = null;
  const stack: null[] = [];
  for (const raw of lines(text)) {
    const l = raw.trim();
    if (l === '' || l === '...') continue;
    const head = /^(?:type = )?(struct|union)\s+([A-Za-z_]\w*)\s*\{$/.exec(l);
    if (!layout && head) {
      layout = { kind: head[1] as 'struct' | 'union', name: head[2]!, members: [], size: null };
      continue;
    }
    if (!layout) continue;
    const size = /^SIZE:\s+(0x[0-9a-f]+|\d+)$/.exec(l);
    if (size) {
      layout.size = Number(size[1]);
      continue;
    }
    let offset: number | null = null;
    let address: string | null = null;
    let rest = l;
    const om = OFF_RE.exec(l);
    if (om) {
      const v = om[1]!;
      if (/^[0-9a-f]{9,16}$/.test(v) && !/^\d+$/.test(v)) address = canonHex(v);
      else offset = Number(v);
      rest = om[2]!;
    }
    // Opening of a nested aggregate: `union {`, `struct {`, `struct list_head {` (expanded nested).
    if (/\{$/.test(rest)) {
      stack.push(null);
      continue;
    }
    // Closing: `};` or `} name;`.
    if (/^\}\s*([A-Za-z_]\w*)?\s*(\[[^\]]*\])*;?$/.test(rest)) {
      stack.pop();
      continue;
    }
    if (!rest.endsWith(';')) continue;
    const { name, type, bits } = splitDecl(rest);
    layout.members.push({ offset, address, name, type, depth: stack.length, bits });
  }
  if (!layout) throw new CrashParseError('struct -o', 'no `struct NAME {` line');
  return layout;
}

/** The member at a byte offset (the last member starting at or before it), with the offset inside it. */
export function memberAt(
  layout: StructLayout,
  offset: number,
): { member: MemberOffset; inner: number } | null {
  let best: MemberOffset | null = null;
  for (const m of layout.members) {
    if (m.offset === null || m.offset > offset) continue;
    if (!best || m.offset >= best.offset!) best = m;
  }
  return best ? { member: best, inner: offset - best.offset! } : null;
}

export interface FunctionType {
  name: string;
  returnType: string;
  params: { type: string; name: string | null }[];
  variadic: boolean;
}

export interface EnumType {
  name: string | null;
  /** Enumerators in order with their values. */
  values: { name: string; value: number }[];
}

export type TypeInfo =
  | { kind: 'function'; fn: FunctionType }
  | { kind: 'enum'; enum: EnumType }
  | { kind: 'struct'; layout: StructLayout }
  | { kind: 'type'; text: string };

/** Parses a function prototype line: `void nfs_unlock_request(struct nfs_page *);`. */
export function parsePrototype(text: string): FunctionType | null {
  let t = text.trim();
  if (t.startsWith('type = ')) t = t.slice(7);
  if (t.endsWith(';')) t = t.slice(0, -1).trimEnd();
  const open = t.indexOf('(');
  const close = t.lastIndexOf(')');
  if (open <= 0 || close < open || close !== t.length - 1) return null;
  const head = t.slice(0, open).trimEnd();
  let i = head.length;
  while (i > 0 && /[A-Za-z0-9_]/.test(head[i - 1]!)) i--;
  const name = head.slice(i);
  if (!isIdent(name)) return null;
  const params: { type: string; name: string | null }[] = [];
  let variadic = false;
  const inner = t.slice(open + 1, close).trim();
  if (inner !== '' && inner !== 'void') {
    for (const p of inner.split(',')) {
      const s = p.trim();
      if (s === '...') {
        variadic = true;
        continue;
      }
      const d = splitDecl(s);
      // `struct nfs_page *` has no name; `struct nfs_page *req` has one.
      const lastWord = s.split(/\s+/).pop() ?? '';
      const typeOnly =
        d.type === '' ||
        /^(struct|union|enum)$/.test(d.type) ||
        s.endsWith('*') ||
        BUILTIN.has(lastWord) ||
        /^[us]\d+$/.test(lastWord);
      if (typeOnly) params.push({ type: s, name: null });
      else params.push({ type: d.type, name: d.name });
    }
  }
  return { name, returnType: head.slice(0, i).trim(), params, variadic };
}

const BUILTIN = new Set([
  'int',
  'long',
  'char',
  'short',
  'void',
  'unsigned',
  'signed',
  'bool',
  '_Bool',
  'size_t',
  'ssize_t',
  'loff_t',
  'pgoff_t',
  'gfp_t',
  'umode_t',
  'dev_t',
  'pid_t',
]);

/** Parses `ptype enum E` / `whatis enum E`: `type = enum pageflags {PG_locked, PG_waiters = 7, ...}`. */
export function parseEnum(text: string): EnumType | null {
  const at = text.indexOf('enum');
  if (at < 0) return null;
  const open = text.indexOf('{', at);
  const close = text.indexOf('}', open);
  if (open < 0 || close < 0) return null;
  const nameText = text.slice(at + 4, open).trim();
  const values: { name: string; value: number }[] = [];
  let next = 0;
  // gdb's ptype prints `{A, B = 7}` on one line; crash's whatis prints one `A = 0` per line.
  for (const part of text.slice(open + 1, close).split(/[,\n]/)) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    const name = (eq >= 0 ? p.slice(0, eq) : p).trim();
    if (!isIdent(name)) continue;
    let v = next;
    if (eq >= 0) {
      const e = p.slice(eq + 1).trim();
      if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(e)) continue;
      v = Number(e);
    }
    values.push({ name, value: v });
    next = v + 1;
  }
  return { name: isIdent(nameText) ? nameText : null, values };
}

/** Parses `whatis X` / `ptype X` output into a function prototype, enum, struct layout or plain type. */
export function parseTypeInfo(text: string): TypeInfo {
  const t = text.trim();
  if (t === '') throw new CrashParseError('whatis', 'empty output');
  if (/^(type = )?enum\b/.test(t)) {
    const e = parseEnum(t);
    if (e) return { kind: 'enum', enum: e };
  }
  if (/^(type = )?(struct|union)\s+\w+\s*\{/.test(t)) {
    const body = lines(t).map((l, i) => (i === 0 ? l.replace(/^type = /, '') : l));
    return { kind: 'struct', layout: parseStructDecl(body.join('\n')) };
  }
  const first = lines(t)[0]!;
  const fn = parsePrototype(first);
  if (fn && first.includes('(')) return { kind: 'function', fn };
  return { kind: 'type', text: t.replace(/^type = /, '') };
}

/** A struct body printed by ptype/whatis (no offsets): members in order. */
function parseStructDecl(text: string): StructLayout {
  const layout = parseStructOffsets(text);
  const size = /SIZE:\s+(\d+)/.exec(text);
  if (size) layout.size = Number(size[1]);
  return layout;
}
