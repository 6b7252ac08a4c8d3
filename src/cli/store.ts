// Opening the store from a command: a database that cannot be opened (bad path, bad URL,
// unreachable server, a file that is not a ktriage database) is the user's input, so it is
// reported as a usage error (exit code 2) naming the database.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './main.ts';

type OpenedStore = Awaited<ReturnType<typeof import('../store/index.ts').openStore>>;

export interface OpenForCli {
  /**
   * Commands that only read (buckets, show, jobs, ...) must not create an empty database at a
   * mistyped path and then report "no buckets": they say that the database does not exist.
   */
  create: boolean;
}

/** openStore() for commands: lazy-loads the store and turns open failures into UsageError. */
export async function openStoreForCli(db: string | undefined, opts: OpenForCli): Promise<OpenedStore> {
  const { openStore, resolveDbUrl } = await import('../store/index.ts');
  const url = resolveDbUrl(db);
  if (!opts.create && !/^postgres(ql)?:\/\//i.test(url)) {
    const file = resolve(url.replace(/^sqlite:(\/\/)?/i, ''));
    if (!existsSync(file))
      throw new UsageError(
        `no ktriage database at ${file} (ingest some logs first, or give --db / KTRIAGE_DB)`,
      );
  }
  try {
    return await openStore(db);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
