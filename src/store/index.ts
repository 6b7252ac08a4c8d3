// The store's entry point: `openStore(url?)` opens (and migrates) SQLite or PostgreSQL.
import { jobBackendFor } from '../jobs/queue.ts';
import { openDb } from './db.ts';
import { migrate } from './migrations.ts';
import { KyselyStore } from './store.ts';
import type { Store } from './types.ts';

export { resolveDbUrl } from './db.ts';
export { InputError } from './formats.ts';
export { KyselyStore } from './store.ts';
export type * from './types.ts';
export { DEFAULT_DB } from './types.ts';

/**
 * Opens the store at url: a file path (SQLite; default $KTRIAGE_DB, else ./ktriage.db) or
 * `postgres://user:pass@host:port/db`. Creates and migrates the schema when needed.
 */
export async function openStore(url?: string): Promise<KyselyStore & Store> {
  const o = await openDb(url);
  try {
    await migrate(o);
  } catch (err) {
    await o.db.destroy().catch(() => {});
    throw new Error(
      `cannot prepare the database ${o.location}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return new KyselyStore(o, jobBackendFor(o));
}
