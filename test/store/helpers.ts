// Test databases for both dialects. SQLite: a fresh file in a temp dir. PostgreSQL: a fresh
// database created from $KTRIAGE_TEST_PG (set by .ci/setup.d/20-postgres.sh) and dropped after.
// Without KTRIAGE_TEST_PG the PostgreSQL runs are skipped, or fail when KTRIAGE_REQUIRE_ALL=1.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const shared = resolve(repoRoot, '../shared');
export const bin = join(repoRoot, 'bin/ktriage.mjs');

export interface TestDb {
  url: string;
  drop(): Promise<void>;
}

export const PG_BASE = process.env.KTRIAGE_TEST_PG ?? '';
export const REQUIRE_ALL = process.env.KTRIAGE_REQUIRE_ALL === '1';

export function pgMissing(): string | null {
  if (PG_BASE) return null;
  const msg =
    'KTRIAGE_TEST_PG is not set: run .ci/setup.d/20-postgres.sh (PostgreSQL 15) to test the PostgreSQL dialect';
  if (REQUIRE_ALL) throw new Error(msg);
  return msg;
}

/** The dialects to run store tests on: sqlite always, postgres when available. */
export function dialects(): ('sqlite' | 'postgres')[] {
  return pgMissing() ? ['sqlite'] : ['sqlite', 'postgres'];
}

export async function freshDb(dialect: 'sqlite' | 'postgres'): Promise<TestDb> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'ktriage-store-'));
    return { url: join(dir, 'test.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `ktriage_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: PG_BASE });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(PG_BASE);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_BASE });
      await c.connect();
      try {
        // An autovacuum worker on the database makes FORCE fail for a non-superuser ("must be a
        // member of the role whose process is being terminated"), typically right after a load
        // test: wait for it and retry.
        for (let i = 0; ; i++) {
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            break;
          } catch (err) {
            if (i >= 40) throw err;
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      } finally {
        await c.end();
      }
    },
  };
}

/** Runs a command in a child process (cwd: the repository) and collects its output. */
export function runCollect(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: repoRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the ktriage CLI in a child process. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCollect(process.execPath, [bin, ...args], env);
}
