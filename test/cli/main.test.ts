import { spawnSync } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';

const bin = new URL('../../bin/ktriage.mjs', import.meta.url).pathname;

describe('ktriage CLI entry point', () => {
  it('prints help and exits 0', () => {
    const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: ktriage');
  });

  it('rejects an unknown command with exit code 2 and names it', () => {
    const r = spawnSync(process.execPath, [bin, 'no-such-command'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no-such-command');
  });
});

describe('commands that read the store', () => {
  it('say that a database does not exist instead of creating an empty one', async () => {
    const { mkdtempSync, existsSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ktriage-cli-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const db = join(dir, 'missing', 'k.db');
    for (const args of [['buckets'], ['show', 'b1'], ['jobs']]) {
      const r = spawnSync(process.execPath, [bin, ...args, '--db', db], { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(db);
    }
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});
