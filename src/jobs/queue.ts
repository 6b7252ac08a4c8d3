// Jobs: every job is a row in the store's `jobs` table (state, attempts, timings, result) with one
// `job_attempts` row per attempt. What moves them differs by dialect:
// - SQLite: LocalRunner, in the process that serves (or a `ktriage worker --db FILE`): claims the
//   oldest queued job, or an active one whose lease expired (its runner died), under the write lock,
//   and keeps the lease alive while the handler runs.
// - PostgreSQL: pg-boss carries the job id; any number of `ktriage worker` processes fetch with
//   SKIP LOCKED; a dead worker's job expires (expireInSeconds) and pg-boss retries it elsewhere.
import { EventEmitter } from 'node:events';
import { type Db, nowIso, type OpenedDb, withWriteLock } from '../store/db.ts';
import type { JobBackend } from '../store/jobs-backend.ts';
import type { JobInput, Store } from '../store/types.ts';
import { jobHandler, loadJobHandlers, workerName } from './handlers.ts';

export const QUEUE = 'ktriage-jobs';
const wake = new EventEmitter();
wake.setMaxListeners(0);

function num(x: unknown): number {
  return typeof x === 'number' ? x : Number(x);
}

function validate(job: JobInput): { retries: number; timeout: number } {
  if (!job.kind || typeof job.kind !== 'string') throw new Error('job kind is required');
  const retries = job.retries ?? 2;
  const timeout = job.timeoutSeconds ?? 900;
  if (!Number.isInteger(retries) || retries < 0 || retries > 100)
    throw new Error('job retries must be 0..100');
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 86_400)
    throw new Error('job timeoutSeconds must be 1..86400');
  return { retries, timeout };
}

async function insertJob(db: Db, job: JobInput): Promise<number> {
  const { retries, timeout } = validate(job);
  const row = await db
    .insertInto('jobs')
    .values({
      kind: job.kind,
      state: 'queued',
      payload: JSON.stringify(job.payload ?? null),
      attempts: 0,
      max_attempts: retries + 1,
      timeout_s: timeout,
      created_at: nowIso(),
      started_at: null,
      finished_at: null,
      lease_until: null,
      worker: null,
      result: null,
      error: null,
      boss_id: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return num(row.id);
}

export class LocalBackend implements JobBackend {
  constructor(private readonly o: OpenedDb) {}
  async enqueue(job: JobInput): Promise<number> {
    const id = await insertJob(this.o.db, job);
    wake.emit('job');
    return id;
  }
  async cancel(): Promise<void> {
    // The runner sees the cancelled state itself.
  }
  async close(): Promise<void> {}
}

type Boss = import('pg-boss');

async function makeBoss(url: string, supervise: boolean): Promise<Boss> {
  const PgBoss = (await import('pg-boss')).default;
  const boss = new PgBoss({
    connectionString: url,
    max: 3,
    supervise,
    schedule: false,
    migrate: true,
    maintenanceIntervalSeconds: Number(process.env.KTRIAGE_JOB_MAINTENANCE_S ?? 15),
  });
  boss.on('error', (err: unknown) => {
    process.stderr.write(`ktriage: job queue: ${err instanceof Error ? err.message : String(err)}\n`);
  });
  await boss.start();
  await boss.createQueue(QUEUE).catch(() => {});
  return boss;
}

export class PgBossBackend implements JobBackend {
  private boss: Promise<Boss> | null = null;
  constructor(private readonly o: OpenedDb) {}
  private getBoss(): Promise<Boss> {
    this.boss ??= makeBoss(this.o.pgUrl!, false);
    return this.boss;
  }
  async enqueue(job: JobInput): Promise<number> {
    const { retries, timeout } = validate(job);
    const id = await insertJob(this.o.db, job);
    const boss = await this.getBoss();
    const bossId = await boss.send(
      QUEUE,
      { jobId: id },
      { retryLimit: retries, expireInSeconds: timeout, retryDelay: 1, retryBackoff: false },
    );
    await this.o.db
      .updateTable('jobs')
      .set({ boss_id: bossId ?? null })
      .where('id', '=', id)
      .execute();
    return id;
  }
  async cancel(bossId: string | null): Promise<void> {
    // Queued: pg-boss never hands it out. Active: the worker's fetch is already done; it aborts
    // the handler when it sees the store's state, and pg-boss's copy needs no retry either.
    if (!bossId) return;
    const boss = await this.getBoss();
    await boss.cancel(QUEUE, bossId).catch(() => {});
  }
  async close(): Promise<void> {
    if (this.boss) {
      const b = await this.boss.catch(() => null);
      await b?.stop({ graceful: false, wait: true }).catch(() => {});
    }
  }
}

export function jobBackendFor(o: OpenedDb): JobBackend {
  return o.dialect === 'postgres' ? new PgBossBackend(o) : new LocalBackend(o);
}

// ---------------------------------------------------------------------------------------------
// Running one attempt (shared by both runners)

/** Starts the next attempt of a job; null when the job was cancelled (or finished) meanwhile. */
async function startAttempt(db: Db, jobId: number, worker: string): Promise<number | null> {
  // A previous attempt that never finished belonged to a worker that died.
  await db
    .updateTable('job_attempts')
    .set({ outcome: 'lost', finished_at: nowIso(), error: 'worker died or timed out' })
    .where('job_id', '=', jobId)
    .where('outcome', 'is', null)
    .execute();
  const job = await db
    .selectFrom('jobs')
    .select(['attempts'])
    .where('id', '=', jobId)
    .executeTakeFirstOrThrow();
  const attempt = num(job.attempts) + 1;
  const t = nowIso();
  const upd = await db
    .updateTable('jobs')
    .set({ state: 'active', attempts: attempt, started_at: t, finished_at: null, worker, error: null })
    .where('id', '=', jobId)
    .where('state', 'in', ['queued', 'active'])
    .executeTakeFirst();
  if (Number(upd.numUpdatedRows) === 0) return null;
  await db
    .insertInto('job_attempts')
    .values({ job_id: jobId, attempt, worker, started_at: t, finished_at: null, outcome: null, error: null })
    .execute();
  return attempt;
}

async function finishAttempt(
  db: Db,
  jobId: number,
  attempt: number,
  outcome: 'done' | 'failed' | 'retry',
  result: unknown,
  error: string | null,
): Promise<boolean> {
  const t = nowIso();
  return db.transaction().execute(async (trx) => {
    const upd = await trx
      .updateTable('job_attempts')
      .set({ finished_at: t, outcome: outcome === 'retry' ? 'failed' : outcome, error })
      .where('job_id', '=', jobId)
      .where('attempt', '=', attempt)
      .where('outcome', 'is', null)
      .executeTakeFirst();
    // A stale attempt (expired and re-run elsewhere) must not overwrite the job's state.
    if (Number(upd.numUpdatedRows) === 0) return false;
    await trx
      .updateTable('jobs')
      .set({
        state: outcome === 'retry' ? 'queued' : outcome,
        finished_at: outcome === 'retry' ? null : t,
        lease_until: null,
        result: outcome === 'done' ? JSON.stringify(result ?? null) : null,
        error,
      })
      .where('id', '=', jobId)
      .where('state', '!=', 'done')
      .execute();
    return true;
  });
}

/**
 * Cancels a job: queued -> never runs; active -> its attempt is recorded as cancelled at once and
 * the runner aborts the handler's signal at its next check (handlers stop at their next await of
 * it). One transaction, attempt row first (the order finishAttempt locks them in), so a cancel
 * racing the attempt's own end leaves either a done/failed job or a cancelled one, never a mix.
 * Returns false when the job had already ended.
 */
export async function cancelJobRow(db: Db, jobId: number): Promise<boolean> {
  const t = nowIso();
  return db.transaction().execute(async (trx) => {
    await trx
      .updateTable('job_attempts')
      .set({ outcome: 'cancelled', finished_at: t, error: 'cancelled' })
      .where('job_id', '=', jobId)
      .where('outcome', 'is', null)
      .execute();
    const upd = await trx
      .updateTable('jobs')
      .set({ state: 'cancelled', finished_at: t, lease_until: null, error: 'cancelled' })
      .where('id', '=', jobId)
      .where('state', 'in', ['queued', 'active'])
      .executeTakeFirst();
    return Number(upd.numUpdatedRows) > 0;
  });
}

/** How often a runner looks whether its running job was cancelled. */
const CANCEL_POLL_MS = Number(process.env.KTRIAGE_JOB_CANCEL_POLL_MS ?? 1000);

async function runHandler(
  store: Store & { opened: OpenedDb },
  jobId: number,
  kind: string,
  payload: unknown,
  attempt: number,
  worker: string,
) {
  await loadJobHandlers();
  const fn = jobHandler(kind);
  if (!fn) throw new Error(`no handler for job kind "${kind}" in this worker`);
  const ac = new AbortController();
  const db = store.opened.db;
  const poll = setInterval(() => {
    void db
      .selectFrom('jobs')
      .select('state')
      .where('id', '=', jobId)
      .executeTakeFirst()
      .then((r) => {
        if (r?.state === 'cancelled') ac.abort(new Error(`job ${jobId} was cancelled`));
      })
      .catch(() => {});
  }, CANCEL_POLL_MS);
  try {
    return await fn(payload, { store, jobId, attempt, worker, signal: ac.signal });
  } finally {
    clearInterval(poll);
  }
}

/** pg-boss stores a completion's data as JSON output; it wants an object. */
function toOutput(result: unknown): object {
  return typeof result === 'object' && result !== null && !Array.isArray(result)
    ? result
    : { value: result ?? null };
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------
// SQLite: in-process runner with leases

export interface RunnerOptions {
  worker?: string;
  /** Lease length; renewed every third of it while the handler runs. */
  leaseSeconds?: number;
  pollMs?: number;
  concurrency?: number;
}

export class LocalRunner {
  private stopped = false;
  private running = 0;
  private readonly worker: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly concurrency: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly onWake = () => this.tick();
  private ticking = false;

  constructor(
    private readonly store: Store & { opened: OpenedDb },
    opts: RunnerOptions = {},
  ) {
    this.worker = opts.worker ?? workerName();
    this.leaseMs = (opts.leaseSeconds ?? Number(process.env.KTRIAGE_JOB_LEASE_S ?? 30)) * 1000;
    this.pollMs = opts.pollMs ?? 2000;
    this.concurrency = opts.concurrency ?? 1;
  }

  start(): void {
    wake.on('job', this.onWake);
    this.timer = setInterval(() => this.tick(), this.pollMs);
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    wake.off('job', this.onWake);
    if (this.timer) clearInterval(this.timer);
    while (this.running > 0) await new Promise((r) => setTimeout(r, 50));
  }

  private tick(): void {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    void (async () => {
      try {
        while (!this.stopped && this.running < this.concurrency) {
          const claimed = await this.claim();
          if (!claimed) break;
          this.running++;
          void this.run(claimed).finally(() => {
            this.running--;
            this.tick();
          });
        }
      } catch (err) {
        process.stderr.write(`ktriage: job runner: ${errText(err)}\n`);
      } finally {
        this.ticking = false;
      }
    })();
  }

  /** Oldest queued job, or an active one whose lease ran out (its runner died). */
  private async claim(): Promise<{ id: number; kind: string; payload: unknown; attempt: number } | null> {
    const o = this.store.opened;
    return withWriteLock(o, async (trx) => {
      const now = nowIso();
      for (;;) {
        const row = await trx
          .selectFrom('jobs')
          .select(['id', 'kind', 'payload', 'attempts', 'max_attempts', 'state'])
          .where((eb) =>
            eb.or([
              eb('state', '=', 'queued'),
              eb.and([eb('state', '=', 'active'), eb('lease_until', '<', now)]),
            ]),
          )
          .orderBy('id')
          .limit(1)
          .executeTakeFirst();
        if (!row) return null;
        const id = num(row.id);
        if (num(row.attempts) >= num(row.max_attempts)) {
          await trx
            .updateTable('job_attempts')
            .set({ outcome: 'lost', finished_at: now, error: 'worker died or timed out' })
            .where('job_id', '=', id)
            .where('outcome', 'is', null)
            .execute();
          await trx
            .updateTable('jobs')
            .set({
              state: 'failed',
              finished_at: now,
              lease_until: null,
              error: 'worker died; no attempts left',
            })
            .where('id', '=', id)
            .execute();
          continue;
        }
        const attempt = await startAttempt(trx, id, this.worker);
        if (attempt === null) continue;
        await trx
          .updateTable('jobs')
          .set({ lease_until: new Date(Date.now() + this.leaseMs).toISOString() })
          .where('id', '=', id)
          .execute();
        return { id, kind: row.kind, payload: JSON.parse(row.payload), attempt };
      }
    });
  }

  private async run(j: { id: number; kind: string; payload: unknown; attempt: number }): Promise<void> {
    const db = this.store.opened.db;
    const renew = setInterval(() => {
      void db
        .updateTable('jobs')
        .set({ lease_until: new Date(Date.now() + this.leaseMs).toISOString() })
        .where('id', '=', j.id)
        .where('state', '=', 'active')
        .execute()
        .catch(() => {});
    }, this.leaseMs / 3);
    try {
      const result = await runHandler(this.store, j.id, j.kind, j.payload, j.attempt, this.worker);
      await finishAttempt(db, j.id, j.attempt, 'done', result, null);
    } catch (err) {
      const job = await db
        .selectFrom('jobs')
        .select(['max_attempts'])
        .where('id', '=', j.id)
        .executeTakeFirst();
      const left = job ? j.attempt < num(job.max_attempts) : false;
      await finishAttempt(db, j.id, j.attempt, left ? 'retry' : 'failed', null, errText(err)).catch(() => {});
      if (left) wake.emit('job');
    } finally {
      clearInterval(renew);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: pg-boss worker

export interface PgWorkerOptions {
  worker?: string;
  /** Jobs run at once by this process. */
  concurrency?: number;
  pollingIntervalSeconds?: number;
}

export class PgBossWorker {
  private boss: Boss | null = null;
  private readonly worker: string;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private wakeSleep: (() => void) | null = null;

  constructor(
    private readonly store: Store & { opened: OpenedDb },
    private readonly opts: PgWorkerOptions = {},
  ) {
    this.worker = opts.worker ?? workerName();
  }

  async start(): Promise<void> {
    const o = this.store.opened;
    this.boss = await makeBoss(o.pgUrl!, true);
    const boss = this.boss;
    const n = Math.max(1, this.opts.concurrency ?? 1);
    // Our own fetch loop rather than boss.work(): work() waits a full polling interval after every
    // job, which caps a worker at one short job per interval; this loop fetches again at once
    // while there is work and only sleeps when the queue is empty.
    const pollMs = (this.opts.pollingIntervalSeconds ?? 1) * 1000;
    for (let i = 0; i < n; i++) this.loops.push(this.loop(boss, pollMs));
    this.reconcileTimer = setInterval(() => void this.reconcile().catch(() => {}), 10_000);
  }

  private async loop(boss: Boss, pollMs: number): Promise<void> {
    while (!this.stopping) {
      let jobs: { id: string; data: { jobId: number } }[] = [];
      try {
        jobs = (await boss.fetch<{ jobId: number }>(QUEUE, { batchSize: 1 })) ?? [];
      } catch (err) {
        process.stderr.write(`ktriage worker: fetch: ${errText(err)}\n`);
      }
      if (jobs.length === 0) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, pollMs);
          this.wakeSleep = () => {
            clearTimeout(t);
            r();
          };
        });
        continue;
      }
      for (const bj of jobs) {
        try {
          const result = await this.runOne(bj.data.jobId, bj.id);
          await boss.complete(QUEUE, bj.id, toOutput(result));
        } catch (err) {
          await boss.fail(QUEUE, bj.id, { message: errText(err) }).catch(() => {});
        }
      }
    }
  }

  private async runOne(jobId: number, bossId: string): Promise<unknown> {
    const db = this.store.opened.db;
    const row = await db
      .selectFrom('jobs')
      .select(['kind', 'payload', 'state', 'max_attempts'])
      .where('id', '=', jobId)
      .executeTakeFirst();
    if (!row) return { skipped: `job ${jobId} is not in the store` };
    if (row.state === 'done' || row.state === 'cancelled')
      return { skipped: `job ${jobId} already ${row.state}` };
    const attempt = await db.transaction().execute((trx) => startAttempt(trx, jobId, this.worker));
    if (attempt === null) return { skipped: `job ${jobId} was cancelled` };
    try {
      const result = await runHandler(
        this.store,
        jobId,
        row.kind,
        JSON.parse(row.payload),
        attempt,
        this.worker,
      );
      await finishAttempt(db, jobId, attempt, 'done', result, null);
      return result;
    } catch (err) {
      const left = attempt < num(row.max_attempts);
      await finishAttempt(db, jobId, attempt, left ? 'retry' : 'failed', null, errText(err)).catch(() => {});
      void bossId;
      throw err;
    }
  }

  /** Jobs pg-boss gave up on (expired with no retries left) are marked failed in the store. */
  private async reconcile(): Promise<void> {
    if (!this.boss) return;
    const db = this.store.opened.db;
    const stale = await db
      .selectFrom('jobs')
      .select(['id', 'boss_id'])
      .where('state', 'in', ['active', 'queued'])
      .where('boss_id', 'is not', null)
      .limit(200)
      .execute();
    for (const j of stale) {
      const bj = await this.boss.getJobById(QUEUE, j.boss_id!).catch(() => null);
      if (bj && (bj.state === 'failed' || bj.state === 'cancelled')) {
        await db
          .updateTable('job_attempts')
          .set({ outcome: 'lost', finished_at: nowIso(), error: 'worker died or timed out' })
          .where('job_id', '=', num(j.id))
          .where('outcome', 'is', null)
          .execute();
        await db
          .updateTable('jobs')
          .set({
            state: bj.state === 'cancelled' ? 'cancelled' : 'failed',
            finished_at: nowIso(),
            error: 'worker died or timed out; no attempts left',
          })
          .where('id', '=', num(j.id))
          .where('state', 'in', ['active', 'queued'])
          .execute();
      }
    }
  }

  async stop(): Promise<void> {
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.stopping = true;
    this.wakeSleep?.();
    await Promise.all(this.loops);
    await this.boss?.stop({ graceful: true, wait: true, timeout: 10_000 }).catch(() => {});
  }
}
