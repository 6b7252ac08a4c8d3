// A database written at schema version 3 (before this session's migrations 4 and 5) upgrades in place when a newer ktriage
// opens it: nothing stored is lost or changed, and new writes work on top of it. Version 3's
// writer gave crashes explicit ids max(id)+1 (the PostgreSQL sequence never moved) and stored
// report.text verbatim; both are reproduced here as that writer left them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, SQLITE_PAGE_SIZE } from '../../src/store/db.ts';
import { openStore } from '../../src/store/index.ts';
import { migrate, SCHEMA_VERSION } from '../../src/store/migrations.ts';
import { type PreparedLog, prepareLog } from '../../src/store/prepare.ts';
import { searchText } from '../../src/store/store.ts';
import { corpusReports } from './corpus.ts';
import { dialects, freshDb, shared, type TestDb } from './helpers.ts';

const machineA = readFileSync(join(shared, 'seed/machine-a.log'), 'utf8');
const machineB = readFileSync(join(shared, 'seed/machine-b.log'), 'utf8');

async function indexNames(o: Awaited<ReturnType<typeof openDb>>, table = 'crashes'): Promise<string[]> {
  const q =
    o.dialect === 'postgres'
      ? sql<{ name: string }>`select indexname as name from pg_indexes where tablename = ${table}`
      : sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = ${table}`;
  return (await q.execute(o.db)).rows.map((r) => r.name);
}

/**
 * Stores one prepared single-crash log the way version 3's writer did: explicit ids max(id)+1,
 * count and first/last seen in the buckets row, the report as plain JSON with its text.
 */
async function writeV3(
  o: Awaited<ReturnType<typeof openDb>>,
  l: PreparedLog,
): Promise<{ crashes: { crashId: number }[] }> {
  const c = l.crashes[0]!;
  const d = o.db;
  const one = async <T>(q: ReturnType<typeof sql<T>>) => (await q.execute(d)).rows[0]!;
  const host = await one(sql<{ id: number }>`insert into hosts (name) values (${l.host}) returning id`);
  const kernel = await one(
    sql<{
      id: number;
    }>`insert into kernels (release, build) values (${c.kernelRelease}, ${c.kernelBuild}) returning id`,
  );
  const log = await one(sql<{ id: number }>`insert into logs
      (host_id, sha256, source, format, size, received_at, crash_count, no_crash, warnings, text)
      values (${host.id}, ${l.sha256}, ${l.source}, ${l.format}, ${l.size}, ${l.receivedAt}, 1, 0, '[]', ${l.text})
      returning id`);
  const bucket = await one(sql<{ id: number }>`insert into buckets
      (title, kind, signature, search_text, representative_crash_id, first_seen, last_seen, count, created_at)
      values (${c.title}, ${c.kind}, ${c.signatureJson}, ${searchText(c.title, c.signature)}, 1,
        ${c.occurredAt}, ${c.occurredAt}, 1, ${l.receivedAt})
      returning id`);
  const crashId = 1;
  await sql`insert into crashes (id, log_id, host_id, kernel_id, content_hash, received_at, occurred_at,
      title, kind, raw_text, raw_start_line, report, signature, bucket_id, join_rule, similarity)
      values (${crashId}, ${log.id}, ${host.id}, ${kernel.id}, ${c.contentHash}, ${l.receivedAt}, ${c.occurredAt},
        ${c.title}, ${c.kind}, ${c.rawText}, ${c.rawStartLine}, ${JSON.stringify(c.report)}, ${c.signatureJson},
        ${bucket.id}, 'new', null)`.execute(d);
  await sql`insert into signatures (sig_key, bucket_id) values (${c.sigKey}, ${bucket.id})`.execute(d);
  return { crashes: [{ crashId }] };
}

describe.each(dialects())('upgrade from schema 3 on %s', (dialect) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await freshDb(dialect);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('keeps every crash, bucket and count, then ingests on top without id clashes', async () => {
    expect(SCHEMA_VERSION).toBeGreaterThan(3);
    // A database at version 3, with a crash, its log and its bucket as version 3's writer stored
    // them (rows written here in that layout: today's writer needs today's tables)...
    const o = await openDb(db.url);
    await migrate(o, 3);
    const a = await writeV3(o, prepareLog({ text: machineA, host: 'A', source: 'machine-a.log' }));
    expect(await indexNames(o)).toContain('crashes_host');
    expect(await indexNames(o, 'buckets')).toContain('buckets_last_seen');
    // ...and one row the way version 3's writer wrote it: id max(id)+1 chosen by the writer, the
    // report as plain JSON with its text.
    const other = prepareLog(corpusReports(20).find((r) => !r.text.includes('nfs_'))!).crashes[0]!;
    const row = await o.db.selectFrom('crashes').selectAll().executeTakeFirstOrThrow();
    const oldId = Number(row.id) + 50;
    await o.db
      .insertInto('crashes')
      .values({
        ...row,
        id: oldId,
        content_hash: other.contentHash,
        title: other.title,
        kind: other.kind,
        raw_text: other.rawText,
        raw_start_line: other.rawStartLine,
        report: JSON.stringify(other.report),
        signature: other.signatureJson,
      })
      .execute();
    // (Version 3 kept count and first/last seen in the buckets row; migration 7 moved them.)
    await sql`update buckets set count = 2 where id = ${row.bucket_id}`.execute(o.db);
    const before = await o.db.selectFrom('crashes').selectAll().orderBy('id').execute();
    const bucketsBefore = await o.db.selectFrom('buckets').selectAll().orderBy('id').execute();
    await o.db.destroy();

    // A current ktriage opens it: upgraded, nothing lost or changed.
    const store = await openStore(db.url);
    try {
      const meta = await store.opened.db
        .selectFrom('meta')
        .select('value')
        .where('key', '=', 'schema_version')
        .executeTakeFirstOrThrow();
      expect(Number(meta.value)).toBe(SCHEMA_VERSION);
      expect(await indexNames(store.opened)).not.toContain('crashes_host');
      expect(await indexNames(store.opened, 'buckets')).not.toContain('buckets_last_seen');
      expect(await indexNames(store.opened)).toContain('crashes_bucket_time');
      expect(await store.opened.db.selectFrom('crashes').selectAll().orderBy('id').execute()).toEqual(before);
      // Each bucket with the same columns as before, count and first/last seen now joined in.
      const bucketsAfter = await sql<Record<string, unknown>>`
        select b.*, c.count, c.first_seen, c.last_seen
        from buckets b join bucket_counts c on c.bucket_id = b.id order by b.id`.execute(store.opened.db);
      expect(bucketsAfter.rows).toEqual(bucketsBefore);
      expect(await indexNames(store.opened)).toContain('crashes_kernel');
      if (dialect === 'postgres') {
        const opts = await sql<{ reloptions: string[] | null }>`
          select reloptions from pg_class where relname = 'crashes'`.execute(store.opened.db);
        expect(opts.rows[0]?.reloptions).toContain('toast_tuple_target=4080');
        // Migrations 9 and 10: the crash's host is checked through its log, (log_id, host_id),
        // and the hot references are checked per statement by triggers, not per row by keys.
        const keys = await sql<{ conname: string }>`
          select conname from pg_constraint where conrelid in ('crashes'::regclass, 'logs'::regclass)
            and contype = 'f'`.execute(store.opened.db);
        expect(keys.rows).toEqual([]);
        const triggers = await sql<{ tgname: string }>`
          select tgname from pg_trigger where not tgisinternal order by tgname`.execute(store.opened.db);
        expect(triggers.rows.map((r) => r.tgname)).toEqual(
          expect.arrayContaining([
            'crashes_refs_insert',
            'crashes_refs_update',
            'logs_refs_insert',
            'buckets_referenced_delete',
            'kernels_referenced_delete',
            'logs_referenced_delete',
            'hosts_referenced_delete',
          ]),
        );
      }
      const kept = await store.getCrash(oldId);
      expect(kept?.report).toEqual(other.report);
      expect(kept?.rawText).toBe(other.rawText);
      expect((await store.getCrash(a.crashes[0]!.crashId))?.report.text).toBe(
        prepareLog({ text: machineA }).crashes[0]!.report.text,
      );

      // New crashes get ids past the old explicit ones, join the old bucket, and count on.
      const b = await store.ingestLog({ text: machineB, host: 'B', source: 'machine-b.log' });
      expect(b.crashes[0]!.created).toBe(true);
      expect(b.crashes[0]!.crashId).toBeGreaterThan(oldId);
      expect(b.crashes[0]!.bucketId).toBe(Number(row.bucket_id));
      const again = await store.ingestLog({ text: machineA, host: 'A', source: 'machine-a.log' });
      expect(again.crashes[0]!.created).toBe(false);
      expect(again.crashes[0]!.crashId).toBe(a.crashes[0]!.crashId);
      const bucket = await store.getBucket(Number(row.bucket_id));
      expect(bucket?.count).toBe(3);
      expect((await store.stats()).crashes).toBe(before.length + 1);
    } finally {
      await store.close();
    }
  });
});

describe('SQLite page size', () => {
  it('new databases get 32 KiB pages; an existing 4 KiB database keeps its pages and works', async () => {
    const fresh = await freshDb('sqlite');
    const old = await freshDb('sqlite');
    try {
      const a = await openStore(fresh.url);
      expect(a.opened.sqlite!.pragma('page_size', { simple: true })).toBe(SQLITE_PAGE_SIZE);
      await a.close();
      // A database an earlier ktriage created (default pages, WAL).
      const Sqlite = (await import('better-sqlite3')).default;
      const c = new Sqlite(old.url);
      c.pragma('journal_mode = WAL');
      c.exec('create table meta (key text primary key, value text not null)');
      c.close();
      const b = await openStore(old.url);
      try {
        expect(b.opened.sqlite!.pragma('page_size', { simple: true })).toBe(4096);
        const r = await b.ingestLog({ text: machineA, host: 'A' });
        expect(r.crashes[0]!.created).toBe(true);
        expect((await b.getCrash(r.crashes[0]!.crashId))?.rawText).toBe(
          prepareLog({ text: machineA }).crashes[0]!.rawText,
        );
      } finally {
        await b.close();
      }
    } finally {
      await fresh.drop();
      await old.drop();
    }
  });
});
