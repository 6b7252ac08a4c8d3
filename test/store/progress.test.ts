// `ktriage ingest` shows progress on large inputs (more than 200 inputs or 16 MiB): a bar on a
// terminal, periodic lines otherwise, nothing on small inputs or with --no-progress. The terminal
// is a real pseudo-terminal from util-linux `script` (Debian's bsdutils, always installed).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusReports } from './corpus.ts';
import { bin, runCli, runCollect } from './helpers.ts';

const MANY = 240;
let dir: string;
let many: string;
let few: string;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs the CLI with stdin, stdout and stderr on a pseudo-terminal; returns what the terminal got. */
async function runOnTerminal(args: string[]): Promise<{ code: number | null; out: string }> {
  const cmd = [process.execPath, bin, ...args].map(shellQuote).join(' ');
  // `script` copies the terminal to its stdout; its own stderr has only its errors.
  const r = await runCollect('script', ['-qec', cmd, '/dev/null'], { COLUMNS: '120' });
  return { code: r.code, out: r.stdout + r.stderr };
}

/**
 * Terminal output as the lines a user ends up seeing: a return to column 1 (\r, CSI 1 G) starts
 * the line over, other escape sequences (cursor save/restore, hide/show, erase) are dropped.
 */
function screen(out: string): string[] {
  const plain = out
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences
    .replace(/\x1b\[1?G/g, '\r')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences
    .replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '');
  return plain.split('\n').map((l) => {
    const parts = l.split('\r').filter((x) => x.length > 0);
    return parts[parts.length - 1] ?? '';
  });
}

beforeAll(() => {
  const have = spawnSync('script', ['--version']);
  if (have.error)
    throw new Error(`util-linux "script" is needed for the terminal test: ${have.error.message}`);
  dir = mkdtempSync(join(tmpdir(), 'ktriage-progress-'));
  many = join(dir, 'many');
  few = join(dir, 'few');
  mkdirSync(many);
  mkdirSync(few);
  const reports = corpusReports(MANY);
  reports.forEach((r, i) => {
    writeFileSync(join(many, `r${String(i).padStart(4, '0')}.log`), r.text);
  });
  for (let i = 0; i < 5; i++) writeFileSync(join(few, `r${i}.log`), reports[i]!.text);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ingest progress', () => {
  it('draws a bar on a terminal for a large input and ends it at 100%', async () => {
    const r = await runOnTerminal(['ingest', '--db', join(dir, 'tty.db'), many]);
    expect(r.code, r.out).toBe(0);
    const lines = screen(r.out);
    const bar = lines.filter((l) => l.startsWith('ingest ['));
    expect(bar.length, r.out).toBeGreaterThan(0);
    expect(bar[bar.length - 1]).toMatch(new RegExp(`\\] 100% \\| ${MANY}/${MANY} inputs \\|`));
    expect(lines.some((l) => l.startsWith(`${MANY} log(s): ${MANY} crash report(s), ${MANY} new`))).toBe(
      true,
    );
  });

  it('draws no bar with --no-progress, or for a small input', async () => {
    const off = await runOnTerminal(['ingest', '--no-progress', '--db', join(dir, 'off.db'), many]);
    expect(off.code, off.out).toBe(0);
    expect(off.out).not.toContain('ingest [');
    const small = await runOnTerminal(['ingest', '--db', join(dir, 'small.db'), few]);
    expect(small.code, small.out).toBe(0);
    expect(small.out).not.toContain('ingest [');
    expect(small.out).toContain('5 log(s): 5 crash report(s), 5 new');
  });

  it('writes progress lines instead when stderr is not a terminal', async () => {
    // Every update (the interval is 5 s by default; 0 here so the test need not take that long).
    const r = await runCli(['ingest', '--db', join(dir, 'pipe.db'), many], {
      KTRIAGE_PROGRESS_EVERY_MS: '0',
    });
    expect(r.code, r.stderr).toBe(0);
    const counts = r.stderr
      .split('\n')
      .map((l) => /^ingest: (\d+)\/(\d+) inputs, [\d.]+ MiB, \d+ s$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => {
        expect(Number(m[2])).toBe(MANY);
        return Number(m[1]);
      });
    expect(counts.length).toBe(MANY);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts[counts.length - 1]).toBe(MANY);
    expect(r.stderr).not.toContain('ingest [');
    // Nothing before the interval has passed.
    const quiet = await runCli(['ingest', '--db', join(dir, 'quiet.db'), many], {
      KTRIAGE_PROGRESS_EVERY_MS: '3600000',
    });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/^ingest: /m);
  });
});
