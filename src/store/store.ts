// The Store over Kysely: one code path for SQLite and PostgreSQL. Writes go through
// withWriteLock (one bucketing writer at a time across processes); parsing happens before the lock.
import { CompiledQuery, type Insertable, sql } from 'kysely';
import { stackSimilarity } from '../signature/index.ts';
import { Bucketer, DEFAULT_RULES, signatureKey } from './bucketing.ts';
import { decodeReport } from './compact.ts';
import {
  type Checkpointer,
  type Database,
  type Db,
  nowIso,
  type OpenedDb,
  preparePgText,
  startCheckpointer,
  toIso,
  WRITE_LOCK_KEY,
  withWriteLock,
} from './db.ts';
import { InputError } from './formats.ts';
import type { JobBackend } from './jobs-backend.ts';
import { upsertMeta } from './migrations.ts';
import { LOG_TEXT_CAP, type PreparedCrash, type PreparedLog, prepareLog } from './prepare.ts';
import type {
  Analysis,
  AnalysisFilter,
  AnalysisInput,
  AnalysisSummary,
  Bucket,
  BucketFilter,
  BucketList,
  BucketListItem,
  Crash,
  CrashSummary,
  DayCount,
  IngestedCrash,
  IngestInput,
  IngestResult,
  IsoTime,
  Job,
  JobFilter,
  JobInput,
  JoinRule,
  LogFormat,
  PageOpts,
  RebucketResult,
  Store,
  StoredLog,
  StoreStats,
} from './types.ts';

const CHUNK = 400;

/** PostgreSQL: adds a batch's members to their buckets' counts (arrays of id, n, first, last). */
const PG_ADD_COUNTS = `update bucket_counts as b set count = b.count + v.n,
    first_seen = least(b.first_seen, v.f), last_seen = greatest(b.last_seen, v.l)
  from unnest($1::integer[], $2::integer[], $3::text[], $4::text[]) as v(id, n, f, l)
  where b.bucket_id = v.id`;

/** PostgreSQL: moves crashes whose bucket decision changed under the lock (arrays of id, bucket, rule, similarity). */
const PG_MOVE_CRASHES = `update crashes as c set bucket_id = v.b, join_rule = v.r, similarity = v.s
  from unnest($1::integer[], $2::integer[], $3::text[], $4::double precision[]) as v(id, b, r, s)
  where c.id = v.id`;

/**
 * PostgreSQL plans a prepared statement anew with its parameter values for its first five runs
 * (plan_cache_mode auto) before it settles on the generic plan: for a 500-row INSERT ... VALUES
 * that is planning 7,500 parameters, five times per statement and connection, for a plan that
 * is the same every time (measured: 4 writers x 40k crashes, ~5-10% of the server's CPU). The
 * write transaction asks for generic plans around its bulk INSERTs only (SET LOCAL ends with
 * the transaction).
 */
const PG_GENERIC_PLANS = 'set local plan_cache_mode = force_generic_plan';
const PG_AUTO_PLANS = 'set local plan_cache_mode = auto';

// Constant texts: named prepared statements on every connection, marked once.
preparePgText(PG_ADD_COUNTS);
preparePgText(PG_MOVE_CRASHES);

/** PostgreSQL batches that skip stored keys after a unique violation (see pgCareful). */
const CAREFUL_BATCHES = 16;

/** Columns of a crash row, in the order of the prepared INSERTs (writeBatch's crashValues builds rows so). */
export const CRASH_COLS = [
  'id',
  'log_id',
  'host_id',
  'kernel_id',
  'content_hash',
  'received_at',
  'occurred_at',
  'title',
  'kind',
  'raw_text',
  'raw_start_line',
  'report',
  'signature',
  'bucket_id',
  'join_rule',
  'similarity',
] as const satisfies readonly (keyof Database['crashes'])[];
/** Where a crash row points and how it joined its bucket: the values not in the prepared crash. */
export interface CrashRowRefs {
  id: number;
  logId: number;
  hostId: number;
  kernelId: number;
  receivedAt: string;
  /** null only on PostgreSQL's provisional insert, before the bucket is known. */
  bucketId: number | null;
  rule: string;
  similarity: number | null;
}

/** A crash row's values in CRASH_COLS order. */
export function crashRowValues(c: PreparedCrash, r: CrashRowRefs): unknown[] {
  return [
    r.id,
    r.logId,
    r.hostId,
    r.kernelId,
    c.contentHash,
    r.receivedAt,
    c.occurredAt,
    c.title,
    c.kind,
    c.rawText,
    c.rawStartLine,
    c.reportJson,
    c.signatureJson,
    r.bucketId,
    r.rule,
    r.similarity,
  ];
}

/** Values per SQLite IN list of a lookup (sqliteIn). */
const SQLITE_IN_LIST = 100;

/** 100 rows x 16 columns stays far below SQLite's 32,766 parameter limit. */
const CRASH_ROWS_PER_STMT = 100;

/** Columns of a log row, in the order of the SQLite prepared INSERT. */
const LOG_COLS = [
  'id',
  'host_id',
  'sha256',
  'source',
  'format',
  'size',
  'received_at',
  'crash_count',
  'no_crash',
  'warnings',
  'text',
] as const satisfies readonly (keyof Database['logs'])[];

/** A crash stored before this batch (or by another writer during it). */
interface Existing {
  id: number;
  bucketId: number | null;
  rule: JoinRule | null;
  similarity: number | null;
}

interface CrashIdRow {
  id: number;
  content_hash: string;
  bucket_id: number | null;
  join_rule: string | null;
  similarity: number | null;
}

/** A new crash of the batch being written. */
interface Pending {
  id: number;
  key: string;
  logIndex: number;
  crash: PreparedCrash;
  bucketId: number | null;
  rule: JoinRule;
  similarity: number | null;
  newBucket: boolean;
}

/** Code-unit order: the same in every writer process (the lock-order argument needs that). */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * PostgreSQL errors after which the whole batch is simply retried: a deadlock or serialization
 * failure, or a foreign key to a bucket that went away (a concurrent writer's bucket that it
 * rolled back, or one rebucket removed) between the provisional decision and the insert.
 */
export function isTransientPgError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001' || code === '23503';
}

/**
 * The values of rows[from..to) in one array, as a statement's parameters. A loop: Array.prototype
 * .flat() took ~15x longer on these mixed rows (~1.1 ms per 500 crash rows), a cost paid for
 * every multi-row INSERT.
 */
function flatRows(rows: unknown[][], from: number, to: number): unknown[] {
  const out: unknown[] = [];
  for (let i = from; i < to; i++) {
    const r = rows[i]!;
    for (let j = 0; j < r.length; j++) out.push(r[j]);
  }
  return out;
}

function chunks<T>(xs: T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

function groupBy<T, K, V>(xs: T[], key: (x: T) => K, val: (x: T) => V): Map<K, V[]> {
  const m = new Map<K, V[]>();
  for (const x of xs) {
    const k = key(x);
    const list = m.get(k);
    if (list) list.push(val(x));
    else m.set(k, [val(x)]);
  }
  return m;
}

function round4(x: number | null): number | null {
  return x == null ? null : Math.round(x * 10000) / 10000;
}

function num(x: unknown): number {
  return typeof x === 'number' ? x : Number(x);
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function dayRange(from: string, to: string, maxDays = 366): string[] {
  const end = Date.parse(`${to}T00:00:00Z`);
  let start = Date.parse(`${from}T00:00:00Z`);
  if (Number.isNaN(end) || Number.isNaN(start)) return [];
  start = Math.max(start, end - (maxDays - 1) * 86400_000);
  const out: string[] = [];
  for (let t = start; t <= end; t += 86400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

function fillDays(days: string[], counts: Map<string, number>): DayCount[] {
  return days.map((day) => ({ day, count: counts.get(day) ?? 0 }));
}

export class KyselyStore implements Store {
  readonly dialect;
  readonly location;
  private readonly db: Db;
  private bucketer: Bucketer | null = null;
  private checkpointer: Checkpointer | null = null;
  private generation = '';
  private readonly hostIds = new Map<string, number>();
  /** Kernel ids by release, then build (no key string built per crash). */
  private readonly kernelIds = new Map<string, Map<string, number>>();

  constructor(
    private readonly o: OpenedDb,
    private readonly jobs: JobBackend,
  ) {
    this.dialect = o.dialect;
    this.location = o.location;
    this.db = o.db;
  }

  /** For the jobs module and tests: the underlying handle. */
  get opened(): OpenedDb {
    return this.o;
  }

  // -------------------------------------------------------------------------------------------
  // Ingest

  async ingestLog(input: IngestInput): Promise<IngestResult> {
    const [r] = await this.ingestLogs([input]);
    return r!;
  }

  async ingestLogs(inputs: IngestInput[]): Promise<IngestResult[]> {
    const receivedAt = nowIso();
    // Parse outside the lock; a bad input fails alone, before anything is written.
    const prepared = inputs.map((i) => prepareLog(i, receivedAt));
    return this.writePrepared(prepared);
  }

  /**
   * The write half of ingest, for callers that prepared logs themselves (worker pools). A batch
   * is stored whole or not at all. SQLite: one BEGIN IMMEDIATE transaction (SQLite has one writer
   * anyway). PostgreSQL: hosts, kernels, logs and crash rows go in before the global advisory
   * lock, so several writers insert in parallel; only bucket assignment runs under the lock.
   */
  async writePrepared(prepared: PreparedLog[]): Promise<IngestResult[]> {
    if (prepared.length === 0) return [];
    // A process that ingests checkpoints the WAL on a background thread (see startCheckpointer).
    if (
      this.o.sqlite &&
      this.o.file &&
      !this.checkpointer &&
      process.env.KTRIAGE_SQLITE_BG_CHECKPOINT !== '0'
    )
      this.checkpointer = startCheckpointer(this.o.sqlite, this.o.file);
    for (let attempt = 1; ; attempt++) {
      let careful = true;
      try {
        if (this.o.dialect === 'postgres') {
          careful = this.pgCareful > 0;
          if (careful) this.pgCareful--;
          return await this.db.transaction().execute((trx) =>
            this.writeBatch(
              trx,
              prepared,
              async () => {
                await sql`select pg_advisory_xact_lock(${WRITE_LOCK_KEY})`.execute(trx);
              },
              careful,
            ),
          );
        }
        return await withWriteLock(this.o, (trx) => this.writeBatch(trx, prepared, null, true));
      } catch (err) {
        // The rolled-back transaction may have fed ids to the caches: forget them.
        this.resetCaches();
        if (!careful && (err as { code?: unknown } | null)?.code === '23505') {
          // A log or crash stored before (or by another writer meanwhile): this batch and the
          // next ones go in skipping stored keys.
          this.pgCareful = CAREFUL_BATCHES;
          continue;
        }
        if (attempt < 8 && isTransientPgError(err)) {
          await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50));
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * PostgreSQL: how many more batches insert with ON CONFLICT DO NOTHING. A plain multi-row INSERT
   * costs the server ~25% less than ON CONFLICT's speculative insertion (measured: 12,500 crash
   * rows, ~810 vs ~1,100 ms), and new crashes are the common case; so a batch first goes in with
   * plain INSERTs, and a key that is already stored (a re-ingest, another writer's copy) fails it
   * with a unique violation: then it is retried, and it and the next batches skip stored keys.
   */
  private pgCareful = 0;

  private resetCaches(): void {
    this.bucketer = null;
    this.hostIds.clear();
    this.kernelIds.clear();
  }

  private async refreshBuckets(trx: Db): Promise<Bucketer> {
    type Row = { gen: string | null; id: number | null; title: string | null; signature: string | null };
    // The bucket generation and the buckets stored since the last look, in one statement (on
    // PostgreSQL this runs twice per batch, once under the write lock: one round trip, not two;
    // on SQLite a cached statement, cheaper than building a Kysely query).
    const read = async (after: number): Promise<Row[]> => {
      const text = `select m.value as gen, b.id, b.title, b.signature from (select 1 as one) x
        left join meta m on m.key = 'bucket_generation'
        left join buckets b on b.id > ${this.o.sqlite ? '?' : '$1'} order by b.id`;
      if (this.o.sqlite) return this.stmt(text).all(after) as Row[];
      return (await trx.executeQuery<Row>(CompiledQuery.raw(text, [after]))).rows;
    };
    let rows = await read(this.bucketer?.maxId ?? 0);
    const g = rows[0]?.gen ?? '';
    if (!this.bucketer || g !== this.generation) {
      // New bucketer (first batch, or a rebucket renumbered the buckets): every bucket.
      const fresh = !this.bucketer;
      this.bucketer = new Bucketer(stackSimilarity, DEFAULT_RULES);
      this.generation = g;
      if (!fresh) rows = await read(0);
    }
    const b = this.bucketer;
    for (const r of rows) {
      if (r.id == null) continue;
      b.add({ id: num(r.id), title: r.title!, signature: JSON.parse(r.signature!) as string[] });
    }
    return b;
  }

  // On PostgreSQL the inserts below run before the global lock, so concurrent writers may insert
  // the same unique key (a host, a log, a crash) at once; the second waits for the first to end.
  // Every writer inserts hosts, kernels, logs, crashes in that order, each sorted by its key, so
  // such waits can never form a cycle (and the lock holder inserts none of them).

  private async hostIdsFor(trx: Db, names: string[]): Promise<Map<string, number>> {
    if (names.every((n) => this.hostIds.has(n))) return this.hostIds;
    const missing = [...new Set(names)].filter((n) => !this.hostIds.has(n)).sort();
    for (const part of chunks(missing)) {
      await trx
        .insertInto('hosts')
        .values(part.map((name) => ({ name })))
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      const rows = await trx.selectFrom('hosts').select(['id', 'name']).where('name', 'in', part).execute();
      for (const r of rows) this.hostIds.set(r.name, num(r.id));
    }
    return this.hostIds;
  }

  /** The stored kernel id of a crash's release and build (after kernelIdsFor). */
  private kernelIdOf(c: PreparedCrash): number {
    return this.kernelIds.get(c.kernelRelease)!.get(c.kernelBuild)!;
  }

  private async kernelIdsFor(trx: Db, logs: PreparedLog[]): Promise<void> {
    const k = (r: string, b: string) => `${r}\n${b}`;
    const missing = new Map<string, { release: string; build: string }>();
    // Nearly always every kernel is known: a lookup per crash, no key or object made.
    for (const l of logs)
      for (const c of l.crashes)
        if (this.kernelIds.get(c.kernelRelease)?.get(c.kernelBuild) === undefined)
          missing.set(k(c.kernelRelease, c.kernelBuild), { release: c.kernelRelease, build: c.kernelBuild });
    const sorted = [...missing].sort((a, b) => cmp(a[0], b[0])).map(([, v]) => v);
    for (const part of chunks(sorted)) {
      await trx
        .insertInto('kernels')
        .values(part)
        .onConflict((oc) => oc.columns(['release', 'build']).doNothing())
        .execute();
      const rows = await trx
        .selectFrom('kernels')
        .select(['id', 'release', 'build'])
        .where(
          'release',
          'in',
          part.map((p) => p.release),
        )
        .execute();
      for (const r of rows) {
        const builds = this.kernelIds.get(r.release) ?? new Map<string, number>();
        this.kernelIds.set(r.release, builds);
        builds.set(r.build, num(r.id));
      }
    }
  }

  /** Stored logs among these (host id, sha256) pairs: key `host:sha` -> log id. */
  private async findLogs(trx: Db, pairs: { hid: number; sha: string }[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (this.o.sqlite) {
      for (const [hid, shas] of groupBy(
        pairs,
        (p) => p.hid,
        (p) => p.sha,
      )) {
        const rows = this.sqliteIn<{ id: number; sha256: string }>(
          'select id, sha256 from logs where host_id = ? and sha256 in',
          hid,
          shas,
        );
        for (const r of rows) out.set(`${hid}:${r.sha256}`, r.id);
      }
      return out;
    }
    // By host first, so that the (host_id, sha256) unique index serves the lookups.
    for (const [hid, shas] of groupBy(
      pairs,
      (p) => p.hid,
      (p) => p.sha,
    )) {
      for (const part of chunks([...new Set(shas)])) {
        const rows = await trx
          .selectFrom('logs')
          .select(['id', 'sha256'])
          .where('host_id', '=', hid)
          .where('sha256', 'in', part)
          .execute();
        for (const r of rows) out.set(`${hid}:${r.sha256}`, num(r.id));
      }
    }
    return out;
  }

  /** Stored crashes among these (host id, content hash) pairs, by key `host:hash`. */
  private async findCrashes(trx: Db, pairs: { hid: number; hash: string }[]): Promise<Map<string, Existing>> {
    const out = new Map<string, Existing>();
    const put = (hid: number, r: CrashIdRow) =>
      out.set(`${hid}:${r.content_hash}`, {
        id: num(r.id),
        bucketId: r.bucket_id == null ? null : num(r.bucket_id),
        rule: r.join_rule as JoinRule | null,
        similarity: r.similarity,
      });
    if (this.o.sqlite) {
      for (const [hid, hashes] of groupBy(
        pairs,
        (p) => p.hid,
        (p) => p.hash,
      )) {
        const rows = this.sqliteIn<CrashIdRow>(
          'select id, content_hash, bucket_id, join_rule, similarity from crashes where host_id = ? and content_hash in',
          hid,
          hashes,
        );
        for (const r of rows) put(hid, r);
      }
      return out;
    }
    for (const [hid, hashes] of groupBy(
      pairs,
      (p) => p.hid,
      (p) => p.hash,
    )) {
      for (const part of chunks([...new Set(hashes)])) {
        const rows = await trx
          .selectFrom('crashes')
          .select(['id', 'content_hash', 'bucket_id', 'join_rule', 'similarity'])
          .where('host_id', '=', hid)
          .where('content_hash', 'in', part)
          .execute();
        for (const r of rows) put(hid, r);
      }
    }
    return out;
  }

  /** Rule 0: teaches the bucketer the stored buckets of these title+stack keys. */
  private async loadSignatures(trx: Db, bucketer: Bucketer, keys: string[]): Promise<void> {
    const unknown = [...new Set(keys)].filter((k) => !bucketer.knows(k));
    if (this.o.sqlite) {
      const rows = this.sqliteIn<{ sig_key: string; bucket_id: number }>(
        'select sig_key, bucket_id from signatures where sig_key in',
        undefined,
        unknown,
      );
      for (const r of rows) bucketer.remember(r.sig_key, r.bucket_id);
      return;
    }
    for (const part of chunks(unknown)) {
      const rows = await trx
        .selectFrom('signatures')
        .select(['sig_key', 'bucket_id'])
        .where('sig_key', 'in', part)
        .execute();
      for (const r of rows) bucketer.remember(r.sig_key, num(r.bucket_id));
    }
  }

  /**
   * lock: null when the whole batch already runs under the write lock (SQLite); else the function
   * that takes it (PostgreSQL), called once the rows are in.
   */
  private async writeBatch(
    trx: Db,
    logs: PreparedLog[],
    lock: (() => Promise<void>) | null,
    careful: boolean,
  ): Promise<IngestResult[]> {
    let bucketer = await this.refreshBuckets(trx);
    const hostIds = await this.hostIdsFor(
      trx,
      logs.map((l) => l.host),
    );
    await this.kernelIdsFor(trx, logs);
    const hid = (l: PreparedLog) => hostIds.get(l.host)!;

    // Logs: existing (host, sha256) pairs are duplicates; the rest are inserted.
    const logKeys = logs.map((l) => `${hid(l)}:${l.sha256}`);
    // PostgreSQL skips the lookups: its inserts skip stored keys (ON CONFLICT) and report them.
    const logIdByKey =
      lock === null
        ? await this.findLogs(
            trx,
            logs.map((l) => ({ hid: hid(l), sha: l.sha256 })),
          )
        : new Map<string, number>();
    const duplicateLog = logKeys.map((k) => logIdByKey.has(k));
    const fresh = new Map<string, PreparedLog>();
    for (let i = 0; i < logs.length; i++) {
      const l = logs[i]!;
      const k = logKeys[i]!;
      if (!logIdByKey.has(k) && !fresh.has(k)) fresh.set(k, l);
    }
    // On PostgreSQL, logs stored before or meanwhile by another writer are found here.
    // PostgreSQL: the bulk INSERTs below run with generic plans (see PG_GENERIC_PLANS).
    if (lock !== null) await trx.executeQuery(CompiledQuery.raw(PG_GENERIC_PLANS));
    const raced = await this.insertLogs(trx, fresh, hostIds, logIdByKey, careful);
    // A log repeated within the batch counts as a duplicate after its first copy.
    const seenInBatch = new Set<string>();
    for (let i = 0; i < logs.length; i++) {
      const k = logKeys[i]!;
      if (seenInBatch.has(k) || raced.has(k)) duplicateLog[i] = true;
      seenInBatch.add(k);
    }
    const logIds = logKeys.map((k) => logIdByKey.get(k)!);

    // Crashes already stored (same host, same content hash) are not written again.
    const crashKeys = logs.map((l) => {
      const h = hid(l);
      return l.crashes.map((c) => `${h}:${c.contentHash}`);
    });
    const existing =
      lock === null
        ? await this.findCrashes(
            trx,
            logs.flatMap((l) => l.crashes.map((c) => ({ hid: hid(l), hash: c.contentHash }))),
          )
        : new Map<string, Existing>();
    await this.loadSignatures(
      trx,
      bucketer,
      logs.flatMap((l) => l.crashes.map((c) => c.sigKey)),
    );
    let pending: Pending[] = [];
    const pendingKeys = new Set<string>();
    for (let li = 0; li < logs.length; li++) {
      const l = logs[li]!;
      const keys = crashKeys[li]!;
      for (let ci = 0; ci < l.crashes.length; ci++) {
        const c = l.crashes[ci]!;
        const key = keys[ci]!;
        if (existing.has(key) || pendingKeys.has(key)) continue;
        pendingKeys.add(key);
        pending.push({
          id: 0,
          key,
          logIndex: li,
          crash: c,
          bucketId: null,
          rule: 'new',
          similarity: null,
          newBucket: false,
        });
      }
    }
    /** A crash row's values in CRASH_COLS order (id first: 0 until the id is known). */
    const crashValues = (p: Pending): unknown[] => {
      const l = logs[p.logIndex]!;
      const c = p.crash;
      return crashRowValues(c, {
        id: p.id,
        logId: logIds[p.logIndex]!,
        hostId: hid(l),
        kernelId: this.kernelIdOf(c),
        receivedAt: l.receivedAt,
        bucketId: p.bucketId,
        rule: p.rule,
        similarity: p.similarity,
      });
    };

    if (lock === null) {
      // SQLite, under the lock already: ids handed out here (no other writer can take them),
      // buckets decided, then the rows go in through cached prepared statements.
      let next = (await this.maxId(trx, 'crashes')) + 1;
      for (const p of pending) p.id = next++;
      await this.assign(trx, bucketer, pending);
      this.insertSqliteRows('crashes', CRASH_COLS, pending.map(crashValues), CRASH_ROWS_PER_STMT);
    } else {
      // PostgreSQL: rows first, with the bucket the crash would join among the buckets stored
      // now (in the steady state, where it joins under the lock too); ids from the sequence.
      for (const p of pending) {
        const d = bucketer.decide(p.crash.title, p.crash.signature, p.crash.sigKey);
        p.bucketId = d.bucketId;
        p.rule = d.rule;
        p.similarity = round4(d.similarity);
      }
      const byKey = new Map(pending.map((p) => [p.key, p]));
      const sorted = [...pending].sort((a, b) => cmp(a.key, b.key));
      const cols = CRASH_COLS.filter((c) => c !== 'id');
      for (const part of chunks(sorted, 500)) {
        const rows = await this.pgInsert<{ id: number; host_id: number; content_hash: string }>(
          trx,
          'crashes',
          cols,
          part.map((p) => crashValues(p).slice(1)),
          `${careful ? 'on conflict (host_id, content_hash) do nothing ' : ''}returning id, host_id, content_hash`,
          part.length === 500,
        );
        for (const r of rows) byKey.get(`${num(r.host_id)}:${r.content_hash}`)!.id = num(r.id);
      }
      // Crashes stored before (or meanwhile by another writer) were skipped: duplicates.
      const lost = pending.filter((p) => p.id === 0);
      if (lost.length > 0) {
        const found = await this.findCrashes(
          trx,
          lost.map((p) => ({ hid: hid(logs[p.logIndex]!), hash: p.crash.contentHash })),
        );
        for (const [k, e] of found) existing.set(k, e);
        pending = pending.filter((p) => p.id !== 0);
      }
      // Back to custom plans for the lookups under the lock (bucket ranges by id).
      await trx.executeQuery(CompiledQuery.raw(PG_AUTO_PLANS));
      await lock();
      // Decide again with every committed bucket, in id order (as rebucket replays), and move
      // the crashes whose decision changed (new buckets; buckets other writers just made).
      bucketer = await this.refreshBuckets(trx);
      await this.loadSignatures(
        trx,
        bucketer,
        pending.map((p) => p.crash.sigKey),
      );
      pending.sort((a, b) => a.id - b.id);
      const before = pending.map((p) => `${p.bucketId}|${p.rule}|${p.similarity ?? ''}`);
      await this.assign(trx, bucketer, pending);
      const moved = pending.filter((p, i) => `${p.bucketId}|${p.rule}|${p.similarity ?? ''}` !== before[i]);
      // One statement for all moved crashes (each founder of a new bucket is one of them).
      if (moved.length > 0) {
        await trx.executeQuery(
          CompiledQuery.raw(PG_MOVE_CRASHES, [
            moved.map((p) => p.id),
            moved.map((p) => p.bucketId),
            moved.map((p) => p.rule),
            moved.map((p) => p.similarity),
          ]),
        );
      }
    }
    await this.addCounts(trx, pending);

    // Results, in input order.
    const pendingByKey = new Map(pending.map((p) => [p.key, p]));
    return logs.map((l, li) => {
      const keys = crashKeys[li]!;
      const crashes: IngestedCrash[] = l.crashes.map((c, ci) => {
        const key = keys[ci]!;
        const p = pendingByKey.get(key);
        if (p && p.logIndex === li) {
          return {
            crashId: p.id,
            bucketId: p.bucketId!,
            title: c.title,
            created: true,
            rule: p.rule,
            similarity: p.similarity,
            newBucket: p.newBucket,
          };
        }
        const e = existing.get(key);
        return {
          crashId: e?.id ?? p!.id,
          bucketId: e?.bucketId ?? p?.bucketId ?? 0,
          title: c.title,
          created: false,
          rule: e?.rule ?? p?.rule ?? 'new',
          similarity: e?.similarity ?? p?.similarity ?? null,
          newBucket: false,
        };
      });
      return {
        logId: logIds[li]!,
        source: l.source,
        host: l.host,
        format: l.format,
        duplicateLog: duplicateLog[li]!,
        crashes,
        noCrash: l.crashes.length === 0,
        warnings: l.warnings,
      };
    });
  }

  /**
   * Inserts new logs and records their ids in `ids`. Returns the keys of logs that turned out
   * to be stored already (PostgreSQL, which does not look them up first; their ids are recorded).
   */
  private async insertLogs(
    trx: Db,
    fresh: Map<string, PreparedLog>,
    hostIds: Map<string, number>,
    ids: Map<string, number>,
    careful: boolean,
  ): Promise<Set<string>> {
    const raced = new Set<string>();
    if (fresh.size === 0) return raced;
    /** A log row's values in LOG_COLS order, less the id (no object per row and copy). */
    const values = (l: PreparedLog): unknown[] => [
      hostIds.get(l.host)!,
      l.sha256,
      l.source,
      l.format,
      l.size,
      l.receivedAt,
      l.crashes.length,
      l.crashes.length === 0 ? 1 : 0,
      JSON.stringify(l.warnings),
      l.text,
    ];
    if (this.o.sqlite) {
      let next = (await this.maxId(trx, 'logs')) + 1;
      const rows: unknown[][] = [];
      for (const [k, l] of fresh) {
        const id = next++;
        ids.set(k, id);
        const r = values(l);
        r.unshift(id);
        rows.push(r);
      }
      this.insertSqliteRows('logs', LOG_COLS, rows, 100);
      return raced;
    }
    const sorted = [...fresh].sort((a, b) => cmp(a[0], b[0]));
    // 1,000 rows x 10 columns per statement: far below PostgreSQL's parameter limit.
    const cols = LOG_COLS.filter((c) => c !== 'id');
    for (const part of chunks(sorted, 1000)) {
      const rows = await this.pgInsert<{ id: number; host_id: number; sha256: string }>(
        trx,
        'logs',
        cols,
        part.map(([, l]) => values(l)),
        `${careful ? 'on conflict (host_id, sha256) do nothing ' : ''}returning id, host_id, sha256`,
        part.length === 1000,
      );
      for (const r of rows) ids.set(`${num(r.host_id)}:${r.sha256}`, num(r.id));
    }
    const lost = sorted.filter(([k]) => !ids.has(k));
    if (lost.length > 0) {
      const found = await this.findLogs(
        trx,
        lost.map(([, l]) => ({ hid: hostIds.get(l.host)!, sha: l.sha256 })),
      );
      for (const [k, id] of found) {
        ids.set(k, id);
        raced.add(k);
      }
    }
    return raced;
  }

  /**
   * Bucket decisions for new crashes, in order, under the write lock: founds new buckets (ids
   * handed out here), records rule-0 keys, and sets each crash's bucket, rule and similarity.
   */
  private async assign(trx: Db, bucketer: Bucketer, pending: Pending[]): Promise<void> {
    // Asked for only when this batch founds a bucket (on PostgreSQL a round trip under the lock).
    let nextBucket = 0;
    const newBuckets: Insertable<Database['buckets']>[] = [];
    const newCounts: Insertable<Database['bucket_counts']>[] = [];
    const newKeys: { sig_key: string; bucket_id: number }[] = [];
    for (const p of pending) {
      const c = p.crash;
      const d = bucketer.decide(c.title, c.signature, c.sigKey);
      let bucketId = d.bucketId;
      if (bucketId == null) {
        if (nextBucket === 0) nextBucket = (await this.maxId(trx, 'buckets')) + 1;
        bucketId = nextBucket++;
        newBuckets.push({
          id: bucketId,
          title: c.title,
          kind: c.kind,
          signature: c.signatureJson,
          search_text: searchText(c.title, c.signature),
          representative_crash_id: p.id,
          created_at: nowIso(),
        } as Insertable<Database['buckets']>);
        // addCounts adds the members (this founder included).
        newCounts.push({ bucket_id: bucketId, count: 0, first_seen: c.occurredAt, last_seen: c.occurredAt });
        bucketer.add({ id: bucketId, title: c.title, signature: c.signature });
      }
      if (!bucketer.knows(c.sigKey)) {
        bucketer.remember(c.sigKey, bucketId);
        newKeys.push({ sig_key: c.sigKey, bucket_id: bucketId });
      }
      p.bucketId = bucketId;
      p.rule = d.rule;
      p.similarity = round4(d.similarity);
      p.newBucket = d.bucketId == null;
    }
    for (const part of chunks(newBuckets, 200)) await trx.insertInto('buckets').values(part).execute();
    for (const part of chunks(newCounts)) await trx.insertInto('bucket_counts').values(part).execute();
    for (const part of chunks(newKeys)) {
      await trx
        .insertInto('signatures')
        .values(part)
        .onConflict((oc) => oc.column('sig_key').doNothing())
        .execute();
    }
  }

  /**
   * Adds the new crashes to their buckets' count and first/last seen. Incremental (the crashes
   * are new, and every writer does this under the write lock), so a batch costs one small update
   * per bucket it touched instead of a scan of all their members; rebucket recounts from scratch.
   */
  private async addCounts(trx: Db, pending: Pending[]): Promise<void> {
    const per = new Map<number, { n: number; f: string; l: string }>();
    for (const p of pending) {
      const t = p.crash.occurredAt;
      const a = per.get(p.bucketId!);
      if (!a) per.set(p.bucketId!, { n: 1, f: t, l: t });
      else {
        a.n++;
        if (t < a.f) a.f = t;
        if (t > a.l) a.l = t;
      }
    }
    const list = [...per].sort((a, b) => a[0] - b[0]);
    if (list.length === 0) return;
    if (this.o.sqlite) {
      // One call per bucket: measured as fast as one UPDATE ... FROM json_each over all of them,
      // and faster than a 100-row VALUES list.
      const st = this.stmt(
        'update bucket_counts set count = count + ?, first_seen = min(first_seen, ?), last_seen = max(last_seen, ?) where bucket_id = ?',
      );
      for (const [id, a] of list) st.run(a.n, a.f, a.l, id);
      return;
    }
    // One statement of four arrays, whatever the number of buckets: a constant text that runs as
    // a named prepared statement (a VALUES list of 4 parameters per bucket was parsed and planned
    // anew for every batch, under the write lock).
    await trx.executeQuery(
      CompiledQuery.raw(PG_ADD_COUNTS, [
        list.map(([id]) => id),
        list.map(([, a]) => a.n),
        list.map(([, a]) => a.f),
        list.map(([, a]) => a.l),
      ]),
    );
  }

  private readonly pgTexts = new Map<string, string>();

  /**
   * A multi-row INSERT on PostgreSQL from SQL text cached per table and row count: building and
   * compiling the query tree of a 500-row insert in Kysely cost ~5 ms per statement in the writer.
   */
  private async pgInsert<R>(
    trx: Db,
    table: string,
    cols: readonly string[],
    rows: unknown[][],
    tail: string,
    full: boolean,
  ): Promise<R[]> {
    const key = `${table}|${rows.length}|${tail}`;
    let text = this.pgTexts.get(key);
    if (!text) {
      let k = 0;
      const tuples = rows.map(() => `(${cols.map(() => `$${++k}`).join(',')})`);
      text = `insert into ${table} (${cols.join(',')}) values ${tuples.join(',')} ${tail}`;
      // Full chunks repeat; the odd-sized last chunks of batches need not all be kept.
      if (this.pgTexts.size < 16) this.pgTexts.set(key, text);
      // Full chunks also run as named prepared statements (parsed and planned once).
      if (full) preparePgText(text);
    }
    const r = await trx.executeQuery<R>(CompiledQuery.raw(text, flatRows(rows, 0, rows.length)));
    return r.rows;
  }

  private readonly stmts = new Map<string, import('better-sqlite3').Statement>();

  /** A statement on the SQLite connection (the one holding the transaction), prepared once. */
  private stmt(text: string): import('better-sqlite3').Statement {
    let st = this.stmts.get(text);
    if (!st) {
      st = this.o.sqlite!.prepare(text);
      this.stmts.set(text, st);
    }
    return st;
  }

  /**
   * Rows into a table through cached n-row prepared INSERTs (Kysely would compile and prepare a
   * fresh statement of thousands of parameters per chunk; that was a third of the write time).
   */
  private insertSqliteRows(table: string, cols: readonly string[], rows: unknown[][], n: number): void {
    const tuple = `(${cols.map(() => '?').join(',')})`;
    const head = `insert into ${table} (${cols.join(',')}) values `;
    let k = 0;
    if (rows.length >= n) {
      const many = this.stmt(head + Array(n).fill(tuple).join(','));
      for (; k + n <= rows.length; k += n) many.run(flatRows(rows, k, k + n));
    }
    const one = this.stmt(head + tuple);
    for (; k < rows.length; k++) one.run(rows[k]!);
  }

  /**
   * SQLite: the rows of `head (?, ..., ?)` for a list of values, 100 per call through one cached
   * statement (a short last part is padded with its first value, which IN ignores). Measured on
   * 1,000 misses in a 100k-row unique index: ~4x faster than a call per value, ~2x faster than
   * one `IN (select value from json_each(?))`, which builds and sorts a temporary table.
   */
  private sqliteIn<R>(head: string, first: unknown, values: unknown[]): R[] {
    const n = SQLITE_IN_LIST;
    const st = this.stmt(`${head} (${Array(n).fill('?').join(',')})`);
    const out: R[] = [];
    for (let k = 0; k < values.length; k += n) {
      const part = values.slice(k, k + n);
      while (part.length < n) part.push(part[0]);
      // `first`: the value of a `?` before the list (a host id), if the statement has one.
      const rows = (first === undefined ? st.all(...part) : st.all(first, ...part)) as R[];
      for (const r of rows) out.push(r);
    }
    return out;
  }

  private async maxId(trx: Db, table: 'buckets' | 'crashes' | 'logs'): Promise<number> {
    if (this.o.sqlite) {
      const m = (this.stmt(`select max(id) as m from ${table}`).get() as { m: number | null }).m;
      return m ?? 0;
    }
    const r = await trx
      .selectFrom(table)
      .select((eb) => eb.fn.max('id').as('m'))
      .executeTakeFirst();
    return r?.m == null ? 0 : num(r.m);
  }

  /**
   * Re-derives count and first/last seen of buckets from their members (always consistent): one
   * grouped scan of the members per chunk (UPDATE ... FROM, in both dialects) instead of three
   * correlated subqueries per bucket.
   */
  private async recount(trx: Db, bucketIds: number[]): Promise<void> {
    for (const part of chunks(bucketIds.sort((a, b) => a - b))) {
      await trx
        .updateTable('bucket_counts')
        .from(
          trx
            .selectFrom('crashes')
            .select((eb) => [
              'crashes.bucket_id as bid',
              eb.fn.countAll<number>().as('n'),
              eb.fn.min('crashes.occurred_at').as('f'),
              eb.fn.max('crashes.occurred_at').as('l'),
            ])
            .where('crashes.bucket_id', 'in', part)
            .groupBy('crashes.bucket_id')
            .as('g'),
        )
        .set((eb) => ({
          count: eb.ref('g.n'),
          first_seen: eb.ref('g.f'),
          last_seen: eb.ref('g.l'),
        }))
        .whereRef('bucket_counts.bucket_id', '=', 'g.bid')
        .execute();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Queries

  async listBuckets(filter: BucketFilter = {}): Promise<BucketList> {
    const since = toIso(filter.since ?? null);
    const until = toIso(filter.until ?? null);
    let base = this.db
      .selectFrom('crashes as c')
      .innerJoin('buckets as b', 'b.id', 'c.bucket_id')
      .innerJoin('hosts as h', 'h.id', 'c.host_id')
      .innerJoin('kernels as k', 'k.id', 'c.kernel_id');
    if (since) base = base.where('c.occurred_at', '>=', since);
    if (until) base = base.where('c.occurred_at', '<=', until);
    if (filter.host) base = base.where('h.name', '=', filter.host);
    if (filter.kernel) {
      const k = filter.kernel;
      base = k.endsWith('*')
        ? base.where(sql<boolean>`k.release like ${`${likeEscape(k.slice(0, -1))}%`} escape '\\'`)
        : base.where('k.release', '=', k);
    }
    if (filter.search?.trim()) {
      const s = `%${likeEscape(filter.search.trim().toLowerCase())}%`;
      base = base.where(sql<boolean>`b.search_text like ${s} escape '\\'`);
    }
    const grouped = base
      .select((eb) => [
        'b.id as id',
        'b.title as title',
        'b.kind as kind',
        eb.fn.countAll<number>().as('n'),
        sql<number>`count(distinct c.host_id)`.as('nhosts'),
        eb.fn.min('c.occurred_at').as('first_seen'),
        eb.fn.max('c.occurred_at').as('last_seen'),
      ])
      .groupBy(['b.id', 'b.title', 'b.kind']);
    const totalRow = await this.db
      .selectFrom(grouped.as('g'))
      .select((eb) => eb.fn.countAll<number>().as('total'))
      .executeTakeFirst();
    const sort = filter.sort ?? 'lastSeen';
    const col = {
      lastSeen: 'last_seen',
      firstSeen: 'first_seen',
      count: 'n',
      title: 'title',
      hosts: 'nhosts',
    }[sort] as 'last_seen' | 'first_seen' | 'n' | 'title' | 'nhosts';
    const dir = filter.order ?? (sort === 'title' ? 'asc' : 'desc');
    const limit = Math.max(0, Math.min(filter.limit ?? 10_000, 100_000));
    const rows = await this.db
      .selectFrom(grouped.as('g'))
      .selectAll()
      .orderBy(col, dir)
      .orderBy('id', 'asc')
      .limit(limit)
      .offset(Math.max(0, filter.offset ?? 0))
      .execute();
    const ids = rows.map((r) => num(r.id));
    const hosts = await this.namesPerBucket(ids, 'host', filter);
    const kernels = await this.namesPerBucket(ids, 'kernel', filter);
    let perDay: Map<number, DayCount[]> | null = null;
    if (filter.perDayDays && filter.perDayDays > 0) {
      perDay = await this.perDayFor(ids, filter.perDayDays, until, filter);
    }
    const items: BucketListItem[] = rows.map((r) => {
      const id = num(r.id);
      const item: BucketListItem = {
        id,
        title: r.title,
        count: num(r.n),
        hosts: hosts.get(id) ?? [],
        kernels: kernels.get(id) ?? [],
        firstSeen: String(r.first_seen),
        lastSeen: String(r.last_seen),
        kind: r.kind,
      };
      if (perDay) item.perDay = perDay.get(id) ?? [];
      return item;
    });
    return { items, total: num(totalRow?.total ?? 0) };
  }

  private async namesPerBucket(
    ids: number[],
    what: 'host' | 'kernel',
    filter: BucketFilter,
  ): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    const since = toIso(filter.since ?? null);
    const until = toIso(filter.until ?? null);
    for (const part of chunks(ids)) {
      if (part.length === 0) continue;
      let q = this.db
        .selectFrom('crashes as c')
        .innerJoin('hosts as h', 'h.id', 'c.host_id')
        .innerJoin('kernels as k', 'k.id', 'c.kernel_id')
        .select(['c.bucket_id as bid', what === 'host' ? 'h.name as name' : 'k.release as name'])
        .where('c.bucket_id', 'in', part);
      // The same crash-level filters as the listing, so names agree with counts.
      if (since) q = q.where('c.occurred_at', '>=', since);
      if (until) q = q.where('c.occurred_at', '<=', until);
      if (filter.host) q = q.where('h.name', '=', filter.host);
      if (filter.kernel) {
        const k = filter.kernel;
        q = k.endsWith('*')
          ? q.where(sql<boolean>`k.release like ${`${likeEscape(k.slice(0, -1))}%`} escape '\\'`)
          : q.where('k.release', '=', k);
      }
      const rows = await q.distinct().execute();
      for (const r of rows) {
        const id = num(r.bid);
        const list = out.get(id);
        if (list) list.push(r.name);
        else out.set(id, [r.name]);
      }
    }
    for (const list of out.values()) list.sort();
    return out;
  }

  private async perDayFor(
    ids: number[],
    days: number,
    until: string | null,
    filter: BucketFilter = {},
  ): Promise<Map<number, DayCount[]>> {
    const end = (until ?? nowIso()).slice(0, 10);
    const startMs = Date.parse(`${end}T00:00:00Z`) - (days - 1) * 86400_000;
    const start = new Date(startMs).toISOString().slice(0, 10);
    const range = dayRange(start, end, days);
    const counts = new Map<number, Map<string, number>>();
    for (const part of chunks(ids)) {
      if (part.length === 0) continue;
      let q = this.db
        .selectFrom('crashes as c')
        .innerJoin('hosts as h', 'h.id', 'c.host_id')
        .innerJoin('kernels as k', 'k.id', 'c.kernel_id')
        .select((eb) => [
          'c.bucket_id as bucket_id',
          sql<string>`substr(c.occurred_at, 1, 10)`.as('day'),
          eb.fn.countAll<number>().as('n'),
        ])
        .where('c.bucket_id', 'in', part)
        .where('c.occurred_at', '>=', `${start}T00:00:00.000Z`);
      // The sparkline counts what the listing counts.
      if (filter.host) q = q.where('h.name', '=', filter.host);
      if (filter.kernel) {
        const k = filter.kernel;
        q = k.endsWith('*')
          ? q.where(sql<boolean>`k.release like ${`${likeEscape(k.slice(0, -1))}%`} escape '\\'`)
          : q.where('k.release', '=', k);
      }
      const rows = await q.groupBy(['c.bucket_id', sql`substr(c.occurred_at, 1, 10)`]).execute();
      for (const r of rows) {
        const id = num(r.bucket_id);
        let m = counts.get(id);
        if (!m) {
          m = new Map();
          counts.set(id, m);
        }
        m.set(r.day, num(r.n));
      }
    }
    const out = new Map<number, DayCount[]>();
    for (const id of ids) out.set(id, fillDays(range, counts.get(id) ?? new Map()));
    return out;
  }

  async bucketPerDay(
    bucketId: number,
    opts: { since?: IsoTime | Date; until?: IsoTime | Date } = {},
  ): Promise<DayCount[]> {
    const b = await this.db
      .selectFrom('bucket_counts')
      .select(['first_seen', 'last_seen'])
      .where('bucket_id', '=', bucketId)
      .executeTakeFirst();
    if (!b) return [];
    const from = (toIso(opts.since ?? null) ?? b.first_seen).slice(0, 10);
    const to = (toIso(opts.until ?? null) ?? b.last_seen).slice(0, 10);
    const rows = await this.db
      .selectFrom('crashes')
      .select((eb) => [sql<string>`substr(occurred_at, 1, 10)`.as('day'), eb.fn.countAll<number>().as('n')])
      .where('bucket_id', '=', bucketId)
      .groupBy(sql`substr(occurred_at, 1, 10)`)
      .execute();
    return fillDays(dayRange(from, to), new Map(rows.map((r) => [r.day, num(r.n)])));
  }

  async getBucket(id: number, opts: { members?: PageOpts } = {}): Promise<Bucket | null> {
    const b = await this.db
      .selectFrom('buckets')
      .innerJoin('bucket_counts', 'bucket_counts.bucket_id', 'buckets.id')
      .selectAll('buckets')
      .select(['bucket_counts.count', 'bucket_counts.first_seen', 'bucket_counts.last_seen'])
      .where('buckets.id', '=', id)
      .executeTakeFirst();
    if (!b) return null;
    const hostCounts = await this.db
      .selectFrom('crashes as c')
      .innerJoin('hosts as h', 'h.id', 'c.host_id')
      .select((eb) => ['h.name as name', eb.fn.countAll<number>().as('n')])
      .where('c.bucket_id', '=', id)
      .groupBy('h.name')
      .execute();
    const kernelCounts = await this.db
      .selectFrom('crashes as c')
      .innerJoin('kernels as k', 'k.id', 'c.kernel_id')
      .select((eb) => ['k.release as name', eb.fn.countAll<number>().as('n')])
      .where('c.bucket_id', '=', id)
      .groupBy('k.release')
      .execute();
    const byCount = (a: { name: string; count: number }, c: { name: string; count: number }) =>
      c.count - a.count || (a.name < c.name ? -1 : a.name > c.name ? 1 : 0);
    const hc = hostCounts.map((r) => ({ name: r.name, count: num(r.n) })).sort(byCount);
    const kc = kernelCounts.map((r) => ({ name: r.name, count: num(r.n) })).sort(byCount);
    return {
      id: num(b.id),
      title: b.title,
      kind: b.kind,
      count: num(b.count),
      hosts: hc.map((h) => h.name).sort(),
      kernels: kc.map((k) => k.name).sort(),
      firstSeen: b.first_seen,
      lastSeen: b.last_seen,
      signature: JSON.parse(b.signature) as string[],
      representativeCrashId: num(b.representative_crash_id ?? 0),
      hostCounts: hc,
      kernelCounts: kc,
      perDay: await this.bucketPerDay(id),
      members: await this.listBucketCrashes(id, opts.members ?? { limit: 100 }),
      analyses: await this.listAnalyses({ bucketId: id }),
    };
  }

  private crashSummaryQuery() {
    return this.db
      .selectFrom('crashes as c')
      .innerJoin('hosts as h', 'h.id', 'c.host_id')
      .innerJoin('kernels as k', 'k.id', 'c.kernel_id')
      .select([
        'c.id as id',
        'c.bucket_id as bucket_id',
        'c.title as title',
        'c.kind as kind',
        'h.name as host',
        'k.release as kernel',
        'c.occurred_at as occurred_at',
        'c.received_at as received_at',
        'c.join_rule as join_rule',
        'c.similarity as similarity',
      ]);
  }

  private toSummary(r: {
    id: number;
    bucket_id: number | null;
    title: string;
    kind: string;
    host: string;
    kernel: string;
    occurred_at: string;
    received_at: string;
    join_rule: string | null;
    similarity: number | null;
  }): CrashSummary {
    return {
      id: num(r.id),
      bucketId: r.bucket_id == null ? null : num(r.bucket_id),
      title: r.title,
      kind: r.kind,
      host: r.host,
      kernel: r.kernel,
      occurredAt: r.occurred_at,
      receivedAt: r.received_at,
      rule: r.join_rule as JoinRule | null,
      similarity: r.similarity == null ? null : Number(r.similarity),
    };
  }

  async listBucketCrashes(bucketId: number, opts: PageOpts = {}): Promise<CrashSummary[]> {
    const rows = await this.crashSummaryQuery()
      .where('c.bucket_id', '=', bucketId)
      .orderBy('c.occurred_at', 'desc')
      .orderBy('c.id', 'desc')
      .limit(Math.max(0, Math.min(opts.limit ?? 100, 100_000)))
      .offset(Math.max(0, opts.offset ?? 0))
      .execute();
    return rows.map((r) => this.toSummary(r));
  }

  async listCrashes(
    filter: PageOpts & { host?: string; kernel?: string; since?: IsoTime | Date } = {},
  ): Promise<CrashSummary[]> {
    let q = this.crashSummaryQuery();
    if (filter.host) q = q.where('h.name', '=', filter.host);
    if (filter.kernel) q = q.where('k.release', '=', filter.kernel);
    const since = toIso(filter.since ?? null);
    if (since) q = q.where('c.occurred_at', '>=', since);
    const rows = await q
      .orderBy('c.id', 'desc')
      .limit(Math.max(0, Math.min(filter.limit ?? 100, 100_000)))
      .offset(Math.max(0, filter.offset ?? 0))
      .execute();
    return rows.map((r) => this.toSummary(r));
  }

  async getCrash(id: number): Promise<Crash | null> {
    const r = await this.crashSummaryQuery()
      .innerJoin('logs as l', 'l.id', 'c.log_id')
      .select([
        'k.build as build',
        'c.raw_text as raw_text',
        'c.raw_start_line as raw_start_line',
        'c.report as report',
        'c.signature as signature',
        'c.content_hash as content_hash',
        'c.log_id as log_id',
        'l.source as source',
      ])
      .where('c.id', '=', id)
      .executeTakeFirst();
    if (!r) return null;
    return {
      ...this.toSummary(r),
      rawText: r.raw_text,
      rawStartLine: num(r.raw_start_line),
      report: decodeReport(r.report, r.raw_text),
      signature: JSON.parse(r.signature) as string[],
      contentHash: r.content_hash,
      kernelBuild: r.build || null,
      logId: num(r.log_id),
      logSource: r.source,
      analyses: await this.listAnalyses({ crashId: id }),
    };
  }

  private logQuery() {
    return this.db
      .selectFrom('logs as l')
      .innerJoin('hosts as h', 'h.id', 'l.host_id')
      .select([
        'l.id as id',
        'l.source as source',
        'h.name as host',
        'l.format as format',
        'l.sha256 as sha256',
        'l.size as size',
        'l.received_at as received_at',
        'l.crash_count as crash_count',
        'l.no_crash as no_crash',
        'l.warnings as warnings',
      ]);
  }

  private toLog(r: {
    id: number;
    source: string;
    host: string;
    format: string;
    sha256: string;
    size: number;
    received_at: string;
    crash_count: number;
    no_crash: number;
    warnings: string;
    text?: string | null;
  }): StoredLog {
    return {
      id: num(r.id),
      source: r.source,
      host: r.host,
      format: r.format as LogFormat,
      sha256: r.sha256,
      size: num(r.size),
      receivedAt: r.received_at,
      crashCount: num(r.crash_count),
      noCrash: num(r.no_crash) === 1,
      warnings: JSON.parse(r.warnings) as string[],
      text: r.text ?? null,
    };
  }

  async getLog(id: number): Promise<StoredLog | null> {
    const r = await this.logQuery().select('l.text as text').where('l.id', '=', id).executeTakeFirst();
    if (!r) return null;
    const log = this.toLog(r);
    if (log.text === null && log.size <= LOG_TEXT_CAP && log.crashCount === 1) {
      // Stored once, as its report's raw text (see prepareLog).
      const c = await this.db
        .selectFrom('crashes')
        .select('raw_text')
        .where('log_id', '=', id)
        .executeTakeFirst();
      if (c) log.text = Buffer.byteLength(c.raw_text) + 1 === log.size ? `${c.raw_text}\n` : c.raw_text;
    }
    return log;
  }

  async listNoCrashLogs(opts: PageOpts = {}): Promise<StoredLog[]> {
    const rows = await this.logQuery()
      .where('l.no_crash', '=', 1)
      .orderBy('l.id', 'desc')
      .limit(Math.max(0, Math.min(opts.limit ?? 100, 10_000)))
      .offset(Math.max(0, opts.offset ?? 0))
      .execute();
    return rows.map((r) => this.toLog(r));
  }

  // -------------------------------------------------------------------------------------------
  // Analyses

  async addAnalysis(a: AnalysisInput): Promise<number> {
    if (!a.kind || !a.title) throw new InputError('analysis', 'kind and title are required');
    if (a.markdown == null && a.html == null && a.json === undefined) {
      throw new InputError('analysis', 'at least one of markdown, html, json is required');
    }
    if (
      a.crashId != null &&
      !(await this.db.selectFrom('crashes').select('id').where('id', '=', a.crashId).executeTakeFirst())
    ) {
      throw new InputError('analysis', `crash ${a.crashId} does not exist`);
    }
    if (
      a.bucketId != null &&
      !(await this.db.selectFrom('buckets').select('id').where('id', '=', a.bucketId).executeTakeFirst())
    ) {
      throw new InputError('analysis', `bucket ${a.bucketId} does not exist`);
    }
    const row = await this.db
      .insertInto('analyses')
      .values({
        kind: a.kind,
        title: a.title,
        crash_id: a.crashId ?? null,
        bucket_id: a.bucketId ?? null,
        markdown: a.markdown ?? null,
        html: a.html ?? null,
        json: a.json === undefined ? null : JSON.stringify(a.json),
        meta: JSON.stringify(a.meta ?? {}),
        job_id: a.jobId ?? null,
        created_at: nowIso(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return num(row.id);
  }

  async listAnalyses(filter: AnalysisFilter = {}): Promise<AnalysisSummary[]> {
    let q = this.db
      .selectFrom('analyses')
      .select([
        'id',
        'kind',
        'title',
        'crash_id',
        'bucket_id',
        'created_at',
        sql<number>`case when markdown is null then 0 else 1 end`.as('has_md'),
        sql<number>`case when html is null then 0 else 1 end`.as('has_html'),
        sql<number>`case when json is null then 0 else 1 end`.as('has_json'),
      ]);
    if (filter.crashId != null) q = q.where('crash_id', '=', filter.crashId);
    if (filter.bucketId != null) q = q.where('bucket_id', '=', filter.bucketId);
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(Math.max(0, Math.min(filter.limit ?? 1000, 100_000)))
      .offset(Math.max(0, filter.offset ?? 0))
      .execute();
    return rows.map((r) => ({
      id: num(r.id),
      kind: r.kind,
      title: r.title,
      crashId: r.crash_id == null ? null : num(r.crash_id),
      bucketId: r.bucket_id == null ? null : num(r.bucket_id),
      createdAt: r.created_at,
      formats: [
        ...(num(r.has_md) ? (['md'] as const) : []),
        ...(num(r.has_html) ? (['html'] as const) : []),
        ...(num(r.has_json) ? (['json'] as const) : []),
      ],
    }));
  }

  async getAnalysis(id: number): Promise<Analysis | null> {
    const r = await this.db.selectFrom('analyses').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return null;
    const formats: ('md' | 'html' | 'json')[] = [];
    if (r.markdown != null) formats.push('md');
    if (r.html != null) formats.push('html');
    if (r.json != null) formats.push('json');
    return {
      id: num(r.id),
      kind: r.kind,
      title: r.title,
      crashId: r.crash_id == null ? null : num(r.crash_id),
      bucketId: r.bucket_id == null ? null : num(r.bucket_id),
      createdAt: r.created_at,
      formats,
      markdown: r.markdown,
      html: r.html,
      json: r.json == null ? null : JSON.parse(r.json),
      meta: JSON.parse(r.meta) as Record<string, unknown>,
      jobId: r.job_id == null ? null : num(r.job_id),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Rebucket

  async rebucket(): Promise<RebucketResult> {
    // On PostgreSQL a writer's uncommitted crash may reference a bucket this removes while that
    // writer waits for the lock held here: a deadlock PostgreSQL breaks by aborting one of the two.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.rebucketOnce();
      } catch (err) {
        this.bucketer = null;
        if (attempt < 5 && isTransientPgError(err)) continue;
        throw err;
      }
    }
  }

  private async rebucketOnce(): Promise<RebucketResult> {
    return withWriteLock(this.o, async (trx) => {
      const crashes = await trx
        .selectFrom('crashes')
        .select(['id', 'title', 'kind', 'signature', 'bucket_id', 'join_rule', 'similarity'])
        .orderBy('id')
        .execute();
      const fresh = new Bucketer(stackSimilarity, DEFAULT_RULES);
      // Provisional ids 1..n in founding order; mapped to stored ids below.
      const founder: number[] = [];
      const assign: { crash: number; group: number; rule: JoinRule; similarity: number | null }[] = [];
      const groupKeys: { key: string; group: number }[] = [];
      for (const c of crashes) {
        const sig = JSON.parse(c.signature) as string[];
        const key = signatureKey(c.title, sig);
        const d = fresh.decide(c.title, sig, key);
        let g = d.bucketId;
        if (g == null) {
          g = founder.length + 1;
          founder.push(num(c.id));
          fresh.add({ id: g, title: c.title, signature: sig });
        }
        if (!fresh.knows(key)) {
          fresh.remember(key, g);
          groupKeys.push({ key, group: g });
        }
        assign.push({ crash: num(c.id), group: g, rule: d.rule, similarity: round4(d.similarity) });
      }
      const byId = new Map(crashes.map((c) => [num(c.id), c]));
      // A group keeps the stored bucket its founder was in, when no earlier group took it.
      const taken = new Set<number>();
      const groupBucket = new Map<number, number>();
      for (let g = 1; g <= founder.length; g++) {
        const c = byId.get(founder[g - 1]!)!;
        const old = c.bucket_id == null ? null : num(c.bucket_id);
        const stamp = nowIso();
        const values = {
          title: c.title,
          kind: c.kind,
          signature: c.signature,
          search_text: searchText(c.title, JSON.parse(c.signature) as string[]),
          representative_crash_id: num(c.id),
        };
        if (old != null && !taken.has(old)) {
          taken.add(old);
          groupBucket.set(g, old);
          await trx.updateTable('buckets').set(values).where('id', '=', old).execute();
        } else {
          const id = (await this.maxId(trx, 'buckets')) + 1;
          await trx
            .insertInto('buckets')
            .values({
              id,
              ...values,
              created_at: stamp,
            } as Insertable<Database['buckets']>)
            .execute();
          // Counted from the members below (recount).
          await trx
            .insertInto('bucket_counts')
            .values({ bucket_id: id, count: 0, first_seen: stamp, last_seen: stamp })
            .execute();
          groupBucket.set(g, id);
          taken.add(id);
        }
      }
      // Update memberships grouped by identical (bucket, rule, similarity) to keep statements few.
      let moved = 0;
      const groups = new Map<string, number[]>();
      for (const a of assign) {
        const c = byId.get(a.crash)!;
        const bucket = groupBucket.get(a.group)!;
        const same =
          c.bucket_id != null &&
          num(c.bucket_id) === bucket &&
          c.join_rule === a.rule &&
          (c.similarity == null ? null : round4(Number(c.similarity))) === a.similarity;
        if (same) continue;
        if (c.bucket_id == null || num(c.bucket_id) !== bucket) moved++;
        const key = `${bucket}|${a.rule}|${a.similarity ?? ''}`;
        const list = groups.get(key);
        if (list) list.push(a.crash);
        else groups.set(key, [a.crash]);
      }
      for (const [key, ids] of groups) {
        const [b, rule, s] = key.split('|');
        for (const part of chunks(ids)) {
          await trx
            .updateTable('crashes')
            .set({ bucket_id: Number(b), join_rule: rule!, similarity: s === '' ? null : Number(s) })
            .where('id', 'in', part)
            .execute();
        }
      }
      await trx.deleteFrom('signatures').execute();
      for (const part of chunks(groupKeys)) {
        await trx
          .insertInto('signatures')
          .values(part.map((x) => ({ sig_key: x.key, bucket_id: groupBucket.get(x.group)! })))
          .execute();
      }
      // Buckets left without members go; their analyses stay attached to their crashes.
      const empty = await trx
        .selectFrom('buckets')
        .select('id')
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('crashes').select('crashes.id').whereRef('crashes.bucket_id', '=', 'buckets.id'),
            ),
          ),
        )
        .execute();
      const emptyIds = empty.map((r) => num(r.id));
      for (const part of chunks(emptyIds)) {
        await trx.updateTable('analyses').set({ bucket_id: null }).where('bucket_id', 'in', part).execute();
        await trx.deleteFrom('bucket_counts').where('bucket_id', 'in', part).execute();
        await trx.deleteFrom('buckets').where('id', 'in', part).execute();
      }
      await this.recount(trx, [...groupBucket.values()]);
      const gen = await trx
        .selectFrom('meta')
        .select('value')
        .where('key', '=', 'bucket_generation')
        .executeTakeFirst();
      await upsertMeta(trx, this.o.dialect, 'bucket_generation', String(Number(gen?.value ?? 0) + 1));
      this.bucketer = null;
      return { crashes: crashes.length, buckets: founder.length, moved };
    });
  }

  // -------------------------------------------------------------------------------------------
  // Jobs

  enqueueJob(job: JobInput): Promise<number> {
    return this.jobs.enqueue(job);
  }

  async getJob(id: number): Promise<Job | null> {
    const r = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toJob(r) : null;
  }

  async cancelJob(id: number): Promise<Job | null> {
    const row = await this.db.selectFrom('jobs').select('boss_id').where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const { cancelJobRow } = await import('../jobs/queue.ts');
    if (await cancelJobRow(this.db, id)) await this.jobs.cancel(row.boss_id);
    return this.getJob(id);
  }

  async listJobs(filter: JobFilter = {}): Promise<Job[]> {
    let q = this.db.selectFrom('jobs').selectAll();
    if (filter.state) q = q.where('state', '=', filter.state);
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(Math.max(0, Math.min(filter.limit ?? 100, 100_000)))
      .offset(Math.max(0, filter.offset ?? 0))
      .execute();
    // A listing must stay small: long strings in payloads (an ingest job's log text) are elided.
    return rows.map((r) => ({ ...toJob(r), payload: elideLong(JSON.parse(r.payload)) }));
  }

  async listHosts(limit = 1000): Promise<string[]> {
    const rows = await this.db.selectFrom('hosts').select('name').orderBy('name').limit(limit).execute();
    return rows.map((r) => r.name);
  }

  async stats(): Promise<StoreStats> {
    const count = async (t: 'crashes' | 'buckets' | 'logs' | 'hosts' | 'kernels' | 'analyses') =>
      num(
        (
          await this.db
            .selectFrom(t)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirst()
        )?.n ?? 0,
      );
    const noCrash = await this.db
      .selectFrom('logs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('no_crash', '=', 1)
      .executeTakeFirst();
    return {
      crashes: await count('crashes'),
      buckets: await count('buckets'),
      logs: await count('logs'),
      noCrashLogs: num(noCrash?.n ?? 0),
      hosts: await count('hosts'),
      kernels: await count('kernels'),
      analyses: await count('analyses'),
    };
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    await this.jobs.close();
    await this.db.destroy();
  }
}

function elideLong(v: unknown): unknown {
  if (typeof v === 'string') return v.length > 4096 ? `<${Buffer.byteLength(v)} bytes>` : v;
  if (Array.isArray(v)) return v.length > 1000 ? `<${v.length} items>` : v.map(elideLong);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, elideLong(x)]));
  return v;
}

export function searchText(title: string, signature: string[]): string {
  return `${title}\n${signature.join('\n')}`.toLowerCase();
}

export function toJob(r: {
  id: number;
  kind: string;
  state: string;
  payload: string;
  attempts: number;
  max_attempts: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  worker: string | null;
  result: string | null;
  error: string | null;
}): Job {
  return {
    id: num(r.id),
    kind: r.kind,
    state: r.state as Job['state'],
    payload: JSON.parse(r.payload),
    attempts: num(r.attempts),
    maxAttempts: num(r.max_attempts),
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    worker: r.worker,
    result: r.result == null ? null : JSON.parse(r.result),
    error: r.error,
  };
}
