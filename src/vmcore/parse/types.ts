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
  let d = decl.trim().replace(/;$/, '').trim();
  let bits: number | null = null;
  const bf = /^(.*\S)\s*:\s*(\d+)$/.exec(d);
  if (bf) {
    d = bf[1]!;
    bits = Number(bf[2]);
  }
  // Function pointer: `void (*fn)(struct x *)`.
  const fp = /\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(/.exec(d);
  if (fp) return { name: fp[1]!, type: d.replace(fp[1]!, '').replace(/\s+/g, ' '), bits };
  // Arrays: `char name[16][2]`.
  const arr = /^(.*?)([A-Za-z_]\w*)\s*((?:\[[^\]]*\])+)$/.exec(d);
  if (arr) return { name: arr[2]!, type: `${arr[1]!.trim()} ${arr[3]}`.trim(), bits };
  const m = /^(.*?)([A-Za-z_]\w*)$/.exec(d);
  if (m) return { name: m[2]!, type: m[1]!.trim(), bits };
  return { name: d, type: '', bits };
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
  const t = text
    .trim()
    .replace(/^type = /, '')
    .replace(/;$/, '');
  const m = /^(.*?)\b([A-Za-z_]\w*)\s*\((.*)\)$/.exec(t);
  if (!m) return null;
  const params: { type: string; name: string | null }[] = [];
  let variadic = false;
  const inner = m[3]!.trim();
  if (inner !== '' && inner !== 'void') {
    for (const p of inner.split(',')) {
      const s = p.trim();
      if (s === '...') {
        variadic = true;
        continue;
      }
      const d = splitDecl(s);
      // `struct nfs_page *` has no name; `struct nfs_page *req` has one.
      if (
        /^(struct|union|enum)$/.test(d.type) ||
        d.type === '' ||
        /\b(int|long|char|short|void|unsigned|signed|bool|_Bool|u\d+|s\d+|size_t)$/.test(s)
      ) {
        params.push({ type: s, name: null });
      } else params.push({ type: d.type, name: d.name });
    }
  }
  return { name: m[2]!, returnType: m[1]!.trim(), params, variadic };
}

/** Parses `ptype enum E` / `whatis enum E`: `type = enum pageflags {PG_locked, PG_waiters = 7, ...}`. */
export function parseEnum(text: string): EnumType | null {
  const flat = text.replace(/\s+/g, ' ');
  const m = /enum\s+([A-Za-z_]\w*)?\s*\{([^}]*)\}/.exec(flat);
  if (!m) return null;
  const values: { name: string; value: number }[] = [];
  let next = 0;
  for (const part of m[2]!.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const kv = /^([A-Za-z_]\w*)(?:\s*=\s*(-?(?:0x[0-9a-f]+|\d+)))?$/i.exec(p);
    if (!kv) continue;
    const v = kv[2] !== undefined ? Number(kv[2]) : next;
    values.push({ name: kv[1]!, value: v });
    next = v + 1;
  }
  return { name: m[1] ?? null, values };
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
