// Per-file fact extraction with tree-sitter-c. One Query (patterns below, matched in C) yields all
// captures; JS only reads the captured nodes' positions and slices the source text, because every
// node access through N-API is expensive (see ../shared/docs/source-index-facts.md 3.3).
import Parser from 'tree-sitter';
import C from 'tree-sitter-c';
import { blankKernelMacros } from './blank.ts';
import { type AccessPath, bareIdentifier, evalIntExpr, parseAccessPath, splitArgs } from './cexpr.ts';
import {
  BITOP_ADDR_ARG,
  BITOP_BIT_ARG,
  BITOPS,
  INTERESTING_CALLS,
  REGISTRATIONS,
  TOPLEVEL_REGISTRATIONS,
  TRIGGERS,
} from './tables.ts';

/** [name, line, endLine, bodyHasError 0|1, returnStructType|null] (lines 1-based). */
export type FuncRow = [string, number, number, number, string | null];
/** [funcIdx, callee, line] */
export type CallRow = [number, string, number];
/** A member chain reduced to what the index needs: root's type (if known), intermediate fields, last field. */
export interface Member {
  rootType: string | null;
  /** Root text (`req`, `NFS_I()`): kept to resolve call-result roots through function return types. */
  root: string;
  /** Fields between the root and the last one, joined with '.'. */
  path: string;
  field: string;
  /** Index of the enclosing function's parameter the root is, or -1. */
  param: number;
}
/** [funcIdx, member, line, text of the called expression] */
export type FieldCallRow = [number, Member, number, string];
/**
 * Function stored somewhere: kind 'init' (designated initializer `.field = fn` in `struct T v = {}`;
 * member.rootType = T, member.path = nested fields), 'assign' (`x->field = fn`), 'reg' (registration
 * call, member = the object the callback is attached to, if any), 'top' (top-level registration
 * macro such as module_init).
 */
export interface FnRef {
  fn: string;
  kind: 'init' | 'assign' | 'reg' | 'top';
  member: Member | null;
  /** Registration macro (INIT_WORK...) or the initialized variable's name. */
  via: string;
  entry: string | null;
  funcIdx: number;
  line: number;
}
/** [kind, macro, member (work item/timer), funcIdx, line] */
export type TriggerRow = [string, string, Member, number, number];
export interface WriteRow {
  member: Member;
  /** '=', '|=', '&=', '+=', '++', 'set', 'clear', 'test_and_set', ... */
  op: string;
  /** Bit constant for bit operations and `|= BIT` / `&= ~BIT`. */
  bit: string | null;
  value: string | null;
  funcIdx: number;
  line: number;
  via: string | null;
}
/** [enumName|null, constant, value as decimal string|null, expression text|null, line, line of the enum's `{`] */
export type EnumRow = [string | null, string, string | null, string | null, number, number];
/** [name, 'struct'|'union', line, endLine] */
export type StructRow = [string, string, number, number];
/** [structName, field, structTypeOfField, line] */
export type FieldRow = [string, string, string, number];
/** [name, line, functionLike 0|1, value text|null] */
export type MacroRow = [string, number, number, string | null];

export interface FileFacts {
  funcs: FuncRow[];
  calls: CallRow[];
  fieldCalls: FieldCallRow[];
  fnRefs: FnRef[];
  triggers: TriggerRow[];
  writes: WriteRow[];
  enums: EnumRow[];
  structs: StructRow[];
  fields: FieldRow[];
  macros: MacroRow[];
  /** [typedef name, struct name] */
  typedefs: Array<[string, string]>;
  /** Number of ERROR nodes, and the first lines that have one. */
  errors: number;
  errorLines: number[];
}

/** Bumped whenever extraction changes what it records: indexes built by another version are re-parsed. */
export const EXTRACTOR_VERSION = 3;

export const QUERY = `
(function_definition declarator: [
  (function_declarator declarator: (identifier) @fn.name)
  (pointer_declarator declarator: (function_declarator declarator: (identifier) @fn.name))
  (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @fn.name)))
  (parenthesized_declarator (function_declarator declarator: (identifier) @fn.name))
] body: (compound_statement) @fn.body) @fn
(function_definition type: [(struct_specifier name: (type_identifier) @rt.type) (type_identifier) @rt.type]
  declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @rt.name)))
(parameter_declaration) @p
(parameter_declaration type: [(struct_specifier name: (type_identifier) @pt.type) (union_specifier name: (type_identifier) @pt.type) (type_identifier) @pt.type]
  declarator: [(identifier) @pt.var (pointer_declarator declarator: (identifier) @pt.var) (pointer_declarator declarator: (pointer_declarator declarator: (identifier) @pt.var))])
(declaration type: [(struct_specifier name: (type_identifier) @d.type) (union_specifier name: (type_identifier) @d.type) (type_identifier) @d.type]
  declarator: [(identifier) @d.var (pointer_declarator declarator: (identifier) @d.var)
    (init_declarator declarator: (identifier) @d.var) (init_declarator declarator: (pointer_declarator declarator: (identifier) @d.var))
    (array_declarator declarator: (identifier) @d.var)])
(call_expression function: (identifier) @c.fn)
(call_expression function: (field_expression) @fc.fe)
(declaration type: [(struct_specifier name: (type_identifier) @dl.type) (type_identifier) @dl.type]
  declarator: (init_declarator declarator: (_) @dl.var value: (initializer_list) @dl.list))
(initializer_list (initializer_pair designator: (field_designator (field_identifier) @di.field)
  value: [(identifier) @di.fn (pointer_expression argument: (identifier) @di.fn)])) @di.list
(initializer_list (initializer_pair designator: (field_designator (field_identifier) @ni.field) value: (initializer_list) @ni.list)) @ni.parent
(initializer_list (initializer_list) @ae.list) @ae.parent
(assignment_expression left: (field_expression) @as.lhs right: (_) @as.rhs)
(update_expression argument: (field_expression) @up.lhs) @up
(enum_specifier name: (type_identifier)? @e.name body: (enumerator_list) @e.body)
(enumerator name: (identifier) @ec.name value: (_)? @ec.value)
(struct_specifier name: (type_identifier) @s.name body: (field_declaration_list) @s.body)
(union_specifier name: (type_identifier) @u.name body: (field_declaration_list) @u.body)
(type_definition type: [(struct_specifier body: (field_declaration_list) @td.body) (union_specifier body: (field_declaration_list) @td.body)] declarator: (type_identifier) @td.name)
(type_definition type: [(struct_specifier name: (type_identifier) @ty.struct) (union_specifier name: (type_identifier) @ty.struct)] declarator: (type_identifier) @ty.name)
(field_declaration type: [(struct_specifier name: (type_identifier) @f.type) (union_specifier name: (type_identifier) @f.type) (type_identifier) @f.type]
  declarator: [(field_identifier) @f.name (pointer_declarator declarator: (field_identifier) @f.name)
    (pointer_declarator declarator: (pointer_declarator declarator: (field_identifier) @f.name)) (array_declarator declarator: (field_identifier) @f.name)])
(preproc_def name: (identifier) @m.name value: (preproc_arg)? @m.value) @m
(preproc_function_def name: (identifier) @mf.name) @mf
(ERROR) @err
(declaration declarator: (init_declarator declarator: (pointer_declarator declarator: (identifier) @al.var)
  value: (pointer_expression argument: (field_expression) @al.fe) @al.ptr))
`;

let parser: Parser | null = null;
let query: Parser.Query | null = null;
function getParser(): { parser: Parser; query: Parser.Query } {
  if (parser === null || query === null) {
    parser = new Parser();
    parser.setLanguage(C as unknown as Parser.Language);
    query = new Parser.Query(C as unknown as Parser.Language, QUERY);
  }
  return { parser, query };
}

type Node = Parser.SyntaxNode;
// node-tree-sitter 0.22 keeps a node's TSNode context in indexed fields: [2] start byte (UTF-16,
// so twice the string index), [3] start row. Reading them avoids one N-API call per access.
const startOf = (n: Node): number => ((n as unknown as number[])[2] as number) >>> 1;
const rowOf = (n: Node): number => (n as unknown as number[])[3] as number;

function isIdChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || (c >= 48 && c <= 57);
}
/** The identifier starting at `at` in `src`, read in JS (no native call). */
function identAt(src: string, at: number): string {
  let e = at;
  while (e < src.length && isIdChar(src.charCodeAt(e))) e++;
  return src.slice(at, e);
}
function firstIdent(text: string): string | null {
  const m = /[A-Za-z_]\w*/.exec(text);
  return m ? m[0] : null;
}
type Capture = { name: string; node: Node };
/** The node captured as `name` (captures of a match are looked up by name, not position). */
function cap(c: Capture[], name: string): Node {
  for (const x of c) if (x.name === name) return x.node;
  throw new Error(`tree-sitter query: capture ${name} missing`);
}
function capOpt(c: Capture[], name: string): Node | undefined {
  for (const x of c) if (x.name === name) return x.node;
  return undefined;
}
const clip = (s: string, n = 160): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n - 3)}...` : t;
};

interface FnScope {
  start: number;
  end: number;
  bodyStart: number;
  vars: Map<string, string>;
  params: Map<string, number>;
  /** `unsigned long *bitlock = &NFS_I(inode)->flags;`: pointer locals aliasing a member. */
  aliases?: Map<string, AccessPath>;
  nParams: number;
}

/** Top-level registration macros: `module_init(f);`, `DECLARE_WORK(w, f);` (line-anchored, linear). */
const TOPLEVEL_RE = new RegExp(
  `^[ \\t]*(?:static[ \\t]+)?(${Object.keys(TOPLEVEL_REGISTRATIONS).join('|')})[ \\t]*\\(([^()\\n]*)\\)`,
  'gm',
);

/**
 * Headers made only of preprocessor lines and comments (register maps such as
 * drivers/gpu/drm/amd/include/asic_reg: a third of the tree's bytes) hold nothing but macros; they
 * are scanned line by line instead of parsed. Returns null as soon as a line of C appears.
 */
export function scanPreprocessorOnly(text: string): MacroRow[] | null {
  const macros: MacroRow[] = [];
  let inComment = false;
  let continued = false;
  let lineNo = 0;
  let pos = 0;
  while (pos <= text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const raw = text.slice(pos, end);
    pos = end + 1;
    lineNo++;
    // Strip comments, tracking /* */ across lines.
    let code = '';
    let i = 0;
    while (i < raw.length) {
      if (inComment) {
        const close = raw.indexOf('*/', i);
        if (close < 0) {
          i = raw.length;
          break;
        }
        inComment = false;
        i = close + 2;
        continue;
      }
      const open = raw.indexOf('/*', i);
      const line = raw.indexOf('//', i);
      if (line >= 0 && (open < 0 || line < open)) {
        code += raw.slice(i, line);
        break;
      }
      if (open < 0) {
        code += raw.slice(i);
        break;
      }
      code += `${raw.slice(i, open)} `;
      inComment = true;
      i = open + 2;
    }
    const t = code.trim();
    if (continued) {
      continued = t.endsWith('\\');
      continue;
    }
    if (t.length === 0) continue;
    if (t.charCodeAt(0) !== 35 /* # */) return null;
    continued = t.endsWith('\\');
    const m = /^#\s*define\s+([A-Za-z_]\w*)(\()?/.exec(t);
    if (m) {
      const value = m[2] ? null : t.slice(m[0].length).trim();
      macros.push([
        m[1]!,
        lineNo,
        m[2] ? 1 : 0,
        value === null ? null : value.length > 0 ? clip(value, 200) : null,
      ]);
    }
    if (pos > text.length) break;
  }
  return macros;
}

/** Extracts the facts of one C file (source text as read from disk). */
export function extractFile(rawText: string): FileFacts {
  const ppOnly = scanPreprocessorOnly(rawText);
  if (ppOnly !== null) {
    return {
      funcs: [],
      calls: [],
      fieldCalls: [],
      fnRefs: [],
      triggers: [],
      writes: [],
      enums: [],
      structs: [],
      fields: [],
      macros: ppOnly,
      typedefs: [],
      errors: 0,
      errorLines: [],
    };
  }
  const { parser: p, query: q } = getParser();
  const src = blankKernelMacros(rawText);
  // bufferSize: tree-sitter's default input chunk would cut files above 32 KiB into many calls.
  const tree = p.parse(src, undefined, { bufferSize: Math.max(src.length + 1, 32 * 1024) });
  const matches = q.matches(tree.rootNode);

  const out: FileFacts = {
    funcs: [],
    calls: [],
    fieldCalls: [],
    fnRefs: [],
    triggers: [],
    writes: [],
    enums: [],
    structs: [],
    fields: [],
    macros: [],
    typedefs: [],
    errors: 0,
    errorLines: [],
  };

  // Pass 1: function scopes, parameter and variable types, struct bodies, initializer lists.
  const scopes: FnScope[] = [];
  const fileVars = new Map<string, string>();
  const declLists = new Map<number, { type: string; var: string }>();
  const nestedLists = new Map<number, { parent: number; field: string }>();
  const structBodies: Array<{ start: number; end: number; name: string }> = [];
  const retTypes = new Map<string, string>();
  const params: Array<{ start: number; end: number }> = [];
  const typedVars: Array<{ at: number; type: string; name: string; param: boolean }> = [];
  const aliases: Array<{ at: number; name: string; path: AccessPath }> = [];

  for (const m of matches) {
    const c = m.captures;
    switch (m.pattern) {
      case 0: {
        const fn = cap(c, 'fn');
        const name = cap(c, 'fn.name');
        const body = cap(c, 'fn.body');
        const start = startOf(fn);
        const end = fn.endIndex;
        out.funcs.push([
          identAt(src, startOf(name)),
          rowOf(fn) + 1,
          fn.endPosition.row + 1,
          body.hasError ? 1 : 0,
          null,
        ]);
        scopes.push({ start, end, bodyStart: startOf(body), vars: new Map(), params: new Map(), nParams: 0 });
        break;
      }
      case 1:
        retTypes.set(identAt(src, startOf(cap(c, 'rt.name'))), identAt(src, startOf(cap(c, 'rt.type'))));
        break;
      case 2: {
        const n = cap(c, 'p');
        params.push({ start: startOf(n), end: n.endIndex });
        break;
      }
      case 3:
      case 4: {
        const pre = m.pattern === 3 ? 'pt' : 'd';
        const type = cap(c, `${pre}.type`);
        const v = cap(c, `${pre}.var`);
        typedVars.push({
          at: startOf(v),
          type: identAt(src, startOf(type)),
          name: identAt(src, startOf(v)),
          param: m.pattern === 3,
        });
        break;
      }
      case 7: {
        const type = cap(c, 'dl.type');
        const v = cap(c, 'dl.var');
        const list = cap(c, 'dl.list');
        declLists.set(startOf(list), { type: identAt(src, startOf(type)), var: firstIdent(v.text) ?? '' });
        break;
      }
      case 9: {
        const parent = cap(c, 'ni.parent');
        const field = cap(c, 'ni.field');
        const list = cap(c, 'ni.list');
        nestedLists.set(startOf(list), { parent: startOf(parent), field: identAt(src, startOf(field)) });
        break;
      }
      case 10: {
        const parent = cap(c, 'ae.parent');
        const list = cap(c, 'ae.list');
        if (!nestedLists.has(startOf(list)))
          nestedLists.set(startOf(list), { parent: startOf(parent), field: '' });
        break;
      }
      case 15:
      case 16:
      case 17: {
        const pre = m.pattern === 15 ? 's' : m.pattern === 16 ? 'u' : 'td';
        const name = cap(c, `${pre}.name`);
        const body = cap(c, `${pre}.body`);
        const sname = identAt(src, startOf(name));
        structBodies.push({ start: startOf(body), end: body.endIndex, name: sname });
        if (m.pattern !== 17)
          out.structs.push([
            sname,
            m.pattern === 15 ? 'struct' : 'union',
            rowOf(name) + 1,
            body.endPosition.row + 1,
          ]);
        else out.structs.push([sname, 'typedef', rowOf(name) + 1, body.endPosition.row + 1]);
        break;
      }
      case 23: {
        const ptr = cap(c, 'al.ptr');
        if (src.charCodeAt(startOf(ptr)) !== 38 /* & */) break;
        const v = cap(c, 'al.var');
        const path = parseAccessPath(cap(c, 'al.fe').text);
        if (path && path.fields.length > 0)
          aliases.push({ at: startOf(v), name: identAt(src, startOf(v)), path });
        break;
      }
      case 18:
        out.typedefs.push([
          identAt(src, startOf(cap(c, 'ty.name'))),
          identAt(src, startOf(cap(c, 'ty.struct'))),
        ]);
        break;
    }
  }
  for (const f of out.funcs) {
    const rt = retTypes.get(f[0]);
    if (rt) f[4] = rt;
  }
  // Scopes are disjoint and in document order (function definitions do not nest in C).
  const scopeAt = (pos: number): number => {
    let lo = 0;
    let hi = scopes.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = scopes[mid]!;
      if (pos < s.start) hi = mid - 1;
      else if (pos >= s.end) lo = mid + 1;
      else return mid;
    }
    return -1;
  };
  // Parameter positions: top-level parameters of each definition (nested ones belong to
  // function-pointer parameters), in order.
  let lastParamEnd = -1;
  const paramIndex = new Map<number, number>();
  for (const pr of params) {
    if (pr.start < lastParamEnd) continue;
    lastParamEnd = pr.end;
    const si = scopeAt(pr.start);
    if (si < 0 || pr.start >= scopes[si]!.bodyStart) continue;
    paramIndex.set(pr.start, scopes[si]!.nParams++);
  }
  const paramStarts = [...paramIndex.keys()].sort((a, b) => a - b);
  const paramOf = (at: number): number => {
    // the top-level parameter containing `at`: last param start <= at
    let lo = 0;
    let hi = paramStarts.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (paramStarts[mid]! <= at) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best < 0 ? -1 : paramIndex.get(paramStarts[best]!)!;
  };
  for (const v of typedVars) {
    const si = scopeAt(v.at);
    if (si < 0) {
      if (!v.param) fileVars.set(v.name, v.type);
      continue;
    }
    const s = scopes[si]!;
    if (v.param && v.at < s.bodyStart) {
      s.vars.set(v.name, v.type);
      const pi = paramOf(v.at);
      if (pi >= 0) s.params.set(v.name, pi);
    } else if (!v.param) s.vars.set(v.name, v.type);
  }
  for (const a of aliases) {
    const si = scopeAt(a.at);
    if (si < 0) continue;
    const s = scopes[si]!;
    s.aliases ??= new Map();
    s.aliases.set(a.name, a.path);
  }
  structBodies.sort((a, b) => a.start - b.start);
  const structAt = (pos: number): string | null => {
    // innermost struct body containing pos (bodies nest): linear scan of candidates is fine, most
    // files have few structs; binary search to the last body starting before pos, then walk back.
    let lo = 0;
    let hi = structBodies.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (structBodies[mid]!.start <= pos) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (let i = best; i >= 0 && best - i < 64; i--) {
      const b = structBodies[i]!;
      if (pos < b.end) return b.name;
    }
    return null;
  };

  const memberOf = (access: AccessPath, funcIdx: number): Member | null => {
    const scope = funcIdx >= 0 ? scopes[funcIdx] : undefined;
    const path = access.fields.length > 0 ? access : scope?.aliases?.get(access.root);
    if (!path) return null;
    let rootType: string | null = null;
    let param = -1;
    if (path.root.endsWith('()')) rootType = null;
    else {
      rootType = scope?.vars.get(path.root) ?? fileVars.get(path.root) ?? null;
      param = scope?.params.get(path.root) ?? -1;
    }
    return {
      rootType,
      root: path.root,
      path: path.fields.slice(0, -1).join('.'),
      field: path.fields[path.fields.length - 1]!,
      param,
    };
  };

  // Pass 2: calls, field calls, initializers, writes, enums, fields, macros, errors.
  const enumEnv = new Map<string, bigint>();
  const defineEnv = new Map<string, string>();
  let enumBodyEnd = -1;
  let enumBlock = 0;
  let enumName: string | null = null;
  let nextValue: bigint | null = 0n;
  const env = (name: string): bigint | undefined => {
    const v = enumEnv.get(name);
    if (v !== undefined) return v;
    const d = defineEnv.get(name);
    if (d === undefined) return undefined;
    defineEnv.delete(name); // no recursion through self-referencing macros
    const r = evalIntExpr(d, env);
    defineEnv.set(name, d);
    return r ?? undefined;
  };

  for (const m of matches) {
    const c = m.captures;
    switch (m.pattern) {
      case 5: {
        const n = cap(c, 'c.fn');
        const at = startOf(n);
        const fi = scopeAt(at);
        const name = identAt(src, at);
        if (fi >= 0) out.calls.push([fi, name, rowOf(n) + 1]);
        if (INTERESTING_CALLS.has(name)) handleInteresting(name, n, fi);
        break;
      }
      case 6: {
        const fe = cap(c, 'fc.fe');
        const at = startOf(fe);
        const fi = scopeAt(at);
        if (fi < 0) break;
        const text = fe.text;
        const path = parseAccessPath(text);
        const mem = path ? memberOf(path, fi) : null;
        if (mem) out.fieldCalls.push([fi, mem, rowOf(fe) + 1, clip(text, 120)]);
        break;
      }
      case 8: {
        const list = cap(c, 'di.list');
        const field = identAt(src, startOf(cap(c, 'di.field')));
        const fnNode = cap(c, 'di.fn');
        const fn = identAt(src, startOf(fnNode));
        // Walk up nested initializer lists to the declaration: `.ops = { .f = fn }` in `struct T v`.
        const fields: string[] = [];
        let at = startOf(list);
        let decl = declLists.get(at);
        for (let guard = 0; !decl && guard < 16; guard++) {
          const up = nestedLists.get(at);
          if (!up) break;
          if (up.field) fields.unshift(up.field);
          at = up.parent;
          decl = declLists.get(at);
        }
        const fi = scopeAt(startOf(fnNode));
        out.fnRefs.push({
          fn,
          kind: 'init',
          member: {
            rootType: decl?.type ?? null,
            root: decl?.var ?? '',
            path: fields.join('.'),
            field,
            param: -1,
          },
          via: decl?.var ?? '',
          entry: null,
          funcIdx: fi,
          line: rowOf(fnNode) + 1,
        });
        break;
      }
      case 11: {
        const lhs = cap(c, 'as.lhs');
        const rhs = cap(c, 'as.rhs');
        const at = startOf(lhs);
        const fi = scopeAt(at);
        const lhsEnd = lhs.endIndex;
        const rhsStart = startOf(rhs);
        const op = src.slice(lhsEnd, rhsStart).trim();
        const path = parseAccessPath(src.slice(at, lhsEnd));
        const mem = path ? memberOf(path, fi) : null;
        if (!mem) break;
        const rhsText = src.slice(rhsStart, Math.min(rhs.endIndex, rhsStart + 400));
        let bit: string | null = null;
        if (op === '|=') bit = bitName(rhsText, false);
        else if (op === '&=') bit = bitName(rhsText, true);
        out.writes.push({
          member: mem,
          op,
          bit,
          value: clip(rhsText, 100),
          funcIdx: fi,
          line: rowOf(lhs) + 1,
          via: null,
        });
        const fnName = op === '=' ? bareIdentifier(rhsText) : null;
        if (fnName && fnName !== 'NULL') {
          out.fnRefs.push({
            fn: fnName,
            kind: 'assign',
            member: mem,
            via: '',
            entry: null,
            funcIdx: fi,
            line: rowOf(lhs) + 1,
          });
        }
        break;
      }
      case 12: {
        const lhs = cap(c, 'up.lhs');
        const up = cap(c, 'up');
        const at = startOf(lhs);
        const fi = scopeAt(at);
        const upStart = startOf(up);
        const lhsEnd = lhs.endIndex;
        const op = upStart < at ? src.slice(upStart, at).trim() : src.slice(lhsEnd, up.endIndex).trim();
        const path = parseAccessPath(src.slice(at, lhsEnd));
        const mem = path ? memberOf(path, fi) : null;
        if (mem)
          out.writes.push({
            member: mem,
            op,
            bit: null,
            value: null,
            funcIdx: fi,
            line: rowOf(lhs) + 1,
            via: null,
          });
        break;
      }
      case 13: {
        const body = cap(c, 'e.body');
        const name = capOpt(c, 'e.name');
        enumName = name ? identAt(src, startOf(name)) : null;
        enumBodyEnd = body.endIndex;
        enumBlock = rowOf(body) + 1;
        nextValue = 0n;
        break;
      }
      case 14: {
        const nameNode = cap(c, 'ec.name');
        const at = startOf(nameNode);
        const name = identAt(src, at);
        const valNode = capOpt(c, 'ec.value');
        let value: bigint | null;
        let expr: string | null = null;
        if (valNode) {
          expr = clip(valNode.text, 200);
          value = evalIntExpr(valNode.text, env);
        } else value = nextValue;
        if (value !== null) enumEnv.set(name, value);
        nextValue = value === null ? null : value + 1n;
        const inBody = at < enumBodyEnd;
        out.enums.push([
          inBody ? enumName : null,
          name,
          value === null ? null : value.toString(),
          expr,
          rowOf(nameNode) + 1,
          inBody ? enumBlock : 0,
        ]);
        break;
      }
      case 19: {
        const type = cap(c, 'f.type');
        const fname = cap(c, 'f.name');
        const sname = structAt(startOf(fname));
        if (sname)
          out.fields.push([
            sname,
            identAt(src, startOf(fname)),
            identAt(src, startOf(type)),
            rowOf(fname) + 1,
          ]);
        break;
      }
      case 20: {
        const name = cap(c, 'm.name');
        const value = capOpt(c, 'm.value');
        const n = identAt(src, startOf(name));
        const v = value ? value.text.trim() : null;
        if (v !== null && v.length < 200) defineEnv.set(n, v);
        out.macros.push([n, rowOf(name) + 1, 0, v === null ? null : clip(v, 200)]);
        break;
      }
      case 21: {
        const name = cap(c, 'mf.name');
        out.macros.push([identAt(src, startOf(name)), rowOf(name) + 1, 1, null]);
        break;
      }
      case 22: {
        out.errors++;
        if (out.errorLines.length < 50) out.errorLines.push(rowOf(cap(c, 'err')) + 1);
        break;
      }
    }
  }

  // Top-level registration macros (module_init, DECLARE_WORK, DEFINE_TIMER...).
  TOPLEVEL_RE.lastIndex = 0;
  for (let m = TOPLEVEL_RE.exec(rawText); m !== null; m = TOPLEVEL_RE.exec(rawText)) {
    const reg = TOPLEVEL_REGISTRATIONS[m[1]!]!;
    const args = splitArgs(m[2]!);
    const fn = bareIdentifier(args[reg.fn] ?? '');
    if (!fn) continue;
    const line = lineOf(rawText, m.index);
    const obj = reg.fn > 0 ? bareIdentifier(args[0] ?? '') : null;
    out.fnRefs.push({
      fn,
      kind: 'top',
      member: obj ? { rootType: null, root: obj, path: '', field: '', param: -1 } : null,
      via: m[1]!,
      entry: reg.kind,
      funcIdx: -1,
      line,
    });
  }
  return out;

  function handleInteresting(name: string, idNode: Node, fi: number): void {
    const call = idNode.parent;
    const argsNode = call?.childForFieldName('arguments');
    if (!argsNode) return;
    const args = splitArgs(argsNode.text);
    const line = rowOf(idNode) + 1;
    const bitop = BITOPS[name];
    if (bitop) {
      const addr = args[BITOP_ADDR_ARG[name] ?? 1];
      const bit = args[BITOP_BIT_ARG[name] ?? 0];
      const path = addr ? parseAccessPath(addr) : null;
      const mem = path ? memberOf(path, fi) : null;
      if (mem)
        out.writes.push({
          member: mem,
          op: bitop,
          bit: bit ? clip(bit, 80) : null,
          value: null,
          funcIdx: fi,
          line,
          via: name,
        });
      return;
    }
    const reg = REGISTRATIONS[name];
    if (reg) {
      const objText = reg.obj !== undefined ? args[reg.obj] : undefined;
      const objPath = objText ? parseAccessPath(objText) : null;
      let mem = objPath ? memberOf(objPath, fi) : null;
      if (!mem && objPath && objPath.fields.length === 0)
        mem = { rootType: null, root: objPath.root, path: '', field: '', param: -1 };
      for (const ai of reg.fn) {
        const fn = bareIdentifier(args[ai] ?? '');
        if (fn && fn !== 'NULL')
          out.fnRefs.push({ fn, kind: 'reg', member: mem, via: name, entry: reg.kind, funcIdx: fi, line });
      }
      return;
    }
    const trig = TRIGGERS[name];
    if (trig && fi >= 0) {
      const objText = args[trig.obj];
      const objPath = objText ? parseAccessPath(objText) : null;
      let mem = objPath ? memberOf(objPath, fi) : null;
      if (!mem && objPath && objPath.fields.length === 0)
        mem = { rootType: null, root: objPath.root, path: '', field: '', param: -1 };
      if (mem) out.triggers.push([trig.kind, name, mem, fi, line]);
    }
  }
}

function lineOf(text: string, at: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** `BIT(PG_X)`, `1 << PG_X`, `PG_X` -> PG_X; with `negated`, only for `~...` (a clear). */
function bitName(rhs: string, negated: boolean): string | null {
  let s = rhs.trim();
  if (negated) {
    if (!s.startsWith('~')) return null;
    s = s.slice(1).trim();
  }
  while (s.startsWith('(') && s.endsWith(')')) s = s.slice(1, -1).trim();
  const m = /^(?:BIT(?:_ULL)?\(\s*(\w+)\s*\)|1U?L*\s*<<\s*(\w+))$/.exec(s);
  if (m) return m[1] ?? m[2] ?? null;
  return /^\w+$/.test(s) ? s : clip(s, 80);
}
