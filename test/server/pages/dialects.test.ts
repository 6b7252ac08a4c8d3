// The pages over both store dialects: the demo loaded into SQLite and into a real PostgreSQL
// (KTRIAGE_TEST_PG, from .ci/setup.d/20-postgres.sh; skipped without it, failing when
// KTRIAGE_REQUIRE_ALL=1), then every page kind requested and checked against the store's answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/server/app.ts';
import { loadDemo } from '../../../src/server/pages/demo.ts';
import { openStore } from '../../../src/store/index.ts';
import { dialects, freshDb, type TestDb } from '../../store/helpers.ts';

describe.each(dialects())('pages on %s', (dialect) => {
  let db: TestDb;
  let store: Awaited<ReturnType<typeof openStore>>;
  let app: Awaited<ReturnType<typeof createApp>>;

  beforeAll(async () => {
    db = await freshDb(dialect);
    store = await openStore(db.url);
    expect(store.dialect).toBe(dialect);
    expect((await loadDemo(store)).loaded).toBe(true);
    app = await createApp({ store, auth: {} });
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  async function get(path: string): Promise<string> {
    const r = await app.request(path);
    expect(r.status, path).toBe(200);
    return r.text();
  }

  it('buckets page: every bucket, filtered and searched as the store says', async () => {
    const all = await store.listBuckets({ limit: 50 });
    const page = await get('/');
    expect(page.match(/<tr data-search=/g)?.length).toBe(all.items.length);
    for (const b of all.items) expect(page).toContain(`href="/buckets/${b.id}"`);
    const byHost = await store.listBuckets({ host: 'web-01', limit: 50 });
    expect((await get('/?host=web-01')).match(/<tr data-search=/g)?.length ?? 0).toBe(byHost.items.length);
    const search = await store.listBuckets({ search: 'nfs_end_page_writeback', limit: 50 });
    expect(search.total).toBeGreaterThan(0);
    expect((await get('/?q=nfs_end_page_writeback')).match(/<tr data-search=/g)?.length).toBe(
      search.items.length,
    );
    // The host filter suggests every host the store knows, also those not on the filtered page.
    const suggested = [...(await get('/?host=web-01')).matchAll(/<option value="([^"]*)"><\/option>/g)].map(
      (m) => m[1],
    );
    expect(suggested).toEqual(await store.listHosts());
    expect(suggested.length).toBeGreaterThan(new Set(byHost.items.flatMap((b) => b.hosts)).size);
    const sorted = await get('/?sort=count&order=desc');
    const counts = [...sorted.matchAll(/<td class="num">(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it('bucket and crash pages of every bucket render', async () => {
    const all = await store.listBuckets({ limit: 100 });
    for (const b of all.items) {
      const page = await get(`/buckets/${b.id}`);
      const full = (await store.getBucket(b.id))!;
      expect(page).toContain(`Member crashes (${full.count})`);
      for (const m of full.members) expect(page).toContain(`href="/crashes/${m.id}"`);
      const crash = await get(`/crashes/${full.representativeCrashId}`);
      expect(crash).toContain('class="ln hl"');
    }
  });

  it('analyses list and page', async () => {
    const crash = (await store.listCrashes({ limit: 1 }))[0]!;
    const id = await store.addAnalysis({
      kind: 'fixes',
      title: 'fix candidates',
      crashId: crash.id,
      markdown: '1. abc',
    });
    expect(await get('/analyses?kind=fixes')).toContain(`href="/analyses/${id}"`);
    expect(await get(`/analyses/${id}`)).toContain('<pre class="md" tabindex="0">1. abc</pre>');
  });
});
