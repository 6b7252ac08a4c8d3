// The history index: one SQLite file per repository (or per mailing-list archive). Plain
// better-sqlite3 with prepared statements: the build is one long write transaction stream and the
// queries are a handful of indexed lookups, so no query builder is needed here.
import Database from 'better-sqlite3';

export type Db = Database.Database;

export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commits (
  id INTEGER PRIMARY KEY,
  sha TEXT NOT NULL UNIQUE,
  parents TEXT NOT NULL,
  author_time INTEGER NOT NULL,
  commit_time INTEGER NOT NULL,
  author TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  stable INTEGER NOT NULL DEFAULT 0,
  stable_hint TEXT,
  first_tag TEXT,
  -- 1 when the pass saw its full patch, 0 when its diff was not read (only paths with missing blobs)
  has_diff INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS commits_subject ON commits(subject);
CREATE TABLE IF NOT EXISTS files (
  commit_id INTEGER NOT NULL,
  path TEXT NOT NULL,
  old_path TEXT,
  status TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_path ON files(path);
CREATE INDEX IF NOT EXISTS files_commit ON files(commit_id);
CREATE TABLE IF NOT EXISTS funcs (
  commit_id INTEGER NOT NULL,
  path TEXT NOT NULL,
  func TEXT NOT NULL,
  flags INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS funcs_func ON funcs(func);
CREATE INDEX IF NOT EXISTS funcs_commit ON funcs(commit_id);
CREATE TABLE IF NOT EXISTS fixes_tags (
  commit_id INTEGER NOT NULL,
  ref TEXT,
  subject TEXT,
  target TEXT,
  resolved_by TEXT
);
CREATE INDEX IF NOT EXISTS fixes_commit ON fixes_tags(commit_id);
CREATE INDEX IF NOT EXISTS fixes_target ON fixes_tags(target);
CREATE TABLE IF NOT EXISTS backports (
  commit_id INTEGER NOT NULL,
  ref TEXT NOT NULL,
  upstream TEXT
);
CREATE INDEX IF NOT EXISTS backports_commit ON backports(commit_id);
CREATE INDEX IF NOT EXISTS backports_upstream ON backports(upstream);
CREATE INDEX IF NOT EXISTS backports_ref ON backports(ref);
CREATE TABLE IF NOT EXISTS reverts (
  commit_id INTEGER NOT NULL,
  ref TEXT,
  subject TEXT,
  target TEXT
);
CREATE INDEX IF NOT EXISTS reverts_target ON reverts(target);
CREATE TABLE IF NOT EXISTS refs (name TEXT PRIMARY KEY, sha TEXT NOT NULL, kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  started INTEGER NOT NULL,
  finished INTEGER,
  revs TEXT NOT NULL,
  bounded INTEGER NOT NULL,
  tips TEXT NOT NULL,
  commits INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS skipped_paths (path TEXT PRIMARY KEY, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mails (
  id INTEGER PRIMARY KEY,
  commit_sha TEXT NOT NULL UNIQUE,
  blob TEXT NOT NULL,
  time INTEGER NOT NULL,
  msgid TEXT,
  in_reply_to TEXT,
  author TEXT,
  subject TEXT NOT NULL,
  clean_subject TEXT NOT NULL,
  is_patch INTEGER NOT NULL,
  is_reply INTEGER NOT NULL,
  version INTEGER NOT NULL,
  part INTEGER,
  total INTEGER,
  tags TEXT,
  series TEXT,
  stable INTEGER NOT NULL DEFAULT 0,
  stable_hint TEXT,
  body TEXT NOT NULL,
  missing INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS mails_clean ON mails(clean_subject);
CREATE INDEX IF NOT EXISTS mails_series ON mails(series);
CREATE TABLE IF NOT EXISTS mail_files (mail_id INTEGER NOT NULL, path TEXT NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS mail_files_path ON mail_files(path);
CREATE INDEX IF NOT EXISTS mail_files_mail ON mail_files(mail_id);
CREATE TABLE IF NOT EXISTS mail_funcs (mail_id INTEGER NOT NULL, path TEXT NOT NULL, func TEXT NOT NULL, flags INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS mail_funcs_func ON mail_funcs(func);
CREATE INDEX IF NOT EXISTS mail_funcs_mail ON mail_funcs(mail_id);
CREATE TABLE IF NOT EXISTS mail_fixes (mail_id INTEGER NOT NULL, ref TEXT, subject TEXT);
CREATE INDEX IF NOT EXISTS mail_fixes_mail ON mail_fixes(mail_id);
`;

export class IndexError extends Error {}

/** Opens (creating when asked) a history index file and checks its schema version. */
export function openIndex(file: string, opts: { create?: boolean; readonly?: boolean } = {}): Db {
  let db: Db;
  try {
    db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: !opts.create });
  } catch (err) {
    throw new IndexError(
      `cannot open history index ${file}: ${err instanceof Error ? err.message : String(err)}${
        opts.create ? '' : ' (build it with `ktriage history index REPO`)'
      }`,
    );
  }
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  const hasMeta = db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").get();
  if (!hasMeta) {
    if (opts.readonly || !opts.create) {
      db.close();
      throw new IndexError(`${file} is not a ktriage history index (no meta table)`);
    }
    db.exec(SCHEMA);
    db.prepare('INSERT INTO meta(key, value) VALUES (?, ?)').run('schema', String(SCHEMA_VERSION));
  } else {
    if (!opts.readonly) db.exec('CREATE INDEX IF NOT EXISTS backports_ref ON backports(ref)');
    const v = db.prepare("SELECT value FROM meta WHERE key='schema'").get() as { value: string } | undefined;
    if (!v || Number(v.value) !== SCHEMA_VERSION) {
      db.close();
      throw new IndexError(
        `${file}: history index schema ${v?.value ?? 'unknown'} is not ${SCHEMA_VERSION}; rebuild it`,
      );
    }
  }
  return db;
}

export function getMeta(db: Db, key: string): string | null {
  const r = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return r?.value ?? null;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare(
    'INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  ).run(key, value);
}
