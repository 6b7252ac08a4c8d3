// Workers: 3 `ktriage worker` processes on a real PostgreSQL share 300 jobs, each done exactly
// once; a worker killed (SIGKILL) in the middle of a job -> the job is retried by another worker
// and completes. On SQLite, the in-process runner's lease gives the same recovery.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import type { KyselyStore } from '../../src/store/store.ts';
import type { Job } from '../../src/store/types.ts';
import { bin, freshDb, pgMissing, repoRoot, runCli, type TestDb } from '../store/helpers.ts';

function startWorker(url: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const p = spawn(process.execPath, [bin, 'worker', '--db', url], {
    cwd: repoRoot,
    env: { ...process.env, KTRIAGE_JOB_MAINTENANCE_S: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  p.stderr!.on('data', () => {});
  return p;
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  ms: number,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Polls a job until `pred` holds for it. */
function jobWhen(
  store: { getJob(id: number): Promise<Job | null> },
  id: number,
  what: string,
  pred: (j: Job) => boolean,
  ms: number,
): Promise<Job> {
  return waitFor<Job>(
    what,
    async () => {
      const j = await store.getJob(id);
      return j && pred(j) ? j : null;
    },
    ms,
  );
}

async function stopAll(ps: ChildProcess[]): Promise<void> {
  await Promise.all(
    ps.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          p.once('exit', () => resolve());
          p.kill('SIGTERM');
          setTimeout(() => p.kill('SIGKILL'), 15_000).unref();
        }),
    ),
  );
}

/**
 * Cancels a running 60 s job and shows its worker let go of it: the worker (the only one left,
 * one job at a time) runs a short job next, long before the cancelled one would have ended.
 */
async function cancelRunning(store: KyselyStore, cancel: (id: number) => Promise<void>): Promise<void> {
  const id = await store.enqueueJob({ kind: 'selftest', payload: { sleepMs: 60_000 }, timeoutSeconds: 120 });
  const running = await jobWhen(store, id, 'the long job to start', (j) => j.state === 'active', 60_000);
  const t0 = Date.now();
  await cancel(id);
  const next = await store.enqueueJob({ kind: 'selftest', payload: { sleepMs: 10 } });
  const done = await jobWhen(store, next, 'the next job to finish', (j) => j.state === 'done', 30_000);
  expect(Date.now() - t0).toBeLessThan(30_000);
  expect(done.worker).toBe(running.worker);
  const j = await store.getJob(id);
  expect(j?.state).toBe('cancelled');
  expect(j?.attempts).toBe(1);
  const attempts = await store.opened.db
    .selectFrom('job_attempts')
    .selectAll()
    .where('job_id', '=', id)
    .execute();
  expect(attempts.map((a) => a.outcome)).toEqual(['cancelled']);
}

const pgSkip = pgMissing();

describe.skipIf(pgSkip !== null)('pg-boss workers on PostgreSQL', () => {
  let db: TestDb;
  let store: KyselyStore;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    db = await freshDb('postgres');
    store = await openStore(db.url);
    for (let i = 0; i < 3; i++) workers.push(startWorker(db.url));
  });
  afterAll(async () => {
    await stopAll(workers);
    await store?.close();
    await db?.drop();
  });

  it('3 workers, 300 jobs -> each done exactly once', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 300; i++) {
      ids.push(
        await store.enqueueJob({ kind: 'selftest', payload: { sleepMs: (i * 7) % 25 }, timeoutSeconds: 60 }),
      );
    }
    await waitFor(
      'all 300 jobs done',
      async () => (await store.listJobs({ state: 'done', limit: 1000 })).length === 300,
      240_000,
    );
    const jobs = await store.listJobs({ limit: 1000 });
    expect(jobs.map((j) => j.id).sort((a, b) => a - b)).toEqual(ids);
    for (const j of jobs) {
      expect(j.state).toBe('done');
      expect(j.attempts).toBe(1);
      expect(j.startedAt! <= j.finishedAt!).toBe(true);
    }
    const attempts = await store.opened.db.selectFrom('job_attempts').selectAll().execute();
    expect(attempts).toHaveLength(300);
    expect(new Set(attempts.map((a) => a.job_id)).size).toBe(300);
    expect(attempts.every((a) => a.outcome === 'done')).toBe(true);
    const pids = new Set(jobs.map((j) => (j.result as { pid: number }).pid));
    const workerPids = new Set(workers.map((w) => w.pid));
    for (const p of pids) expect(workerPids.has(p)).toBe(true);
    expect(pids.size).toBeGreaterThanOrEqual(2);
  }, 300_000);

  it('a worker killed mid-job -> another retries the job and completes it', async () => {
    const id = await store.enqueueJob({
      kind: 'selftest',
      payload: { sleepMs: 4000 },
      timeoutSeconds: 6,
      retries: 2,
    });
    const running = await jobWhen(store, id, 'the job to start', (j) => j.state === 'active', 60_000);
    const pid = Number(running.worker!.split(':').pop());
    const victim = workers.find((w) => w.pid === pid);
    expect(victim, `worker ${running.worker} is one of ours`).toBeDefined();
    victim!.kill('SIGKILL');
    const done = await jobWhen(
      store,
      id,
      'the retried job to finish',
      (j) => j.state === 'done' || j.state === 'failed',
      120_000,
    );
    expect(done.state).toBe('done');
    expect(done.attempts).toBe(2);
    expect((done.result as { pid: number }).pid).not.toBe(pid);
    const attempts = await store.opened.db
      .selectFrom('job_attempts')
      .selectAll()
      .where('job_id', '=', id)
      .orderBy('attempt')
      .execute();
    expect(attempts.map((a) => a.outcome)).toEqual(['lost', 'done']);
    expect(attempts[0]!.worker).toBe(running.worker);
    expect(attempts[1]!.worker).not.toBe(running.worker);
  }, 180_000);

  it('a worker killed mid-job with no retries left -> the job ends failed, its attempt lost', async () => {
    const id = await store.enqueueJob({
      kind: 'selftest',
      payload: { sleepMs: 60_000 },
      timeoutSeconds: 3,
      retries: 0,
    });
    const running = await jobWhen(store, id, 'the job to start', (j) => j.state === 'active', 60_000);
    const pid = Number(running.worker!.split(':').pop());
    const victim = workers.find((w) => w.pid === pid && w.exitCode === null && w.signalCode === null);
    expect(victim, `worker ${running.worker} is one of ours and alive`).toBeDefined();
    victim!.kill('SIGKILL');
    // pg-boss expires the attempt after timeoutSeconds and, with no retry left, fails the job;
    // a surviving worker carries that into the store. Nobody may run it again.
    const ended = await jobWhen(
      store,
      id,
      'the job to be marked failed',
      (j) => j.state !== 'active' && j.state !== 'queued',
      120_000,
    );
    expect(ended.state).toBe('failed');
    expect(ended.attempts).toBe(1);
    expect(ended.error).toMatch(/no attempts left/);
    expect(ended.finishedAt).not.toBeNull();
    const attempts = await store.opened.db
      .selectFrom('job_attempts')
      .selectAll()
      .where('job_id', '=', id)
      .execute();
    expect(attempts.map((a) => [a.worker, a.outcome])).toEqual([[running.worker, 'lost']]);
  }, 180_000);

  it('`ktriage jobs cancel` on a running job: its worker stops it and is free again', async () => {
    // Two workers were killed above; one is left.
    expect(workers.filter((w) => w.exitCode === null && w.signalCode === null)).toHaveLength(1);
    await cancelRunning(store, async (id) => {
      const r = await runCli(['jobs', 'cancel', String(id), '--db', db.url]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`j${id} cancelled`));
    });
    const again = await runCli(['jobs', 'cancel', '999999', '--db', db.url]);
    expect(again.stderr).toMatch(/no job 999999/);
    expect(again.code).toBe(2);
  }, 180_000);
});

describe('the SQLite runner: a killed worker leaves a lease that another worker takes over', () => {
  let db: TestDb;
  let store: KyselyStore;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    db = await freshDb('sqlite');
    store = await openStore(db.url);
  });
  afterAll(async () => {
    await stopAll(workers);
    await store?.close();
    await db?.drop();
  });

  it('retries after the lease ends and records both attempts', async () => {
    const env = { KTRIAGE_JOB_LEASE_S: '2' };
    workers.push(startWorker(db.url, env));
    const id = await store.enqueueJob({ kind: 'selftest', payload: { sleepMs: 3000 }, retries: 1 });
    const running = await jobWhen(store, id, 'the job to start', (j) => j.state === 'active', 60_000);
    workers[0]!.kill('SIGKILL');
    workers.push(startWorker(db.url, env));
    const done = await jobWhen(
      store,
      id,
      'the job to finish',
      (j) => j.state === 'done' || j.state === 'failed',
      60_000,
    );
    expect(done.state).toBe('done');
    expect(done.attempts).toBe(2);
    expect(done.worker).not.toBe(running.worker);
    const attempts = await store.opened.db
      .selectFrom('job_attempts')
      .selectAll()
      .where('job_id', '=', id)
      .orderBy('attempt')
      .execute();
    expect(attempts.map((a) => a.outcome)).toEqual(['lost', 'done']);
  }, 120_000);

  it('cancelling a running job: the runner stops it and is free again', async () => {
    await cancelRunning(store, async (id) => {
      expect((await store.cancelJob(id))?.state).toBe('cancelled');
    });
  }, 120_000);
});
