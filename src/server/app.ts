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
}

export type App = Hono;

export async function createApp(deps: AppDeps): Promise<App> {
  const app = new Hono();
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
