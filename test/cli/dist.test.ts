// bin/ktriage.mjs runs the compiled dist/ only while it matches src/ exactly, and the TypeScript
// sources otherwise; a closed stdout pipe ends the CLI quietly. The build runs on a copy of the
// tree so that it cannot race the other tests that spawn the real bin.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');

function copyTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ktriage-dist-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['src', 'bin']) cpSync(join(repo, d), join(dir, d), { recursive: true });
  cpSync(join(repo, 'package.json'), join(dir, 'package.json'));
  for (const d of ['node_modules', 'examples']) symlinkSync(join(repo, d), join(dir, d));
  return dir;
}

describe('the compiled CLI', () => {
  it('is used while it matches src/, and src/ runs as soon as a source file changes', () => {
    const dir = copyTree();
    const b = spawnSync(process.execPath, [join(dir, 'bin/build.mjs')], { encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    // A command that exists only in dist/ answers only when dist/ is the one running.
    writeFileSync(
      join(dir, 'dist/src/cli/commands/zz-probe.js'),
      "export function register(p) { p.command('zz-probe').action(() => { process.stdout.write('dist\\n'); }); }\n",
    );
    const bin = join(dir, 'bin/ktriage.mjs');
    const probe = () => spawnSync(process.execPath, [bin, 'zz-probe'], { encoding: 'utf8' });
    expect(probe().stdout).toBe('dist\n');
    // The same parse output from both.
    const seed = resolve(repo, '../shared/seed/machine-a.log');
    const fromDist = spawnSync(process.execPath, [bin, 'parse', '--json', seed], { encoding: 'utf8' });
    const fromSrc = spawnSync(process.execPath, [bin, 'parse', '--json', seed], {
      encoding: 'utf8',
      env: { ...process.env, KTRIAGE_NO_DIST: '1' },
    });
    expect(fromDist.status).toBe(0);
    expect(fromDist.stdout).toBe(fromSrc.stdout);
    // An edited source file (here only its mtime) makes dist/ stale: src/ runs, without the probe.
    const t = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'src/cli/main.ts'), t, t);
    const stale = probe();
    expect(stale.status).toBe(2);
    expect(stale.stderr).toContain('zz-probe');
    // So does a new source file.
    utimesSync(join(dir, 'src/cli/main.ts'), t, t);
    const b2 = spawnSync(process.execPath, [join(dir, 'bin/build.mjs')], { encoding: 'utf8' });
    expect(b2.status, b2.stderr).toBe(0);
    writeFileSync(join(dir, 'dist/src/cli/commands/zz-probe.js'), 'export function register() {}\n');
    writeFileSync(
      join(dir, 'src/cli/commands/zz-probe.ts'),
      "import type { Command } from 'commander';\nexport function register(p: Command): void {\n  p.command('zz-probe').action(() => {\n    process.stdout.write('src\\n');\n  });\n}\n",
    );
    expect(probe().stdout).toBe('src\n');
  });

  it('stops quietly when the reader of its output goes away (| head)', async () => {
    const seed = resolve(repo, '../shared/seed/machine-a.log');
    const child = spawn(
      process.execPath,
      [join(repo, 'bin/ktriage.mjs'), 'parse', ...Array(1000).fill(seed)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(stderr).not.toMatch(/EPIPE|internal error/);
    expect(code).toBe(0);
  });
});
