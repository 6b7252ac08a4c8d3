// Helpers shared by the store's CLI commands (ingest, buckets, show, rebucket, serve, worker, jobs).
import type { Command } from 'commander';

export const DB_HELP =
  'database: a SQLite file or postgres://user:pass@host/db (default $KTRIAGE_DB, else ./ktriage.db)';

export function addDbOption(cmd: Command): Command {
  return cmd.option('--db <url>', DB_HELP);
}

/** `b12` / `bucket:12` / `12` -> bucket 12; `c34` / `crash:34` -> crash 34. */
export function parseRef(ref: string): { kind: 'bucket' | 'crash'; id: number } | null {
  const m = /^(b|bucket:?|c|crash:?)?#?(\d+)$/i.exec(ref.trim());
  if (!m) return null;
  const kind = m[1] && /^c/i.test(m[1]) ? 'crash' : 'bucket';
  return { kind, id: Number(m[2]) };
}

export function parseTime(s: string | undefined, what: string): string | undefined {
  if (s == null || s === '') return undefined;
  // Relative: 7d, 12h, 30m
  const rel = /^(\d+)([dhm])$/.exec(s.trim());
  if (rel) {
    const n = Number(rel[1]);
    const ms = rel[2] === 'd' ? n * 86400_000 : rel[2] === 'h' ? n * 3600_000 : n * 60_000;
    return new Date(Date.now() - ms).toISOString();
  }
  const d = new Date(s);
  if (Number.isNaN(d.getTime()))
    throw new Error(`${what}: "${s}" is not a time (ISO 8601 like 2024-01-15 or relative like 7d, 12h)`);
  return d.toISOString();
}
