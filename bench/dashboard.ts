// Bucket page render time with 10,000 crashes in one bucket (target: under a second), against a
// baseline measured in the same run: one raw SQL query (better-sqlite3, prepared) that reads every
// member row the page summarises (host, kernel, time, rule, similarity) — the floor for any page
// that looks at all of them. Also times the pure renderer alone, the crash page and the buckets page.
//
//   npm run bench:dashboard [-- --crashes N --runs R]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { createApp } from '../src/server/app.ts';
import { MEMBERS_PAGE, renderBucket } from '../src/server/pages/views/bucket.ts';
import { openStore } from '../src/store/index.ts';
import type { IngestInput } from '../src/store/types.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v <= 0)
    throw new Error(`--${name}: "${process.argv[i + 1]}" is not a positive integer`);
  return v;
}

const N = arg('crashes', 10_000);
const RUNS = arg('runs', 15);
const repoRoot = resolve(import.meta.dirname, '..');

function stats(ms: number[]): { median: number; p95: number; min: number } {
  const s = [...ms].sort((a, b) => a - b);
  return {
    median: s[Math.floor(s.length / 2)]!,
    p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!,
    min: s[0]!,
  };
}

async function time(runs: number, fn: () => Promise<unknown> | unknown): Promise<number[]> {
  for (let i = 0; i < 3; i++) await fn(); // warm-up: JIT, SQLite page cache
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

const fmt = (x: number) => `${x.toFixed(1)} ms`;

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'ktriage-bench-dashboard-'));
  try {
    const db = join(tmp, 'bench.db');
    const store = await openStore(db);
    // One real report (the seed's machine A), N times: each from its own host and time, so that
    // each is a distinct crash and all land in one bucket (the same title and stack).
    const seed = readFileSync(join(repoRoot, 'examples/seed-machine-a.log'), 'utf8');
    const t0 = Date.parse('2026-11-24T00:00:00Z');
    process.stderr.write(`ingesting ${N} crashes into one bucket...\n`);
    const tIngest = performance.now();
    for (let i = 0; i < N; i += 1000) {
      const batch: IngestInput[] = [];
      for (let j = i; j < Math.min(N, i + 1000); j++)
        batch.push({
          text: seed,
          source: 'bench',
          host: `host-${String(j).padStart(5, '0')}`,
          kernel: `6.1.${j % 60}`,
          occurredAt: new Date(t0 - (j % 365) * 86_400_000 - (j % 1000) * 1000).toISOString(),
        });
      await store.ingestLogs(batch);
    }
    const ingestMs = performance.now() - tIngest;
    const list = await store.listBuckets({ sort: 'count', limit: 1 });
    const top = list.items[0]!;
    if (top.count !== N) throw new Error(`expected one bucket of ${N} crashes, the biggest has ${top.count}`);
    const app = await createApp({ store, auth: {} });
    const url = `/buckets/${top.id}`;

    // Sanity: the page is the real page (members table, chart, counts).
    const html = await (await app.request(url)).text();
    const rows = (html.match(/<tr[^>]*>\s*<td class="num"><a href="\/crashes\//g) ?? []).length;
    if (rows !== Math.min(N, MEMBERS_PAGE)) throw new Error(`bucket page shows ${rows} member rows`);

    const page = await time(RUNS, async () => {
      const r = await app.request(url);
      await r.text();
    });
    const bucket = (await store.getBucket(top.id))!;
    const rep = await store.getCrash(bucket.representativeCrashId);
    const render = await time(RUNS, () =>
      renderBucket({ bucket, representative: rep, members: bucket.members, memberPage: 1 }),
    );
    const crashPage = await time(RUNS, async () => (await app.request(`/crashes/${rep!.id}`)).text());
    const bucketsPage = await time(RUNS, async () => (await app.request('/')).text());
    await store.close();

    // Baseline: the raw rows of the bucket, one prepared query, no ORM, no rendering.
    const raw = new Database(db, { readonly: true });
    const q = raw.prepare(
      `SELECT c.id, h.name AS host, k.release AS kernel, c.occurred_at, c.join_rule, c.similarity
       FROM crashes c JOIN hosts h ON h.id = c.host_id JOIN kernels k ON k.id = c.kernel_id
       WHERE c.bucket_id = ? ORDER BY c.occurred_at DESC`,
    );
    const baseline = await time(RUNS, () => {
      const r = q.all(top.id);
      if (r.length !== N) throw new Error(`baseline read ${r.length} rows`);
    });
    raw.close();

    const p = stats(page);
    const b = stats(baseline);
    console.log(`dashboard bench: one bucket of ${N} crashes (SQLite, ${RUNS} runs after 3 warm-up)`);
    console.log(
      `  ingest (setup)          ${fmt(ingestMs)} (${Math.round(N / (ingestMs / 1000))} crashes/s)`,
    );
    console.log(
      `  bucket page (HTTP)      median ${fmt(p.median)}  p95 ${fmt(p.p95)}  min ${fmt(p.min)}  ${html.length} bytes`,
    );
    console.log(`    of which render only  median ${fmt(stats(render).median)}`);
    console.log(`  crash page (HTTP)       median ${fmt(stats(crashPage).median)}`);
    console.log(`  buckets page (HTTP)     median ${fmt(stats(bucketsPage).median)}`);
    console.log(`  baseline raw SQL rows   median ${fmt(b.median)}  (${N} rows, better-sqlite3 prepared)`);
    console.log(`  ratio bucket page / raw SQL: ${(p.median / b.median).toFixed(2)}x`);
    console.log(
      `  target bucket page < 1000 ms: ${p.median < 1000 ? 'met' : 'NOT met'} (median ${fmt(p.median)})`,
    );
    if (p.median >= 1000) process.exitCode = 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
