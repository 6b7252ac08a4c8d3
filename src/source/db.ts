// The source index as one SQLite file (better-sqlite3 12). Names are interned in `syms` so the big
// tables hold integers; every table keeps its file id so a changed file is replaced in place.
import Database from 'better-sqlite3';
import type { FileFacts, Member } from './extract.ts';

export const SCHEMA_VERSION = 3;

const TABLES = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, mtime INTEGER, size INTEGER,
  hash TEXT, errors INTEGER, error_lines TEXT, funcs INTEGER, funcs_with_errors INTEGER);
CREATE TABLE IF NOT EXISTS syms(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS funcs(id INTEGER PRIMARY KEY, name INTEGER, file INTEGER, line INTEGER, end_line INTEGER,
  has_error INTEGER, ret_type INTEGER);
CREATE TABLE IF NOT EXISTS calls(caller INTEGER, callee INTEGER, file INTEGER, line INTEGER);
CREATE TABLE IF NOT EXISTS fcalls(caller INTEGER, field INTEGER, root_type INTEGER, root TEXT, path TEXT, param INTEGER,
  file INTEGER, line INTEGER);
CREATE TABLE IF NOT EXISTS fnrefs(fn INTEGER, kind TEXT, root_type INTEGER, root TEXT, path TEXT, field INTEGER, via TEXT,
  entry TEXT, func INTEGER, file INTEGER, line INTEGER);
CREATE TABLE IF NOT EXISTS triggers(kind TEXT, macro TEXT, root_type INTEGER, root TEXT, path TEXT, field INTEGER,
  func INTEGER, file INTEGER, line INTEGER);
CREATE TABLE IF NOT EXISTS writes(field INTEGER, root_type INTEGER, root TEXT, path TEXT, param INTEGER, op TEXT, bit TEXT,
  value TEXT, via TEXT, func INTEGER, file INTEGER, line INTEGER);
CREATE TABLE IF NOT EXISTS enums(name INTEGER, enum TEXT, block INTEGER, value TEXT, expr TEXT, file INTEGER, line INTEGER);
CREATE TABLE IF NOT EXISTS structs(name INTEGER, kind TEXT, file INTEGER, line INTEGER, end_line INTEGER);
CREATE TABLE IF NOT EXISTS fields(struct INTEGER, field INTEGER, type INTEGER, file INTEGER, line INTEGER);
CREATE TABLE IF NOT EXISTS macros(name INTEGER, file INTEGER, line INTEGER, fnlike INTEGER, value TEXT);
CREATE TABLE IF NOT EXISTS typedefs(name INTEGER, struct INTEGER, file INTEGER);
`;

/** Tables whose rows belong to one file (deleted and re-inserted when the file changes). */
const PER_FILE = [
  'funcs',
  'calls',
  'fcalls',
  'fnrefs',
  'triggers',
  'writes',
  'enums',
  'structs',
  'fields',
  'macros',
  'typedefs',
];

const INDEXES = `
-- names are interned in memory while indexing; the unique index is built once at the end
CREATE UNIQUE INDEX IF NOT EXISTS syms_name ON syms(name);
CREATE INDEX IF NOT EXISTS funcs_name ON funcs(name);
CREATE INDEX IF NOT EXISTS calls_callee ON calls(callee);
CREATE INDEX IF NOT EXISTS calls_caller ON calls(caller);
CREATE INDEX IF NOT EXISTS fcalls_field ON fcalls(field);
CREATE INDEX IF NOT EXISTS fnrefs_fn ON fnrefs(fn);
CREATE INDEX IF NOT EXISTS fnrefs_field ON fnrefs(field);
CREATE INDEX IF NOT EXISTS triggers_field ON triggers(field);
CREATE INDEX IF NOT EXISTS writes_field ON writes(field);
CREATE INDEX IF NOT EXISTS enums_name ON enums(name);
CREATE INDEX IF NOT EXISTS enums_enum ON enums(enum);
CREATE INDEX IF NOT EXISTS structs_name ON structs(name);
CREATE INDEX IF NOT EXISTS fields_struct ON fields(struct, field);
CREATE INDEX IF NOT EXISTS macros_name ON macros(name);
CREATE INDEX IF NOT EXISTS typedefs_name ON typedefs(name);
${PER_FILE.map((t) => `CREATE INDEX IF NOT EXISTS ${t}_file ON ${t}(file);`).join('\n')}
`;

export class IndexError extends Error {}

export interface OpenOptions {
  readonly?: boolean;
}

/** Opens (creating when writable) the index at `path`; throws IndexError naming the file when unusable. */
export function openIndex(path: string, opts: OpenOptions = {}): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw new IndexError(
      `source index ${path}: cannot open (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  try {
    if (opts.readonly) {
      const v = db.prepare("SELECT value FROM meta WHERE key='schema'").pluck().get() as string | undefined;
      if (v !== String(SCHEMA_VERSION)) {
        throw new IndexError(
          `source index ${path}: schema ${v ?? 'missing'}, expected ${SCHEMA_VERSION}; re-run \`ktriage src index\``,
        );
      }
    } else {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(TABLES);
      const v = db.prepare("SELECT value FROM meta WHERE key='schema'").pluck().get() as string | undefined;
      if (v !== undefined && v !== String(SCHEMA_VERSION)) {
        // Built by another version of ktriage: the index is derived data, rebuild it from scratch.
        resetIndex(db);
      }
      db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
    }
    db.pragma('cache_size = -65536');
    db.pragma('temp_store = MEMORY');
  } catch (err) {
    db.close();
    if (err instanceof IndexError) throw err;
    throw new IndexError(
      `source index ${path}: not a ktriage source index (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  return db;
}

/** Drops every table and recreates the empty schema (the next `index` run re-parses everything). */
export function resetIndex(db: Database.Database): void {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type='table'").pluck().all() as string[];
  for (const t of tables) db.exec(`DROP TABLE IF EXISTS "${t}"`);
  db.exec(TABLES);
  db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
}

export function createIndexes(db: Database.Database): void {
  // CREATE INDEX sorts with SQLite's external merge sorter, which can use helper threads; at the
  // end of a build the parsing workers are done, so the cores are free.
  db.pragma('threads = 2');
  db.exec(INDEXES);
  db.pragma('threads = 0');
}

export function hasIndexes(db: Database.Database): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_master WHERE type='index' AND name='calls_callee'").get() !== undefined
  );
}

/**
 * Rows of one table inserted `ROWS` at a time by one multi-row INSERT: one N-API call, one bind and
 * one result object per 64 rows instead of per row (the main thread's inserts were ~15% of the
 * index build's CPU). Buffered rows become visible at flush(); IndexWriter flushes before deletes
 * and at the end of each batch transaction.
 */
class BulkInsert {
  private static readonly ROWS = 64;
  private buf: unknown[] = [];
  private readonly width: number;
  private readonly many: Database.Statement;
  private readonly one: Database.Statement;

  constructor(db: Database.Database, table: string, cols: string[]) {
    this.width = cols.length;
    const tuple = `(${cols.map(() => '?').join(', ')})`;
    const head = `INSERT INTO ${table}(${cols.join(', ')}) VALUES `;
    this.one = db.prepare(head + tuple);
    this.many = db.prepare(head + new Array(BulkInsert.ROWS).fill(tuple).join(', '));
  }
  add(...values: unknown[]): void {
    for (const v of values) this.buf.push(v);
    if (this.buf.length >= BulkInsert.ROWS * this.width) {
      this.many.run(this.buf);
      this.buf = [];
    }
  }
  flush(): void {
    const b = this.buf;
    for (let i = 0; i < b.length; i += this.width) this.one.run(b.slice(i, i + this.width));
    this.buf = [];
  }
}

/** Writes one file's facts; names go through an in-memory intern table kept in sync with `syms`. */
export class IndexWriter {
  private readonly syms = new Map<string, number>();
  private nextSym = 1;
  private nextFunc: number;
  private readonly st: Record<string, Database.Statement>;
  private readonly bulk: Record<string, BulkInsert>;

  constructor(db: Database.Database) {
    for (const row of db.prepare('SELECT id, name FROM syms').iterate() as Iterable<{
      id: number;
      name: string;
    }>) {
      this.syms.set(row.name, row.id);
      if (row.id >= this.nextSym) this.nextSym = row.id + 1;
    }
    // Function ids are assigned here (as SQLite would: max + 1) so funcs rows can be buffered too.
    this.nextFunc = (db.prepare('SELECT COALESCE(MAX(id), 0) + 1 FROM funcs').pluck().get() as number) ?? 1;
    const p = (sql: string): Database.Statement => db.prepare(sql);
    this.st = {
      file: p(`INSERT INTO files(path, mtime, size, hash, errors, error_lines, funcs, funcs_with_errors)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      fileTouch: p('UPDATE files SET mtime = ?, size = ? WHERE id = ?'),
      fileDel: p('DELETE FROM files WHERE id = ?'),
    };
    const b = (table: string, cols: string): BulkInsert => new BulkInsert(db, table, cols.split(' '));
    this.bulk = {
      sym: b('syms', 'id name'),
      func: b('funcs', 'id name file line end_line has_error ret_type'),
      call: b('calls', 'caller callee file line'),
      fcall: b('fcalls', 'caller field root_type root path param file line'),
      fnref: b('fnrefs', 'fn kind root_type root path field via entry func file line'),
      trigger: b('triggers', 'kind macro root_type root path field func file line'),
      write: b('writes', 'field root_type root path param op bit value via func file line'),
      enumRow: b('enums', 'name enum block value expr file line'),
      struct: b('structs', 'name kind file line end_line'),
      field: b('fields', 'struct field type file line'),
      macro: b('macros', 'name file line fnlike value'),
      typedef: b('typedefs', 'name struct file'),
    };
    this.deletes = PER_FILE.map((t) => db.prepare(`DELETE FROM ${t} WHERE file = ?`));
  }
  private readonly deletes: Database.Statement[];

  /** Inserts every buffered row (call before reading or deleting rows, and before commit). */
  flush(): void {
    for (const k of Object.keys(this.bulk)) this.bulk[k]!.flush();
  }

  sym(name: string): number {
    let id = this.syms.get(name);
    if (id === undefined) {
      id = this.nextSym++;
      this.syms.set(name, id);
      this.bulk.sym!.add(id, name);
    }
    return id;
  }
  private symOpt(name: string | null): number | null {
    return name === null || name === '' ? null : this.sym(name);
  }

  /** Removes a file and every row extracted from it. */
  deleteFile(fileId: number): void {
    this.flush();
    for (const d of this.deletes) d.run(fileId);
    this.st.fileDel!.run(fileId);
  }

  touchFile(fileId: number, mtime: number, size: number): void {
    this.st.fileTouch!.run(mtime, size, fileId);
  }

  addFile(path: string, mtime: number, size: number, hash: string, f: FileFacts): void {
    const st = this.st;
    const bk = this.bulk;
    const withErrors = f.funcs.reduce((n, x) => n + x[3], 0);
    const fileId = Number(
      st.file!.run(path, mtime, size, hash, f.errors, f.errorLines.join(','), f.funcs.length, withErrors)
        .lastInsertRowid,
    );
    const funcIds: number[] = [];
    for (const [name, line, end, err, ret] of f.funcs) {
      const id = this.nextFunc++;
      bk.func!.add(id, this.sym(name), fileId, line, end, err, this.symOpt(ret));
      funcIds.push(id);
    }
    const fid = (i: number): number | null => (i >= 0 ? (funcIds[i] ?? null) : null);
    const mem = (m: Member | null): [number | null, string | null, string | null, number | null] =>
      m === null
        ? [null, null, null, null]
        : [this.symOpt(m.rootType), m.root || null, m.path || null, this.symOpt(m.field)];
    for (const [fi, callee, line] of f.calls) bk.call!.add(fid(fi), this.sym(callee), fileId, line);
    for (const [fi, m, line] of f.fieldCalls) {
      const [rt, root, path, field] = mem(m);
      bk.fcall!.add(fid(fi), field, rt, root, path, m.param, fileId, line);
    }
    for (const r of f.fnRefs) {
      const [rt, root, path, field] = mem(r.member);
      bk.fnref!.add(
        this.sym(r.fn),
        r.kind,
        rt,
        root,
        path,
        field,
        r.via || null,
        r.entry,
        fid(r.funcIdx),
        fileId,
        r.line,
      );
    }
    for (const [kind, macro, m, fi, line] of f.triggers) {
      const [rt, root, path, field] = mem(m);
      bk.trigger!.add(kind, macro, rt, root, path, field, fid(fi), fileId, line);
    }
    for (const w of f.writes) {
      const [rt, root, path, field] = mem(w.member);
      bk.write!.add(
        field,
        rt,
        root,
        path,
        w.member.param,
        w.op,
        w.bit,
        w.value,
        w.via,
        fid(w.funcIdx),
        fileId,
        w.line,
      );
    }
    for (const [en, name, value, expr, line, block] of f.enums)
      bk.enumRow!.add(this.sym(name), en, block, value, expr, fileId, line);
    for (const [name, kind, line, end] of f.structs) bk.struct!.add(this.sym(name), kind, fileId, line, end);
    for (const [s, field, type, line] of f.fields)
      bk.field!.add(this.sym(s), this.sym(field), this.sym(type), fileId, line);
    for (const [name, line, fnlike, value] of f.macros)
      bk.macro!.add(this.sym(name), fileId, line, fnlike, value);
    for (const [name, s] of f.typedefs) bk.typedef!.add(this.sym(name), this.sym(s), fileId);
  }
}
