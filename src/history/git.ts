// Running git: short commands synchronously, long passes as a spawned process whose stdout is split
// into lines chunk by chunk (never buffered whole). Lines are handed to a synchronous callback so a
// pass costs no promise per line.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export class GitError extends Error {}

/** Environment for every git call: no pager, no prompts, no lazy fetches from a promisor remote. */
export function gitEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_PAGER: 'cat',
    GIT_TERMINAL_PROMPT: '0',
    // git >= 2.44 honours this; older versions rely on the missing-blob scan below.
    GIT_NO_LAZY_FETCH: '1',
    LC_ALL: 'C',
  };
}

/** Runs a short git command in repo and returns stdout; throws GitError with git's message. */
export function git(repo: string, args: string[], input?: string): string {
  try {
    return execFileSync('git', ['-C', repo, ...args], {
      encoding: 'utf8',
      env: gitEnv(),
      maxBuffer: 1 << 30,
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const msg = (e.stderr ?? '').trim() || e.message;
    throw new GitError(`git ${args.slice(0, 3).join(' ')} in ${repo}: ${msg}`);
  }
}

/** Absolute git directory of a repository path (work tree or bare); clear error otherwise. */
export function gitDirOf(repo: string): string {
  if (!existsSync(repo)) throw new GitError(`${repo}: no such directory`);
  try {
    return git(repo, ['rev-parse', '--absolute-git-dir']).trim();
  } catch {
    throw new GitError(`${repo} is not a git repository`);
  }
}

/** True when the repository is a partial clone (promisor packs or a partialClone extension). */
export function isPartialClone(gitDir: string): boolean {
  const packDir = join(gitDir, 'objects', 'pack');
  if (existsSync(packDir) && readdirSync(packDir).some((f) => f.endsWith('.promisor'))) return true;
  try {
    const cfg = join(gitDir, 'config');
    if (existsSync(cfg) && statSync(cfg).isFile()) {
      return git(gitDir, ['config', '--get', 'extensions.partialClone']).trim().length > 0;
    }
  } catch {
    // no such config key
  }
  return false;
}

export interface StreamResult {
  code: number;
  stderr: string;
}

/**
 * Spawns `git args` in repo and calls onLine for each stdout line (without '\n'), synchronously per
 * chunk. Resolves with the exit code and the captured stderr (last 64 KiB).
 */
export function streamGit(
  repo: string,
  args: string[],
  onLine: (line: string) => void,
  opts: { onBytes?: (n: number) => void } = {},
): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', repo, ...args], { env: gitEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let rest: Buffer | null = null;
    let stderr = '';
    let failed: Error | null = null;
    child.stdout.on('data', (chunk: Buffer) => {
      if (failed) return;
      opts.onBytes?.(chunk.length);
      let buf = chunk;
      if (rest) {
        buf = Buffer.concat([rest, chunk]);
        rest = null;
      }
      let start = 0;
      try {
        for (;;) {
          const nl = buf.indexOf(10, start);
          if (nl < 0) break;
          onLine(buf.toString('utf8', start, nl));
          start = nl + 1;
        }
      } catch (err) {
        failed = err as Error;
        child.kill();
        return;
      }
      if (start < buf.length) rest = buf.subarray(start);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      if (stderr.length > 65536) stderr = stderr.slice(-65536);
    });
    child.on('error', (err) => reject(new GitError(`cannot run git: ${err.message}`)));
    child.on('close', (code) => {
      if (failed) return reject(failed);
      try {
        if (rest && rest.length > 0) onLine(rest.toString('utf8'));
      } catch (err) {
        return reject(err);
      }
      resolve({ code: code ?? 1, stderr });
    });
  });
}

/** Resolves a revision to a full commit id, or null. */
export function revParse(repo: string, rev: string): string | null {
  try {
    return git(repo, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).trim() || null;
  } catch {
    return null;
  }
}

export interface RefInfo {
  name: string;
  sha: string;
  kind: 'tag' | 'branch';
}

/** Tags and branches with their peeled commit ids. */
export function listRefs(repo: string): RefInfo[] {
  const out = git(repo, [
    'for-each-ref',
    '--format=%(refname)%09%(objectname)%09%(*objectname)%09%(objecttype)%09%(*objecttype)',
    'refs/tags',
    'refs/heads',
    'refs/remotes',
  ]);
  const refs: RefInfo[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [ref, obj, peeled, type, peeledType] = line.split('\t');
    if (!ref || !obj) continue;
    const isTag = ref.startsWith('refs/tags/');
    const sha = peeled || obj;
    const t = peeled ? peeledType : type;
    if (t !== 'commit') continue;
    const name = isTag ? ref.slice(10) : ref.startsWith('refs/heads/') ? ref.slice(11) : ref.slice(13); // refs/remotes/
    refs.push({ name, sha, kind: isTag ? 'tag' : 'branch' });
  }
  return refs;
}

/**
 * Blobs missing from a partial clone, with the paths they appear at in the given revisions: the
 * whole-tree `log -p` would die on them (`fatal: unable to read <sha>`), or silently stop early.
 */
export async function findMissingBlobs(repo: string, revs: string[]): Promise<Map<string, Set<string>>> {
  const missing = new Set<string>();
  const r1 = await streamGit(repo, ['rev-list', '--objects', '--missing=print', ...revs, '--'], (line) => {
    if (line.startsWith('?')) missing.add(line.slice(1).trim());
  });
  if (r1.code !== 0)
    throw new GitError(`git rev-list --objects --missing=print failed in ${repo}: ${r1.stderr.trim()}`);
  const paths = new Map<string, Set<string>>();
  if (missing.size === 0) return paths;
  const r2 = await streamGit(
    repo,
    ['log', '--raw', '--no-abbrev', '--no-renames', '--format=', ...revs, '--'],
    (line) => {
      // :100644 100644 <old> <new> M\tpath
      if (!line.startsWith(':')) return;
      const tab = line.indexOf('\t');
      if (tab < 0) return;
      const fields = line.slice(0, tab).split(' ');
      const path = line.slice(tab + 1);
      for (const sha of [fields[2], fields[3]]) {
        if (sha && missing.has(sha)) {
          let s = paths.get(sha);
          if (!s) {
            s = new Set();
            paths.set(sha, s);
          }
          s.add(path);
        }
      }
    },
  );
  if (r2.code !== 0) throw new GitError(`git log --raw failed in ${repo}: ${r2.stderr.trim()}`);
  for (const sha of missing) if (!paths.has(sha)) paths.set(sha, new Set());
  return paths;
}
