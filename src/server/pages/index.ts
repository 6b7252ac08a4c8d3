// The dashboard's routes on the shared Hono app: createApp() (src/server/app.ts) calls
// mountPages(app, store). Pages are rendered on the server from the store; static files are an
// explicit allowlist (our CSS/JS and uPlot's dist files), never a path from the request.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Store } from '../../store/types.ts';
import { type ApiAuth, authFromEnv } from '../api/index.ts';
import {
  clearLoginCookie,
  isValidToken,
  mayRead,
  mayWrite,
  pageAuth,
  renderLogin,
  safeNext,
  setLoginCookie,
} from './auth.ts';
import { errorPage } from './layout.ts';
import { renderAnalyses, renderAnalysis } from './views/analyses.ts';
import { MEMBERS_PAGE, renderBucket } from './views/bucket.ts';
import { parseBucketsQuery, renderBuckets, toBucketFilter } from './views/buckets.ts';
import { renderCrash } from './views/crash.ts';
import { renderLog, renderUpload } from './views/upload.ts';

/** Largest upload accepted from the form (the API has its own limit). */
export const UPLOAD_LIMIT = 64 * 1024 * 1024;

/**
 * Content-Security-Policy of every page: our own scripts only (no inline script, no eval), so even
 * a markup bug could not run a log's `<script>`. Inline styles are allowed for stored analysis HTML
 * shown in a sandboxed iframe (srcdoc inherits this policy).
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const here = dirname(fileURLToPath(import.meta.url));

interface StaticFile {
  type: string;
  body: string;
}

function loadStatic(): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const own = join(here, '..', 'static');
  files.set('app.css', { type: 'text/css; charset=utf-8', body: readFileSync(join(own, 'app.css'), 'utf8') });
  files.set('favicon.svg', { type: 'image/svg+xml', body: readFileSync(join(own, 'favicon.svg'), 'utf8') });
  for (const js of ['charts.js', 'filter.js'])
    files.set(js, { type: 'text/javascript; charset=utf-8', body: readFileSync(join(own, js), 'utf8') });
  // uPlot from node_modules, resolved like an import would be.
  const require = createRequire(import.meta.url);
  const uplotDir = dirname(require.resolve('uplot/package.json'));
  files.set('vendor/uPlot.iife.min.js', {
    type: 'text/javascript; charset=utf-8',
    body: readFileSync(join(uplotDir, 'dist', 'uPlot.iife.min.js'), 'utf8'),
  });
  files.set('vendor/uPlot.min.css', {
    type: 'text/css; charset=utf-8',
    body: readFileSync(join(uplotDir, 'dist', 'uPlot.min.css'), 'utf8'),
  });
  return files;
}

const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  // A handler may have set a stricter policy (raw logs: sandbox).
  if (!c.res.headers.has('Content-Security-Policy')) c.header('Content-Security-Policy', CSP);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'same-origin');
  c.header('X-Frame-Options', 'DENY');
};

function parseId(s: string | undefined): number | null {
  if (!s || !/^\d{1,15}$/.test(s)) return null;
  return Number(s);
}

function notFound(c: Context, what: string) {
  return c.html(errorPage('Not found', what), 404);
}

/** Rejects form posts from other origins (the browser says where a form was submitted from). */
function sameOrigin(c: Context): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return false;
  const origin = c.req.header('origin');
  if (!origin || origin === 'null') return !site || site === 'same-origin' || site === 'none';
  try {
    return new URL(origin).host === new URL(c.req.url).host;
  } catch {
    return false;
  }
}

export interface PagesOptions {
  /** Tokens, with the API's meaning; default from the environment (as the API's). */
  auth?: ApiAuth;
}

const PAGE_PATHS = [
  '/',
  '/buckets',
  '/buckets/*',
  '/crashes/*',
  '/upload',
  '/analyses',
  '/analyses/*',
  '/logs/*',
];

// biome-ignore lint/suspicious/noExplicitAny: the app's env type belongs to src/server/app.ts.
export function mountPages(app: Hono<any>, store: Store, opts: PagesOptions = {}): void {
  const statics = loadStatic();
  const auth = pageAuth(opts.auth ?? authFromEnv());

  // Every page: security headers; and, when tokens are configured, a token to read.
  const gate: MiddlewareHandler = async (c, next) => {
    if (!mayRead(auth, c)) {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') {
        const u = new URL(c.req.url);
        return c.redirect(`/login?next=${encodeURIComponent(u.pathname + u.search)}`, 303);
      }
      return c.html(errorPage('Unauthorized', 'Sign in with a token first.'), 401);
    }
    await next();
  };
  for (const p of PAGE_PATHS) {
    app.use(p, securityHeaders);
    app.use(p, gate);
  }
  app.use('/login', securityHeaders);
  app.use('/logout', securityHeaders);

  app.get('/login', (c) =>
    c.html(
      renderLogin(
        c.req.query('next') ?? '/',
        null,
        auth.readNeeds || auth.writeNeeds
          ? 'This server needs a token (KTRIAGE_TOKEN, KTRIAGE_READ_TOKEN or KTRIAGE_WRITE_TOKEN).'
          : 'This server needs no token; signing in changes nothing.',
      ),
    ),
  );
  app.post('/login', bodyLimit({ maxSize: 64 * 1024 }), async (c) => {
    if (!sameOrigin(c))
      return c.html(errorPage('Forbidden', 'The form was submitted from another site.'), 403);
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const next = safeNext(typeof form.next === 'string' ? form.next : '/');
    if (!isValidToken(auth, token))
      return c.html(renderLogin(next, 'That token is not valid here.', 'Sign in with a token.'), 401);
    setLoginCookie(c, token);
    return c.redirect(next, 303);
  });
  app.post('/logout', (c) => {
    if (!sameOrigin(c))
      return c.html(errorPage('Forbidden', 'The form was submitted from another site.'), 403);
    clearLoginCookie(c);
    return c.redirect('/login', 303);
  });

  // Browsers ask for /favicon.ico whatever the page says.
  app.get('/favicon.ico', (c) => c.redirect('/static/favicon.svg', 301));
  app.get('/static/*', (c) => {
    const name = c.req.path.slice('/static/'.length);
    const f = statics.get(name);
    if (!f) return c.text('not found', 404);
    c.header('Content-Type', f.type);
    c.header('Cache-Control', 'public, max-age=3600');
    c.header('X-Content-Type-Options', 'nosniff');
    return c.body(f.body);
  });

  const bucketsPage = async (c: Context) => {
    const now = Date.now();
    const q = parseBucketsQuery((k) => c.req.query(k));
    const data = await store.listBuckets(toBucketFilter(q, now));
    // Every host the store knows (not only those on this page), capped for a fleet of thousands.
    const hosts = await store.listHosts(1000);
    return c.html(renderBuckets(data, q, now, hosts));
  };
  app.get('/', bucketsPage);
  app.get('/buckets', bucketsPage);

  app.get('/buckets/:id', async (c) => {
    const id = parseId(c.req.param('id'));
    if (id === null) return notFound(c, `No bucket "${c.req.param('id')}": bucket ids are numbers.`);
    const p = Number.parseInt(c.req.query('page') ?? '1', 10);
    const memberPage = Number.isFinite(p) && p >= 1 ? p : 1;
    const bucket = await store.getBucket(id, {
      members: { limit: MEMBERS_PAGE, offset: (memberPage - 1) * MEMBERS_PAGE },
    });
    if (!bucket) return notFound(c, `No bucket ${id}.`);
    const representative = await store.getCrash(bucket.representativeCrashId);
    return c.html(
      renderBucket({
        bucket,
        representative,
        members: bucket.members,
        memberPage,
        allCounts: c.req.query('all') === '1',
      }),
    );
  });

  app.get('/crashes/:id', async (c) => {
    const id = parseId(c.req.param('id'));
    if (id === null) return notFound(c, `No crash "${c.req.param('id')}": crash ids are numbers.`);
    const crash = await store.getCrash(id);
    if (!crash) return notFound(c, `No crash ${id}.`);
    const log = await store.getLog(crash.logId);
    return c.html(renderCrash({ crash, log, wholeLog: c.req.query('log') === 'all' }));
  });

  app.get('/logs/:id', async (c) => {
    const id = parseId(c.req.param('id'));
    const log = id === null ? null : await store.getLog(id);
    if (!log) return notFound(c, `No log ${c.req.param('id')}.`);
    return c.html(renderLog(log));
  });

  app.get('/logs/:id/raw', async (c) => {
    const id = parseId(c.req.param('id'));
    const log = id === null ? null : await store.getLog(id);
    if (!log || log.text === null) return c.text(`no stored text for log ${c.req.param('id')}\n`, 404);
    // Served as inert text: the browser must neither sniff it as HTML nor run anything in it.
    c.header('Content-Type', 'text/plain; charset=utf-8');
    c.header('Content-Security-Policy', 'sandbox; default-src none');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Content-Disposition', `inline; filename="ktriage-log-${log.id}.txt"`);
    return c.body(log.text);
  });

  app.get('/upload', (c) => c.html(renderUpload()));
  app.post(
    '/upload',
    bodyLimit({
      maxSize: UPLOAD_LIMIT,
      onError: (c) =>
        c.html(
          errorPage(
            'Log too large',
            `Uploads are limited to ${UPLOAD_LIMIT / 1024 / 1024} MiB; use ktriage ingest for larger files.`,
          ),
          413,
        ),
    }),
    async (c) => {
      if (!sameOrigin(c))
        return c.html(errorPage('Forbidden', 'The form was submitted from another site.'), 403);
      if (!mayWrite(auth, c))
        return c.html(
          errorPage(
            'Forbidden',
            auth.writeOk.length === 0
              ? 'Uploads are disabled: the server has only a read token (set KTRIAGE_WRITE_TOKEN).'
              : 'Uploading needs a write token: sign in with KTRIAGE_TOKEN or KTRIAGE_WRITE_TOKEN.',
          ),
          403,
        );
      let form: Record<string, string | File | (string | File)[]>;
      try {
        form = await c.req.parseBody();
      } catch (err) {
        return c.html(renderUpload(undefined, `Could not read the form: ${(err as Error).message}`), 400);
      }
      const str = (k: string) => {
        const v = form[k];
        return typeof v === 'string' ? v : '';
      };
      const host = str('host').trim();
      const kernel = str('kernel').trim();
      const pasted = str('log');
      const file = form.file;
      let text: string | Uint8Array = pasted;
      let source = 'upload (pasted)';
      if (file instanceof File && file.size > 0) {
        text = new Uint8Array(await file.arrayBuffer());
        source = `upload: ${file.name || 'file'}`;
      }
      if ((typeof text === 'string' && text.trim() === '') || text.length === 0) {
        return c.html(
          renderUpload({ host, kernel, log: pasted }, 'The log is empty: paste a log or choose a file.'),
          400,
        );
      }
      if (host.length > 255 || kernel.length > 255)
        return c.html(
          renderUpload(
            { host: '', kernel: '', log: pasted },
            'Host and kernel are limited to 255 characters.',
          ),
          400,
        );
      let result: Awaited<ReturnType<Store['ingestLog']>>;
      try {
        result = await store.ingestLog({ text, source, host: host || null, kernel: kernel || null });
      } catch (err) {
        return c.html(
          renderUpload(
            { host, kernel, log: pasted.slice(0, 1_000_000) },
            `The log was not stored: ${(err as Error).message}`,
          ),
          400,
        );
      }
      const first = result.crashes[0];
      return c.redirect(first ? `/crashes/${first.crashId}` : `/logs/${result.logId}`, 303);
    },
  );

  app.get('/analyses', async (c) => {
    const kind = (c.req.query('kind') ?? '').slice(0, 40);
    const items = await store.listAnalyses({ ...(kind ? { kind } : {}), limit: 500 });
    return c.html(renderAnalyses(items, kind));
  });

  app.get('/analyses/:id', async (c) => {
    const id = parseId(c.req.param('id'));
    const a = id === null ? null : await store.getAnalysis(id);
    if (!a) return notFound(c, `No analysis ${c.req.param('id')}.`);
    return c.html(renderAnalysis(a));
  });
}
