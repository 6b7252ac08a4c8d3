// Starting the HTTP server: the app on @hono/node-server, plus the in-process job runner when the
// store is SQLite (on PostgreSQL, `ktriage worker` processes run jobs; `--worker` runs one here too).
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { LocalRunner, PgBossWorker } from '../jobs/queue.ts';
import type { KyselyStore } from '../store/store.ts';
import { type AppDeps, createApp, isLoopback, loopbackHosts } from './app.ts';

export interface ServerOptions extends Omit<AppDeps, 'store'> {
  store: KyselyStore;
  port?: number;
  hostname?: string;
  /** Run jobs in this process: default true on SQLite, false on PostgreSQL. */
  runJobs?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const hostname = opts.hostname ?? '127.0.0.1';
  // The bind address as it appears in a URL and a Host header (IPv6 literals in brackets).
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  // A server on loopback answers only to loopback names (DNS rebinding); on other addresses the
  // tokens are the guard, and the names people reach it by are not known here.
  const allowedHosts = opts.allowedHosts ?? (isLoopback(hostname) ? [...loopbackHosts(), host] : undefined);
  const app = await createApp({ ...opts, allowedHosts });
  const runJobs = opts.runJobs ?? opts.store.dialect === 'sqlite';
  const runner = runJobs
    ? opts.store.dialect === 'sqlite'
      ? new LocalRunner(opts.store)
      : new PgBossWorker(opts.store)
    : null;
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port ?? 8080, hostname }, () => resolve(s));
    s.once('error', reject);
  });
  // A client that disconnects mid-request must not take the process down.
  server.on('clientError', (_err, socket) => socket.destroy());
  await runner?.start();
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    async close() {
      await runner?.stop();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
