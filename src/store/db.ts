// Opening the database: one Kysely query layer over better-sqlite3 (WAL) and pg. Timestamps are
// stored as ISO-8601 UTC text and JSON as text in both dialects, so rows read back identically
// and `substr(occurred_at, 1, 10)` is the UTC day everywhere.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type Generated, Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { Dialect } from './types.ts';

export interface MetaTable {
  key: string;
  value: string;
}

export interface HostsTable {
  id: Generated<number>;
  name: string;
}

export interface KernelsTable {
  id: Generated<number>;
  release: string;
  build: string;
}

export interface LogsTable {
  id: Generated<number>;
  host_id: number;
  sha256: string;
  source: string;
  format: string;
  size: number;
  received_at: string;
  crash_count: number;
  no_crash: number;
  warnings: string;
  text: string | null;
}

export interface BucketsTable {
  id: Generated<number>;
  title: string;
  kind: string;
  signature: string;
  /** Lower-cased title and frames: what `--search` matches. */
  search_text: string;
  representative_crash_id: number | null;
  created_at: string;
}

/**
 * A bucket's member count and first/last occurrence, in a narrow table of their own (migration 7):
 * every ingest batch bumps them for each bucket it touched, and in the wide buckets row (title,
 * signature, search text) that rewrote and logged ~1 KB per bucket.
 */
export interface BucketCountsTable {
  bucket_id: number;
  count: number;
  first_seen: string;
  last_seen: string;
}

export interface CrashesTable {
  id: Generated<number>;
  log_id: number;
  host_id: number;
  kernel_id: number;
  content_hash: string;
  received_at: string;
  occurred_at: string;
  title: string;
  kind: string;
  raw_text: string;
  raw_start_line: number;
  report: string;
  signature: string;
  bucket_id: number | null;
  join_rule: string | null;
  similarity: number | null;
}

export interface AnalysesTable {
  id: Generated<number>;
  kind: string;
  title: string;
  crash_id: number | null;
  bucket_id: number | null;
  markdown: string | null;
  html: string | null;
  json: string | null;
  meta: string;
  job_id: number | null;
  created_at: string;
}

export interface JobsTable {
  id: Generated<number>;
  kind: string;
  state: string;
  payload: string;
  attempts: number;
  max_attempts: number;
  timeout_s: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Lease end of the running attempt (in-process runner); a dead worker's job is re-claimed after it. */
  lease_until: string | null;
  worker: string | null;
  result: string | null;
  error: string | null;
  boss_id: string | null;
}

export interface JobAttemptsTable {
  id: Generated<number>;
  job_id: number;
  attempt: number;
  worker: string;
  started_at: string;
  finished_at: string | null;
  outcome: string | null;
  error: string | null;
}

export interface SignaturesTable {
  sig_key: string;
  bucket_id: number;
}

export interface Database {
  signatures: SignaturesTable;
  meta: MetaTable;
  hosts: HostsTable;
  kernels: KernelsTable;
  logs: LogsTable;
  buckets: BucketsTable;
  bucket_counts: BucketCountsTable;
  crashes: CrashesTable;
  analyses: AnalysesTable;
  jobs: JobsTable;
  job_attempts: JobAttemptsTable;
}

export type Db = Kysely<Database>;

export interface OpenedDb {
  db: Db;
  dialect: Dialect;
  location: string;
  /** The PostgreSQL URL (for pg-boss), or null on SQLite. */
  pgUrl: string | null;
  /** The SQLite file path, or null on PostgreSQL. */
  file: string | null;
  /**
   * The better-sqlite3 connection under Kysely (SQLite only): the ingest hot path runs its
   * multi-row crash INSERT as a cached prepared statement on it, inside the same transaction.
   */
  sqlite?: import('better-sqlite3').Database;
}

/**
 * SQL texts that run as named prepared statements on PostgreSQL (text -> statement name): the
 * ingest path's full-size multi-row INSERTs (500-1,000 rows, 10,000 parameters). Sent unnamed,
 * the server parsed and planned each one again; that cost as much as inserting its rows
 * (measured: 12,500 crash rows in batches of 500, ~1,270-1,570 ms unnamed vs ~1,040 ms named).
 * Bounded: each is kept by the server once per connection.
 */
const PG_PREPARED = new Map<string, string>();
const PG_PREPARED_MAX = 32;

/** Marks a statement text to run as a named prepared statement on PostgreSQL connections. */
export function preparePgText(text: string): void {
  if (!PG_PREPARED.has(text) && PG_PREPARED.size < PG_PREPARED_MAX)
    PG_PREPARED.set(text, `ktriage_ins_${PG_PREPARED.size + 1}`);
}

/** Makes a pooled pg client run the marked texts (Kysely passes text and parameters) by name. */
function usePreparedStatements(client: import('pg').PoolClient): void {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query() overloads; only (text, values) is rewritten
  const query = client.query as (...args: any[]) => unknown;
  // biome-ignore lint/suspicious/noExplicitAny: forwarded as given
  (client as any).query = function (this: unknown, ...args: any[]) {
    const [text, values] = args;
    if (args.length === 2 && typeof text === 'string' && Array.isArray(values)) {
      const name = PG_PREPARED.get(text);
      if (name) return query.call(this, { name, text, values });
    }
    return query.apply(this, args);
  };
}

/** Page size of new SQLite databases (see openDb). */
export const SQLITE_PAGE_SIZE = 32768;

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export function maskUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/** The database a command uses: --db, then $KTRIAGE_DB, then ./ktriage.db. */
export function resolveDbUrl(url?: string | null): string {
  const u = url?.trim() || process.env.KTRIAGE_DB?.trim() || './ktriage.db';
  return u;
}

export async function openDb(url?: string | null): Promise<OpenedDb> {
  const u = resolveDbUrl(url);
  if (isPostgresUrl(u)) {
    const pg = await import('pg');
    const Pool = pg.default.Pool;
    const pool = new Pool({ connectionString: u, max: Number(process.env.KTRIAGE_PG_POOL ?? 4) });
    pool.on('connect', usePreparedStatements);
    // A connection that dies must not take the process down: the pool replaces it.
    pool.on('error', () => {});
    try {
      const c = await pool.connect();
      c.release();
    } catch (err) {
      await pool.end().catch(() => {});
      throw new Error(`cannot connect to ${maskUrl(u)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', location: maskUrl(u), pgUrl: u, file: null };
  }
  const file = resolve(u.replace(/^sqlite:(\/\/)?/i, ''));
  const dir = dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const Sqlite = (await import('better-sqlite3')).default;
  let conn: import('better-sqlite3').Database;
  try {
    const fresh = !existsSync(file) || statSync(file).size === 0;
    conn = new Sqlite(file, { timeout: 60_000 });
    // A new database gets 32 KiB pages: a crash row is ~4 KB (raw text, report), so with the
    // default 4 KiB pages nearly every row spilled into an overflow page of its own (16 KiB
    // measured ~35% less CPU per inserted row than 4 KiB); 32 KiB wrote a batch in fewer, larger
    // WAL frames: ingest ~7% faster than 16 KiB in paired runs (8 KiB slower, 64 KiB no better).
    // The page size can only be chosen before the first write (and not at all once in WAL mode),
    // so existing databases keep theirs.
    if (fresh) conn.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
    conn.pragma('journal_mode = WAL');
  } catch (err) {
    throw new Error(
      `cannot open SQLite database ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  // NORMAL is durable across process crashes in WAL mode (only an OS crash may lose the last
  // transactions); kill -9 of a writer never loses a committed transaction.
  conn.pragma('synchronous = NORMAL');
  conn.pragma('foreign_keys = ON');
  conn.pragma('busy_timeout = 60000');
  applyIngestPragmas(conn);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: conn }) });
  return { db, dialect: 'sqlite', location: file, pgUrl: null, file, sqlite: conn };
}

/**
 * Throughput pragmas (also used by bench/ingest.ts's raw baseline so the comparison stays fair):
 * a 64 MiB page cache (a 1000-report batch is ~7 MB of rows plus index pages; the default 2 MB
 * spills mid-transaction), temporary b-trees in memory, and a WAL checkpoint every ~40 MB (whatever
 * the page size) instead of every 4 MB: each checkpoint fsyncs the database file, which dominated
 * commit time. The WAL file may keep its peak size while the connection is open (journal_size_limit
 * 256 MiB, above the 160 MiB fallback checkpoint of startCheckpointer, so in practice ~180 MB at
 * most): truncating it back to 64 MiB at each reset and growing it again (the filesystem
 * allocating its blocks anew) cost 5-19% of the ingest time in 9 of 9 paired runs. The last
 * connection to close checkpoints and removes it.
 */
export function applyIngestPragmas(conn: import('better-sqlite3').Database): void {
  conn.pragma('cache_size = -65536');
  conn.pragma('temp_store = MEMORY');
  const page = Number(conn.pragma('page_size', { simple: true })) || 4096;
  conn.pragma(`wal_autocheckpoint = ${Math.round((40 * 2 ** 20) / page)}`);
  conn.pragma(`journal_size_limit = ${256 * 2 ** 20}`);
}

// The background checkpointer's code, run in a worker thread with its own connection.
const CHECKPOINTER_SRC = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { timeout: 1000 });
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * WAL checkpoints on a worker thread with its own connection, every intervalMs, for a process that
 * writes a lot (ingest). Copying the WAL into the database file and fsyncing it took a quarter of
 * the ingest time when the writing connection did it itself after a commit (wal_autocheckpoint);
 * here it overlaps the next batch. PASSIVE never waits for or blocks readers or writers, and an
 * interrupted checkpoint is harmless (the WAL stays authoritative until one completes). Frames
 * are written at commit, so a checkpoint that ran during a batch has usually backfilled the WAL
 * completely when the next commit comes, and that commit starts the WAL from its beginning again.
 * The writing connection keeps a 4x larger wal_autocheckpoint as a fallback.
 */
export function startCheckpointer(
  conn: import('better-sqlite3').Database,
  file: string,
  intervalMs = 100,
): Checkpointer {
  const w = new Worker(CHECKPOINTER_SRC, {
    eval: true,
    workerData: { file, module: createRequire(import.meta.url).resolve('better-sqlite3'), intervalMs },
  });
  w.unref();
  w.on('error', () => {});
  const page = Number(conn.pragma('page_size', { simple: true })) || 4096;
  conn.pragma(`wal_autocheckpoint = ${Math.round((160 * 2 ** 20) / page)}`);
  let stopped: Promise<void> | null = null;
  return {
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        const t = setTimeout(() => void w.terminate().then(() => resolve()), 5000);
        w.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        w.postMessage('stop');
      });
      return stopped;
    },
  };
}

/**
 * Runs fn in a write transaction that holds the store's global write lock: BEGIN IMMEDIATE on
 * SQLite (one writer at a time, others wait on busy_timeout), a transaction-scoped advisory lock
 * on PostgreSQL. Bucketing compares a crash against every bucket, so assignments must serialise.
 */
export async function withWriteLock<T>(o: OpenedDb, fn: (trx: Db) => Promise<T>): Promise<T> {
  if (o.dialect === 'postgres') {
    return o.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${WRITE_LOCK_KEY})`.execute(trx);
      return fn(trx as unknown as Db);
    });
  }
  return o.db.connection().execute(async (conn) => {
    await beginImmediate(conn);
    try {
      const r = await fn(conn);
      await sql`commit`.execute(conn);
      return r;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => {});
      throw err;
    }
  });
}

async function beginImmediate(conn: Db): Promise<void> {
  // busy_timeout covers waiting for the lock; retry a few times on top for WAL checkpoints.
  for (let i = 0; ; i++) {
    try {
      await sql`begin immediate`.execute(conn);
      return;
    } catch (err) {
      if (i >= 20 || !/SQLITE_BUSY|database is locked/i.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
    }
  }
}

/** Arbitrary constant: the advisory lock id of the store's write lock ("ktri"). */
export const WRITE_LOCK_KEY = 0x6b747269;

export function nowIso(): string {
  return new Date().toISOString();
}

export function toIso(t: string | Date | null | undefined): string | null {
  if (t == null || t === '') return null;
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString();
}
