// Objects of known type: fields, flag words decoded (debuginfo enum > kernel source > knowledge
// pack), reference counts, list heads, self pointers and links between the report's objects.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type BitDef,
  decodeBits,
  decodePageFlags,
  FLAG_FIELDS,
  flagLayoutFor,
  type KernelVersion,
  type PageFlagsConfig,
  rangeText,
} from '../knowledge/index.ts';
import { leaves, type Scalar, type StructValue, type Value } from '../vmcore/parse/index.ts';
import type { DecodedFlags, ObjectReport } from './model.ts';

export interface FlagBitsSource {
  bits: BitDef[];
  source: string;
}

/** Tier-1/2 flag definitions found for `type.field` (debuginfo enum via ptype, or the kernel source tree). */
export type FlagBitsLookup = (type: string, field: string) => FlagBitsSource | null;

const bare = (t: string) => t.replace(/^(struct|union)\s+/, '').trim();

/** Reads an enum's enumerators from a kernel source tree (`--src`), starting at the enum that contains `firstName`. */
export function enumFromSource(tree: string, file: string, firstName: string): BitDef[] | null {
  const f = path.join(tree, file);
  if (!existsSync(f)) return null;
  // Comments first: they may hold braces (`/* nfs_{un}lock_request */`).
  const text = readFileSync(f, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  const at = new RegExp(`\\b${firstName}\\b`).exec(text)?.index ?? -1;
  if (at < 0) return null;
  const open = text.lastIndexOf('{', at);
  const close = text.indexOf('}', at);
  if (open < 0 || close < 0) return null;
  const body = text
    .slice(open + 1, close)
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n');
  const out: BitDef[] = [];
  let next = 0;
  const known = new Map<string, number>();
  for (const part of body.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const m = /^([A-Za-z_]\w*)\s*(?:=\s*(.+))?$/.exec(p);
    if (!m) continue;
    let v = next;
    if (m[2] !== undefined) {
      const e = m[2].trim();
      if (/^\d+$/.test(e)) v = Number(e);
      else if (/^0x[0-9a-f]+$/i.test(e)) v = Number(e);
      else if (known.has(e)) v = known.get(e)!;
      else continue;
    }
    known.set(m[1]!, v);
    if (m[1]!.startsWith('__NR')) continue;
    out.push({ bit: v, name: m[1]! });
    next = v + 1;
  }
  return out.length > 0 ? out : null;
}

function scalarBig(s: Scalar): bigint | null {
  return s.hex === null ? null : BigInt(`0x${s.hex}`);
}

/** Decodes the flag words of an object of a type (FLAG_FIELDS), with the best available definitions. */
export function decodeObjectFlags(
  type: string,
  value: Value,
  v: KernelVersion | null,
  lookup: FlagBitsLookup,
  pageConfig?: PageFlagsConfig,
): { flags: DecodedFlags[]; notes: string[] } {
  const t = bare(type);
  const out: DecodedFlags[] = [];
  const notes: string[] = [];
  for (const field of FLAG_FIELDS[t] ?? []) {
    const leaf = leaves(value).find((l) => l.path === field);
    if (!leaf) continue;
    const val = scalarBig(leaf.value);
    if (val === null) continue;
    const tier = lookup(t, field);
    const kp = flagLayoutFor(t, field, v);
    let bits: BitDef[] | null = tier?.bits ?? null;
    let source = tier?.source ?? '';
    if (!bits && kp) {
      bits = kp.bits;
      source = `knowledge pack: ${kp.enumName}, ${rangeText(kp.range)}, read in ${kp.provenance.readIn.join(', ')}`;
    }
    if (!bits) {
      notes.push(
        `${t}.${field} = 0x${val.toString(16)} not decoded: no enum in the dump, the source tree or the knowledge pack for kernel ${v?.raw ?? 'unknown'}`,
      );
      continue;
    }
    if (t === 'page' && field === 'flags') {
      const d = decodePageFlags(val, v, { bits, bitsSource: source, config: pageConfig });
      if (d) {
        const clear = bits.filter((b) => !d.flags.includes(b.name)).map((b) => b.name);
        out.push({
          field,
          value: val.toString(16),
          set: d.flags,
          clear: [...new Set(clear)],
          unknownBits: d.unknownBits,
          source,
          extra: {
            node: d.node,
            zone: d.zone,
            section: d.section,
            last_cpupid: d.lastCpupid === null ? null : `0x${d.lastCpupid.toString(16)}`,
            upper_fields: d.layoutBasis,
            widths: Object.entries(d.widths)
              .map(([k, w]) => `${k} ${w}`)
              .join(', '),
          },
        });
        continue;
      }
    }
    const d = decodeBits(val, bits);
    out.push({ field, value: val.toString(16), set: d.set, clear: d.clear, unknownBits: d.unknown, source });
  }
  return { flags: out, notes };
}

/** list_del() poison (include/linux/poison.h, POISON_POINTER_DELTA 0xdead000000000000 on x86_64). */
const LIST_POISON1 = 0xdead000000000100n;
const LIST_POISON2 = 0xdead000000000122n;

/** Finds list_head-like members (a struct with next and prev) in a value, with their paths. */
function listHeads(v: Value, prefix = ''): { path: string; next: bigint; prev: bigint }[] {
  const out: { path: string; next: bigint; prev: bigint }[] = [];
  if (v.kind === 'struct') {
    const next = v.members.find((m) => m.name === 'next');
    const prev = v.members.find((m) => m.name === 'prev');
    if (next?.value.kind === 'scalar' && prev?.value.kind === 'scalar') {
      const n = scalarBig(next.value);
      const p = scalarBig(prev.value);
      if (n !== null && p !== null) out.push({ path: prefix, next: n, prev: p });
    }
    for (const m of v.members) {
      if (m.value.kind === 'struct' || m.value.kind === 'array')
        out.push(...listHeads(m.value, m.name === null ? prefix : prefix ? `${prefix}.${m.name}` : m.name));
    }
  } else if (v.kind === 'array') {
    for (const it of v.items) out.push(...listHeads(it, prefix));
  }
  return out;
}

export interface BuildObjectInput {
  address: string;
  type: string;
  typeSource: string;
  command: string;
  value: StructValue;
  /** Object size if known (kmem OBJSIZE, struct -o SIZE, knowledge layout). */
  size: number | null;
  version: KernelVersion | null;
  flagLookup: FlagBitsLookup;
  /** The dump's page->flags layout configuration (struct page objects). */
  pageConfig?: PageFlagsConfig;
  /** Other objects of the report, for links. */
  known: { address: string; type: string; label: string }[];
}

/** Builds the report of one object from its `struct -x` output. */
export function buildObject(inp: BuildObjectInput): ObjectReport {
  const addr = BigInt(`0x${inp.address}`);
  const ls = leaves(inp.value);
  const { flags, notes } = decodeObjectFlags(
    inp.type,
    inp.value,
    inp.version,
    inp.flagLookup,
    inp.pageConfig,
  );
  const refcounts: ObjectReport['refcounts'] = [];
  for (const l of ls) {
    const last = l.path.split('.');
    const isCounter = last[last.length - 1] === 'counter' || /(_count|_ref|refcount|kref)$/.test(l.path);
    if (isCounter && /(ref|count)/i.test(l.path) && l.value.hex !== null) {
      const n = BigInt(`0x${l.value.hex}`);
      refcounts.push({ path: l.path, value: Number(n >= 1n << 31n && n < 1n << 32n ? n - (1n << 32n) : n) });
    }
  }
  const size = inp.size ?? 0;
  const lists: ObjectReport['lists'] = [];
  const listPaths = new Set<string>();
  for (const h of listHeads(inp.value)) {
    if (!h.path) continue;
    listPaths.add(`${h.path}.next`);
    listPaths.add(`${h.path}.prev`);
    const inside = h.next >= addr && (size > 0 ? h.next < addr + BigInt(size) : h.next - addr < 4096n);
    if (h.next === LIST_POISON1 || h.prev === LIST_POISON2) {
      lists.push({
        path: h.path,
        state: 'poisoned',
        next: h.next.toString(16),
        prev: h.prev.toString(16),
        note: 'LIST_POISON values (include/linux/poison.h): removed from its list with list_del() and not re-initialised; any list walk through it is a use after removal',
      });
    } else if (h.next === h.prev && inside) {
      lists.push({
        path: h.path,
        state: 'empty',
        next: h.next.toString(16),
        prev: h.prev.toString(16),
        note: `next == prev == the list head itself (object + 0x${(h.next - addr).toString(16)}): empty, not on any list (INIT_LIST_HEAD or list_del_init)`,
      });
    } else if (h.next === h.prev) {
      lists.push({
        path: h.path,
        state: 'single',
        next: h.next.toString(16),
        prev: h.prev.toString(16),
        note: 'next == prev: on a list with exactly one other element (or its head)',
      });
    } else {
      lists.push({
        path: h.path,
        state: 'linked',
        next: h.next.toString(16),
        prev: h.prev.toString(16),
        note: 'linked',
      });
    }
  }
  const selfPointers: string[] = [];
  const links: ObjectReport['links'] = [];
  for (const l of ls) {
    if (l.value.hex === null || listPaths.has(l.path)) continue;
    if (l.value.hex === inp.address) selfPointers.push(l.path);
    for (const k of inp.known) {
      if (k.address === l.value.hex && !(k.address === inp.address && bare(k.type) === bare(inp.type))) {
        links.push({
          path: l.path,
          target: `${k.type} ${k.address}`,
          note: `${bare(inp.type)}.${l.path} points to ${k.label}`,
        });
      }
    }
  }
  const fields = ls.slice(0, 400).map((l) => ({ path: l.path, value: l.value.text }));
  return {
    address: inp.address,
    type: inp.type,
    typeSource: inp.typeSource,
    command: inp.command,
    fields,
    flags,
    refcounts,
    lists,
    selfPointers,
    links,
    notes,
  };
}

/** Looks up a scalar field of a printed object as bigint. */
export function objectField(v: Value, p: string): bigint | null {
  const l = leaves(v).find((x) => x.path === p);
  return l && l.value.hex !== null ? BigInt(`0x${l.value.hex}`) : null;
}
