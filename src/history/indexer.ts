// `ktriage history index REPO`: one streaming pass of `git log -p -U0` with a C function-name
// driver forced through `-c` and `core.attributesFile`, so that bare repositories (which read no
// in-tree .gitattributes) get function hunk headers too. Per commit it records subject, dates,
// touched files and functions, Fixes/stable/backport/revert facts; afterwards it resolves Fixes
// targets to full ids (by subject when the id is unknown or ambiguous) and the first release tag
// containing each commit. Re-running indexes only commits not reachable from the tips of earlier
// complete runs; `--range A..B` indexes one shard.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiffScanner } from './cdiff.ts';
import { type Db, IndexError, openIndex, setMeta } from './db.ts';
import { findMissingBlobs, git, gitDirOf, isPartialClone, listRefs, revParse, streamGit } from './git.ts';
import { parseMessage } from './message.ts';
import { firstTags } from './tags.ts';

/** Git's own cpp funcname rule (jump targets excluded), under our driver name so no config overrides it. */
export const C_FUNCNAME = '!^[ \t]*[A-Za-z_][A-Za-z_0-9]*:[[:space:]]*($|/[/*])\n^([A-Za-z_].*)$';
const DRIVER = 'ktriagec';

export interface IndexOptions {
  /** Index file; default `<git dir>/ktriage-history.sqlite`. */
  index?: string;
  /** One revision range (`v6.1..v6.2`) or revisions; default all branches, tags and HEAD. */
  range?: string;
  /** Re-read commits already in the index (no incremental exclusion). */
  full?: boolean;
  /** Called with (commits done, commits expected) as the pass proceeds. */
  onProgress?: (done: number, total: number) => void;
  /** Called with human-readable notes (skipped paths, resolution counts). */
  onNote?: (msg: string) => void;
}

export interface IndexResult {
  indexFile: string;
  gitDir: string;
  newCommits: number;
  totalCommits: number;
  expected: number;
  skippedPaths: string[];
  fixesTags: number;
  fixesResolved: number;
  seconds: number;
  /** Seconds per phase: missing-blob scan, the log -p pass, skipped paths, resolution, tags. */
  phases: Record<string, number>;
}

export function defaultIndexFile(gitDir: string): string {
  return join(gitDir, 'ktriage-history.sqlite');
}

/** The `git -c ...` options that force C function hunk headers, plus the attributes file they need. */
export function cDriverConfig(): { args: string[]; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ktriage-attr-'));
  const attr = join(dir, 'attributes');
  writeFileSync(attr, `*.c diff=${DRIVER}\n*.h diff=${DRIVER}\n`);
  return {
    args: [
      '-c',
      `core.attributesFile=${attr}`,
      '-c',
      `diff.${DRIVER}.xfuncname=${C_FUNCNAME}`,
      '-c',
      'core.quotePath=true',
      '-c',
      'diff.noprefix=false',
      '-c',
      'diff.mnemonicPrefix=false',
      '-c',
      'log.showSignature=false',
      '-c',
      'diff.renames=true',
    ],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const COMMIT_FORMAT = '%x01%H%x1f%P%x1f%at%x1f%ct%x1f%an <%ae>%n%B%x01%x01';

/** The `git log` arguments of the indexing pass (shared with the benchmark's baseline). */
export function logPassArgs(revs: string[], pathspec: string[]): string[] {
  return [
    'log',
    '--no-color',
    '--no-ext-diff',
    '--no-textconv',
    '-p',
    '-U0',
    '-M',
    '--diff-merges=off',
    '--src-prefix=a/',
    '--dst-prefix=b/',
    `--format=${COMMIT_FORMAT}`,
    ...revs,
    '--',
    ...pathspec,
  ];
}

interface Pending {
  sha: string;
  parents: string;
  authorTime: number;
  commitTime: number;
  author: string;
  lines: string[];
}

class Writer {
  private insCommit;
  private findCommit;
  private insFile;
  private insFunc;
  private insFix;
  private insBackport;
  private insRevert;
  private inTx = false;
  private sinceCommit = 0;
  newCommits = 0;

  constructor(private db: Db) {
    this.insCommit = db.prepare(
      `INSERT OR IGNORE INTO commits(sha, parents, author_time, commit_time, author, subject, body, stable, stable_hint, has_diff)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.findCommit = db.prepare('SELECT id FROM commits WHERE sha = ?').pluck();
    this.insFile = db.prepare('INSERT INTO files(commit_id, path, old_path, status) VALUES (?, ?, ?, ?)');
    this.insFunc = db.prepare('INSERT INTO funcs(commit_id, path, func, flags) VALUES (?, ?, ?, ?)');
    this.insFix = db.prepare('INSERT INTO fixes_tags(commit_id, ref, subject) VALUES (?, ?, ?)');
    this.insBackport = db.prepare('INSERT INTO backports(commit_id, ref) VALUES (?, ?)');
    this.insRevert = db.prepare('INSERT INTO reverts(commit_id, ref, subject) VALUES (?, ?, ?)');
  }

  private tx(): void {
    if (!this.inTx) {
      this.db.exec('BEGIN');
      this.inTx = true;
    }
  }

  flush(): void {
    if (this.inTx) {
      this.db.exec('COMMIT');
      this.inTx = false;
    }
    this.sinceCommit = 0;
  }

  /** Inserts one commit; returns its row id, or null when it was already indexed. */
  commit(p: Pending, scan: DiffScanner | null, hasDiff: boolean): number | null {
    this.tx();
    const message = p.lines.join('\n').trim();
    const nl = message.indexOf('\n');
    const subject = (nl < 0 ? message : message.slice(0, nl)).trim();
    const body = nl < 0 ? '' : message.slice(nl + 1).trim();
    const facts = parseMessage(message);
    const r = this.insCommit.run(
      p.sha,
      p.parents,
      p.authorTime,
      p.commitTime,
      p.author,
      subject,
      body,
      facts.stable ? 1 : 0,
      facts.stableHint,
      hasDiff ? 1 : 0,
    );
    if (r.changes === 0) return null;
    const id = Number(r.lastInsertRowid);
    this.newCommits++;
    for (const f of facts.fixes) this.insFix.run(id, f.ref, f.subject);
    for (const b of facts.backportOf) this.insBackport.run(id, b);
    for (const rv of facts.reverts) this.insRevert.run(id, rv, null);
    if (facts.revertsSubject && facts.reverts.length === 0)
      this.insRevert.run(id, null, facts.revertsSubject);
    if (scan) {
      for (const f of scan.files) this.insFile.run(id, f.path, f.oldPath, f.status);
      for (const fn of scan.funcs) this.insFunc.run(id, fn.path, fn.func, fn.flags);
    }
    if (++this.sinceCommit >= 2000) this.flush();
    return id;
  }

  /** Adds file rows to a commit (second pass over paths whose blobs are missing). */
  addFiles(commit: string | number, files: { path: string; status: string }[]): void {
    this.tx();
    const id = typeof commit === 'number' ? commit : (this.findCommit.get(commit) as number | undefined);
    if (id === undefined) return;
    for (const f of files) this.insFile.run(id, f.path, null, f.status);
  }
}

/** Parses the stream of COMMIT_FORMAT headers, message lines and (optionally) patch lines. */
class LogParser {
  private pending: Pending | null = null;
  private inBody = false;
  count = 0;
  lastSha: string | null = null;
  constructor(
    private onCommit: (p: Pending) => void,
    private onPatchLine: ((line: string) => void) | null,
  ) {}

  line(s: string): void {
    if (s.charCodeAt(0) === 1 && s.includes('\x1f')) {
      this.end();
      const f = s.slice(1).split('\x1f');
      this.pending = {
        sha: f[0] ?? '',
        parents: f[1] ?? '',
        authorTime: Number(f[2]),
        commitTime: Number(f[3]),
        author: f[4] ?? '',
        lines: [],
      };
      this.inBody = true;
      return;
    }
    if (!this.pending) return;
    if (this.inBody) {
      if (s.endsWith('\x01\x01')) {
        const t = s.slice(0, -2);
        if (t) this.pending.lines.push(t);
        this.inBody = false;
        return;
      }
      this.pending.lines.push(s);
      return;
    }
    this.onPatchLine?.(s);
  }

  end(): void {
    if (this.pending) {
      this.onCommit(this.pending);
      this.count++;
      this.lastSha = this.pending.sha;
      this.pending = null;
    }
  }
}

function parseRevs(range: string | undefined): { revs: string[]; bounded: boolean } {
  if (!range) return { revs: ['--branches', '--tags', '--remotes', 'HEAD'], bounded: false };
  const revs = range.split(/\s+/).filter(Boolean);
  for (const r of revs) {
    if (r.startsWith('-')) throw new IndexError(`--range ${range}: options are not revisions`);
  }
  return { revs, bounded: revs.some((r) => r.includes('..') || r.startsWith('^')) };
}

/** Builds or updates the history index of a git repository. */
export async function indexRepo(repo: string, opts: IndexOptions = {}): Promise<IndexResult> {
  const t0 = Date.now();
  const gitDir = gitDirOf(repo);
  const indexFile = opts.index ?? defaultIndexFile(gitDir);
  const db = openIndex(indexFile, { create: true });
  try {
    return await indexInto(db, repo, gitDir, indexFile, opts, t0);
  } finally {
    db.close();
  }
}

async function indexInto(
  db: Db,
  repo: string,
  gitDir: string,
  indexFile: string,
  opts: IndexOptions,
  t0: number,
): Promise<IndexResult> {
  const note = opts.onNote ?? (() => {});
  const { revs, bounded } = parseRevs(opts.range);
  // Positive revisions must exist: a typo would otherwise index nothing and look like success.
  const positive: string[] = [];
  if (opts.range) {
    for (const r of revs) {
      const parts = r.includes('...') ? r.split('...') : r.includes('..') ? r.split('..') : [r];
      for (const [i, part] of parts.entries()) {
        const name = part.replace(/^\^/, '') || 'HEAD';
        const sha = revParse(repo, name);
        if (!sha) throw new IndexError(`--range ${opts.range}: unknown revision ${name} in ${repo}`);
        if (!r.startsWith('^') && (parts.length === 1 || i === parts.length - 1)) positive.push(sha);
      }
    }
  } else {
    const head = revParse(repo, 'HEAD');
    if (head) positive.push(head);
    for (const ref of listRefs(repo)) positive.push(ref.sha);
    if (positive.length === 0) throw new IndexError(`${repo} has no commits to index`);
  }
  if (!opts.range && revParse(repo, 'HEAD') === null) revs.pop(); // unborn HEAD with other branches

  setMeta(db, 'repo', repo);
  setMeta(db, 'kind', 'git');
  const exclude: string[] = [];
  if (!opts.full) {
    const known = db.prepare('SELECT 1 FROM commits WHERE sha = ?').pluck();
    const runs = db.prepare('SELECT tips FROM runs WHERE bounded = 0 AND finished IS NOT NULL').all() as {
      tips: string;
    }[];
    const seen = new Set<string>();
    for (const r of runs) {
      for (const t of r.tips.split(' ')) {
        if (t && !seen.has(t) && known.get(t)) {
          seen.add(t);
          exclude.push(t);
        }
      }
    }
  }
  const notArgs = exclude.length > 0 ? ['--not', ...exclude] : [];
  const runId = Number(
    db
      .prepare('INSERT INTO runs(started, revs, bounded, tips) VALUES (?, ?, ?, ?)')
      .run(Math.floor(t0 / 1000), revs.join(' '), bounded ? 1 : 0, [...new Set(positive)].join(' '))
      .lastInsertRowid,
  );

  // Partial clones: find missing blobs first and leave their paths out of the patch pass.
  const phases: Record<string, number> = {};
  let mark = Date.now();
  const phase = (name: string) => {
    const now = Date.now();
    phases[name] = (now - mark) / 1000;
    mark = now;
  };
  phase('setup');
  const skipped = new Set<string>();
  if (isPartialClone(gitDir)) {
    const missing = await findMissingBlobs(repo, [...revs, ...notArgs]);
    for (const [sha, paths] of missing) {
      if (paths.size === 0) note(`missing blob ${sha} (path unknown: not changed by any indexed commit)`);
      for (const p of paths) skipped.add(p);
    }
    if (skipped.size > 0) {
      note(
        `partial clone: ${missing.size} blob(s) missing; patches of ${skipped.size} path(s) are not read, their commits are indexed without diffs: ${[
          ...skipped,
        ]
          .slice(0, 10)
          .join(', ')}${skipped.size > 10 ? ', ...' : ''}`,
      );
    }
  }
  const pathspec = skipped.size > 0 ? ['.', ...[...skipped].map((p) => `:(exclude,literal,top)${p}`)] : [];

  phase('missing-blob scan');
  const countOut = git(repo, ['rev-list', '--count', ...revs, ...notArgs, '--', ...pathspec]);
  const expected = Number(countOut.trim());
  const writer = new Writer(db);
  const scan = new DiffScanner();
  let done = 0;
  opts.onProgress?.(0, expected);
  const parser = new LogParser(
    (p) => {
      writer.commit(p, scan, true);
      scan.reset();
      done++;
      if ((done & 63) === 0) opts.onProgress?.(done, expected);
    },
    (line) => scan.line(line),
  );
  phase('count');
  const driver = cDriverConfig();
  let res: Awaited<ReturnType<typeof streamGit>>;
  try {
    res = await streamGit(repo, [...driver.args, ...logPassArgs([...revs, ...notArgs], pathspec)], (l) =>
      parser.line(l),
    );
    parser.end();
  } finally {
    driver.cleanup();
    writer.flush();
  }
  opts.onProgress?.(done, expected);
  if (res.code !== 0) {
    const err = res.stderr.trim().split('\n').slice(-3).join(' | ');
    const hint = /unable to read|missing|could not fetch|promisor/i.test(err)
      ? ' (objects are missing: a partial or shallow clone? fetch them or index a --range that avoids them)'
      : '';
    throw new IndexError(
      `git log failed in ${repo} after ${parser.count} of ${expected} commits${
        parser.lastSha ? ` (last read ${parser.lastSha})` : ''
      }: ${err}${hint}; the ${writer.newCommits} commits read are kept, re-run to continue`,
    );
  }
  if (parser.count < expected) {
    throw new IndexError(
      `git log in ${repo} stopped early: ${parser.count} of ${expected} commits read (stderr: ${res.stderr.trim() || 'none'})`,
    );
  }

  // Commits that change only skipped paths were left out by the pathspec: index them without diffs.
  phase('log -p pass');
  if (skipped.size > 0) await indexSkippedPaths(repo, writer, [...revs, ...notArgs], [...skipped]);
  writer.flush();

  for (const p of skipped) {
    db.prepare('INSERT OR REPLACE INTO skipped_paths(path, reason) VALUES (?, ?)').run(
      p,
      'blob missing (partial clone)',
    );
  }
  const refs = listRefs(repo);
  db.transaction(() => {
    db.exec('DELETE FROM refs');
    const ins = db.prepare('INSERT OR REPLACE INTO refs(name, sha, kind) VALUES (?, ?, ?)');
    for (const r of refs) ins.run(r.name, r.sha, r.kind);
    const head = revParse(repo, 'HEAD');
    if (head) ins.run('HEAD', head, 'branch');
  })();
  phase('skipped paths');
  const { fixesTags, fixesResolved } = resolveReferences(db);
  phase('resolve references');
  assignFirstTags(db);
  phase('release tags');
  db.prepare('UPDATE runs SET finished = ?, commits = ? WHERE id = ?').run(
    Math.floor(Date.now() / 1000),
    writer.newCommits,
    runId,
  );
  const totalCommits = db.prepare('SELECT count(*) FROM commits').pluck().get() as number;
  note(`${fixesResolved} of ${fixesTags} Fixes: tags resolved to indexed commits`);
  return {
    indexFile,
    gitDir,
    newCommits: writer.newCommits,
    totalCommits,
    expected,
    skippedPaths: [...skipped],
    fixesTags,
    fixesResolved,
    seconds: (Date.now() - t0) / 1000,
    phases,
  };
}

async function indexSkippedPaths(repo: string, writer: Writer, revs: string[], paths: string[]) {
  // Name-status lines follow their commit's message, so the parser hands them over before it
  // reports the commit itself.
  let files: { path: string; status: string }[] = [];
  const parser = new LogParser(
    (p) => {
      const id = writer.commit(p, null, false);
      writer.addFiles(id ?? p.sha, files);
      files = [];
    },
    (line) => {
      const tab = line.indexOf('\t');
      if (tab > 0) files.push({ status: line.slice(0, 1), path: line.slice(tab + 1) });
    },
  );
  const r = await streamGit(
    repo,
    [
      '-c',
      'core.quotePath=false',
      'log',
      '--no-renames',
      '--name-status',
      `--format=${COMMIT_FORMAT}`,
      ...revs,
      '--',
      ...paths.map((p) => `:(literal,top)${p}`),
    ],
    (line) => parser.line(line),
  );
  parser.end();
  if (r.code !== 0) throw new IndexError(`git log of skipped paths failed in ${repo}: ${r.stderr.trim()}`);
}

/** Resolves Fixes/backport/revert references to full ids: by unique prefix, else by subject. */
export function resolveReferences(db: Db): { fixesTags: number; fixesResolved: number } {
  const byPrefix = db.prepare('SELECT sha FROM commits WHERE sha >= ? AND sha < ? LIMIT 2').pluck();
  const bySubject = db
    .prepare(
      `SELECT c.sha FROM commits c WHERE c.subject = ?
       ORDER BY EXISTS(SELECT 1 FROM backports b WHERE b.commit_id = c.id), c.author_time LIMIT 5`,
    )
    .pluck();
  const prefixOf = (ref: string | null): string | null => {
    if (!ref || ref.length < 4) return null;
    const hits = byPrefix.all(ref, `${ref}g`) as string[];
    return hits.length === 1 ? hits[0]! : null;
  };
  const resolve = (ref: string | null, subject: string | null): [string | null, string | null] => {
    const p = prefixOf(ref);
    if (p) return [p, 'id'];
    if (subject) {
      const hits = bySubject.all(subject) as string[];
      const pick = (ref && hits.find((h) => h.startsWith(ref))) || hits[0];
      if (pick) return [pick, 'subject'];
    }
    return [null, null];
  };
  db.transaction(() => {
    const fx = db.prepare('SELECT rowid, ref, subject FROM fixes_tags WHERE target IS NULL').all() as {
      rowid: number;
      ref: string | null;
      subject: string | null;
    }[];
    const upd = db.prepare('UPDATE fixes_tags SET target = ?, resolved_by = ? WHERE rowid = ?');
    for (const f of fx) {
      const [t, by] = resolve(f.ref, f.subject);
      if (t) upd.run(t, by, f.rowid);
    }
    const bp = db.prepare('SELECT rowid, ref FROM backports WHERE upstream IS NULL').all() as {
      rowid: number;
      ref: string;
    }[];
    const updB = db.prepare('UPDATE backports SET upstream = ? WHERE rowid = ?');
    for (const b of bp) {
      const t = prefixOf(b.ref);
      if (t) updB.run(t, b.rowid);
    }
    const rv = db.prepare('SELECT rowid, ref, subject FROM reverts WHERE target IS NULL').all() as {
      rowid: number;
      ref: string | null;
      subject: string | null;
    }[];
    const updR = db.prepare('UPDATE reverts SET target = ? WHERE rowid = ?');
    for (const r of rv) {
      const [t] = resolve(r.ref, r.subject);
      if (t) updR.run(t, r.rowid);
    }
  })();
  const fixesTags = db.prepare('SELECT count(*) FROM fixes_tags').pluck().get() as number;
  const fixesResolved = db
    .prepare('SELECT count(*) FROM fixes_tags WHERE target IS NOT NULL')
    .pluck()
    .get() as number;
  return { fixesTags, fixesResolved };
}

/** Loads the commit graph held in the index: row id -> parent row ids (parents outside it dropped). */
export function loadGraph(db: Db): { parents: Map<number, number[]>; idOf: Map<string, number> } {
  const rows = db.prepare('SELECT id, sha, parents FROM commits').raw().all() as [number, string, string][];
  const idOf = new Map<string, number>();
  for (const [id, sha] of rows) idOf.set(sha, id);
  const parents = new Map<number, number[]>();
  for (const [id, , ps] of rows) {
    const list: number[] = [];
    if (ps) {
      for (const p of ps.split(' ')) {
        const pid = idOf.get(p);
        if (pid !== undefined) list.push(pid);
      }
    }
    parents.set(id, list);
  }
  return { parents, idOf };
}

/** Recomputes the first containing release tag of every indexed commit. */
export function assignFirstTags(db: Db): void {
  const { parents, idOf } = loadGraph(db);
  const tags = (
    db.prepare("SELECT name, sha FROM refs WHERE kind = 'tag'").all() as { name: string; sha: string }[]
  )
    .map((t) => ({ name: t.name, commit: idOf.get(t.sha) }))
    .filter((t): t is { name: string; commit: number } => t.commit !== undefined);
  const first = firstTags(parents, tags);
  const current = db.prepare('SELECT id, first_tag FROM commits').raw().all() as [number, string | null][];
  const upd = db.prepare('UPDATE commits SET first_tag = ? WHERE id = ?');
  db.transaction(() => {
    for (const [id, old] of current) {
      const t = first.get(id) ?? null;
      if (t !== old) upd.run(t, id);
    }
  })();
}
