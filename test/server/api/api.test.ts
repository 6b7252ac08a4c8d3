// The HTTP API on both dialects: ingest (raw and JSON), queries, analyses, jobs, token auth, bad
// input answered with JSON {error, detail} and a 4xx code, and the server serving on afterwards.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/server/app.ts';
import { startServer } from '../../../src/server/index.ts';
import { openStore } from '../../../src/store/index.ts';
import type { KyselyStore } from '../../../src/store/store.ts';
import { dialects, freshDb, shared, type TestDb } from '../../store/helpers.ts';

const machineA = readFileSync(join(shared, 'seed/machine-a.log'), 'utf8');
const machineB = readFileSync(join(shared, 'seed/machine-b.log'), 'utf8');

const READ = 'r-token-123';
const WRITE = 'w-token-456';

describe.each(dialects())('HTTP API on %s', (dialect) => {
  let db: TestDb;
  let store: KyselyStore;
  let app: Awaited<ReturnType<typeof createApp>>;
  const req = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    const token = init.token === undefined ? WRITE : init.token;
    if (token) headers.set('authorization', `Bearer ${token}`);
    return app.request(path, { ...init, headers });
  };

  beforeAll(async () => {
    db = await freshDb(dialect);
    store = await openStore(db.url);
    app = await createApp({
      store,
      auth: { readToken: READ, writeToken: WRITE },
      maxBodyBytes: 1024 * 1024,
      asyncIngestBytes: 512 * 1024,
      pages: false,
    });
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('POST a raw log, then JSON {log, host, kernel, occurredAt}: one bucket, count 2', async () => {
    const r1 = await req('/api/v1/crashes?host=A', {
      method: 'POST',
      body: machineA,
      headers: { 'content-type': 'text/plain' },
    });
    expect(r1.status).toBe(201);
    const b1 = (await r1.json()) as { crashes: { crashId: number; bucketId: number }[]; host: string };
    expect(b1.host).toBe('A');
    expect(b1.crashes).toHaveLength(1);
    const r2 = await req('/api/v1/crashes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        log: machineB,
        host: 'B',
        kernel: '4.19.0-25-amd64',
        occurredAt: '2024-03-01T10:00:00Z',
      }),
    });
    expect(r2.status).toBe(201);
    const b2 = (await r2.json()) as { crashes: { crashId: number; bucketId: number }[] };
    expect(b2.crashes[0]!.bucketId).toBe(b1.crashes[0]!.bucketId);
    // The same again: 200, nothing new.
    const r3 = await req('/api/v1/crashes?host=A', {
      method: 'POST',
      body: machineA,
      headers: { 'content-type': 'text/plain' },
    });
    expect(r3.status).toBe(200);
    expect(((await r3.json()) as { crashes: { created: boolean }[] }).crashes[0]!.created).toBe(false);

    const list = await req('/api/v1/buckets', { token: READ });
    expect(list.status).toBe(200);
    const lb = (await list.json()) as {
      items: { id: number; count: number; hosts: string[] }[];
      total: number;
    };
    expect(lb.total).toBe(1);
    expect(lb.items[0]).toMatchObject({ count: 2, hosts: ['A', 'B'] });
    const bucket = await req(`/api/v1/buckets/${lb.items[0]!.id}`, { token: READ });
    expect(bucket.status).toBe(200);
    const bb = (await bucket.json()) as {
      members: { id: number; rule: string }[];
      kernelCounts: { name: string }[];
    };
    expect(bb.members).toHaveLength(2);
    expect(bb.kernelCounts.map((k) => k.name)).toContain('4.19.0-25-amd64');
    const crash = await req(`/api/v1/crashes/${b2.crashes[0]!.crashId}`, { token: READ });
    const cb = (await crash.json()) as {
      host: string;
      occurredAt: string;
      rawText: string;
      report: { title: string };
    };
    expect(cb.host).toBe('B');
    expect(cb.occurredAt).toBe('2024-03-01T10:00:00.000Z');
    expect(cb.rawText).toContain('nfs_end_page_writeback');
    const filtered = (await (
      await req('/api/v1/buckets?host=B&since=2024-01-01T00:00:00Z', { token: READ })
    ).json()) as {
      items: { count: number }[];
    };
    expect(filtered.items[0]!.count).toBe(1);
    const members = (await (
      await req(`/api/v1/buckets/${lb.items[0]!.id}/crashes?limit=1`, { token: READ })
    ).json()) as unknown[];
    expect(members).toHaveLength(1);
  });

  it('a log without a crash is kept and said so', async () => {
    const r = await req('/api/v1/crashes?host=quiet', {
      method: 'POST',
      body: '[    1.0] hello\n',
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.status).toBe(201);
    const b = (await r.json()) as { noCrash: boolean; detail: string; logId: number };
    expect(b.noCrash).toBe(true);
    expect(b.detail).toMatch(/no crash report/);
    const logs = (await (await req('/api/v1/logs', { token: READ })).json()) as { id: number }[];
    expect(logs.map((l) => l.id)).toContain(b.logId);
  });

  const expectError = async (r: Response, status: number, pattern: RegExp) => {
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    const b = (await r.json()) as { error: string; detail: string };
    expect(typeof b.error).toBe('string');
    expect(`${b.error}: ${b.detail}`).toMatch(pattern);
  };

  it('bad input: clear JSON errors with 4xx codes', async () => {
    await expectError(
      await req('/api/v1/crashes', {
        method: 'POST',
        body: '{"log": "x",',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      /malformed JSON/,
    );
    await expectError(
      await req('/api/v1/crashes', {
        method: 'POST',
        body: '{"host": "x"}',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      /"log"/,
    );
    await expectError(
      await req('/api/v1/crashes', {
        method: 'POST',
        body: JSON.stringify({ log: machineA, occurredAt: 'yesterday-ish' }),
        headers: { 'content-type': 'application/json' },
      }),
      400,
      /occurredAt/,
    );
    await expectError(
      await req('/api/v1/crashes', { method: 'POST', body: '', headers: { 'content-type': 'text/plain' } }),
      422,
      /empty/,
    );
    const bin = new Uint8Array(2048).map((_, i) => (i * 131) % 256);
    await expectError(
      await req('/api/v1/crashes', {
        method: 'POST',
        body: bin,
        headers: { 'content-type': 'application/octet-stream' },
      }),
      422,
      /binary content/,
    );
    await expectError(
      await req('/api/v1/crashes', { method: 'POST', body: 'x', headers: { 'content-type': 'image/png' } }),
      415,
      /unsupported media type/,
    );
    await expectError(await req('/api/v1/crashes/abc', { token: READ }), 400, /not a number/);
    await expectError(await req('/api/v1/crashes/99999', { token: READ }), 404, /no crash 99999/);
    await expectError(await req('/api/v1/buckets/99999', { token: READ }), 404, /no bucket/);
    await expectError(await req('/api/v1/buckets?sort=bogus', { token: READ }), 400, /sort=bogus/);
    await expectError(await req('/api/v1/buckets?since=notatime', { token: READ }), 400, /since=notatime/);
    await expectError(await req('/api/v1/nope', { token: READ }), 404, /no API endpoint/);
    const big = 'x'.repeat(1024 * 1024 + 10);
    await expectError(
      await req('/api/v1/crashes', { method: 'POST', body: big, headers: { 'content-type': 'text/plain' } }),
      413,
      /payload too large/,
    );
    // Invalid UTF-8 is accepted with a warning.
    const bad = Buffer.concat([
      Buffer.from(machineA.slice(0, 30)),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from(machineA.slice(30)),
    ]);
    const r = await req('/api/v1/crashes?host=utf8', {
      method: 'POST',
      body: bad,
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.status).toBe(201);
    expect(((await r.json()) as { warnings: string[] }).warnings.join()).toMatch(/invalid UTF-8/);
  });

  it('tokens: missing -> 401, wrong -> 403, read token cannot write', async () => {
    await expectError(await req('/api/v1/buckets', { token: null }), 401, /needs a token/);
    await expectError(await req('/api/v1/buckets', { token: 'nope' }), 403, /wrong token/);
    await expectError(
      await req('/api/v1/crashes', {
        method: 'POST',
        body: machineA,
        token: READ,
        headers: { 'content-type': 'text/plain' },
      }),
      403,
      /only read/,
    );
    await expectError(
      await req('/api/v1/crashes', {
        method: 'POST',
        body: machineA,
        token: null,
        headers: { 'content-type': 'text/plain' },
      }),
      401,
      /write needs a token/,
    );
    expect((await req('/api/v1/buckets', { token: WRITE })).status).toBe(200);
    expect((await req('/api/v1/health', { token: null })).status).toBe(200);
  });

  it('analyses: POST and GET, attached to a crash', async () => {
    const crashes = (await (await req('/api/v1/crashes', { token: READ })).json()) as { id: number }[];
    const r = await req('/api/v1/analyses', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'fixes',
        title: 'candidate fixes',
        crashId: crashes[0]!.id,
        markdown: '- abc123',
      }),
    });
    expect(r.status).toBe(201);
    const { id } = (await r.json()) as { id: number };
    const a = (await (await req(`/api/v1/analyses/${id}`, { token: READ })).json()) as {
      kind: string;
      markdown: string;
    };
    expect(a).toMatchObject({ kind: 'fixes', markdown: '- abc123' });
    const list = (await (await req(`/api/v1/analyses?crash=${crashes[0]!.id}`, { token: READ })).json()) as {
      id: number;
    }[];
    expect(list.map((x) => x.id)).toContain(id);
    await expectError(
      await req('/api/v1/analyses', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'fixes', title: 't', crashId: 424242, markdown: 'x' }),
      }),
      400,
      /crash 424242 does not exist/,
    );
  });

  it('jobs: POST a job and read it back; unknown kinds refused', async () => {
    const r = await req('/api/v1/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'selftest', payload: { sleepMs: 1 } }),
    });
    expect(r.status).toBe(202);
    const { id } = (await r.json()) as { id: number };
    const j = (await (await req(`/api/v1/jobs/${id}`, { token: READ })).json()) as {
      state: string;
      kind: string;
    };
    expect(j.kind).toBe('selftest');
    expect(['queued', 'active', 'done']).toContain(j.state);
    const list = (await (await req('/api/v1/jobs', { token: READ })).json()) as { id: number }[];
    expect(list.map((x) => x.id)).toContain(id);
    await expectError(
      await req('/api/v1/jobs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'rm -rf' }),
      }),
      400,
      /unknown job kind/,
    );
  });

  it('jobs: cancel a queued job (write token); again is fine; ended or missing jobs refused', async () => {
    const r = await req('/api/v1/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'selftest', payload: { sleepMs: 60_000 } }),
    });
    const { id } = (await r.json()) as { id: number };
    await expectError(await req(`/api/v1/jobs/${id}/cancel`, { method: 'POST', token: READ }), 403, /./);
    const c = await req(`/api/v1/jobs/${id}/cancel`, { method: 'POST' });
    expect(c.status).toBe(200);
    const j = (await c.json()) as { state: string; finishedAt: string | null; error: string };
    expect(j.state).toBe('cancelled');
    expect(j.finishedAt).not.toBeNull();
    expect((await store.getJob(id))?.state).toBe('cancelled');
    expect((await req(`/api/v1/jobs/${id}/cancel`, { method: 'POST' })).status).toBe(200);
    await expectError(await req('/api/v1/jobs/987654/cancel', { method: 'POST' }), 404, /no job 987654/);
    // A job that already ended stays as it ended.
    const done = await store.enqueueJob({ kind: 'selftest', payload: {} });
    await store.opened.db
      .updateTable('jobs')
      .set({ state: 'done', finished_at: new Date().toISOString() })
      .where('id', '=', done)
      .execute();
    await expectError(
      await req(`/api/v1/jobs/${done}/cancel`, { method: 'POST' }),
      409,
      /already ended: done/,
    );
    expect((await store.getJob(done))?.state).toBe('done');
  });
});

describe('the real server keeps serving after bad requests (SQLite, in-process jobs)', () => {
  let db: TestDb;
  let store: KyselyStore;
  let srv: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    db = await freshDb('sqlite');
    store = await openStore(db.url);
    srv = await startServer({
      store,
      port: 0,
      auth: { token: 'tok' },
      maxBodyBytes: 2 * 1024 * 1024,
      asyncIngestBytes: 256 * 1024,
      pages: false,
    });
  });
  afterAll(async () => {
    await srv?.close();
    await store?.close();
    await db?.drop();
  });

  it('survives garbage, oversize and aborted requests; large logs become jobs that complete', async () => {
    const h = { authorization: 'Bearer tok' };
    const bad = await fetch(`${srv.url}/api/v1/crashes`, {
      method: 'POST',
      headers: { ...h, 'content-type': 'application/json' },
      body: '\u0000\u0001{{{',
    });
    expect(bad.status).toBe(400);
    // Oversize and aborted bodies on their own connections (the server may close them early).
    const huge = await rawPost(`${srv.url}/api/v1/crashes`, h, Buffer.alloc(3 * 1024 * 1024, 'y'));
    if (huge.status) expect(huge.status).toBe(413);
    await rawPost(`${srv.url}/api/v1/crashes`, h, Buffer.from(machineA), 20);
    // A log above asyncIngestBytes becomes a job that the in-process runner completes.
    const noise = Array.from({ length: 12000 }, (_, i) => `[${i}.000000] eth0: link up ${i}`).join('\n');
    const big = await fetch(`${srv.url}/api/v1/crashes?host=bigbox`, {
      method: 'POST',
      headers: { ...h, 'content-type': 'text/plain' },
      body: `${noise}\n${machineA}`,
    });
    expect(big.status).toBe(202);
    const { jobId } = (await big.json()) as { jobId: number };
    let job: { state: string; result: { crashes: number } } | null = null;
    for (let i = 0; i < 100; i++) {
      job = (await (await fetch(`${srv.url}/api/v1/jobs/${jobId}`, { headers: h })).json()) as typeof job;
      if (job!.state === 'done' || job!.state === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(job!.state).toBe('done');
    expect(job!.result.crashes).toBe(1);
    const ok = await fetch(`${srv.url}/api/v1/buckets`, { headers: h });
    expect(ok.status).toBe(200);
    const list = (await ok.json()) as { items: { hosts: string[] }[] };
    expect(list.items[0]!.hosts).toEqual(['bigbox']);
  });
});

/** A POST on a fresh connection; with abortAfterBytes, the client hangs up after sending that many. */
function rawPost(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
  abortAfterBytes?: number,
): Promise<{ status: number | null }> {
  return new Promise((resolve) => {
    const r = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { ...headers, 'content-type': 'text/plain', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? null }));
      },
    );
    r.on('error', () => resolve({ status: null }));
    if (abortAfterBytes !== undefined) {
      r.write(body.subarray(0, abortAfterBytes));
      setTimeout(() => {
        r.destroy();
        resolve({ status: null });
      }, 50);
    } else {
      r.end(body);
    }
  });
}
