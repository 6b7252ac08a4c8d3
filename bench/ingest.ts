// `npm run bench:ingest`: 100k crash reports (real reports from ../shared/corpora, spread over many
// hosts and kernel releases) into SQLite and PostgreSQL through the store's ingest write path
// (lookups, bucketing, inserts, counts), against a raw batched INSERT of the same crash rows into
// the same schema, in the same run. Parsing is measured separately (it is the parser's benchmark).
//
//   npm run bench:ingest [-- --reports 100000] [--writers 4] [--pg postgres://...] [--dialects sqlite,postgres] [--rounds 2]
// PostgreSQL comes from --pg or $KTRIAGE_TEST_PG (a database is created and dropped for the run).
// Targets: >= 20k reports/s on SQLite; >= 10k reports/s on PostgreSQL with 4 writers.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { applyIngestPragmas, SQLITE_PAGE_SIZE, startCheckpointer } from '../src/store/db.ts';
import { openStore } from '../src/store/index.ts';
import { type PreparedLog, prepareLog } from '../src/store/prepare.ts';
import { CRASH_COLS, crashRowValues } from '../src/store/store.ts';
import { corpusReports } from '../test/store/corpus.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const TOTAL = Number(opt('reports', '100000'));
const WRITERS = Number(opt('writers', '4'));
const DISTINCT = Number(opt('distinct', '2000'));
const BATCH = Number(opt('batch', '1000'));
/** Store and raw runs per dialect, alternating; each reports its best (`--rounds`, default 2). */
const ROUNDS = Math.max(1, Number(opt('rounds', '2')));
/** Which stores to measure: `--dialects sqlite,postgres` (default both). */
const DIALECTS = new Set(opt('dialects', 'sqlite,postgres').split(','));
const KERNELS = [
  '4.19.0-25-amd64',
  '5.10.0-28-amd64',
  '6.1.0-18-amd64',
  '6.1.0-21-amd64',
  '6.6.15-amd64',
  '6.8.0-31-generic',
];

/**
 * Parses the distinct reports once and spreads them over hosts and kernels: row i of `total`.
 * Each copy is stamped as `ktriage ingest` would stamp it: received at its own time (row i at
 * `t0` + i ms, so in arrival order), and a report without a time of its own (nearly all corpus
 * reports) occurred when it was received. Copying the prepared base as is would give 50 hosts'
 * crashes the same millisecond, which no fleet produces and which scatters every batch over the
 * whole occurred_at index.
 */
function makeRows(
  total: number,
  shard = 0,
  shards = 1,
  t0 = Date.now(),
): { rows: PreparedLog[]; parseMs: number; distinct: number } {
  const texts = corpusReports(DISTINCT);
  const p0 = performance.now();
  const base = texts.map((r) => prepareLog({ text: r.text, source: r.source }));
  const parseMs = performance.now() - p0;
  const rows: PreparedLog[] = [];
  for (let i = shard; i < total; i += shards) {
    const b = base[i % base.length]!;
    const round = Math.floor(i / base.length);
    const kernel = KERNELS[(i * 7 + round) % KERNELS.length]!;
    const receivedAt = new Date(t0 + i).toISOString();
    rows.push({
      ...b,
      host: `host-${String(round).padStart(3, '0')}`,
      receivedAt,
      crashes: b.crashes.map((c) => ({
        ...c,
        kernelRelease: kernel,
        kernelBuild: '',
        occurredAt: c.occurredAt === b.receivedAt ? receivedAt : c.occurredAt,
      })),
    });
  }
  return { rows, parseMs, distinct: base.length };
}

async function writeAll(store: Awaited<ReturnType<typeof openStore>>, rows: PreparedLog[]): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) await store.writePrepared(rows.slice(i, i + BATCH));
}

// ---------------------------------------------------------------------------------------------
// Raw baseline: the same crash rows, multi-row INSERT in BATCH-row transactions, no ORM, no
// bucketing (every row points at one pre-made bucket and kernel, and at its host and a pre-made
// log of that host: on PostgreSQL a crash's (log, host) must be a stored log's, migration 9).

// The store's crash columns less the id, which the raw baseline leaves to the database.
const COLS = CRASH_COLS.filter((c) => c !== 'id');

function rowValues(l: PreparedLog, ref: { hostId: number; logId: number }): unknown[][] {
  // Without the id (first column): the raw baseline leaves it to the database.
  return l.crashes.map((c) =>
    crashRowValues(c, {
      id: 0,
      logId: ref.logId,
      hostId: ref.hostId,
      kernelId: 1,
      receivedAt: l.receivedAt,
      bucketId: 1,
      rule: 'new',
      similarity: null,
    }).slice(1),
  );
}

async function seedRefs(
  url: string,
  hosts: string[],
): Promise<Map<string, { hostId: number; logId: number }>> {
  const store = await openStore(url);
  const d = store.opened.db;
  const ids = new Map<string, { hostId: number; logId: number }>();
  for (const h of hosts) {
    const r = await d.insertInto('hosts').values({ name: h }).returning('id').executeTakeFirstOrThrow();
    const l = await d
      .insertInto('logs')
      .values({
        host_id: Number(r.id),
        sha256: 'x',
        source: 'bench',
        format: 'console',
        size: 0,
        received_at: 'x',
        crash_count: 0,
        no_crash: 0,
        warnings: '[]',
        text: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.set(h, { hostId: Number(r.id), logId: Number(l.id) });
  }
  await d.insertInto('kernels').values({ release: 'x', build: '' }).execute();
  await d
    .insertInto('buckets')
    .values({
      title: 'x',
      kind: 'x',
      signature: '[]',
      search_text: '',
      representative_crash_id: null,
      created_at: 'x',
    })
    .execute();
  await store.close();
  return ids;
}

async function rawSqlite(file: string, rows: PreparedLog[]): Promise<number> {
  const hosts = [...new Set(rows.map((r) => r.host))];
  const ids = await seedRefs(file, hosts);
  const Sqlite = (await import('better-sqlite3')).default;
  const db = new Sqlite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // The store's own throughput pragmas and background WAL checkpoints, so the baseline is the
  // same engine configuration.
  applyIngestPragmas(db);
  const checkpointer = startCheckpointer(db, file);
  const perStmt = 100;
  const one = `(${COLS.map(() => '?').join(',')})`;
  const stmt = db.prepare(
    `insert into crashes (${COLS.join(',')}) values ${Array(perStmt).fill(one).join(',')}`,
  );
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) {
    const vals = rows.slice(i, i + BATCH).flatMap((l) => rowValues(l, ids.get(l.host)!));
    db.transaction(() => {
      let k = 0;
      for (; k + perStmt <= vals.length; k += perStmt) stmt.run(vals.slice(k, k + perStmt).flat());
      for (; k < vals.length; k++)
        db.prepare(`insert into crashes (${COLS.join(',')}) values ${one}`).run(vals[k]!);
    })();
  }
  const ms = performance.now() - t0;
  await checkpointer.stop();
  db.close();
  return ms;
}

async function rawPg(url: string, rows: PreparedLog[], writers: number): Promise<number> {
  const hosts = [...new Set(rows.map((r) => r.host))];
  const ids = await seedRefs(url, hosts);
  const clients = await Promise.all(
    Array.from({ length: writers }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c, w) => {
      const mine = rows.filter((_, i) => i % writers === w);
      for (let i = 0; i < mine.length; i += BATCH) {
        const vals = mine.slice(i, i + BATCH).flatMap((l) => rowValues(l, ids.get(l.host)!));
        await c.query('begin');
        for (let k = 0; k < vals.length; k += 500) {
          const part = vals.slice(k, k + 500);
          const params: unknown[] = [];
          const tuples = part.map((v) => `(${v.map((x) => `$${params.push(x)}`).join(',')})`);
          await c.query(`insert into crashes (${COLS.join(',')}) values ${tuples.join(',')}`, params);
        }
        await c.query('commit');
      }
    }),
  );
  const ms = performance.now() - t0;
  await Promise.all(clients.map((c) => c.end()));
  return ms;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL writers: child processes that parse their share once, then write it into each
// round's database ("open URL", "go", "done"). They live across the rounds, as the SQLite store's
// process does (its second round runs compiled code too) and as `ktriage worker` processes do:
// fresh writers per round measured V8 compiling the write path in all four processes (~2 CPU-s of
// a ~20 CPU-s run on this 2-core machine), a cost a long-running writer pays once.

async function child(shard: number, shards: number, t0: number): Promise<void> {
  const { rows } = makeRows(TOTAL, shard, shards, t0);
  const rl = createInterface({ input: process.stdin });
  let store: Awaited<ReturnType<typeof openStore>> | null = null;
  process.stdout.write('ready\n');
  for await (const line of rl) {
    const [cmd, arg] = line.split(' ');
    if (cmd === 'open') {
      store = await openStore(arg!);
      process.stdout.write('opened\n');
    } else if (cmd === 'go' && store) {
      const s0 = performance.now();
      await writeAll(store, rows);
      process.stdout.write(`done ${rows.length} ${(performance.now() - s0).toFixed(0)}\n`);
      await store.close();
      store = null;
    } else if (cmd === 'exit') break;
  }
  rl.close();
}

interface Writers {
  /** Writes every writer's share into the database at `url`; the wall time of the writes. */
  run(url: string): Promise<number>;
  stop(): Promise<void>;
}

async function startWriters(writers: number, t0: number): Promise<Writers> {
  const self = fileURLToPath(import.meta.url);
  const kids = Array.from({ length: writers }, (_, i) =>
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        self,
        '--child',
        String(i),
        String(writers),
        String(t0),
        '--reports',
        String(TOTAL),
      ],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { ...process.env, KTRIAGE_PG_POOL: '1' },
      },
    ),
  );
  const lines = kids.map((k) => createInterface({ input: k.stdout! }));
  const exited = kids.map(
    (k, i) =>
      new Promise<never>((_, rej) =>
        k.once('exit', (code) => rej(new Error(`writer ${i} exited with ${code}`))),
      ),
  );
  for (const e of exited) e.catch(() => {});
  const wait = (i: number, prefix: string) =>
    Promise.race([
      new Promise<string>((res) => {
        const on = (l: string) => {
          if (!l.startsWith(prefix)) return;
          lines[i]!.off('line', on);
          res(l);
        };
        lines[i]!.on('line', on);
      }),
      exited[i]!,
    ]);
  const all = (prefix: string) => Promise.all(kids.map((_, i) => wait(i, prefix)));
  await all('ready');
  return {
    async run(url) {
      const opened = all('opened');
      for (const k of kids) k.stdin!.write(`open ${url}\n`);
      await opened;
      const done = all('done');
      const s0 = performance.now();
      for (const k of kids) k.stdin!.write('go\n');
      await done;
      return performance.now() - s0;
    },
    async stop() {
      for (const k of kids) k.stdin!.end('exit\n');
      await Promise.allSettled(exited);
    },
  };
}

async function pgDb(base: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `ktriage_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        // An autovacuum worker on the fresh database makes FORCE fail for a non-superuser
        // ("must be a member of the role whose process is being terminated"): wait and retry.
        for (let i = 0; ; i++) {
          try {
            await c.query(`drop database if exists ${name} with (force)`);
            break;
          } catch (err) {
            if (i >= 20) throw err;
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      } finally {
        await c.end();
      }
    },
  };
}

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));

async function main(): Promise<void> {
  const ci = args.indexOf('--child');
  if (ci >= 0) return child(Number(args[ci + 1]), Number(args[ci + 2]), Number(args[ci + 3]));

  // One time base for every copy of the rows (the writers make their shares from it too).
  const t0 = Date.now();
  const { rows, parseMs, distinct } = makeRows(TOTAL, 0, 1, t0);
  const n = rows.reduce((k, r) => k + r.crashes.length, 0);
  console.log(
    `ingest bench: ${n} reports (${distinct} distinct real reports x ${Math.ceil(TOTAL / distinct)} hosts, ${KERNELS.length} kernels), batches of ${BATCH}`,
  );
  console.log(
    `parse (not in the rates below): ${distinct} reports in ${parseMs.toFixed(0)} ms = ${rate(distinct, parseMs)} reports/s on one core`,
  );
  console.log(
    'measured: the store write path (lookups, bucketing, inserts, counts, commit) of prepared reports; parsing, signing, hashing and the compact report encoding happen before, outside it and outside the write lock',
  );
  console.log(
    `sqlite: WAL, synchronous=NORMAL (a committed transaction survives a killed process; only an OS crash or power loss may lose the last ones), ${SQLITE_PAGE_SIZE / 1024} KiB pages for new databases, WAL checkpoints on a background thread; store and raw share the schema and these settings`,
  );

  // Store and raw alternate, ROUNDS times each (fresh databases every time), and each keeps its
  // best time: on a shared machine the load moves during a run, and a single store-then-raw pair
  // lets that swing the ratio either way.
  if (DIALECTS.has('sqlite')) {
    let storeMs = Number.POSITIVE_INFINITY;
    let rawMs = Number.POSITIVE_INFINITY;
    let buckets = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'ktriage-bench-'));
      try {
        const store = await openStore(join(dir, 'store.db'));
        const t0 = performance.now();
        await writeAll(store, rows);
        storeMs = Math.min(storeMs, performance.now() - t0);
        const st = await store.stats();
        await store.close();
        if (st.crashes !== n) throw new Error(`sqlite store holds ${st.crashes} crashes, expected ${n}`);
        buckets = st.buckets;
        rawMs = Math.min(rawMs, await rawSqlite(join(dir, 'raw.db'), rows));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    console.log(
      `sqlite: store ${rate(n, storeMs)} reports/s (${(storeMs / 1000).toFixed(1)} s, ${buckets} buckets); raw INSERT ${rate(n, rawMs)} rows/s; store/raw time ratio ${(storeMs / rawMs).toFixed(2)}x (best of ${ROUNDS} alternating runs each); target >= 20000/s: ${rate(n, storeMs) >= 20000 ? 'met' : 'NOT met'}`,
    );
  }

  const base = opt('pg', process.env.KTRIAGE_TEST_PG ?? '');
  if (!DIALECTS.has('postgres')) return;
  if (!base) {
    console.log('postgres: skipped (no --pg and no KTRIAGE_TEST_PG)');
    return;
  }
  let storeMs = Number.POSITIVE_INFINITY;
  let rawMs = Number.POSITIVE_INFINITY;
  let buckets = 0;
  const writers = await startWriters(WRITERS, t0);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const a = await pgDb(base);
      const b = await pgDb(base);
      try {
        // Migrate once before the writers start, as a deployed database would be.
        await (await openStore(a.url)).close();
        storeMs = Math.min(storeMs, await writers.run(a.url));
        const s = await openStore(a.url);
        const st = await s.stats();
        await s.close();
        if (st.crashes !== n) throw new Error(`postgres store holds ${st.crashes} crashes, expected ${n}`);
        buckets = st.buckets;
        rawMs = Math.min(rawMs, await rawPg(b.url, rows, WRITERS));
      } finally {
        await a.drop();
        await b.drop();
      }
    }
  } finally {
    await writers.stop();
  }
  console.log(
    `postgres (${WRITERS} writers): store ${rate(n, storeMs)} reports/s (${(storeMs / 1000).toFixed(1)} s, ${buckets} buckets); raw INSERT ${rate(n, rawMs)} rows/s; store/raw time ratio ${(storeMs / rawMs).toFixed(2)}x (best of ${ROUNDS} alternating runs each); target >= 10000/s: ${rate(n, storeMs) >= 10000 ? 'met' : 'NOT met'}`,
  );
}

await main();
void resolve;
