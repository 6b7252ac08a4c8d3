// Builds real git repositories for the history tests: files written, committed with fixed dates
// (so the order of commits is deterministic), tags and branches by name.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function hasGit(): boolean {
  try {
    execFileSync('git', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `ktriage-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export class Repo {
  private t = 1_600_000_000;
  constructor(readonly dir: string) {}

  /** Sets the clock of the next commits (seconds since the epoch). */
  at(t: number): this {
    this.t = t;
    return this;
  }

  static init(dir: string, branch = 'main'): Repo {
    mkdirSync(dir, { recursive: true });
    const r = new Repo(dir);
    r.git('init', '-q', '-b', branch);
    r.git('config', 'user.name', 'Test Author');
    r.git('config', 'user.email', 'test@example.org');
    r.git('config', 'commit.gpgsign', 'false');
    return r;
  }

  git(...args: string[]): string {
    const date = `${this.t} +0000`;
    return execFileSync('git', ['-C', this.dir, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_DATE: date,
        GIT_CONFIG_NOSYSTEM: '1',
        HOME: this.dir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Writes (or deletes, with null) files and commits them; returns the new commit id. */
  commit(message: string, files: Record<string, string | null>): string {
    this.t += 3600;
    for (const [path, text] of Object.entries(files)) {
      const full = join(this.dir, path);
      if (text === null) rmSync(full, { force: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, text);
      }
    }
    this.git('add', '-A');
    this.git('commit', '-q', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD').trim();
  }

  mv(from: string, to: string, message: string): string {
    this.t += 3600;
    mkdirSync(dirname(join(this.dir, to)), { recursive: true });
    this.git('mv', from, to);
    this.git('commit', '-q', '-m', message);
    return this.git('rev-parse', 'HEAD').trim();
  }

  cherryPick(sha: string, marker: 'x' | 'upstream'): string {
    this.t += 3600;
    if (marker === 'x') this.git('cherry-pick', '-x', sha);
    else {
      this.git('cherry-pick', '--no-commit', sha);
      const msg = this.git('log', '-1', '--format=%B', sha);
      const nl = msg.indexOf('\n');
      const body = `${msg.slice(0, nl)}\n\ncommit ${sha} upstream.\n${msg.slice(nl)}`;
      this.git('commit', '-q', '-m', body);
    }
    return this.git('rev-parse', 'HEAD').trim();
  }

  tag(name: string): void {
    this.git('tag', '-a', '-m', name, name);
  }
}

/** C source of a file from its functions, each `name -> body lines` (kernel style). */
export function cFile(funcs: [string, string[]][], header = '#include <linux/kernel.h>'): string {
  const parts = [`${header}\n`];
  for (const [sig, body] of funcs) {
    parts.push(`${sig}\n{\n${body.map((l) => `\t${l}`).join('\n')}\n}\n`);
  }
  return parts.join('\n');
}
