// Schema migrations, one list for both dialects. Each migration runs once, in order, inside the
// store's write lock (so eight processes opening a fresh database at once migrate it once).
// Never edit a released migration: append a new one.
import { type CreateTableBuilder, sql } from 'kysely';
import { signatureKey } from './bucketing.ts';
import { type Db, nowIso, type OpenedDb, withWriteLock } from './db.ts';
import type { Dialect } from './types.ts';

interface Migration {
  version: number;
  name: string;
  up(db: Db, dialect: Dialect): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: the builder's table/column generics do not matter here
type TB = CreateTableBuilder<any, any>;

/** An auto-increment integer primary key in each dialect's own words. */
function withId(t: TB, dialect: Dialect): TB {
  return dialect === 'postgres'
    ? t.addColumn('id', 'serial', (c) => c.primaryKey())
    : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial schema: hosts, kernels, logs, buckets, crashes, analyses, jobs',
    async up(db, d) {
      await withId(db.schema.createTable('hosts'), d)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .execute();
      await withId(db.schema.createTable('kernels'), d)
        .addColumn('release', 'text', (c) => c.notNull())
        .addColumn('build', 'text', (c) => c.notNull().defaultTo(''))
        .addUniqueConstraint('kernels_release_build', ['release', 'build'])
        .execute();
      await withId(db.schema.createTable('logs'), d)
        .addColumn('host_id', 'integer', (c) => c.notNull().references('hosts.id'))
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('crash_count', 'integer', (c) => c.notNull())
        .addColumn('no_crash', 'integer', (c) => c.notNull())
        .addColumn('warnings', 'text', (c) => c.notNull())
        .addColumn('text', 'text')
        .addUniqueConstraint('logs_host_sha', ['host_id', 'sha256'])
        .execute();
      await withId(db.schema.createTable('buckets'), d)
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .addColumn('search_text', 'text', (c) => c.notNull())
        .addColumn('representative_crash_id', 'integer')
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('buckets_title').on('buckets').column('title').execute();
      await db.schema.createIndex('buckets_last_seen').on('buckets').column('last_seen').execute();
      await withId(db.schema.createTable('crashes'), d)
        .addColumn('log_id', 'integer', (c) => c.notNull().references('logs.id'))
        .addColumn('host_id', 'integer', (c) => c.notNull().references('hosts.id'))
        .addColumn('kernel_id', 'integer', (c) => c.notNull().references('kernels.id'))
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('raw_text', 'text', (c) => c.notNull())
        .addColumn('raw_start_line', 'integer', (c) => c.notNull())
        .addColumn('report', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .addColumn('bucket_id', 'integer', (c) => c.references('buckets.id'))
        .addColumn('join_rule', 'text')
        .addColumn('similarity', d === 'postgres' ? 'double precision' : 'real')
        .addUniqueConstraint('crashes_host_hash', ['host_id', 'content_hash'])
        .execute();
      await db.schema
        .createIndex('crashes_bucket_time')
        .on('crashes')
        .columns(['bucket_id', 'occurred_at'])
        .execute();
      await db.schema.createIndex('crashes_occurred').on('crashes').column('occurred_at').execute();
      await db.schema.createIndex('crashes_log').on('crashes').column('log_id').execute();
      await db.schema.createIndex('crashes_host').on('crashes').columns(['host_id', 'bucket_id']).execute();
      await db.schema
        .createIndex('crashes_kernel')
        .on('crashes')
        .columns(['kernel_id', 'bucket_id'])
        .execute();
      await withId(db.schema.createTable('jobs'), d)
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('timeout_s', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('lease_until', 'text')
        .addColumn('worker', 'text')
        .addColumn('result', 'text')
        .addColumn('error', 'text')
        .addColumn('boss_id', 'text')
        .execute();
      await db.schema.createIndex('jobs_state').on('jobs').columns(['state', 'id']).execute();
      await withId(db.schema.createTable('job_attempts'), d)
        .addColumn('job_id', 'integer', (c) => c.notNull().references('jobs.id'))
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('worker', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('outcome', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('job_attempts_job').on('job_attempts').column('job_id').execute();
      await withId(db.schema.createTable('analyses'), d)
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('crash_id', 'integer', (c) => c.references('crashes.id'))
        .addColumn('bucket_id', 'integer', (c) => c.references('buckets.id').onDelete('set null'))
        .addColumn('markdown', 'text')
        .addColumn('html', 'text')
        .addColumn('json', 'text')
        .addColumn('meta', 'text', (c) => c.notNull())
        .addColumn('job_id', 'integer', (c) => c.references('jobs.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('analyses_crash').on('analyses').column('crash_id').execute();
      await db.schema.createIndex('analyses_bucket').on('analyses').column('bucket_id').execute();
      await db
        .insertInto('meta')
        .values([{ key: 'bucket_generation', value: '1' }])
        .execute();
    },
  },
  {
    version: 2,
    name: 'signatures: the bucket of the first crash with each title and stack (bucketing rule 0)',
    async up(db) {
      await db.schema
        .createTable('signatures')
        .addColumn('sig_key', 'text', (c) => c.primaryKey())
        .addColumn('bucket_id', 'integer', (c) => c.notNull().references('buckets.id'))
        .execute();
      const rows = await db
        .selectFrom('crashes')
        .select(['title', 'signature', 'bucket_id'])
        .orderBy('id')
        .execute();
      const seen = new Map<string, number>();
      for (const r of rows) {
        const k = signatureKey(r.title, JSON.parse(r.signature) as string[]);
        if (r.bucket_id != null && !seen.has(k)) seen.set(k, Number(r.bucket_id));
      }
      const all = [...seen].map(([sig_key, bucket_id]) => ({ sig_key, bucket_id }));
      for (let i = 0; i < all.length; i += 400)
        await db
          .insertInto('signatures')
          .values(all.slice(i, i + 400))
          .execute();
    },
  },
  {
    version: 3,
    name: 'crashes: lz4 TOAST compression of raw_text/report/signature on PostgreSQL',
    async up(db, d) {
      // pglz compressing each ~2-5 KB value was the largest part of a crash row's INSERT on
      // PostgreSQL; lz4 is several times cheaper. Only servers built with lz4 (14+) offer it, and
      // only newly written values use it; on SQLite there is nothing to do.
      if (d !== 'postgres') return;
      const r = await sql<{ ok: boolean }>`
        select 'lz4' = any(enumvals) as ok from pg_settings where name = 'default_toast_compression'`.execute(
        db,
      );
      if (!r.rows[0]?.ok) return;
      await sql`alter table crashes
        alter column raw_text set compression lz4,
        alter column report set compression lz4,
        alter column signature set compression lz4`.execute(db);
    },
  },
  {
    version: 4,
    name: 'crashes: ids from the sequence on PostgreSQL (rows go in before the write lock); drop crashes_host',
    async up(db, d) {
      // crashes_host (host_id, bucket_id) only served `--host` filters, which the unique
      // (host_id, content_hash) index serves as well (same leading column); one index fewer to
      // update per crash.
      await db.schema.dropIndex('crashes_host').ifExists().execute();
      // Crash ids were max(id)+1 under the write lock, so the serial's sequence never moved;
      // writers now insert crash rows in parallel and take ids from it.
      if (d !== 'postgres') return;
      await sql`select setval(pg_get_serial_sequence('crashes', 'id'),
        coalesce((select max(id) from crashes), 0) + 1, false)`.execute(db);
    },
  },
  {
    version: 5,
    name: 'buckets: drop the unused last_seen index so count updates can be HOT on PostgreSQL',
    async up(db, d) {
      // Every ingest batch bumps count and first/last seen of the buckets it touched, under the
      // write lock. No query reads buckets by last_seen (listings aggregate the crashes), and an
      // indexed column that changes makes each such update write new entries in every index of
      // the table; without it PostgreSQL updates the row in place on its page (HOT) when the page
      // has room, which the lower fillfactor leaves.
      await db.schema.dropIndex('buckets_last_seen').ifExists().execute();
      if (d === 'postgres') await sql`alter table buckets set (fillfactor = 70)`.execute(db);
    },
  },
  {
    version: 6,
    name: 'crashes: the kernel index on kernel_id alone (appended to, not scattered by bucket)',
    async up(db) {
      // (kernel_id, bucket_id) put each new crash's entry at a random place among its kernel's
      // buckets, so every ingest batch dirtied (and wrote to the WAL) nearly every page of the
      // index. Its only users are the `--kernel` filters, which read the crash rows anyway; keyed
      // by kernel_id alone, entries (kernel_id, rowid) are appended at the end of each kernel's
      // range, and listCrashes' newest-first order comes straight from the index.
      await db.schema.dropIndex('crashes_kernel').ifExists().execute();
      await db.schema.createIndex('crashes_kernel').on('crashes').column('kernel_id').execute();
    },
  },
  {
    version: 7,
    name: 'bucket_counts: count and first/last seen out of the wide buckets row',
    async up(db, d) {
      // Each ingest batch bumps the count and first/last seen of every bucket it touched (often
      // hundreds). In the buckets row, next to the title, signature and search text, each bump
      // rewrote ~1 KB and dirtied most of the table's pages every batch; here a bump touches a
      // row of ~60 bytes and a batch's bumps share a handful of pages.
      await db.schema
        .createTable('bucket_counts')
        .addColumn('bucket_id', 'integer', (c) => c.primaryKey().references('buckets.id'))
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .execute();
      await sql`insert into bucket_counts (bucket_id, count, first_seen, last_seen)
        select id, count, first_seen, last_seen from buckets`.execute(db);
      for (const col of ['count', 'first_seen', 'last_seen'])
        await db.schema.alterTable('buckets').dropColumn(col).execute();
      // Updated in place (HOT): no indexed column changes, and the pages keep room for it.
      if (d === 'postgres') await sql`alter table bucket_counts set (fillfactor = 70)`.execute(db);
    },
  },
  {
    version: 8,
    name: 'crashes: rows up to ~4 KB stay in the table on PostgreSQL (toast_tuple_target)',
    async up(db, d) {
      // A crash row is ~4 KB (raw text, report). With the default target (~2 KB) PostgreSQL
      // compressed its long values and still moved one of them out of line for about half the
      // rows: a TOAST table row and TOAST index entry more per crash. With 4080 such a row stays
      // in the heap, compressed or not; measured on 12,500 corpus crash rows: ~15-25% less insert
      // time, same total size (heap + TOAST). New rows only; SQLite has no TOAST.
      if (d !== 'postgres') return;
      await sql`alter table crashes set (toast_tuple_target = 4080)`.execute(db);
    },
  },
  {
    version: 9,
    name: "crashes: the host checked through the crash's own log on PostgreSQL (one foreign key (log_id, host_id))",
    async up(db, d) {
      // A foreign key check locks the referenced row (FOR KEY SHARE). Concurrent writers ingesting
      // for the same host all locked that one hosts row, once per crash: with 4 writers the
      // crashes -> hosts check was ~25% of the server's CPU (40k crashes: 5.3 -> 3.9 CPU-s
      // without it). A crash's host is its log's host, so one key (log_id, host_id) -> logs
      // checks both the log and the host against the writer's own new log row (logs -> hosts
      // still checks the host, once per log). Stricter than before: a crash cannot name another
      // host than its log's. SQLite's checks take no locks (one writer): it keeps its two keys.
      if (d !== 'postgres') return;
      await sql`alter table logs add constraint logs_id_host unique (id, host_id)`.execute(db);
      await sql`alter table crashes
        drop constraint if exists crashes_host_id_fkey,
        drop constraint if exists crashes_log_id_fkey,
        add constraint crashes_log_host_fkey foreign key (log_id, host_id) references logs (id, host_id)`.execute(
        db,
      );
    },
  },
  {
    version: 10,
    name: 'crashes, logs: references checked once per statement on PostgreSQL (set-based triggers, not per-row foreign keys)',
    async up(db, d) {
      // A foreign key checks each new row on its own: an SPI query per row and reference, with an
      // executor start-up each time. A crash has three references (log and host, kernel, bucket)
      // and its log one (host): measured, these checks were ~30% of the server's CPU during
      // ingest, and the 4-writer ingest ran 25-30% faster without them. The triggers below keep
      // what the keys guaranteed, checked once per statement over its transition table: every
      // reference of new or updated rows exists and is locked FOR KEY SHARE until the writer's
      // transaction ends (as a key check locks it), and a referenced row cannot be deleted,
      // re-keyed or truncated away. Violations raise foreign_key_violation (23503) under the old
      // constraint names. SQLite keeps its foreign keys: its checks are cheap and take no locks.
      if (d !== 'postgres') return;
      await sql.raw(PG_REFERENCE_TRIGGERS).execute(db);
      await sql`alter table crashes
        drop constraint if exists crashes_log_host_fkey,
        drop constraint if exists crashes_kernel_id_fkey,
        drop constraint if exists crashes_bucket_id_fkey`.execute(db);
      await sql`alter table logs drop constraint if exists logs_host_id_fkey`.execute(db);
    },
  },
];

/**
 * The checks probe the parent's (or child's) index once per distinct key, whatever the planner
 * believes of the tables' sizes: with the statistics of a table that grew since its last
 * ANALYZE (a fresh store during its first ingest), it chose sequential scans of the parent and
 * hash joins, ~20 ms per statement on 100k logs instead of ~1 ms. A check's cost must follow the
 * statement's rows, not the table's.
 */
const PG_INDEX_PROBES = 'set enable_seqscan = off set enable_hashjoin = off set enable_mergejoin = off';

/** One reference of a child table checked per statement: its columns -> the parent's. */
interface PgRef {
  child: string;
  parent: string;
  /** [child column, parent column] pairs. */
  cols: [string, string][];
  /** The foreign key it replaced (named in errors). */
  constraint: string;
}

const PG_REFS: PgRef[] = [
  {
    child: 'crashes',
    parent: 'logs',
    cols: [
      ['log_id', 'id'],
      ['host_id', 'host_id'],
    ],
    constraint: 'crashes_log_host_fkey',
  },
  { child: 'crashes', parent: 'kernels', cols: [['kernel_id', 'id']], constraint: 'crashes_kernel_id_fkey' },
  { child: 'crashes', parent: 'buckets', cols: [['bucket_id', 'id']], constraint: 'crashes_bucket_id_fkey' },
  { child: 'logs', parent: 'hosts', cols: [['host_id', 'id']], constraint: 'logs_host_id_fkey' },
];

/**
 * The PL/pgSQL that checks one reference over a statement's new rows: the distinct references
 * are counted, and the parent rows found are counted and locked FOR KEY SHARE in one statement
 * (as a foreign key check locks each: no other transaction can delete or re-key them until this
 * one ends). Fewer found than referenced means one is missing, or was deleted meanwhile (a
 * locking read skips rows whose deletion committed while it waited). After an UPDATE only the
 * references that no old row held are checked (as a foreign key skips unchanged keys): a moved
 * crash's bucket, not its log and kernel again; a reference an old row held needs no lock, since
 * a committed row held it and still does until this transaction commits.
 */
function pgRefCheck(r: PgRef, op: 'insert' | 'update'): string {
  const cols = r.cols.map(([c]) => c).join(', ');
  const notNull = r.cols.map(([c]) => `${c} is not null`).join(' and ');
  const keys =
    op === 'insert'
      ? `(select distinct ${cols} from new_rows where ${notNull}) k`
      : `(select ${cols} from new_rows where ${notNull} except select ${cols} from old_rows) k`;
  const on = r.cols.map(([c, p]) => `p.${p} = k.${c}`).join(' and ');
  const values = r.cols.map(([c]) => `bad.${c}`).join(', ');
  return `
  select count(*) into want from ${keys};
  if want > 0 then
    select count(*) into got from (select 1 from ${r.parent} p join ${keys} on ${on} for key share of p) x;
    if got < want then
      select k.* into bad from ${keys} where not exists (select 1 from ${r.parent} p where ${on}) limit 1;
      raise foreign_key_violation using
        message = 'insert or update on table "${r.child}" violates foreign key constraint "${r.constraint}"',
        detail = format('Key (${cols})=(%s) is not present in table "${r.parent}".', concat_ws(', ', ${values}));
    end if;
  end if;`;
}

/** The trigger functions that check every reference of a child table's new or changed rows. */
function pgRefFunction(child: string): string {
  const fn = (op: 'insert' | 'update') => `
create function ktriage_${child}_refs_${op}() returns trigger language plpgsql ${PG_INDEX_PROBES} as $f$
declare
  want bigint;
  got bigint;
  bad record;
begin${PG_REFS.filter((r) => r.child === child)
    .map((r) => pgRefCheck(r, op))
    .join('')}
  return null;
end $f$;`;
  return `${fn('insert')}${fn('update')}
create trigger ${child}_refs_insert after insert on ${child} referencing new table as new_rows
  for each statement execute function ktriage_${child}_refs_insert();
create trigger ${child}_refs_update after update on ${child} referencing old table as old_rows new table as new_rows
  for each statement execute function ktriage_${child}_refs_update();
`;
}

/**
 * The parent side of a reference: after a DELETE or an UPDATE, no child row may still refer to a
 * key that is gone (after an UPDATE, the keys no new row has); a TRUNCATE is refused while the
 * child table has rows. The check reads with a fresh snapshot, so it sees the children of the
 * writers whose locks the DELETE waited for.
 */
function pgParentFunction(r: PgRef): string {
  const fn = `ktriage_${r.parent}_referenced`;
  const keys = r.cols.map(([, p]) => p).join(', ');
  const joined = r.cols.map(([c, p]) => `c.${c} = o.${p}`).join(' and ');
  const shown = r.cols.map(([, p]) => `o.${p}::text`).join(" || ', ' || ");
  const referenced = (gone: string) =>
    `select ${shown} into k from ${gone} o where exists (select 1 from ${r.child} c where ${joined}) limit 1;`;
  return `
create function ${fn}() returns trigger language plpgsql ${PG_INDEX_PROBES} as $f$
declare
  k text;
begin
  if tg_op = 'TRUNCATE' then
    if exists (select 1 from ${r.child}) then
      raise foreign_key_violation using
        message = 'cannot truncate table ${r.parent}: table ${r.child} refers to it (constraint ${r.constraint})',
        hint = 'Empty table ${r.child} first.';
    end if;
    return null;
  end if;
  if tg_op = 'DELETE' then
    ${referenced('old_rows')}
  else
    ${referenced(`(select ${keys} from old_rows except select ${keys} from new_rows)`)}
  end if;
  if k is not null then
    raise foreign_key_violation using
      message = 'update or delete on table ${r.parent} violates foreign key constraint ${r.constraint} on table ${r.child}',
      detail = format('Key (${keys})=(%s) is still referenced from table ${r.child}.', k);
  end if;
  return null;
end $f$;
create trigger ${r.parent}_referenced_delete after delete on ${r.parent} referencing old table as old_rows
  for each statement execute function ${fn}();
create trigger ${r.parent}_referenced_update after update on ${r.parent}
  referencing old table as old_rows new table as new_rows
  for each statement execute function ${fn}();
create trigger ${r.parent}_referenced_truncate before truncate on ${r.parent}
  for each statement execute function ${fn}();
`;
}

/**
 * Migration 10's functions and triggers (PostgreSQL): pgRefFunction for each child table
 * (crashes, logs), pgParentFunction for each parent.
 */
const PG_REFERENCE_TRIGGERS = `${pgRefFunction('crashes')}${pgRefFunction('logs')}${PG_REFS.map(pgParentFunction).join('')}`;

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

async function currentVersion(db: Db): Promise<number> {
  const r = await db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', 'schema_version')
    .executeTakeFirst()
    .catch(() => undefined);
  return r ? Number(r.value) : 0;
}

/**
 * Brings the schema up to date (or up to `target`, which upgrade tests use to make a database of
 * an earlier version); a no-op read when it already is.
 */
export async function migrate(o: OpenedDb, target = SCHEMA_VERSION): Promise<void> {
  if ((await currentVersion(o.db)) >= target) return;
  await withWriteLock(o, async (trx) => {
    await trx.schema
      .createTable('meta')
      .ifNotExists()
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
    const v = await currentVersion(trx);
    if (v > SCHEMA_VERSION) {
      throw new Error(`database schema version ${v} is newer than this ktriage (${SCHEMA_VERSION})`);
    }
    for (const m of MIGRATIONS) {
      if (m.version <= v || m.version > target) continue;
      await m.up(trx, o.dialect);
      await upsertMeta(trx, o.dialect, 'schema_version', String(m.version));
      await upsertMeta(trx, o.dialect, `migration_${m.version}`, `${nowIso()} ${m.name}`);
    }
  });
}

export async function upsertMeta(db: Db, _d: Dialect, key: string, value: string): Promise<void> {
  await db
    .insertInto('meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}
