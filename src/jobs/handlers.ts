// Job handlers by kind. Built-ins: `ingest` (large logs, paths or text) and `selftest` (a worker
// health check that sleeps and reports who ran it; the workers test uses it). Later modules add
// theirs with registerJobHandler (e.g. `analyze.vmcore`), in a module listed in HANDLER_MODULES so
// that `ktriage worker` processes load it.
import { hostname } from 'node:os';
import type { Store } from '../store/types.ts';

export interface JobContext {
  store: Store;
  jobId: number;
  attempt: number;
  worker: string;
  /** Aborted when the job is cancelled (`ktriage jobs cancel`, the API); long handlers should stop. */
  signal: AbortSignal;
}

export type JobHandler = (payload: unknown, ctx: JobContext) => Promise<unknown>;

const handlers = new Map<string, JobHandler>();

export function registerJobHandler(kind: string, fn: JobHandler): void {
  handlers.set(kind, fn);
}

export function jobHandler(kind: string): JobHandler | undefined {
  return handlers.get(kind);
}

export function jobKinds(): string[] {
  return [...handlers.keys()].sort();
}

/** Modules that register handlers when imported (paths relative to this file). */
const HANDLER_MODULES: string[] = [];

let loaded = false;
export async function loadJobHandlers(): Promise<void> {
  if (loaded) return;
  loaded = true;
  for (const m of HANDLER_MODULES) await import(new URL(m, import.meta.url).href);
}

export function workerName(): string {
  return `${hostname()}:${process.pid}`;
}

function obj(p: unknown, kind: string): Record<string, unknown> {
  if (typeof p !== 'object' || p === null || Array.isArray(p))
    throw new Error(`${kind}: payload must be an object`);
  return p as Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

registerJobHandler('selftest', async (payload, ctx) => {
  const p = obj(payload ?? {}, 'selftest');
  const ms = Math.max(0, Math.min(Number(p.sleepMs ?? 0) || 0, 600_000));
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(t);
      reject(ctx.signal.reason ?? new Error('cancelled'));
    };
    const t = setTimeout(() => {
      ctx.signal.removeEventListener('abort', done);
      resolve();
    }, ms);
    if (ctx.signal.aborted) done();
    else ctx.signal.addEventListener('abort', done, { once: true });
  });
  if (p.fail === true) throw new Error('selftest: asked to fail');
  return { worker: ctx.worker, pid: process.pid, attempt: ctx.attempt, sleptMs: Date.now() - started };
});

registerJobHandler('ingest', async (payload, ctx) => {
  const p = obj(payload, 'ingest');
  const opts = { host: str(p.host), kernel: str(p.kernel), occurredAt: str(p.occurredAt) };
  if (typeof p.text === 'string') {
    const r = await ctx.store.ingestLog({
      text: p.text,
      source: str(p.source) ?? `job ${ctx.jobId}`,
      ...opts,
    });
    return {
      logs: 1,
      crashes: r.crashes.length,
      created: r.crashes.filter((c) => c.created).length,
      noCrash: r.noCrash,
    };
  }
  if (Array.isArray(p.paths) && p.paths.every((x) => typeof x === 'string')) {
    const { ingestPaths } = await import('../store/ingest-files.ts');
    const writer = ctx.store as unknown as import('../store/ingest-files.ts').PreparedWriter;
    const s = await ingestPaths(writer, p.paths as string[], {
      ...opts,
      progress: false,
      signal: ctx.signal,
    });
    return s;
  }
  throw new Error('ingest: payload needs `text` or `paths`');
});
