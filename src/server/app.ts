// The Hono app `ktriage serve` runs: the JSON API under /api/v1 (src/server/api/) and, when the
// dashboard module is present, its pages (src/server/pages/index.ts exports mountPages(app, store)).
import { Hono } from 'hono';
import type { Store } from '../store/types.ts';
import { type ApiAuth, authFromEnv, mountApi } from './api/index.ts';

export interface AppDeps {
  store: Store;
  /** Tokens; default from the environment (KTRIAGE_TOKEN, KTRIAGE_READ_TOKEN, KTRIAGE_WRITE_TOKEN). */
  auth?: ApiAuth;
  /** Largest request body the API accepts, bytes (default $KTRIAGE_MAX_BODY or 64 MiB). */
  maxBodyBytes?: number;
  /** Bodies above this many bytes are ingested as a background job (202 + job id); default 8 MiB. */
  asyncIngestBytes?: number;
  /** Mount the dashboard pages when src/server/pages/index.ts exists (default true). */
  pages?: boolean;
  /**
   * Host names (without port) the server answers to; others get 421. Guards a loopback server
   * against DNS rebinding: a web page whose name re-resolves to 127.0.0.1 would otherwise reach the
   * API with the browser's own requests. Unset: any Host.
   */
  allowedHosts?: readonly string[];
}

/** The Host header's name without its port ("[::1]:8080" -> "[::1]", "Example.org:80" -> "example.org"). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/** Names a loopback server answers to by default, plus $KTRIAGE_ALLOWED_HOSTS (comma-separated). */
export function loopbackHosts(extra = process.env.KTRIAGE_ALLOWED_HOSTS ?? ''): string[] {
  const more = extra
    .split(',')
    .map((h) => hostName(h))
    .filter((h) => h !== '');
  return ['localhost', '127.0.0.1', '[::1]', ...more];
}

/** True for the addresses `serve --host` treats as loopback-only. */
export function isLoopback(addr: string): boolean {
  return addr === 'localhost' || addr === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(addr);
}

export type App = Hono;

export async function createApp(deps: AppDeps): Promise<App> {
  const app = new Hono();
  const allowed = deps.allowedHosts ? new Set(deps.allowedHosts.map(hostName)) : null;
  if (allowed) {
    app.use('*', async (c, next) => {
      const host = hostName(c.req.header('host') ?? '');
      if (!allowed.has(host))
        return c.json(
          {
            error: 'misdirected request',
            detail: `Host "${host || '(none)'}" is not one this server answers to (${[...allowed].join(', ')}); set KTRIAGE_ALLOWED_HOSTS to add names`,
          },
          421,
        );
      await next();
    });
  }
  mountApi(app, {
    store: deps.store,
    auth: deps.auth ?? authFromEnv(),
    maxBodyBytes: deps.maxBodyBytes ?? Number(process.env.KTRIAGE_MAX_BODY ?? 64 * 1024 * 1024),
    asyncIngestBytes:
      deps.asyncIngestBytes ?? Number(process.env.KTRIAGE_ASYNC_INGEST_BYTES ?? 8 * 1024 * 1024),
  });
  if (deps.pages !== false) {
    let mountPages: ((app: Hono, store: Store, opts?: { auth?: ApiAuth }) => void) | undefined;
    try {
      const mod = (await import('./pages/index.ts')) as unknown as Record<string, unknown>;
      if (typeof mod.mountPages === 'function') mountPages = mod.mountPages as typeof mountPages;
    } catch (err) {
      // Only a missing module is fine; a broken one must be loud.
      if (
        (err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' ||
        !String(err).includes('pages/index')
      )
        throw err;
    }
    // The pages take the same tokens as the API (a login form sets them as a cookie).
    mountPages?.(app, deps.store, { auth: deps.auth ?? authFromEnv() });
  }
  return app;
}
