// Faults: kill -9 of an ingesting process at random moments. Afterwards the database opens,
// every log the process reported as committed is there with all its crashes, no log is visible
// with only part of its crashes, bucket counts agree with members, and re-running the ingest
// completes without duplicates. The kill moments come from a seed printed in the test name.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { corpusReports, writeReports } from './corpus.ts';
import { bin, dialects, freshDb, repoRoot, runCli } from './helpers.ts';

const REPORTS = 1200;
const KILLS = 4;
const seed = Number(process.env.KTRIAGE_FAULT_SEED ?? Date.now() % 100000);

function rng(s: number) {
  let x = s || 1;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

interface Committed {
  logId: number;
  source: string;
  crashes: number[];
}

/**
 * Starts an ingest and kills it with SIGKILL once it has reported `afterLines` logs (one JSON line
 * per log, duplicates included) plus `delayMs`: tied to progress, not wall time, so the kill lands
 * mid-run on fast and slow machines alike. `afterLines` 0 kills during start-up.
 */
function ingestAndKill(
  args: string[],
  afterLines: number,
  delayMs: number,
): Promise<{ committed: Committed[]; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: process.env });
    let out = '';
    let lines = 0;
    let killed = false;
    let t: NodeJS.Timeout | undefined;
    const arm = () => {
      if (t) return;
      t = setTimeout(() => {
        killed = p.exitCode === null && p.signalCode === null && p.kill('SIGKILL');
      }, delayMs);
    };
    if (afterLines === 0) arm();
    p.stdout.on('data', (d) => {
      out += d;
      for (const ch of String(d)) if (ch === '\n') lines++;
      if (lines >= afterLines) arm();
    });
    p.stderr.on('data', () => {});
    p.on('error', reject);
    p.on('close', () => {
      if (t) clearTimeout(t);
      // Only complete lines: a line cut by the kill was not fully reported.
      const all = out.split('\n');
      all.pop();
      resolve({
        committed: all.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Committed),
        killed,
      });
    });
  });
}

describe.each(dialects())('faults on %s', (dialect) => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ktriage-faults-'));
    const reports = corpusReports(REPORTS);
    expect(reports.length).toBe(REPORTS);
    writeReports(dir, reports);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`kill -9 at random moments (seed ${seed}): nothing committed lost, nothing half-written, re-run completes`, async () => {
    const db = await freshDb(dialect);
    const random = rng(seed + (dialect === 'postgres' ? 7 : 0));
    try {
      const everCommitted = new Map<number, Committed>();
      let kills = 0;
      for (let round = 0; round < KILLS; round++) {
        // Small batches: many commits, so kills land before, inside and between transactions.
        // Round 0 may die during start-up; later rounds die somewhere in the first 90% of logs
        // (every run prints one line per log, so it cannot finish before the kill is armed).
        const afterLines = round === 0 && random() < 0.25 ? 0 : Math.floor(random() * REPORTS * 0.9);
        const r = await ingestAndKill(
          ['ingest', '--db', db.url, '--host', 'victim', '--jsonl', '--batch', '7', dir],
          afterLines,
          afterLines === 0 ? 200 + Math.floor(random() * 800) : Math.floor(random() * 25),
        );
        if (r.killed) kills++;
        for (const c of r.committed) everCommitted.set(c.logId, c);
        await check(db.url, everCommitted);
      }
      expect(kills).toBeGreaterThan(0);
      // Re-run to completion.
      const done = await runCli([
        'ingest',
        '--db',
        db.url,
        '--host',
        'victim',
        '--json',
        '--no-progress',
        dir,
      ]);
      expect(done.code).toBe(0);
      await check(db.url, everCommitted);
      const store = await openStore(db.url);
      try {
        const st = await store.stats();
        expect(st.crashes).toBe(REPORTS);
        expect(st.logs).toBe(REPORTS);
        const d = store.opened.db;
        const dups = await d
          .selectFrom('crashes')
          .select(['content_hash', sql<number>`count(*)`.as('n')])
          .groupBy('content_hash')
          .having(sql`count(*)`, '>', 1)
          .execute();
        expect(dups).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      await db.drop();
    }
  }, 900_000);
});

async function check(url: string, committed: Map<number, Committed>): Promise<void> {
  const store = await openStore(url);
  try {
    const d = store.opened.db;
    if (store.dialect === 'sqlite') {
      const r = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(d);
      expect(r.rows.map((x) => x.integrity_check)).toEqual(['ok']);
    }
    // Nothing committed is lost.
    for (const c of committed.values()) {
      const log = await store.getLog(c.logId);
      expect(log, `log ${c.logId} (${c.source}) was reported committed`).not.toBeNull();
      for (const id of c.crashes) expect(await store.getCrash(id), `crash ${id}`).not.toBeNull();
    }
    // Nothing half-written: every log has exactly the crashes it says it has.
    const partial = await d
      .selectFrom('logs as l')
      .leftJoin('crashes as c', 'c.log_id', 'l.id')
      .select(['l.id', 'l.crash_count', sql<number>`count(c.id)`.as('n')])
      .groupBy(['l.id', 'l.crash_count'])
      .having(sql`count(c.id)`, '!=', sql.ref('l.crash_count'))
      .execute();
    expect(partial).toEqual([]);
    const badCounts = await d
      .selectFrom('bucket_counts as b')
      .select(['b.bucket_id', 'b.count'])
      .where(sql<boolean>`b.count != (select count(*) from crashes c where c.bucket_id = b.bucket_id)`)
      .execute();
    expect(badCounts).toEqual([]);
    const unbucketed = await d.selectFrom('crashes').select('id').where('bucket_id', 'is', null).execute();
    expect(unbucketed).toEqual([]);
  } finally {
    await store.close();
  }
}
