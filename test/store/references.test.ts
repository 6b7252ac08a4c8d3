// What the database enforces about references between stored rows, on both dialects: a crash's
// log (and host), kernel and bucket, and a log's host, must exist; a referenced row cannot be
// deleted or re-keyed. SQLite enforces it with foreign keys; PostgreSQL with the set-based
// triggers of migration 10 (one check per statement), which must also hold under concurrency: a
// writer's references are locked until it commits, as a foreign key check locks them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import type { KyselyStore } from '../../src/store/store.ts';
import { dialects, freshDb, shared, type TestDb } from './helpers.ts';

const machineA = readFileSync(join(shared, 'seed/machine-a.log'), 'utf8');
const machineB = readFileSync(join(shared, 'seed/machine-b.log'), 'utf8');
const FK = /foreign key/i;

/** A store holding the seed's crash (host A), and the ids around it. */
async function seeded(url: string) {
  const store = (await openStore(url)) as KyselyStore;
  const r = await store.ingestLog({ text: machineA, host: 'A', source: 'machine-a.log' });
  const d = store.opened.db;
  const crash = await d
    .selectFrom('crashes')
    .selectAll()
    .where('id', '=', r.crashes[0]!.crashId)
    .executeTakeFirstOrThrow();
  /** A bucket that nothing refers to (ids past the store's: it hands them out itself). */
  let spare = 500_000;
  const spareBucket = async () => {
    const id = ++spare;
    await d
      .insertInto('buckets')
      .values({
        id,
        title: 'spare',
        kind: 'x',
        signature: '[]',
        search_text: '',
        representative_crash_id: null,
        created_at: 'x',
      })
      .execute();
    return id;
  };
  /** A copy of the seed's crash row with other references (a new content hash each time). */
  let n = 0;
  const copy = (over: Partial<typeof crash>) =>
    d
      .insertInto('crashes')
      .values({ ...crash, id: undefined as unknown as number, content_hash: `copy-${++n}`, ...over })
      .execute();
  return { store, d, crash, spareBucket, copy };
}

describe.each(dialects())('references on %s', (dialect) => {
  let db: TestDb;
  let s: Awaited<ReturnType<typeof seeded>>;
  beforeAll(async () => {
    db = await freshDb(dialect);
    s = await seeded(db.url);
  });
  afterAll(async () => {
    await s?.store.close();
    await db?.drop();
  });

  it("refuses a crash whose log, host or kernel does not exist, or (PostgreSQL) whose host is not its log's", async () => {
    const { store, d, copy } = s;
    await store.ingestLog({ text: machineB, host: 'B', source: 'machine-b.log' });
    const hostB = await d.selectFrom('hosts').select('id').where('name', '=', 'B').executeTakeFirstOrThrow();
    await expect(copy({ log_id: 999_999 })).rejects.toThrow(FK);
    await expect(copy({ host_id: 999_999 })).rejects.toThrow(FK);
    await expect(copy({ kernel_id: 999_999 })).rejects.toThrow(FK);
    // Another existing host than the log's: PostgreSQL's (log_id, host_id) key refuses it.
    if (dialect === 'postgres') await expect(copy({ host_id: hostB.id })).rejects.toThrow(FK);
    // The same row with its own references goes in (the refusals above were the references).
    await copy({});
    expect((await store.stats()).crashes).toBe(3);
  });

  it('refuses new crash rows naming a missing bucket, also in a multi-row insert with good rows', async () => {
    const { d, crash, copy } = s;
    await expect(copy({ bucket_id: 999_999 })).rejects.toThrow(FK);
    // One bad row among good ones: the whole statement is refused, nothing of it stays.
    const before = (await s.store.stats()).crashes;
    const rows = [1, 2, 3].map((i) => ({
      ...crash,
      id: undefined as unknown as number,
      content_hash: `multi-${i}`,
      kernel_id: i === 2 ? 999_999 : crash.kernel_id,
    }));
    await expect(d.insertInto('crashes').values(rows).execute()).rejects.toThrow(FK);
    expect((await s.store.stats()).crashes).toBe(before);
    // A crash without a bucket yet (PostgreSQL's provisional insert) is allowed.
    await copy({ bucket_id: null });
  });

  it('refuses moving a crash to a missing bucket, and a log naming a missing host', async () => {
    const { d, crash } = s;
    await expect(
      d.updateTable('crashes').set({ bucket_id: 999_999 }).where('id', '=', crash.id).execute(),
    ).rejects.toThrow(FK);
    const log = await d
      .selectFrom('logs')
      .selectAll()
      .where('id', '=', crash.log_id)
      .executeTakeFirstOrThrow();
    await expect(
      d
        .insertInto('logs')
        .values({ ...log, id: undefined as unknown as number, sha256: 'other', host_id: 999_999 })
        .execute(),
    ).rejects.toThrow(FK);
    // The crash still where it was.
    const now = await d
      .selectFrom('crashes')
      .select('bucket_id')
      .where('id', '=', crash.id)
      .executeTakeFirst();
    expect(now?.bucket_id).toBe(crash.bucket_id);
  });

  it('refuses deleting or re-keying a referenced bucket, kernel, log or host; unreferenced ones may go', async () => {
    const { d, crash, spareBucket } = s;
    // The bucket's own bookkeeping rows (real foreign keys on both dialects) go first, so that
    // what refuses the delete below is the crashes that still refer to it.
    await d.deleteFrom('signatures').where('bucket_id', '=', crash.bucket_id!).execute();
    await d.deleteFrom('bucket_counts').where('bucket_id', '=', crash.bucket_id!).execute();
    await sql`update buckets set representative_crash_id = null where id = ${crash.bucket_id}`.execute(d);
    const refused: [string, () => Promise<unknown>][] = [
      ['bucket', () => d.deleteFrom('buckets').where('id', '=', crash.bucket_id!).execute()],
      ['kernel', () => d.deleteFrom('kernels').where('id', '=', crash.kernel_id).execute()],
      ['log', () => d.deleteFrom('logs').where('id', '=', crash.log_id).execute()],
      ['host', () => d.deleteFrom('hosts').where('id', '=', crash.host_id).execute()],
      [
        'bucket id',
        () => d.updateTable('buckets').set({ id: 888_888 }).where('id', '=', crash.bucket_id!).execute(),
      ],
      [
        'log host',
        () => d.updateTable('logs').set({ host_id: 888_888 }).where('id', '=', crash.log_id).execute(),
      ],
    ];
    for (const [what, run] of refused) {
      const err = await run().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(Error);
      expect(String((err as Error).message), what).toMatch(FK);
    }
    expect(
      await d.selectFrom('buckets').select('id').where('id', '=', crash.bucket_id!).execute(),
    ).toHaveLength(1);
    // Columns that are not keys change freely; a bucket nothing refers to can be re-keyed and deleted.
    await d.updateTable('buckets').set({ title: 'renamed' }).where('id', '=', crash.bucket_id!).execute();
    const spare = await spareBucket();
    await d.updateTable('buckets').set({ id: 777_777 }).where('id', '=', spare).execute();
    await d.deleteFrom('buckets').where('id', '=', 777_777).execute();
  });
});

describe.runIf(dialects().includes('postgres'))(
  'references on postgres: errors, truncate, concurrency',
  () => {
    let db: TestDb;
    let s: Awaited<ReturnType<typeof seeded>>;
    const clients: pg.Client[] = [];
    beforeAll(async () => {
      db = await freshDb('postgres');
      s = await seeded(db.url);
      for (let i = 0; i < 2; i++) {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        clients.push(c);
      }
    });
    afterAll(async () => {
      for (const c of clients) await c.end().catch(() => {});
      await s?.store.close();
      await db?.drop();
    });

    it('names the reference that failed, and refuses truncating a referenced table', async () => {
      const { d, copy } = s;
      const err = await copy({ kernel_id: 999_999 }).then(
        () => null,
        (e: unknown) => e as { code?: string; message: string; detail?: string },
      );
      expect(err?.code).toBe('23503');
      expect(err?.message).toContain('crashes_kernel_id_fkey');
      expect(err?.detail).toContain('(kernel_id)=(999999)');
      await expect(sql`truncate kernels`.execute(d)).rejects.toThrow(/crashes_kernel_id_fkey/);
      await expect(sql`truncate hosts`.execute(d)).rejects.toThrow(/logs_host_id_fkey/);
    });

    const insertCrash = (c: pg.Client, bucket: number, hash: string) => {
      const r = s.crash;
      return c.query(
        `insert into crashes (log_id, host_id, kernel_id, content_hash, received_at, occurred_at, title, kind,
        raw_text, raw_start_line, report, signature, bucket_id, join_rule, similarity)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'new', null)`,
        [
          r.log_id,
          r.host_id,
          r.kernel_id,
          hash,
          r.received_at,
          r.occurred_at,
          r.title,
          r.kind,
          r.raw_text,
          r.raw_start_line,
          r.report,
          r.signature,
          bucket,
        ],
      );
    };
    /** Whether a promise is still pending after a while (it waits for a lock). */
    const pendingAfter = async (p: Promise<unknown>, ms = 300) =>
      Promise.race([
        p.then(
          () => false,
          () => false,
        ),
        new Promise((r) => setTimeout(() => r(true), ms)),
      ]);

    it("a delete waits for a writer that refers to the row, then is refused once the writer's crash is committed", async () => {
      const [writer, deleter] = clients as [pg.Client, pg.Client];
      const bucket = await s.spareBucket();
      await writer.query('begin');
      await insertCrash(writer, bucket, 'concurrent-1');
      const del = deleter.query('delete from buckets where id = $1', [bucket]);
      const outcome = del.then(
        () => 'deleted',
        (e: { code?: string }) => e.code,
      );
      expect(await pendingAfter(outcome)).toBe(true);
      await writer.query('commit');
      expect(await outcome).toBe('23503');
      const rows = await s.d
        .selectFrom('crashes')
        .select('bucket_id')
        .where('content_hash', '=', 'concurrent-1')
        .execute();
      expect(rows).toEqual([{ bucket_id: bucket }]);
    });

    /**
     * A writer inserting a crash into a bucket that another transaction is deleting: the writer
     * waits for that transaction; what the writer gets once it ends with `end`.
     */
    const insertDuringDelete = async (hash: string, end: 'commit' | 'rollback') => {
      const [writer, deleter] = clients as [pg.Client, pg.Client];
      const bucket = await s.spareBucket();
      await deleter.query('begin');
      await deleter.query('delete from buckets where id = $1', [bucket]);
      const ins = insertCrash(writer, bucket, hash).then(
        () => 'inserted',
        (e: { code?: string }) => e.code,
      );
      expect(await pendingAfter(ins)).toBe(true);
      await deleter.query(end);
      return ins;
    };

    it('a writer waits for a delete of the row it refers to, then is refused once the delete is committed', async () => {
      expect(await insertDuringDelete('concurrent-2', 'commit')).toBe('23503');
      expect(
        await s.d.selectFrom('crashes').select('id').where('content_hash', '=', 'concurrent-2').execute(),
      ).toEqual([]);
    });

    it("moving a crash to another bucket checks the new bucket only, not the crash's log and kernel again", async () => {
      const [locker, mover] = clients as [pg.Client, pg.Client];
      const bucket = await s.spareBucket();
      // Another transaction holds the crash's log and kernel rows exclusively: a check of those
      // references would wait for it (FOR KEY SHARE conflicts with FOR UPDATE).
      await locker.query('begin');
      try {
        await locker.query('select 1 from logs where id = $1 for update', [s.crash.log_id]);
        await locker.query('select 1 from kernels where id = $1 for update', [s.crash.kernel_id]);
        const moved = mover
          .query('update crashes set bucket_id = $1 where id = $2', [bucket, s.crash.id])
          .then(
            () => 'moved',
            (e: { code?: string }) => e.code,
          );
        expect(await pendingAfter(moved, 2000)).toBe(false);
        expect(await moved).toBe('moved');
      } finally {
        // A failed check must not leave the rows locked for the next tests (the move, if it
        // waits, goes through then).
        await locker.query('rollback');
      }
      await mover.query('update crashes set bucket_id = $1 where id = $2', [s.crash.bucket_id, s.crash.id]);
    });

    it('a writer whose referenced row survives a rolled-back delete goes in', async () => {
      expect(await insertDuringDelete('concurrent-3', 'rollback')).toBe('inserted');
    });
  },
);
