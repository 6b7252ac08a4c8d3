// The pages over HTTP without a browser (app.request on the real app and a temporary SQLite
// store): tokens and the login cookie, security headers, the static allowlist, raw logs served
// inert, cross-site form posts refused, logs without a crash, bad ids, and the demo loader.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/server/app.ts';
import { demoInputs, loadDemo, readManifest } from '../../../src/server/pages/demo.ts';
import { openStore } from '../../../src/store/index.ts';

const repoRoot = resolve(import.meta.dirname, '../../..');
const shared = resolve(repoRoot, '../shared');

let tmp: string;
let store: Awaited<ReturnType<typeof openStore>>;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'ktriage-pages-http-'));
  store = await openStore(join(tmp, 'k.db'));
});

afterAll(async () => {
  await store?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function form(fields: Record<string, string>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
}

describe('examples and the demo', () => {
  it('every example has an origin in ../shared, a licence, and occurrences with host and time', () => {
    const m = readManifest();
    const files = Object.keys(m.files);
    expect(files.length).toBeGreaterThanOrEqual(30);
    const readme = readFileSync(join(repoRoot, 'examples/README.md'), 'utf8');
    for (const [f, e] of Object.entries(m.files)) {
      expect(existsSync(join(repoRoot, 'examples', f)), f).toBe(true);
      expect(e.origin.startsWith('shared/'), f).toBe(true);
      expect(existsSync(join(shared, e.origin.slice('shared/'.length))), `${f}: origin ${e.origin}`).toBe(
        true,
      );
      expect(e.licence.length, f).toBeGreaterThan(3);
      expect(readme).toContain(`[${f}]`);
    }
    expect(
      new Set(Object.values(m.files).flatMap((e) => e.occurrences.map((o) => o.host))).size,
    ).toBeGreaterThan(10);
    expect(files).toContain('seed-machine-a.log');
    expect(files).toContain('seed-machine-b.log');
  });

  it('moves demo times forward as a block so that the newest is an hour old', () => {
    const now = Date.parse('2031-01-01T00:00:00Z');
    const times = demoInputs(undefined, now).map((i) => Date.parse(String(i.occurredAt)));
    expect(Math.max(...times)).toBe(now - 3_600_000);
    const orig = Object.values(readManifest().files).flatMap((e) =>
      e.occurrences.map((o) => Date.parse(o.occurredAt)),
    );
    expect(Math.max(...times) - Math.min(...times)).toBe(Math.max(...orig) - Math.min(...orig));
  });

  it('loads the examples into an empty store once, and leaves a loaded store alone', async () => {
    const r = await loadDemo(store);
    expect(r.loaded).toBe(true);
    expect(r.logs).toBe(demoInputs().length);
    expect(r.buckets).toBeGreaterThan(20);
    const again = await loadDemo(store);
    expect(again.loaded).toBe(false);
    expect((await store.stats()).logs).toBe(r.logs);
    // The seed's two machines share one bucket.
    const seed = await store.listBuckets({ host: 'nfs-client-a' });
    expect(seed.items.length).toBe(1);
    const b = await store.getBucket(seed.items[0]!.id);
    expect(b!.hostCounts.map((h) => h.name).sort()).toEqual(['nfs-client-a', 'nfs-client-b']);
  });
});

describe('pages over HTTP', () => {
  it('sets security headers and serves only allowlisted static files', async () => {
    const app = await createApp({ store, auth: {} });
    const r = await app.request('/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await app.request('/static/app.css')).status).toBe(200);
    expect((await app.request('/static/vendor/uPlot.iife.min.js')).status).toBe(200);
    for (const bad of [
      '/static/../../package.json',
      '/static/%2e%2e/%2e%2e/package.json',
      '/static/index.ts',
    ])
      expect((await app.request(bad)).status, bad).toBe(404);
    expect((await app.request('/buckets/abc')).status).toBe(404);
    expect((await app.request('/crashes/99999999')).status).toBe(404);
    expect((await app.request('/analyses/x')).status).toBe(404);
  });

  it('serves raw logs as inert text', async () => {
    const app = await createApp({ store, auth: {} });
    const res = await store.ingestLog({
      text: '<script>alert(1)</script>\nnothing else\n',
      host: 'raw-host',
    });
    const r = await app.request(`/logs/${res.logId}/raw`);
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(r.headers.get('content-security-policy')).toContain('sandbox');
    expect(await r.text()).toContain('<script>alert(1)</script>');
  });

  it('redirects an upload to its crash, or to the log page when it holds no crash', async () => {
    const app = await createApp({ store, auth: {} });
    const log = readFileSync(join(shared, 'seed/machine-a.log'), 'utf8');
    const r = await app.request('/upload', {
      method: 'POST',
      body: form({ host: 'http-up', kernel: '', log }),
    });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toMatch(/^\/crashes\/\d+$/);
    const page = await (await app.request(r.headers.get('location')!)).text();
    expect(page).toContain('http-up');

    const none = await app.request('/upload', {
      method: 'POST',
      body: form({ host: 'http-up', log: 'just a boot log\nnothing crashed here\n' }),
    });
    expect(none.status).toBe(303);
    expect(none.headers.get('location')).toMatch(/^\/logs\/\d+$/);
    expect(await (await app.request(none.headers.get('location')!)).text()).toContain(
      'No crash report was found',
    );
  });

  it('refuses cross-site form posts', async () => {
    const app = await createApp({ store, auth: {} });
    const before = (await store.stats()).logs;
    const r = await app.request('http://127.0.0.1:8080/upload', {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      body: form({ host: 'x', log: readFileSync(join(shared, 'seed/machine-b.log'), 'utf8') }),
    });
    expect(r.status).toBe(403);
    expect((await store.stats()).logs).toBe(before);
  });

  it('with tokens: pages need a login; the cookie is HttpOnly and SameSite; read tokens cannot upload', async () => {
    const app = await createApp({ store, auth: { token: 'all-s3cret', readToken: 'read-s3cret' } });
    const r = await app.request('/buckets/1?page=2');
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/buckets/1?page=2')}`);
    expect((await app.request('/static/app.css')).status).toBe(200);

    const bad = await app.request('/login', { method: 'POST', body: form({ token: 'nope', next: '/' }) });
    expect(bad.status).toBe(401);
    const ok = await app.request('/login', {
      method: 'POST',
      body: form({ token: 'read-s3cret', next: '//evil.example/' }),
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/');
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^ktriage_token=read-s3cret;/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');

    const asReader = { cookie: 'ktriage_token=read-s3cret' };
    expect((await app.request('/', { headers: asReader })).status).toBe(200);
    expect((await app.request('/', { headers: { authorization: 'Bearer all-s3cret' } })).status).toBe(200);
    expect((await app.request('/', { headers: { cookie: 'ktriage_token=wrong' } })).status).toBe(303);
    const up = await app.request('/upload', {
      method: 'POST',
      headers: asReader,
      body: form({ log: readFileSync(join(shared, 'seed/machine-b.log'), 'utf8') }),
    });
    expect(up.status).toBe(403);
    const upOk = await app.request('/upload', {
      method: 'POST',
      headers: { cookie: 'ktriage_token=all-s3cret' },
      body: form({ host: 'tok-host', log: readFileSync(join(shared, 'seed/machine-b.log'), 'utf8') }),
    });
    expect(upOk.status).toBe(303);
  });
});
