// Load: 8 concurrent `ktriage ingest` processes x 2,000 reports each -> exactly 16,000 crashes and
// consistent buckets, on both dialects. Each process sends the same 2,000 real reports as its own
// host, so every report text must end up as 8 crashes in one bucket; `ktriage rebucket` runs
// concurrently a few times.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { corpusReports, writeReports } from './corpus.ts';
import { dialects, freshDb, runCli } from './helpers.ts';

const PROCS = 8;
const PER_PROC = 2000;

describe.each(dialects())('load on %s', (dialect) => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ktriage-load-'));
    const reports = corpusReports(PER_PROC);
    if (reports.length < PER_PROC)
      throw new Error(`the corpora gave only ${reports.length} distinct reports`);
    writeReports(dir, reports);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`${PROCS} concurrent ingesting processes x ${PER_PROC} reports -> ${PROCS * PER_PROC} crashes, consistent buckets`, async () => {
    const db = await freshDb(dialect);
    try {
      // Meanwhile `ktriage rebucket` runs a few times: it rewrites memberships under the write
      // lock while writers hold uncommitted rows that reference buckets (on PostgreSQL those rows
      // go in before the lock), and everything must still add up.
      let ingesting = true;
      const rebuckets = (async () => {
        const out: Awaited<ReturnType<typeof runCli>>[] = [];
        for (let i = 0; i < 3 && ingesting; i++) {
          await new Promise((r) => setTimeout(r, 4000));
          if (ingesting) out.push(await runCli(['rebucket', '--db', db.url, '--json']));
        }
        return out;
      })();
      // Create the schema concurrently too: every process opens a fresh database at once.
      const runs = await Promise.all(
        Array.from({ length: PROCS }, (_, i) =>
          runCli(
            [
              'ingest',
              '--db',
              db.url,
              '--host',
              `load-${i}`,
              '--json',
              '--no-progress',
              '--batch',
              '250',
              dir,
            ],
            { KTRIAGE_PG_POOL: '2' },
          ),
        ),
      );
      ingesting = false;
      const rb = await rebuckets;
      expect(rb.length).toBeGreaterThan(0);
      for (const r of rb) {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      }
      for (const r of runs) {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const s = JSON.parse(r.stdout) as { crashes: number; created: number; errors: unknown[] };
        expect(s.errors).toEqual([]);
        expect(s.created).toBe(PER_PROC);
      }
      const store = await openStore(db.url);
      try {
        const stats = await store.stats();
        expect(stats.crashes).toBe(PROCS * PER_PROC);
        expect(stats.hosts).toBe(PROCS);
        const d = store.opened.db;
        // Stored counts equal members, and first/last seen their extremes.
        const mismatched = await d
          .selectFrom('buckets as b')
          .leftJoin('bucket_counts as bc', 'bc.bucket_id', 'b.id')
          .leftJoin(
            d
              .selectFrom('crashes')
              .select((eb) => [
                'bucket_id',
                eb.fn.countAll<number>().as('n'),
                eb.fn.min('occurred_at').as('lo'),
                eb.fn.max('occurred_at').as('hi'),
              ])
              .groupBy('bucket_id')
              .as('m'),
            'm.bucket_id',
            'b.id',
          )
          .select(['b.id', 'bc.count', 'm.n'])
          .where((eb) =>
            eb.or([
              eb('m.n', 'is', null),
              eb('bc.count', 'is', null),
              eb('m.n', '!=', eb.ref('bc.count')),
              eb('m.lo', '!=', eb.ref('bc.first_seen')),
              eb('m.hi', '!=', eb.ref('bc.last_seen')),
            ]),
          )
          .execute();
        expect(mismatched).toEqual([]);
        const orphans = await d
          .selectFrom('crashes')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('bucket_id', 'is', null)
          .executeTakeFirstOrThrow();
        expect(Number(orphans.n)).toBe(0);
        // The same report from 8 hosts is 8 crashes in exactly one bucket.
        const split = await d
          .selectFrom('crashes')
          .select([
            'content_hash',
            sql<number>`count(distinct bucket_id)`.as('nb'),
            sql<number>`count(*)`.as('n'),
          ])
          .groupBy('content_hash')
          .having((eb) =>
            eb.or([eb(sql`count(distinct bucket_id)`, '!=', 1), eb(sql`count(*)`, '!=', PROCS)]),
          )
          .execute();
        expect(split).toEqual([]);
        const list = await store.listBuckets({ limit: 100_000 });
        expect(list.items.reduce((n, b) => n + b.count, 0)).toBe(PROCS * PER_PROC);
        for (const b of list.items) expect(b.hosts).toHaveLength(PROCS);
      } finally {
        await store.close();
      }
    } finally {
      await db.drop();
    }
  }, 600_000);
});
