// Queries over the source index: definitions, callers (direct and through ops tables, work items
// and other callback registrations), entry-point paths, field/bit writers, enum constants.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { evalIntExpr, parseAccessPath, splitArgs } from './cexpr.ts';
import { IndexError, openIndex } from './db.ts';
import { ENTRY_FIELD_ASSIGN, ENTRY_OPS } from './tables.ts';

export interface Location {
  file: string;
  line: number;
}
export interface Definition extends Location {
  kind: 'function' | 'struct' | 'union' | 'typedef' | 'macro' | 'enum' | 'enum-constant';
  name: string;
  endLine?: number;
  /** For functions: the body contains tree-sitter ERROR nodes (calls inside may be incomplete). */
  parseErrors?: boolean;
  value?: string | null;
}

/** Why a function is an entry point (reached from outside the kernel code graph). */
export interface EntryPoint extends Location {
  kind: string;
  /** `struct file_operations.read_iter in nfs_file_operations`, `INIT_WORK(&dreq->work, ...)`, ... */
  via: string;
}

/** One way a function is reached: a direct call or a call through a pointer stored somewhere. */
export interface CallerEdge extends Location {
  caller: string;
  /** 'direct', 'ops' (call through a struct field holding the function), 'work' (queued work/timer). */
  kind: 'direct' | 'ops' | 'work';
  /** For ops/work: `struct nfs_pgio_completion_ops.error_cleanup`. */
  through?: string;
  /** How the struct type of the call site was matched: 'type' (resolved) or 'field-name' (unresolved). */
  match?: 'type' | 'field-name';
  /** The call expression at the site, e.g. `desc->pg_completion_ops->error_cleanup`. */
  expr?: string;
  /** Where the function was stored into the field (initializer, assignment, registration). */
  storedAt?: Location & { how: string };
  entry?: EntryPoint[];
  callers?: CallerEdge[];
  /** The caller already appears higher on this path. */
  recursive?: boolean;
}

export interface CallersResult {
  func: string;
  definitions: Definition[];
  entry: EntryPoint[];
  callers: CallerEdge[];
  /** The edge budget ran out: deeper levels are incomplete. */
  truncated?: boolean;
}

export interface EntryPath {
  entry: EntryPoint & { func: string };
  /** From the entry function down to the queried one; each step is the edge into the next function. */
  steps: CallerEdge[];
}

export interface WriteSite extends Location {
  func: string | null;
  /** '=', '|=', '&=', 'set', 'clear', 'test_and_set', 'test_and_clear', ... */
  op: string;
  bit: string | null;
  value: string | null;
  via: string | null;
  expr: string;
  /** The written object is this parameter (0-based) of `func`: `func` is a helper. */
  param: number;
}
export interface HelperCaller extends Location {
  func: string;
  arg: string;
  /** The caller passes its own parameter through, so it is a helper too (its callers follow). */
  passesParam: number;
  callers?: HelperCaller[];
}
export interface WritersResult {
  struct: string;
  field: string;
  bit: string | null;
  /** Bit operations and compound assignments naming the bit (or any, without --bit). */
  writers: WriteSite[];
  /** Whole-field assignments (`x->f = v`): they may change any bit. */
  assignments: WriteSite[];
  /** Functions writing the field of an argument, with their callers. */
  helpers: Array<{ helper: string; site: WriteSite; callers: HelperCaller[] }>;
  /** Writes to a field of this name whose struct type could not be resolved. */
  unresolved: WriteSite[];
}

export interface EnumConstant extends Location {
  name: string;
  value: string | null;
  expr: string | null;
}
export interface EnumGroup extends Location {
  enum: string | null;
  constants: EnumConstant[];
}

interface MemberRow {
  root_type: number | null;
  root: string | null;
  path: string | null;
  field: number | null;
}

/** A row of the refs table: a function stored into a field, an initialiser or a work item. */
interface RefRow extends MemberRow {
  kind: string;
  via: string | null;
  entry: string | null;
  func: number | null;
  file: number;
  line: number;
}

/** Deterministic order: by file path, then line (file ids depend on indexing order). */
function byLocation(a: Location, b: Location): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line;
}

export class SourceIndex {
  readonly db: Database.Database;
  readonly root: string;
  private readonly symIds = new Map<string, number | null>();
  private readonly symNames = new Map<number, string>();
  private readonly typeCache = new Map<string, string | null>();
  private readonly fileCache = new Map<number, string>();
  private readonly textCache = new Map<string, string[] | null>();
  private readonly st: Record<string, Database.Statement>;

  constructor(readonly path: string) {
    this.db = openIndex(path, { readonly: true });
    this.root =
      (this.db.prepare("SELECT value FROM meta WHERE key='root'").pluck().get() as string | undefined) ?? '';
    const p = (sql: string): Database.Statement => this.db.prepare(sql);
    this.st = {
      symId: p('SELECT id FROM syms WHERE name = ?').pluck(),
      symName: p('SELECT name FROM syms WHERE id = ?').pluck(),
      file: p('SELECT path FROM files WHERE id = ?').pluck(),
      funcsByName: p('SELECT id, file, line, end_line, has_error FROM funcs WHERE name = ?'),
      funcById: p('SELECT name, file, line FROM funcs WHERE id = ?'),
      retType: p('SELECT ret_type FROM funcs WHERE name = ? AND ret_type IS NOT NULL LIMIT 1').pluck(),
      fieldType: p('SELECT type FROM fields WHERE struct = ? AND field = ? LIMIT 1').pluck(),
      typedef: p('SELECT struct FROM typedefs WHERE name = ? LIMIT 1').pluck(),
      directCallers: p(
        'SELECT c.caller, f.name AS caller_name, c.file, c.line FROM calls c JOIN funcs f ON f.id = c.caller WHERE c.callee = ? ORDER BY c.file, c.line',
      ),
      refs: p('SELECT * FROM fnrefs WHERE fn = ? ORDER BY file, line'),
      refsByField: p(
        "SELECT root_type, root, path, field FROM fnrefs WHERE field = ? AND kind IN ('init', 'assign')",
      ),
      fcallsByField: p(
        'SELECT fc.*, f.name AS caller_name FROM fcalls fc JOIN funcs f ON f.id = fc.caller WHERE fc.field = ? ORDER BY fc.file, fc.line',
      ),
      triggersByField: p(
        'SELECT t.*, f.name AS caller_name FROM triggers t JOIN funcs f ON f.id = t.func WHERE t.field = ? ORDER BY t.file, t.line',
      ),
      triggersByRoot: p(
        'SELECT t.*, f.name AS caller_name FROM triggers t JOIN funcs f ON f.id = t.func WHERE t.field IS NULL AND t.root = ? ORDER BY t.file, t.line',
      ),
      writesByField: p('SELECT w.* FROM writes w WHERE w.field = ? ORDER BY w.file, w.line'),
      structs: p('SELECT kind, file, line, end_line FROM structs WHERE name = ?'),
      macros: p('SELECT file, line, fnlike, value FROM macros WHERE name = ?'),
      enumsByName: p('SELECT * FROM enums WHERE name = ?'),
      enumsByType: p('SELECT DISTINCT file, block FROM enums WHERE enum = ?'),
      enumBlock: p(
        'SELECT e.*, s.name AS const_name FROM enums e JOIN syms s ON s.id = e.name WHERE e.file = ? AND e.block = ? ORDER BY e.line',
      ),
      enumPrefix: p(
        "SELECT e.*, s.name AS const_name FROM syms s JOIN enums e ON e.name = s.id WHERE s.name GLOB ? || '*' ORDER BY e.file, e.line LIMIT 5000",
      ),
      typedefsByName: p('SELECT struct, file FROM typedefs WHERE name = ?'),
    };
  }

  close(): void {
    this.db.close();
  }

  sym(name: string): number | null {
    if (this.symIds.has(name)) return this.symIds.get(name)!;
    const id = (this.st.symId!.get(name) as number | undefined) ?? null;
    this.symIds.set(name, id);
    return id;
  }
  name(id: number | null): string | null {
    if (id === null) return null;
    let n = this.symNames.get(id);
    if (n === undefined) {
      n = (this.st.symName!.get(id) as string | undefined) ?? '';
      this.symNames.set(id, n);
    }
    return n;
  }
  fileName(id: number): string {
    let f = this.fileCache.get(id);
    if (f === undefined) {
      f = (this.st.file!.get(id) as string | undefined) ?? `?${id}`;
      this.fileCache.set(id, f);
    }
    return f;
  }

  /** Struct name behind a typedef name (one level is what the kernel uses in practice). */
  private normType(t: string | null): string | null {
    if (t === null) return null;
    const id = this.sym(t);
    if (id === null) return t;
    const s = this.st.typedef!.get(id) as number | undefined;
    return s === undefined ? t : (this.name(s) ?? t);
  }

  /**
   * The struct type owning the last field of a member chain: starts at the root's declared type (or
   * the return type of `NAME()` roots) and follows struct field types along `path`.
   */
  ownerType(m: MemberRow): string | null {
    const key = `${m.root_type ?? ''}|${m.root ?? ''}|${m.path ?? ''}`;
    if (this.typeCache.has(key)) return this.typeCache.get(key)!;
    let t: string | null = this.name(m.root_type);
    if (t === null && m.root?.endsWith('()')) {
      const fid = this.sym(m.root.slice(0, -2));
      const rt = fid === null ? undefined : (this.st.retType!.get(fid) as number | undefined);
      t = rt === undefined ? null : this.name(rt);
    }
    t = this.normType(t);
    if (t !== null && m.path) {
      for (const f of m.path.split('.')) {
        const sid = this.sym(t);
        const fid = this.sym(f);
        const ft =
          sid === null || fid === null ? undefined : (this.st.fieldType!.get(sid, fid) as number | undefined);
        t = ft === undefined ? null : this.normType(this.name(ft));
        if (t === null) break;
      }
    }
    this.typeCache.set(key, t);
    return t;
  }

  private exprOf(m: MemberRow): string {
    const parts = [m.root ?? '?'];
    if (m.path) parts.push(...m.path.split('.'));
    const f = this.name(m.field);
    if (f) parts.push(f);
    return parts.join('->');
  }

  // ---------- definitions ----------

  def(name: string): Definition[] {
    const id = this.sym(name);
    if (id === null) return [];
    const out: Definition[] = [];
    for (const r of this.st.funcsByName!.all(id) as Array<{
      file: number;
      line: number;
      end_line: number;
      has_error: number;
    }>) {
      out.push({
        kind: 'function',
        name,
        file: this.fileName(r.file),
        line: r.line,
        endLine: r.end_line,
        parseErrors: r.has_error === 1,
      });
    }
    for (const r of this.st.structs!.all(id) as Array<{
      kind: string;
      file: number;
      line: number;
      end_line: number;
    }>) {
      out.push({
        kind: r.kind === 'union' ? 'union' : r.kind === 'typedef' ? 'typedef' : 'struct',
        name,
        file: this.fileName(r.file),
        line: r.line,
        endLine: r.end_line,
      });
    }
    for (const r of this.st.macros!.all(id) as Array<{ file: number; line: number; value: string | null }>) {
      out.push({ kind: 'macro', name, file: this.fileName(r.file), line: r.line, value: r.value });
    }
    for (const r of this.st.enumsByName!.all(id) as Array<{
      file: number;
      line: number;
      value: string | null;
    }>) {
      out.push({ kind: 'enum-constant', name, file: this.fileName(r.file), line: r.line, value: r.value });
    }
    for (const r of this.st.enumsByType!.all(name) as Array<{ file: number; block: number }>) {
      out.push({ kind: 'enum', name, file: this.fileName(r.file), line: r.block });
    }
    return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  }

  // ---------- callers ----------

  private functionDefs(name: string): Definition[] {
    const id = this.sym(name);
    if (id === null) return [];
    return (
      this.st.funcsByName!.all(id) as Array<{
        file: number;
        line: number;
        end_line: number;
        has_error: number;
      }>
    )
      .map(
        (r): Definition => ({
          kind: 'function',
          name,
          file: this.fileName(r.file),
          line: r.line,
          endLine: r.end_line,
          parseErrors: r.has_error === 1,
        }),
      )
      .sort(byLocation);
  }

  /** Why `func` is an entry point, if it is: syscall, ops table of a VFS/aops/RPC type, registration. */
  entryPoints(func: string): EntryPoint[] {
    const out: EntryPoint[] = [];
    const id = this.sym(func);
    if (id === null) return out;
    if (/^(compat_)?sys_\w+$/.test(func)) {
      for (const d of this.st.funcsByName!.all(id) as Array<{ file: number; line: number }>) {
        out.push({
          kind: 'syscall',
          via: `SYSCALL_DEFINE(${func.replace(/^(compat_)?sys_/, '')})`,
          file: this.fileName(d.file),
          line: d.line,
        });
      }
    }
    for (const r of this.st.refs!.all(id) as RefRow[]) {
      if (r.entry) {
        out.push({
          kind: r.entry,
          via: `${r.via}(${r.root ? `&${this.exprOf(r)}, ` : ''}${func})`,
          file: this.fileName(r.file),
          line: r.line,
        });
        continue;
      }
      const owner = this.ownerType(r);
      const field = this.name(r.field);
      if (owner === null || field === null) continue;
      const k = ENTRY_OPS[owner] ?? ENTRY_FIELD_ASSIGN[`${owner}.${field}`];
      if (k) {
        const where = r.kind === 'init' ? ` in ${r.via ?? r.root}` : '';
        out.push({
          kind: k,
          via: `struct ${owner}.${field}${where}`,
          file: this.fileName(r.file),
          line: r.line,
        });
      }
    }
    return out;
  }

  private readonly ownersCache = new Map<number, Set<string>>();
  /** Struct types (resolved) whose field `field` has functions stored into it anywhere in the index. */
  private fieldOwners(field: number): Set<string> {
    let owners = this.ownersCache.get(field);
    if (owners) return owners;
    owners = new Set();
    for (const r of this.st.refsByField!.iterate(field) as Iterable<MemberRow>) {
      const t = this.ownerType(r);
      if (t !== null) owners.add(t);
      if (owners.size > 1) break;
    }
    this.ownersCache.set(field, owners);
    return owners;
  }

  /** The edges into `func`: direct call sites and calls through fields/work items it is stored in. */
  callerEdges(func: string): CallerEdge[] {
    const id = this.sym(func);
    if (id === null) return [];
    const edges: CallerEdge[] = [];
    for (const r of this.st.directCallers!.all(id) as Array<{
      caller_name: number;
      file: number;
      line: number;
    }>) {
      edges.push({
        caller: this.name(r.caller_name)!,
        kind: 'direct',
        file: this.fileName(r.file),
        line: r.line,
      });
    }
    for (const ref of this.st.refs!.all(id) as RefRow[]) {
      const storedFunc =
        ref.func === null ? null : (this.st.funcById!.get(ref.func) as { name: number } | undefined);
      const storedIn = storedFunc
        ? ` in ${this.name(storedFunc.name)}`
        : ref.kind === 'init' && ref.via
          ? ` in ${ref.via}`
          : '';
      if (ref.kind === 'init' || ref.kind === 'assign') {
        const field = ref.field;
        if (field === null) continue;
        const owner = this.ownerType(ref);
        const fieldName = this.name(field)!;
        const storedAt = {
          file: this.fileName(ref.file),
          line: ref.line,
          how:
            ref.kind === 'init'
              ? `.${fieldName} = ${func}${storedIn}`
              : `${this.exprOf(ref)} = ${func}${storedIn}`,
        };
        for (const s of this.st.fcallsByField!.all(field) as Array<
          MemberRow & { caller_name: number; file: number; line: number }
        >) {
          const siteType = this.ownerType(s);
          let match: 'type' | 'field-name';
          if (owner !== null && siteType !== null) {
            if (owner !== siteType) continue;
            match = 'type';
          } else {
            // One side's struct type is unknown: join on the field name only when every function
            // stored into a field of this name goes into the same struct type (or none resolves),
            // otherwise `.release`/`.open` would connect half the kernel.
            const owners = this.fieldOwners(field);
            const known = owner ?? siteType;
            if (owners.size > 1 || (known !== null && owners.size === 1 && !owners.has(known))) continue;
            match = 'field-name';
          }
          edges.push({
            caller: this.name(s.caller_name)!,
            kind: 'ops',
            through: `struct ${owner ?? siteType ?? '?'}.${fieldName}`,
            match,
            expr: this.exprOf(s),
            file: this.fileName(s.file),
            line: s.line,
            storedAt,
          });
        }
      } else if (ref.kind === 'reg' || ref.kind === 'top') {
        // A work item / timer / tasklet: join its registration object with the calls that queue it.
        const storedAt = {
          file: this.fileName(ref.file),
          line: ref.line,
          how: `${ref.via}(${ref.root ? `&${this.exprOf(ref)}, ` : ''}${func})${storedIn}`,
        };
        let sites: Array<MemberRow & { caller_name: number; file: number; line: number; macro: string }> = [];
        if (ref.field !== null) {
          const owner = this.ownerType(ref);
          sites = (this.st.triggersByField!.all(ref.field) as typeof sites).filter((t) => {
            const tt = this.ownerType(t);
            return owner !== null && tt === owner;
          });
        } else if (ref.root && ref.kind === 'top') {
          sites = this.st.triggersByRoot!.all(ref.root) as typeof sites;
        }
        for (const t of sites) {
          edges.push({
            caller: this.name(t.caller_name)!,
            kind: 'work',
            through: `${ref.entry ?? 'callback'} ${ref.field !== null ? `struct ${this.ownerType(ref)}.${this.name(ref.field)}` : (ref.root ?? '')}`,
            match: 'type',
            expr: `${t.macro}(&${this.exprOf(t)})`,
            file: this.fileName(t.file),
            line: t.line,
            storedAt,
          });
        }
      }
    }
    return edges.sort(byLocation);
  }

  /** Callers of `func` to `depth` levels (1 = immediate callers). */
  callers(func: string, depth = 1, opts: { maxEdges?: number } = {}): CallersResult {
    const definitions = this.functionDefs(func);
    if (definitions.length === 0 && this.sym(func) === null) {
      throw new IndexError(`function ${func}: not in the index`);
    }
    // A budget on edges keeps `callers kfree --depth 3` from expanding the whole kernel.
    let budget = opts.maxEdges ?? 20000;
    let truncated = false;
    const entryCache = new Map<string, EntryPoint[]>();
    const entryOf = (fn: string): EntryPoint[] => {
      let e = entryCache.get(fn);
      if (!e) {
        e = this.entryPoints(fn);
        entryCache.set(fn, e);
      }
      return e;
    };
    const expand = (fn: string, d: number, onPath: Set<string>): CallerEdge[] => {
      let edges = this.callerEdges(fn);
      if (edges.length > budget) {
        edges = edges.slice(0, Math.max(0, budget));
        truncated = true;
      }
      budget -= edges.length;
      for (const e of edges) {
        const entry = entryOf(e.caller);
        if (entry.length > 0) e.entry = entry;
        if (onPath.has(e.caller)) {
          e.recursive = true;
          continue;
        }
        if (d > 1 && budget > 0) {
          onPath.add(e.caller);
          e.callers = expand(e.caller, d - 1, onPath);
          onPath.delete(e.caller);
        } else if (d > 1) truncated = true;
      }
      return edges;
    };
    const callers = expand(func, Math.max(1, depth), new Set([func]));
    return {
      func,
      definitions,
      entry: this.entryPoints(func),
      callers,
      ...(truncated ? { truncated: true } : {}),
    };
  }

  /**
   * Shortest paths from entry points down to `func` (breadth-first over caller edges). Field-name
   * matches are followed only when a field has few candidate sites, to keep paths meaningful.
   */
  pathsToEntry(
    func: string,
    opts: { maxDepth?: number; maxPaths?: number; maxNodes?: number } = {},
  ): EntryPath[] {
    const maxDepth = opts.maxDepth ?? 12;
    const maxPaths = opts.maxPaths ?? 50;
    const maxNodes = opts.maxNodes ?? 20000;
    if (this.sym(func) === null) throw new IndexError(`function ${func}: not in the index`);
    const parent = new Map<string, { next: string; edge: CallerEdge } | null>([[func, null]]);
    const out: EntryPath[] = [];
    let frontier = [func];
    const pathOf = (start: string): CallerEdge[] => {
      const steps: CallerEdge[] = [];
      for (let cur = parent.get(start); cur; cur = parent.get(cur.next)) steps.push(cur.edge);
      return steps;
    };
    for (const e of this.entryPoints(func)) out.push({ entry: { ...e, func }, steps: [] });
    for (let depth = 0; depth < maxDepth && frontier.length > 0 && out.length < maxPaths; depth++) {
      const next: string[] = [];
      for (const fn of frontier) {
        const edges = this.callerEdges(fn);
        const fieldNameEdges = edges.filter((e) => e.match === 'field-name').length;
        for (const e of edges) {
          if (e.match === 'field-name' && fieldNameEdges > 8) continue;
          if (parent.has(e.caller)) continue;
          parent.set(e.caller, { next: fn, edge: e });
          if (parent.size > maxNodes) break;
          const entries = this.entryPoints(e.caller);
          if (entries.length > 0) {
            for (const en of entries)
              if (out.length < maxPaths)
                out.push({ entry: { ...en, func: e.caller }, steps: pathOf(e.caller) });
          } else next.push(e.caller);
        }
      }
      frontier = next;
    }
    return out;
  }

  // ---------- writers ----------

  private sourceLines(file: string): string[] | null {
    if (this.textCache.has(file)) return this.textCache.get(file)!;
    let lines: string[] | null;
    try {
      lines = readFileSync(join(this.root, file), 'utf8').split('\n');
    } catch {
      lines = null;
    }
    this.textCache.set(file, lines);
    return lines;
  }

  /** Argument texts of the call to `callee` at file:line (read back from the source). */
  private callArgs(file: string, line: number, callee: string): string[] | null {
    const lines = this.sourceLines(file);
    if (!lines) return null;
    const text = lines.slice(line - 1, line + 11).join('\n');
    const re = new RegExp(`\\b${callee}\\s*\\(`);
    const m = re.exec(text);
    if (!m) return null;
    const open = m.index + m[0].length - 1;
    let depth = 0;
    for (let i = open; i < text.length; i++) {
      const c = text[i];
      if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return splitArgs(text.slice(open, i + 1));
    }
    return null;
  }

  /** Parameter names of the function defined at file:line (read back from the source). */
  private paramNames(file: string, line: number, name: string): string[] {
    const lines = this.sourceLines(file);
    if (!lines) return [];
    const args = this.callArgs(file, line, name);
    if (!args) return [];
    return args.map((a) => {
      const ids = a.match(/[A-Za-z_]\w*/g);
      return ids ? ids[ids.length - 1]! : '';
    });
  }

  writers(structName: string, fieldName: string, opts: { bit?: string; depth?: number } = {}): WritersResult {
    const bit = opts.bit ?? null;
    const depth = opts.depth ?? 4;
    const res: WritersResult = {
      struct: structName,
      field: fieldName,
      bit,
      writers: [],
      assignments: [],
      helpers: [],
      unresolved: [],
    };
    const fid = this.sym(fieldName);
    if (fid === null) throw new IndexError(`field ${fieldName}: not in the index`);
    if (this.sym(structName) === null) throw new IndexError(`struct ${structName}: not in the index`);
    const want = this.normType(structName);
    for (const w of this.st.writesByField!.all(fid) as Array<
      MemberRow & {
        param: number;
        op: string;
        bit: string | null;
        value: string | null;
        via: string | null;
        func: number | null;
        file: number;
        line: number;
      }
    >) {
      const f = w.func === null ? undefined : (this.st.funcById!.get(w.func) as { name: number } | undefined);
      const site: WriteSite = {
        func: f ? this.name(f.name) : null,
        file: this.fileName(w.file),
        line: w.line,
        op: w.op,
        bit: w.bit,
        value: w.value,
        via: w.via,
        expr: this.exprOf(w),
        param: w.param,
      };
      const isWholeAssign = w.op === '=';
      if (bit !== null && !isWholeAssign && w.bit !== bit) continue;
      const owner = this.ownerType(w);
      if (owner === null) {
        res.unresolved.push(site);
        continue;
      }
      if (owner !== want) continue;
      if (isWholeAssign) res.assignments.push(site);
      else res.writers.push(site);
    }
    res.writers.sort(byLocation);
    res.assignments.sort(byLocation);
    res.unresolved.sort(byLocation);
    for (const site of res.writers) {
      if (site.param >= 0 && site.func) {
        res.helpers.push({
          helper: site.func,
          site,
          callers: this.helperCallers(site.func, site.param, depth, new Set([site.func])),
        });
      }
    }
    return res;
  }

  /** Direct callers of `helper`, with the argument passed at `param`; recurses through callers that pass their own parameter. */
  private helperCallers(helper: string, param: number, depth: number, seen: Set<string>): HelperCaller[] {
    const id = this.sym(helper);
    if (id === null || depth <= 0) return [];
    const out: HelperCaller[] = [];
    for (const r of this.st.directCallers!.all(id) as Array<{
      caller: number;
      caller_name: number;
      file: number;
      line: number;
    }>) {
      const caller = this.name(r.caller_name)!;
      const file = this.fileName(r.file);
      const args = this.callArgs(file, r.line, helper);
      const arg = args?.[param] ?? '?';
      const hc: HelperCaller = { func: caller, file, line: r.line, arg, passesParam: -1 };
      const path = parseAccessPath(arg);
      if (path && path.fields.length === 0 && !path.root.endsWith('()')) {
        const def = this.st.funcById!.get(r.caller) as { file: number; line: number } | undefined;
        if (def) {
          const names = this.paramNames(this.fileName(def.file), def.line, caller);
          hc.passesParam = names.indexOf(path.root);
        }
      }
      if (hc.passesParam >= 0 && !seen.has(caller)) {
        seen.add(caller);
        hc.callers = this.helperCallers(caller, hc.passesParam, depth - 1, seen);
      }
      out.push(hc);
    }
    return out.sort(byLocation);
  }

  // ---------- enums ----------

  /** The enum containing constant NAME, the enum type NAME, or every constant starting with NAME. */
  enums(nameOrPrefix: string): EnumGroup[] {
    const groups = new Map<string, EnumGroup>();
    const addBlock = (file: number, block: number): void => {
      const key = `${file}:${block}`;
      if (groups.has(key) || block === 0) return;
      const rows = this.st.enumBlock!.all(file, block) as Array<{
        enum: string | null;
        const_name: string;
        value: string | null;
        expr: string | null;
        line: number;
      }>;
      groups.set(key, {
        enum: rows[0]?.enum ?? null,
        file: this.fileName(file),
        line: block,
        constants: rows.map((r) => ({
          name: r.const_name,
          value: r.value,
          expr: r.expr,
          file: this.fileName(file),
          line: r.line,
        })),
      });
    };
    const id = this.sym(nameOrPrefix);
    if (id !== null) {
      for (const r of this.st.enumsByName!.all(id) as Array<{ file: number; block: number }>)
        addBlock(r.file, r.block);
    }
    for (const r of this.st.enumsByType!.all(nameOrPrefix) as Array<{ file: number; block: number }>)
      addBlock(r.file, r.block);
    if (groups.size === 0) {
      // Prefix: group the matching constants by their enum.
      for (const r of this.st.enumPrefix!.all(nameOrPrefix) as Array<{
        enum: string | null;
        file: number;
        block: number;
        const_name: string;
        value: string | null;
        expr: string | null;
        line: number;
      }>) {
        const key = `${r.file}:${r.block}`;
        let g = groups.get(key);
        if (!g) {
          g = { enum: r.enum, file: this.fileName(r.file), line: r.block || r.line, constants: [] };
          groups.set(key, g);
        }
        g.constants.push({ name: r.const_name, value: r.value, expr: r.expr, file: g.file, line: r.line });
      }
    }
    // Constants whose value depends on names from other files (`= FOO_SHIFT + 1`): evaluate now,
    // looking names up across the index. Implicit successors of such a constant follow it.
    for (const g of groups.values()) {
      let prev: bigint | null = null;
      for (const c of g.constants) {
        if (c.value === null) {
          const v: bigint | null = c.expr
            ? evalIntExpr(c.expr, (n) => this.constValue(n, 0))
            : prev === null
              ? null
              : prev + 1n;
          if (v !== null) c.value = v.toString();
        }
        prev = c.value === null ? null : BigInt(c.value);
      }
    }
    return [...groups.values()];
  }

  /** Value of an enum constant or object-like macro anywhere in the index (first definition that evaluates). */
  private constValue(name: string, depth: number): bigint | undefined {
    if (depth > 8) return undefined;
    const id = this.sym(name);
    if (id === null) return undefined;
    for (const r of this.st.enumsByName!.all(id) as Array<{ value: string | null }>) {
      if (r.value !== null) return BigInt(r.value);
    }
    for (const r of this.st.macros!.all(id) as Array<{ fnlike: number; value: string | null }>) {
      if (r.fnlike || r.value === null) continue;
      const v = evalIntExpr(r.value, (n) => (n === name ? undefined : this.constValue(n, depth + 1)));
      if (v !== null) return v;
    }
    return undefined;
  }

  /** Index-wide counts, for `src index` reports and the benchmark. */
  stats(): Record<string, number> {
    const one = (sql: string): number => this.db.prepare(sql).pluck().get() as number;
    return {
      files: one('SELECT COUNT(*) FROM files'),
      functions: one('SELECT COUNT(*) FROM funcs'),
      functionsWithParseErrors: one('SELECT COUNT(*) FROM funcs WHERE has_error = 1'),
      directCalls: one('SELECT COUNT(*) FROM calls'),
      fieldCalls: one('SELECT COUNT(*) FROM fcalls'),
      functionRefs: one('SELECT COUNT(*) FROM fnrefs'),
      triggers: one('SELECT COUNT(*) FROM triggers'),
      fieldWrites: one('SELECT COUNT(*) FROM writes'),
      enumConstants: one('SELECT COUNT(*) FROM enums'),
      structs: one('SELECT COUNT(*) FROM structs'),
      macros: one('SELECT COUNT(*) FROM macros'),
      filesWithParseErrors: one('SELECT COUNT(*) FROM files WHERE errors > 0'),
      parseErrors: one('SELECT COALESCE(SUM(errors), 0) FROM files'),
    };
  }

  /** Files with parse errors, worst first: what could not be parsed, per file. */
  parseErrors(limit = 50): Array<{
    file: string;
    errors: number;
    lines: number[];
    functions: number;
    functionsWithErrors: number;
  }> {
    return (
      this.db
        .prepare(
          'SELECT path, errors, error_lines, funcs, funcs_with_errors FROM files WHERE errors > 0 ORDER BY errors DESC LIMIT ?',
        )
        .all(limit) as Array<{
        path: string;
        errors: number;
        error_lines: string;
        funcs: number;
        funcs_with_errors: number;
      }>
    ).map((r) => ({
      file: r.path,
      errors: r.errors,
      lines: r.error_lines ? r.error_lines.split(',').map(Number) : [],
      functions: r.funcs,
      functionsWithErrors: r.funcs_with_errors,
    }));
  }
}

export function openSourceIndex(path: string): SourceIndex {
  return new SourceIndex(path);
}
