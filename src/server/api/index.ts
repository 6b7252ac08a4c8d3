// The JSON API, /api/v1. Errors are always JSON `{error, detail}`: 400 bad request, 401 missing
// token, 403 wrong token, 404 unknown, 413 body too large, 415 unsupported media type, 422 input
// that is not a log (binary, empty). A bad request never takes the server down.
//
// Auth (environment of `ktriage serve`), a bearer token `Authorization: Bearer <token>`:
//   KTRIAGE_TOKEN        one token for reading and writing
//   KTRIAGE_READ_TOKEN   a token that may only read (GET)
//   KTRIAGE_WRITE_TOKEN  a token that may read and write (POST)
// Reads need a token when KTRIAGE_TOKEN or KTRIAGE_READ_TOKEN is set; writes need one when any is
// set (with only a read token set, writes are refused). With none set the API is open: bind to
// 127.0.0.1 (the default) or set tokens.
import { timingSafeEqual } from 'node:crypto';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { InputError } from '../../store/formats.ts';
import type { BucketFilter, IngestInput, JobState, Store } from '../../store/types.ts';

export interface ApiAuth {
  token?: string | null;
  readToken?: string | null;
  writeToken?: string | null;
}

export function authFromEnv(env: NodeJS.ProcessEnv = process.env): ApiAuth {
  return {
    token: env.KTRIAGE_TOKEN || null,
    readToken: env.KTRIAGE_READ_TOKEN || null,
    writeToken: env.KTRIAGE_WRITE_TOKEN || null,
  };
}

export interface ApiDeps {
  store: Store;
  auth: ApiAuth;
  maxBodyBytes: number;
  asyncIngestBytes: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 500 | 503,
    readonly error: string,
    readonly detail: string,
  ) {
    super(`${error}: ${detail}`);
  }
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function authMiddleware(auth: ApiAuth): MiddlewareHandler {
  const readOk = [auth.token, auth.readToken, auth.writeToken].filter((t): t is string => Boolean(t));
  const writeOk = [auth.token, auth.writeToken].filter((t): t is string => Boolean(t));
  const readNeeds = Boolean(auth.token || auth.readToken);
  const writeNeeds = Boolean(auth.token || auth.readToken || auth.writeToken);
  return async (c, next) => {
    if (c.req.path === '/api/v1/health') return next();
    const write = !['GET', 'HEAD', 'OPTIONS'].includes(c.req.method);
    const needs = write ? writeNeeds : readNeeds;
    if (!needs) return next();
    const h = c.req.header('authorization') ?? '';
    const given = h.toLowerCase().startsWith('bearer ') ? h.slice(7).trim() : '';
    if (!given) {
      c.header('WWW-Authenticate', 'Bearer realm="ktriage"');
      throw new ApiError(
        401,
        'unauthorized',
        `this ${write ? 'write' : 'read'} needs a token: Authorization: Bearer <token>`,
      );
    }
    const ok = (write ? writeOk : readOk).some((t) => sameToken(t, given));
    if (!ok) {
      if (write && writeOk.length === 0) {
        throw new ApiError(
          403,
          'forbidden',
          'writes are disabled: the server has only a read token (set KTRIAGE_WRITE_TOKEN)',
        );
      }
      const readOnly = write && readOk.some((t) => sameToken(t, given));
      throw new ApiError(403, 'forbidden', readOnly ? 'this token may only read' : 'wrong token');
    }
    return next();
  };
}

function parseId(s: string | undefined, what: string): number {
  if (!s || !/^\d{1,15}$/.test(s))
    throw new ApiError(400, 'bad request', `${what} id "${s ?? ''}" is not a number`);
  return Number(s);
}

function intParam(c: Context, name: string, min: number, max: number): number | undefined {
  const v = c.req.query(name);
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new ApiError(400, 'bad request', `${name}=${v}: expected an integer ${min}..${max}`);
  }
  return Number(v);
}

function timeParam(c: Context, name: string): string | undefined {
  const v = c.req.query(name);
  if (v === undefined || v === '') return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new ApiError(400, 'bad request', `${name}=${v}: not an ISO 8601 time`);
  return d.toISOString();
}

const SORTS = ['lastSeen', 'firstSeen', 'count', 'title', 'hosts'];

function errorResponse(c: Context, err: unknown) {
  if (err instanceof ApiError) return c.json({ error: err.error, detail: err.detail }, err.status);
  if (err instanceof InputError) return c.json({ error: 'unprocessable input', detail: err.message }, 422);
  const msg = err instanceof Error ? err.message : String(err);
  // The client hung up mid-body: nobody is there to answer, and it is not our failure.
  if (msg === 'aborted')
    return c.json({ error: 'bad request', detail: 'request aborted by the client' }, 400);
  process.stderr.write(
    `ktriage serve: ${c.req.method} ${c.req.path}: ${err instanceof Error ? (err.stack ?? msg) : msg}\n`,
  );
  return c.json({ error: 'internal error', detail: msg }, 500);
}

export function mountApi(app: Hono, deps: ApiDeps): void {
  const { store } = deps;
  const prevOnError = (app as unknown as { errorHandler?: unknown }).errorHandler;
  void prevOnError;
  app.onError((err, c) => {
    if (c.req.path.startsWith('/api/')) return errorResponse(c, err);
    process.stderr.write(
      `ktriage serve: ${c.req.method} ${c.req.path}: ${err instanceof Error ? err.stack : String(err)}\n`,
    );
    return c.text('Internal error', 500);
  });

  app.use('/api/*', async (c, next) => {
    try {
      await next();
    } catch (err) {
      return errorResponse(c, err);
    }
    c.header('Cache-Control', 'no-store');
  });
  app.use('/api/*', authMiddleware(deps.auth));

  app.get('/api/v1/health', async (c) => c.json({ ok: true, dialect: store.dialect }));

  // ---- crashes

  app.post(
    '/api/v1/crashes',
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: (c) =>
        c.json(
          {
            error: 'payload too large',
            detail: `request body over ${deps.maxBodyBytes} bytes; ingest big logs with \`ktriage ingest\``,
          },
          413,
        ),
    }),
    async (c) => {
      const ct = (c.req.header('content-type') ?? '').toLowerCase();
      let input: IngestInput;
      if (ct.startsWith('application/json')) {
        const raw = await c.req.text();
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch (err) {
          throw new ApiError(400, 'malformed JSON', `request body: ${(err as Error).message}`);
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw new ApiError(400, 'bad request', 'expected a JSON object {log, host, kernel, occurredAt}');
        }
        const b = body as Record<string, unknown>;
        if (typeof b.log !== 'string')
          throw new ApiError(
            400,
            'bad request',
            '"log" (the console log text) is required and must be a string',
          );
        for (const k of ['host', 'kernel', 'occurredAt', 'source'] as const) {
          if (b[k] != null && typeof b[k] !== 'string')
            throw new ApiError(400, 'bad request', `"${k}" must be a string`);
        }
        if (b.occurredAt && Number.isNaN(new Date(b.occurredAt as string).getTime())) {
          throw new ApiError(400, 'bad request', `"occurredAt": "${b.occurredAt}" is not an ISO 8601 time`);
        }
        input = {
          text: b.log,
          host: (b.host as string) ?? null,
          kernel: (b.kernel as string) ?? null,
          occurredAt: (b.occurredAt as string) ?? null,
          source: (b.source as string) ?? 'api',
        };
      } else if (ct === '' || ct.startsWith('text/') || ct.startsWith('application/octet-stream')) {
        const bytes = new Uint8Array(await c.req.arrayBuffer());
        const occurredAt = timeParam(c, 'occurredAt');
        input = {
          text: bytes,
          host: c.req.query('host') ?? null,
          kernel: c.req.query('kernel') ?? null,
          occurredAt: occurredAt ?? null,
          source: c.req.query('source') ?? 'api',
        };
      } else {
        throw new ApiError(
          415,
          'unsupported media type',
          `${ct}: send text/plain (the log) or application/json {log, host, kernel, occurredAt}`,
        );
      }
      const size = typeof input.text === 'string' ? Buffer.byteLength(input.text) : input.text.byteLength;
      if (size === 0) throw new ApiError(422, 'unprocessable input', 'empty log: nothing to ingest');
      if (c.req.query('async') === '1' || size > deps.asyncIngestBytes) {
        const text = typeof input.text === 'string' ? input.text : Buffer.from(input.text).toString('utf8');
        const jobId = await store.enqueueJob({
          kind: 'ingest',
          payload: {
            text,
            host: input.host,
            kernel: input.kernel,
            occurredAt: input.occurredAt,
            source: input.source,
          },
        });
        return c.json({ jobId, state: 'queued', detail: `GET /api/v1/jobs/${jobId}` }, 202);
      }
      const r = await store.ingestLog(input);
      const created = r.crashes.some((x) => x.created);
      return c.json(
        {
          ...r,
          detail: r.noCrash
            ? 'no crash report found in the log; the log is kept'
            : `${r.crashes.length} crash report(s), ${r.crashes.filter((x) => x.created).length} new`,
        },
        created || (r.noCrash && !r.duplicateLog) ? 201 : 200,
      );
    },
  );

  app.get('/api/v1/crashes', async (c) => {
    return c.json(
      await store.listCrashes({
        host: c.req.query('host') || undefined,
        kernel: c.req.query('kernel') || undefined,
        since: timeParam(c, 'since'),
        limit: intParam(c, 'limit', 0, 10_000),
        offset: intParam(c, 'offset', 0, 1e9),
      }),
    );
  });

  app.get('/api/v1/crashes/:id', async (c) => {
    const id = parseId(c.req.param('id'), 'crash');
    const crash = await store.getCrash(id);
    if (!crash) throw new ApiError(404, 'not found', `no crash ${id}`);
    return c.json(crash);
  });

  app.get('/api/v1/logs/:id', async (c) => {
    const id = parseId(c.req.param('id'), 'log');
    const log = await store.getLog(id);
    if (!log) throw new ApiError(404, 'not found', `no log ${id}`);
    return c.json(log);
  });

  app.get('/api/v1/logs', async (c) => {
    // Logs that held no crash report (kept, not dropped).
    return c.json(
      await store.listNoCrashLogs({
        limit: intParam(c, 'limit', 0, 10_000),
        offset: intParam(c, 'offset', 0, 1e9),
      }),
    );
  });

  // ---- buckets

  app.get('/api/v1/buckets', async (c) => {
    const sort = c.req.query('sort');
    if (sort && !SORTS.includes(sort))
      throw new ApiError(400, 'bad request', `sort=${sort}: one of ${SORTS.join(', ')}`);
    const order = c.req.query('order');
    if (order && order !== 'asc' && order !== 'desc')
      throw new ApiError(400, 'bad request', `order=${order}: asc or desc`);
    const f: BucketFilter = {
      since: timeParam(c, 'since'),
      until: timeParam(c, 'until'),
      host: c.req.query('host') || undefined,
      kernel: c.req.query('kernel') || undefined,
      search: c.req.query('search') || c.req.query('q') || undefined,
      sort: sort as BucketFilter['sort'],
      order: order as BucketFilter['order'],
      limit: intParam(c, 'limit', 0, 10_000) ?? 100,
      offset: intParam(c, 'offset', 0, 1e9),
      perDayDays: intParam(c, 'days', 0, 366),
    };
    return c.json(await store.listBuckets(f));
  });

  app.get('/api/v1/buckets/:id', async (c) => {
    const id = parseId(c.req.param('id'), 'bucket');
    const b = await store.getBucket(id, { members: { limit: intParam(c, 'limit', 0, 10_000) ?? 100 } });
    if (!b) throw new ApiError(404, 'not found', `no bucket ${id}`);
    return c.json(b);
  });

  app.get('/api/v1/buckets/:id/crashes', async (c) => {
    const id = parseId(c.req.param('id'), 'bucket');
    return c.json(
      await store.listBucketCrashes(id, {
        limit: intParam(c, 'limit', 0, 10_000),
        offset: intParam(c, 'offset', 0, 1e9),
      }),
    );
  });

  // ---- analyses

  app.get('/api/v1/analyses', async (c) => {
    const crash = c.req.query('crash');
    const bucket = c.req.query('bucket');
    return c.json(
      await store.listAnalyses({
        crashId: crash ? parseId(crash, 'crash') : undefined,
        bucketId: bucket ? parseId(bucket, 'bucket') : undefined,
        kind: c.req.query('kind') || undefined,
        limit: intParam(c, 'limit', 0, 10_000),
        offset: intParam(c, 'offset', 0, 1e9),
      }),
    );
  });

  app.get('/api/v1/analyses/:id', async (c) => {
    const id = parseId(c.req.param('id'), 'analysis');
    const a = await store.getAnalysis(id);
    if (!a) throw new ApiError(404, 'not found', `no analysis ${id}`);
    return c.json(a);
  });

  app.post('/api/v1/analyses', bodyLimit({ maxSize: deps.maxBodyBytes }), async (c) => {
    const b = await jsonBody(c);
    if (typeof b.kind !== 'string' || typeof b.title !== 'string') {
      throw new ApiError(400, 'bad request', '"kind" and "title" are required strings');
    }
    const id = await store
      .addAnalysis({
        kind: b.kind,
        title: b.title,
        crashId: typeof b.crashId === 'number' ? b.crashId : null,
        bucketId: typeof b.bucketId === 'number' ? b.bucketId : null,
        markdown: typeof b.markdown === 'string' ? b.markdown : null,
        html: typeof b.html === 'string' ? b.html : null,
        json: b.json,
        meta: typeof b.meta === 'object' && b.meta !== null ? (b.meta as Record<string, unknown>) : {},
      })
      .catch((err) => {
        if (err instanceof InputError) throw new ApiError(400, 'bad request', err.reason);
        throw err;
      });
    return c.json({ id }, 201);
  });

  // ---- jobs

  app.get('/api/v1/jobs', async (c) => {
    const state = c.req.query('state');
    const states = ['queued', 'active', 'done', 'failed', 'cancelled'];
    if (state && !states.includes(state))
      throw new ApiError(400, 'bad request', `state=${state}: one of ${states.join(', ')}`);
    return c.json(
      await store.listJobs({
        state: state as JobState | undefined,
        kind: c.req.query('kind') || undefined,
        limit: intParam(c, 'limit', 0, 10_000),
        offset: intParam(c, 'offset', 0, 1e9),
      }),
    );
  });

  app.get('/api/v1/jobs/:id', async (c) => {
    const id = parseId(c.req.param('id'), 'job');
    const j = await store.getJob(id);
    if (!j) throw new ApiError(404, 'not found', `no job ${id}`);
    return c.json(j);
  });

  // Cancel a queued or running job (write token). 409 when it had already ended.
  app.post('/api/v1/jobs/:id/cancel', async (c) => {
    const id = parseId(c.req.param('id'), 'job');
    const j = await store.cancelJob(id);
    if (!j) throw new ApiError(404, 'not found', `no job ${id}`);
    if (j.state !== 'cancelled') throw new ApiError(409, 'conflict', `job ${id} already ended: ${j.state}`);
    return c.json(j);
  });

  app.post('/api/v1/jobs', bodyLimit({ maxSize: deps.maxBodyBytes }), async (c) => {
    const b = await jsonBody(c);
    if (typeof b.kind !== 'string' || !b.kind) throw new ApiError(400, 'bad request', '"kind" is required');
    const { jobKinds, loadJobHandlers } = await import('../../jobs/handlers.ts');
    await loadJobHandlers();
    if (!jobKinds().includes(b.kind))
      throw new ApiError(
        400,
        'bad request',
        `unknown job kind "${b.kind}" (known: ${jobKinds().join(', ')})`,
      );
    let id: number;
    try {
      id = await store.enqueueJob({
        kind: b.kind,
        payload: b.payload ?? null,
        retries: typeof b.retries === 'number' ? b.retries : undefined,
        timeoutSeconds: typeof b.timeoutSeconds === 'number' ? b.timeoutSeconds : undefined,
      });
    } catch (err) {
      if (err instanceof Error && /^job /.test(err.message))
        throw new ApiError(400, 'bad request', err.message);
      throw err;
    }
    return c.json({ id, state: 'queued' }, 202);
  });

  app.all('/api/*', (c) => {
    throw new ApiError(404, 'not found', `no API endpoint ${c.req.method} ${c.req.path}`);
  });
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const ct = (c.req.header('content-type') ?? '').toLowerCase();
  if (!ct.startsWith('application/json'))
    throw new ApiError(415, 'unsupported media type', 'send application/json');
  const raw = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (err) {
    throw new ApiError(400, 'malformed JSON', `request body: ${(err as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ApiError(400, 'bad request', 'expected a JSON object');
  return body as Record<string, unknown>;
}
