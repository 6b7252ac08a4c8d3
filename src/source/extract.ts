// Per-file fact extraction with tree-sitter-c. One Query (patterns below, matched in C) yields all
// captures; JS only reads the captured nodes' positions and slices the source text, because every
// node access through N-API is expensive (see ../shared/docs/source-index-facts.md 3.3). Captures
// are read from the binding's transfer buffer without SyntaxNode objects (tsraw.ts).
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
import { Matches, selfCheck } from './tsraw.ts';

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

/** QUERY's patterns by index, in QUERY's order (tree-sitter numbers a match by its pattern). */
enum Pat {
  FnDef = 0,
  RetType = 1,
  Param = 2,
  ParamType = 3,
  DeclType = 4,
  Call = 5,
  FieldCall = 6,
  DeclList = 7,
  DesignatedInit = 8,
  NestedList = 9,
  ArrayElemList = 10,
  Assignment = 11,
  Update = 12,
  Enum = 13,
  Enumerator = 14,
  Struct = 15,
  Union = 16,
  TypedefBody = 17,
  TypedefName = 18,
  Field = 19,
  Macro = 20,
  FnMacro = 21,
  Error = 22,
  Alias = 23,
}

/** A capture each pattern holds: checked against QUERY's text at load, so that the two cannot drift apart. */
const PAT_CAPTURE: Record<Pat, string> = {
  [Pat.FnDef]: '@fn.name',
  [Pat.RetType]: '@rt.name',
  [Pat.Param]: '@p',
  [Pat.ParamType]: '@pt.var',
  [Pat.DeclType]: '@d.var',
  [Pat.Call]: '@c.fn',
  [Pat.FieldCall]: '@fc.fe',
  [Pat.DeclList]: '@dl.list',
  [Pat.DesignatedInit]: '@di.list',
  [Pat.NestedList]: '@ni.list',
  [Pat.ArrayElemList]: '@ae.list',
  [Pat.Assignment]: '@as.lhs',
  [Pat.Update]: '@up.lhs',
  [Pat.Enum]: '@e.body',
  [Pat.Enumerator]: '@ec.name',
  [Pat.Struct]: '@s.name',
  [Pat.Union]: '@u.name',
  [Pat.TypedefBody]: '@td.name',
  [Pat.TypedefName]: '@ty.name',
  [Pat.Field]: '@f.name',
  [Pat.Macro]: '@m.name',
  [Pat.FnMacro]: '@mf.name',
  [Pat.Error]: '@err',
  [Pat.Alias]: '@al.var',
};

/** QUERY's top-level patterns as text (balanced parentheses at depth 0). */
function queryPatterns(q: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < q.length; i++) {
    const c = q[i];
    if (c === '(') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === ')') {
      depth--;
      if (depth === 0) {
        // A capture of the whole pattern (`(...) @fn`) follows its closing parenthesis.
        const m = /^\s*(@[\w.]+)/.exec(q.slice(i + 1, i + 40));
        out.push(q.slice(start, i + 1) + (m ? ` ${m[1]}` : ''));
      }
    }
  }
  return out;
}

{
  const patterns = queryPatterns(QUERY);
  const names = Object.keys(PAT_CAPTURE).length;
  if (patterns.length !== names)
    throw new Error(`extract: QUERY has ${patterns.length} patterns, Pat names ${names}`);
  for (const [k, cap] of Object.entries(PAT_CAPTURE)) {
    const text = patterns[Number(k)]!;
    if (!new RegExp(`${cap.replace('.', '\\.')}(?![\\w.])`).test(text))
      throw new Error(`extract: QUERY pattern ${k} (${Pat[Number(k)]}) has no ${cap}`);
  }
}

let parser: Parser | null = null;
let query: Parser.Query | null = null;
function getParser(): { parser: Parser; query: Parser.Query } {
  if (parser === null || query === null) {
    const p = new Parser();
    p.setLanguage(C as unknown as Parser.Language);
    const q = new Parser.Query(C as unknown as Parser.Language, QUERY);
    selfCheck(p, q);
    parser = p;
    query = q;
  }
  return { parser, query };
}

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
  aliases: Map<string, AccessPath> | null;
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

function emptyFacts(): FileFacts {
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
    macros: [],
    typedefs: [],
    errors: 0,
    errorLines: [],
  };
}

/** Extracts the facts of one C file (source text as read from disk). */
export function extractFile(rawText: string): FileFacts {
  const ppOnly = scanPreprocessorOnly(rawText);
  if (ppOnly !== null) {
    const out = emptyFacts();
    out.macros = ppOnly;
    return out;
  }
  const { parser: p, query: q } = getParser();
  const src = blankKernelMacros(rawText);
  // bufferSize: tree-sitter's default input chunk would cut files above 32 KiB into many calls.
  const tree = p.parse(src, undefined, { bufferSize: Math.max(src.length + 1, 32 * 1024) });
  const f = new FileScan(src, new Matches(q, tree));
  f.collectScopes();
  f.resolveScopes();
  f.collectFacts();
  f.topLevelRegistrations(rawText);
  return f.out;
}

/**
 * One file's extraction state. The work is split over small methods (rather than one function
 * with closures) so that V8 optimizes each quickly: a single large function took TurboFan about a
 * second per (re)compilation, repeated after every deoptimization, in every worker.
 */
class FileScan {
  readonly out: FileFacts = emptyFacts();
  readonly scopes: FnScope[] = [];
  readonly fileVars = new Map<string, string>();
  readonly declLists = new Map<number, { type: string; var: string }>();
  readonly nestedLists = new Map<number, { parent: number; field: string }>();
  readonly structBodies: Array<{ start: number; end: number; name: string }> = [];
  readonly retTypes = new Map<string, string>();
  readonly params: Array<{ start: number; end: number }> = [];
  readonly typedVars: Array<{ at: number; type: string; name: string; param: boolean }> = [];
  readonly aliases: Array<{ at: number; name: string; path: AccessPath }> = [];
  paramStarts: number[] = [];
  readonly paramIndex = new Map<number, number>();
  // Enum state (pass 2): constants seen so far and numeric #defines, for values like `1 << X`.
  readonly enumEnv = new Map<string, bigint>();
  readonly defineEnv = new Map<string, string>();
  enumBodyEnd = -1;
  enumBlock = 0;
  enumName: string | null = null;
  nextValue: bigint | null = 0n;
  readonly env: (name: string) => bigint | undefined;

  constructor(
    readonly src: string,
    readonly mt: Matches,
  ) {
    this.env = (name: string): bigint | undefined => this.lookup(name);
  }

  private ident(i: number): string {
    return identAt(this.src, this.mt.start(i));
  }
  private text(i: number): string {
    return this.src.substring(this.mt.start(i), this.mt.end(i));
  }

  /** Pass 1: function scopes, parameter and variable types, struct bodies, initializer lists. */
  collectScopes(): void {
    const mt = this.mt;
    for (let m = 0; m < mt.count; m++) {
      switch (mt.pattern[m]) {
        case Pat.FnDef:
          this.funcDef(m);
          break;
        case Pat.RetType:
          this.retTypes.set(this.ident(mt.get(m, 'rt.name')), this.ident(mt.get(m, 'rt.type')));
          break;
        case Pat.Param: {
          const n = mt.get(m, 'p');
          this.params.push({ start: mt.start(n), end: mt.end(n) });
          break;
        }
        case Pat.ParamType:
          this.typedVar(m, 'pt.type', 'pt.var', true);
          break;
        case Pat.DeclType:
          this.typedVar(m, 'd.type', 'd.var', false);
          break;
        case Pat.DeclList: {
          const list = mt.get(m, 'dl.list');
          this.declLists.set(mt.start(list), {
            type: this.ident(mt.get(m, 'dl.type')),
            var: firstIdent(this.text(mt.get(m, 'dl.var'))) ?? '',
          });
          break;
        }
        case Pat.NestedList:
          this.nestedLists.set(mt.start(mt.get(m, 'ni.list')), {
            parent: mt.start(mt.get(m, 'ni.parent')),
            field: this.ident(mt.get(m, 'ni.field')),
          });
          break;
        case Pat.ArrayElemList: {
          const at = mt.start(mt.get(m, 'ae.list'));
          if (!this.nestedLists.has(at))
            this.nestedLists.set(at, { parent: mt.start(mt.get(m, 'ae.parent')), field: '' });
          break;
        }
        case Pat.Struct:
          this.structBody(m, 's', 'struct');
          break;
        case Pat.Union:
          this.structBody(m, 'u', 'union');
          break;
        case Pat.TypedefBody:
          this.structBody(m, 'td', 'typedef');
          break;
        case Pat.Alias:
          this.alias(m);
          break;
        case Pat.TypedefName:
          this.out.typedefs.push([this.ident(mt.get(m, 'ty.name')), this.ident(mt.get(m, 'ty.struct'))]);
          break;
      }
    }
  }

  private funcDef(m: number): void {
    const mt = this.mt;
    const fn = mt.get(m, 'fn');
    const name = mt.get(m, 'fn.name');
    const body = mt.get(m, 'fn.body');
    const start = mt.start(fn);
    const end = mt.end(fn);
    this.out.funcs.push([
      this.ident(name),
      mt.row(fn) + 1,
      mt.endRow(fn) + 1,
      mt.hasError(body) ? 1 : 0,
      null,
    ]);
    this.scopes.push({
      start,
      end,
      bodyStart: mt.start(body),
      vars: new Map(),
      params: new Map(),
      aliases: null,
      nParams: 0,
    });
  }

  private typedVar(m: number, typeCap: string, varCap: string, param: boolean): void {
    const mt = this.mt;
    const v = mt.get(m, varCap);
    this.typedVars.push({
      at: mt.start(v),
      type: this.ident(mt.get(m, typeCap)),
      name: this.ident(v),
      param,
    });
  }

  private structBody(m: number, pre: string, kind: 'struct' | 'union' | 'typedef'): void {
    const mt = this.mt;
    const name = mt.get(m, `${pre}.name`);
    const body = mt.get(m, `${pre}.body`);
    const sname = this.ident(name);
    this.structBodies.push({ start: mt.start(body), end: mt.end(body), name: sname });
    this.out.structs.push([sname, kind, mt.row(name) + 1, mt.endRow(body) + 1]);
  }

  private alias(m: number): void {
    const mt = this.mt;
    const ptr = mt.get(m, 'al.ptr');
    if (this.src.charCodeAt(mt.start(ptr)) !== 38 /* & */) return;
    const v = mt.get(m, 'al.var');
    const path = parseAccessPath(this.text(mt.get(m, 'al.fe')));
    if (path && path.fields.length > 0) this.aliases.push({ at: mt.start(v), name: this.ident(v), path });
  }

  /** Attaches return types, parameter positions, variable types and aliases to their scopes. */
  resolveScopes(): void {
    for (const f of this.out.funcs) {
      const rt = this.retTypes.get(f[0]);
      if (rt) f[4] = rt;
    }
    // Parameter positions: top-level parameters of each definition (nested ones belong to
    // function-pointer parameters), in order.
    let lastParamEnd = -1;
    for (const pr of this.params) {
      if (pr.start < lastParamEnd) continue;
      lastParamEnd = pr.end;
      const si = this.scopeAt(pr.start);
      if (si < 0 || pr.start >= this.scopes[si]!.bodyStart) continue;
      this.paramIndex.set(pr.start, this.scopes[si]!.nParams++);
    }
    this.paramStarts = [...this.paramIndex.keys()].sort((a, b) => a - b);
    for (const v of this.typedVars) {
      const si = this.scopeAt(v.at);
      if (si < 0) {
        if (!v.param) this.fileVars.set(v.name, v.type);
        continue;
      }
      const s = this.scopes[si]!;
      if (v.param && v.at < s.bodyStart) {
        s.vars.set(v.name, v.type);
        const pi = this.paramOf(v.at);
        if (pi >= 0) s.params.set(v.name, pi);
      } else if (!v.param) s.vars.set(v.name, v.type);
    }
    for (const a of this.aliases) {
      const si = this.scopeAt(a.at);
      if (si < 0) continue;
      const s = this.scopes[si]!;
      s.aliases ??= new Map();
      s.aliases.set(a.name, a.path);
    }
    this.structBodies.sort((a, b) => a.start - b.start);
  }

  /** Index of the function whose definition contains `pos`; scopes are disjoint and in order. */
  scopeAt(pos: number): number {
    const scopes = this.scopes;
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
  }

  /** The top-level parameter containing `at`: last parameter start <= at. */
  private paramOf(at: number): number {
    const starts = this.paramStarts;
    let lo = 0;
    let hi = starts.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= at) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best < 0 ? -1 : this.paramIndex.get(starts[best]!)!;
  }

  /** Innermost struct body containing `pos` (bodies nest). */
  private structAt(pos: number): string | null {
    const bodies = this.structBodies;
    let lo = 0;
    let hi = bodies.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (bodies[mid]!.start <= pos) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (let i = best; i >= 0 && best - i < 64; i--) {
      const b = bodies[i]!;
      if (pos < b.end) return b.name;
    }
    return null;
  }

  memberOf(access: AccessPath, funcIdx: number): Member | null {
    const scope = funcIdx >= 0 ? this.scopes[funcIdx] : undefined;
    const path = access.fields.length > 0 ? access : scope?.aliases?.get(access.root);
    if (!path) return null;
    let rootType: string | null = null;
    let param = -1;
    if (path.root.endsWith('()')) rootType = null;
    else {
      rootType = scope?.vars.get(path.root) ?? this.fileVars.get(path.root) ?? null;
      param = scope?.params.get(path.root) ?? -1;
    }
    return {
      rootType,
      root: path.root,
      path: path.fields.slice(0, -1).join('.'),
      field: path.fields[path.fields.length - 1]!,
      param,
    };
  }

  private lookup(name: string): bigint | undefined {
    const v = this.enumEnv.get(name);
    if (v !== undefined) return v;
    const d = this.defineEnv.get(name);
    if (d === undefined) return undefined;
    this.defineEnv.delete(name); // no recursion through self-referencing macros
    const r = evalIntExpr(d, this.env);
    this.defineEnv.set(name, d);
    return r ?? undefined;
  }

  /** Pass 2: calls, field calls, initializers, writes, enums, fields, macros, errors. */
  collectFacts(): void {
    const mt = this.mt;
    const out = this.out;
    for (let m = 0; m < mt.count; m++) {
      switch (mt.pattern[m]) {
        case Pat.Call:
          this.call(m);
          break;
        case Pat.FieldCall:
          this.fieldCall(m);
          break;
        case Pat.DesignatedInit:
          this.designatedInit(m);
          break;
        case Pat.Assignment:
          this.assignment(m);
          break;
        case Pat.Update:
          this.update(m);
          break;
        case Pat.Enum: {
          const body = mt.get(m, 'e.body');
          const name = mt.find(m, 'e.name');
          this.enumName = name >= 0 ? this.ident(name) : null;
          this.enumBodyEnd = mt.end(body);
          this.enumBlock = mt.row(body) + 1;
          this.nextValue = 0n;
          break;
        }
        case Pat.Enumerator:
          this.enumerator(m);
          break;
        case Pat.Field: {
          const fname = mt.get(m, 'f.name');
          const sname = this.structAt(mt.start(fname));
          if (sname)
            out.fields.push([sname, this.ident(fname), this.ident(mt.get(m, 'f.type')), mt.row(fname) + 1]);
          break;
        }
        case Pat.Macro: {
          const name = mt.get(m, 'm.name');
          const value = mt.find(m, 'm.value');
          const n = this.ident(name);
          const v = value >= 0 ? this.text(value).trim() : null;
          if (v !== null && v.length < 200) this.defineEnv.set(n, v);
          out.macros.push([n, mt.row(name) + 1, 0, v === null ? null : clip(v, 200)]);
          break;
        }
        case Pat.FnMacro: {
          const name = mt.get(m, 'mf.name');
          out.macros.push([this.ident(name), mt.row(name) + 1, 1, null]);
          break;
        }
        case Pat.Error:
          out.errors++;
          if (out.errorLines.length < 50) out.errorLines.push(mt.row(mt.get(m, 'err')) + 1);
          break;
      }
    }
  }

  private call(m: number): void {
    const mt = this.mt;
    const n = mt.get(m, 'c.fn');
    const at = mt.start(n);
    const fi = this.scopeAt(at);
    const name = identAt(this.src, at);
    if (fi >= 0) this.out.calls.push([fi, name, mt.row(n) + 1]);
    if (INTERESTING_CALLS.has(name)) this.interesting(name, n, fi);
  }

  private fieldCall(m: number): void {
    const mt = this.mt;
    const fe = mt.get(m, 'fc.fe');
    const fi = this.scopeAt(mt.start(fe));
    if (fi < 0) return;
    const text = this.text(fe);
    const path = parseAccessPath(text);
    const mem = path ? this.memberOf(path, fi) : null;
    if (mem) this.out.fieldCalls.push([fi, mem, mt.row(fe) + 1, clip(text, 120)]);
  }

  private designatedInit(m: number): void {
    const mt = this.mt;
    const list = mt.get(m, 'di.list');
    const field = this.ident(mt.get(m, 'di.field'));
    const fnNode = mt.get(m, 'di.fn');
    const fn = this.ident(fnNode);
    // Walk up nested initializer lists to the declaration: `.ops = { .f = fn }` in `struct T v`.
    const fields: string[] = [];
    let at = mt.start(list);
    let decl = this.declLists.get(at);
    for (let guard = 0; !decl && guard < 16; guard++) {
      const up = this.nestedLists.get(at);
      if (!up) break;
      if (up.field) fields.unshift(up.field);
      at = up.parent;
      decl = this.declLists.get(at);
    }
    this.out.fnRefs.push({
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
      funcIdx: this.scopeAt(mt.start(fnNode)),
      line: mt.row(fnNode) + 1,
    });
  }

  private assignment(m: number): void {
    const mt = this.mt;
    const src = this.src;
    const lhs = mt.get(m, 'as.lhs');
    const rhs = mt.get(m, 'as.rhs');
    const at = mt.start(lhs);
    const fi = this.scopeAt(at);
    const lhsEnd = mt.end(lhs);
    const rhsStart = mt.start(rhs);
    const op = src.slice(lhsEnd, rhsStart).trim();
    const path = parseAccessPath(src.slice(at, lhsEnd));
    const mem = path ? this.memberOf(path, fi) : null;
    if (!mem) return;
    const rhsText = src.slice(rhsStart, Math.min(mt.end(rhs), rhsStart + 400));
    let bit: string | null = null;
    if (op === '|=') bit = bitName(rhsText, false);
    else if (op === '&=') bit = bitName(rhsText, true);
    const line = mt.row(lhs) + 1;
    this.out.writes.push({ member: mem, op, bit, value: clip(rhsText, 100), funcIdx: fi, line, via: null });
    const fnName = op === '=' ? bareIdentifier(rhsText) : null;
    if (fnName && fnName !== 'NULL')
      this.out.fnRefs.push({
        fn: fnName,
        kind: 'assign',
        member: mem,
        via: '',
        entry: null,
        funcIdx: fi,
        line,
      });
  }

  private update(m: number): void {
    const mt = this.mt;
    const src = this.src;
    const lhs = mt.get(m, 'up.lhs');
    const up = mt.get(m, 'up');
    const at = mt.start(lhs);
    const fi = this.scopeAt(at);
    const upStart = mt.start(up);
    const lhsEnd = mt.end(lhs);
    const op = upStart < at ? src.slice(upStart, at).trim() : src.slice(lhsEnd, mt.end(up)).trim();
    const path = parseAccessPath(src.slice(at, lhsEnd));
    const mem = path ? this.memberOf(path, fi) : null;
    if (mem)
      this.out.writes.push({
        member: mem,
        op,
        bit: null,
        value: null,
        funcIdx: fi,
        line: mt.row(lhs) + 1,
        via: null,
      });
  }

  private enumerator(m: number): void {
    const mt = this.mt;
    const nameNode = mt.get(m, 'ec.name');
    const at = mt.start(nameNode);
    const name = identAt(this.src, at);
    const valNode = mt.find(m, 'ec.value');
    let value: bigint | null;
    let expr: string | null = null;
    if (valNode >= 0) {
      const text = this.text(valNode);
      expr = clip(text, 200);
      value = evalIntExpr(text, this.env);
    } else value = this.nextValue;
    if (value !== null) this.enumEnv.set(name, value);
    this.nextValue = value === null ? null : value + 1n;
    const inBody = at < this.enumBodyEnd;
    this.out.enums.push([
      inBody ? this.enumName : null,
      name,
      value === null ? null : value.toString(),
      expr,
      mt.row(nameNode) + 1,
      inBody ? this.enumBlock : 0,
    ]);
  }

  /** Bit operations, callback registrations and their triggers (tables.ts). */
  private interesting(name: string, idNode: number, fi: number): void {
    const span = this.mt.parentFieldSpan(idNode, 'arguments');
    if (!span) return;
    const args = splitArgs(this.src.substring(span[0], span[1]));
    const line = this.mt.row(idNode) + 1;
    const bitop = BITOPS[name];
    if (bitop) {
      const addr = args[BITOP_ADDR_ARG[name] ?? 1];
      const bit = args[BITOP_BIT_ARG[name] ?? 0];
      const path = addr ? parseAccessPath(addr) : null;
      const mem = path ? this.memberOf(path, fi) : null;
      if (mem)
        this.out.writes.push({
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
      let mem = objPath ? this.memberOf(objPath, fi) : null;
      if (!mem && objPath && objPath.fields.length === 0)
        mem = { rootType: null, root: objPath.root, path: '', field: '', param: -1 };
      for (const ai of reg.fn) {
        const fn = bareIdentifier(args[ai] ?? '');
        if (fn && fn !== 'NULL')
          this.out.fnRefs.push({
            fn,
            kind: 'reg',
            member: mem,
            via: name,
            entry: reg.kind,
            funcIdx: fi,
            line,
          });
      }
      return;
    }
    const trig = TRIGGERS[name];
    if (trig && fi >= 0) {
      const objText = args[trig.obj];
      const objPath = objText ? parseAccessPath(objText) : null;
      let mem = objPath ? this.memberOf(objPath, fi) : null;
      if (!mem && objPath && objPath.fields.length === 0)
        mem = { rootType: null, root: objPath.root, path: '', field: '', param: -1 };
      if (mem) this.out.triggers.push([trig.kind, name, mem, fi, line]);
    }
  }

  /** Top-level registration macros (module_init, DECLARE_WORK, DEFINE_TIMER...). */
  topLevelRegistrations(rawText: string): void {
    TOPLEVEL_RE.lastIndex = 0;
    for (let m = TOPLEVEL_RE.exec(rawText); m !== null; m = TOPLEVEL_RE.exec(rawText)) {
      const reg = TOPLEVEL_REGISTRATIONS[m[1]!]!;
      const args = splitArgs(m[2]!);
      const fn = bareIdentifier(args[reg.fn] ?? '');
      if (!fn) continue;
      const line = lineOf(rawText, m.index);
      const obj = reg.fn > 0 ? bareIdentifier(args[0] ?? '') : null;
      this.out.fnRefs.push({
        fn,
        kind: 'top',
        member: obj ? { rootType: null, root: obj, path: '', field: '', param: -1 } : null,
        via: m[1]!,
        entry: reg.kind,
        funcIdx: -1,
        line,
      });
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
