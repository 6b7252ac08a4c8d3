// Queries over history indexes: ranked candidate fixes for a crash on a base revision, and the
// history of one function. A candidate is a commit not contained in the base (or a mailed patch
// posted after it) that touches the crash's functions or files, or whose Fixes: target did; each
// signal adds to the score with a reason a kernel engineer can check.
import { existsSync, statSync } from 'node:fs';
import type { Statement } from 'better-sqlite3';
import { type Db, getMeta, IndexError, openIndex } from './db.ts';
import { gitDirOf, revParse } from './git.ts';
import { defaultIndexFile, loadGraph } from './indexer.ts';
import { ancestors, compareTags } from './tags.ts';

export interface QueryFunc {
  name: string;
  /** Position in the stack, 0 = the top (guilty) frame. */
  depth: number;
}

export interface FixQuery {
  /** The version the crash happened on: a tag, branch or commit id. */
  base: string;
  funcs: QueryFunc[];
  /** Source files (`fs/nfs/write.c`, or a bare name `write.c`). */
  files: string[];
  /** Distinctive words of the report (BUG message, title). */
  words: string[];
  /** Keep candidates whose backport is already in the base (default: drop them). */
  includeInBase?: boolean;
  limit?: number;
}

export interface Reason {
  kind:
    | 'function'
    | 'fixes-in-base'
    | 'fixes-touches'
    | 'fixes-after-base'
    | 'stable'
    | 'words'
    | 'file'
    | 'reverted'
    | 'mail';
  score: number;
  detail: string;
}

export interface Backport {
  sha: string;
  subject: string;
  firstTag: string | null;
  /** True when the backport descends from the base (it is on the base's stable line). */
  onBaseLine: boolean;
  index: string;
}

export interface FixCandidate {
  source: 'git' | 'mail';
  /** Commit id, or the Message-ID of a mailed patch. */
  id: string;
  subject: string;
  date: string;
  firstTag: string | null;
  score: number;
  reasons: Reason[];
  fixes: { ref: string | null; target: string | null; subject: string | null; inBase: boolean | null }[];
  stable: boolean;
  stableHint: string | null;
  backports: Backport[];
  /** When a stable branch of the base is indexed: was the candidate backported there? */
  backportedToBase: boolean | null;
  revertedBy: string[];
  /** Mailed patches only: series position and version. */
  series?: { part: number | null; total: number | null; version: number };
  index: string;
}

/** Frame names as symbolised (`foo.isra.0`, `foo.cold`) to the C function (`foo`); syscall stubs to `sys_x`. */
export function normaliseFunc(name: string): string {
  let n = name.trim();
  const dot = n.indexOf('.');
  if (dot > 0) n = n.slice(0, dot);
  const sys = /^__(?:x64|ia32|arm64|riscv|s390x|do|se)_(compat_sys_|sys_)(\w+)$/.exec(n);
  if (sys) return `${sys[1]}${sys[2]}`;
  return n;
}

const STOP = new Set(
  'this that with from have been were when what which there their will would could should into than then them they also only some such more most other over under after before about while because does done just like make made need very much many used uses using the and for not are but can may was its has had fix fixes fixed kernel bug warning null pointer dereference unable handle page fault general protection call trace cpu pid comm tainted hardware name rip code task'.split(
    ' ',
  ),
);

/** Distinctive lower-case words (identifiers of 4+ chars, not stop words) of a text. */
export function wordsOf(text: string): Set<string> {
  const out = new Set<string>();
  const re = /[A-Za-z_][A-Za-z0-9_]{3,}/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const w = m[0].toLowerCase();
    if (!STOP.has(w)) out.add(w);
  }
  return out;
}

interface CommitRow {
  id: number;
  sha: string;
  parents: string;
  author_time: number;
  subject: string;
  body: string;
  stable: number;
  stable_hint: string | null;
  first_tag: string | null;
}

/** One opened history index (a git repository's or a mailing-list archive's). */
export class HistoryIndex {
  readonly kind: 'git' | 'mail';
  readonly repo: string | null;
  private graph: ReturnType<typeof loadGraph> | null = null;
  private childrenMap: Map<number, number[]> | null = null;

  constructor(
    readonly db: Db,
    readonly file: string,
  ) {
    this.kind = getMeta(db, 'kind') === 'mail' ? 'mail' : 'git';
    this.repo = getMeta(db, 'repo');
  }

  /** Opens an index file, or the default index of a repository path. */
  static open(repoOrFile: string): HistoryIndex {
    if (!existsSync(repoOrFile)) throw new IndexError(`${repoOrFile}: no such file or repository`);
    let file = repoOrFile;
    if (statSync(repoOrFile).isDirectory()) {
      file = defaultIndexFile(gitDirOf(repoOrFile));
      if (!existsSync(file)) {
        throw new IndexError(
          `${repoOrFile} has no history index yet (run \`ktriage history index ${repoOrFile}\`)`,
        );
      }
    }
    return new HistoryIndex(openIndex(file, { readonly: true }), file);
  }

  close(): void {
    this.db.close();
  }

  /** The commit graph of the index (row ids), loaded once. */
  loadGraph(): ReturnType<typeof loadGraph> {
    if (!this.graph) this.graph = loadGraph(this.db);
    return this.graph;
  }

  private containedCache = new Map<string, Set<number>>();

  /** Full commit id of a revision: a ref recorded at index time, an id or unique prefix, else git. */
  resolve(rev: string): string | null {
    const ref = this.db.prepare('SELECT sha FROM refs WHERE name = ?').pluck().get(rev) as string | undefined;
    if (ref) return ref;
    if (/^[0-9a-f]{4,40}$/i.test(rev)) {
      const r = rev.toLowerCase();
      const hits = this.db
        .prepare('SELECT sha FROM commits WHERE sha >= ? AND sha < ? LIMIT 2')
        .pluck()
        .all(r, `${r}g`) as string[];
      if (hits.length === 1) return hits[0]!;
    }
    if (this.repo && existsSync(this.repo)) return revParse(this.repo, rev);
    return null;
  }

  hasCommit(sha: string): boolean {
    return this.loadGraph().idOf.has(sha);
  }

  /** Row ids of the commits contained in rev (rev and its ancestors). */
  containedIn(sha: string): Set<number> {
    const hit = this.containedCache.get(sha);
    if (hit) return hit;
    const g = this.loadGraph();
    const id = g.idOf.get(sha);
    const set = id === undefined ? new Set<number>() : ancestors(g.parents, id);
    this.containedCache.set(sha, set);
    return set;
  }

  private stmts = new Map<string, Statement<unknown[]>>();
  /** A prepared statement, prepared once per index. */
  stmt(sql: string): Statement<unknown[]> {
    let st = this.stmts.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.stmts.set(sql, st);
    }
    return st;
  }

  private descCache = new Map<string, Set<number>>();
  /** Row ids of commits that contain sha (its descendants, inclusive). */
  descendantsOf(sha: string): Set<number> {
    const hit = this.descCache.get(sha);
    if (hit) return hit;
    const set = this.computeDescendants(sha);
    this.descCache.set(sha, set);
    return set;
  }

  private computeDescendants(sha: string): Set<number> {
    const g = this.loadGraph();
    if (!this.childrenMap) {
      this.childrenMap = new Map();
      for (const [c, ps] of g.parents) {
        for (const p of ps) {
          let l = this.childrenMap.get(p);
          if (!l) {
            l = [];
            this.childrenMap.set(p, l);
          }
          l.push(c);
        }
      }
    }
    const start = g.idOf.get(sha);
    const seen = new Set<number>();
    if (start === undefined) return seen;
    const stack = [start];
    seen.add(start);
    while (stack.length > 0) {
      const c = stack.pop()!;
      for (const k of this.childrenMap.get(c) ?? []) {
        if (!seen.has(k)) {
          seen.add(k);
          stack.push(k);
        }
      }
    }
    return seen;
  }

  commitTime(sha: string): number | null {
    const t = this.db.prepare('SELECT commit_time FROM commits WHERE sha = ?').pluck().get(sha) as
      | number
      | undefined;
    return t ?? null;
  }
}

function isoDate(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 10);
}

function fileMatcher(files: string[]): (path: string) => string | null {
  const norm = files.map((f) => f.replace(/^\.?\//, '')).filter(Boolean);
  return (path) => {
    for (const f of norm) {
      if (path === f || path.endsWith(`/${f}`) || f.endsWith(`/${path}`)) return f;
    }
    return null;
  };
}

/** Ranked candidate fixes across the given indexes (git repositories and mailing-list archives). */
export function findFixes(indexes: HistoryIndex[], q: FixQuery): FixCandidate[] {
  const gitIdx = indexes.filter((i) => i.kind === 'git');
  const mailIdx = indexes.filter((i) => i.kind === 'mail');
  if (indexes.length === 0) throw new IndexError('fixes needs at least one history index (--repo)');
  let baseSha: string | null = null;
  let home: HistoryIndex[] = [];
  let mailOnlyTime: number | null = null;
  if (gitIdx.length === 0) {
    // Only mailing-list archives: the base is a date (patches posted by then are "in the base").
    const t = Date.parse(q.base);
    if (!/^\d{4}-\d{2}-\d{2}/.test(q.base) || Number.isNaN(t)) {
      throw new IndexError(
        `base ${q.base}: with only mailing-list archives the base must be a date (YYYY-MM-DD)`,
      );
    }
    mailOnlyTime = Math.floor(t / 1000);
  } else {
    for (const i of gitIdx) {
      baseSha = i.resolve(q.base);
      if (baseSha) break;
    }
    if (!baseSha)
      throw new IndexError(`base ${q.base}: unknown revision in ${gitIdx.map((i) => i.file).join(', ')}`);
    home = gitIdx.filter((i) => i.hasCommit(baseSha!));
    if (home.length === 0) {
      throw new IndexError(
        `base ${q.base} (${baseSha.slice(0, 12)}) is not in any index: index a range that contains it`,
      );
    }
  }
  const funcs = new Map<string, number>();
  for (const f of q.funcs) {
    const n = normaliseFunc(f.name);
    if (n && (!funcs.has(n) || funcs.get(n)! > f.depth)) funcs.set(n, f.depth);
  }
  const matchFile = fileMatcher(q.files);
  const words = new Set([...q.words].map((w) => w.toLowerCase()).filter((w) => !STOP.has(w)));
  const out: FixCandidate[] = [];
  let baseTime = mailOnlyTime ?? 0;
  const subjectsSeen = new Map<string, FixCandidate>();
  for (const idx of home) {
    baseTime = Math.max(baseTime, idx.commitTime(baseSha!) ?? 0);
    out.push(...gitCandidates(idx, gitIdx, baseSha!, funcs, matchFile, q, words));
  }
  for (const c of out) subjectsSeen.set(c.subject, c);
  for (const m of mailIdx) {
    out.push(...mailCandidates(m, home, baseSha, baseTime, funcs, words, subjectsSeen, q.files));
  }
  out.sort((a, b) => b.score - a.score || (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return q.limit ? out.slice(0, q.limit) : out;
}

/** (row id, path) of the commits/mails that changed a file: exact for a path, by suffix for a bare name. */
function rowsTouchingFile(db: Db, table: 'files' | 'mail_files', col: 'commit_id' | 'mail_id', file: string) {
  const clean = file.replace(/^\.?\//, '');
  if (clean.includes('/')) {
    return db.prepare(`SELECT ${col}, path FROM ${table} WHERE path = ?`).raw().all(clean) as [
      number,
      string,
    ][];
  }
  // A bare file name: the path index cannot serve a suffix, so match the name in SQL once.
  return db
    .prepare(`SELECT ${col}, path FROM ${table} WHERE path = ? OR path LIKE ? ESCAPE '\\'`)
    .raw()
    .all(clean, `%/${clean.replace(/[%_\\]/g, '\\$&')}`) as [number, string][];
}

function funcWeight(depth: number): number {
  return 10 / (1 + 0.5 * depth);
}

function gitCandidates(
  idx: HistoryIndex,
  all: HistoryIndex[],
  baseSha: string,
  funcs: Map<string, number>,
  matchFile: (p: string) => string | null,
  q: FixQuery,
  words: Set<string>,
): FixCandidate[] {
  const db = idx.db;
  const g = idx.loadGraph();
  const inBase = idx.containedIn(baseSha);
  const shaOf = new Map<number, string>();
  for (const [s, i] of g.idOf) shaOf.set(i, s);
  const baseLine = idx.descendantsOf(baseSha);

  // Pool: commits touching the functions or files, and commits whose Fixes: target did.
  const pool = new Map<number, { funcs: Map<string, string>; files: Set<string> }>();
  const entry = (id: number) => {
    let e = pool.get(id);
    if (!e) {
      e = { funcs: new Map(), files: new Set() };
      pool.set(id, e);
    }
    return e;
  };
  const byFunc = db.prepare('SELECT commit_id, path FROM funcs WHERE func = ?').raw();
  for (const f of funcs.keys()) {
    for (const [cid, path] of byFunc.all(f) as [number, string][]) {
      if (!inBase.has(cid)) entry(cid).funcs.set(f, path);
    }
  }
  const fileIds = new Map<number, Set<string>>();
  if (q.files.length > 0) {
    for (const f of q.files) {
      const rows = rowsTouchingFile(db, 'files', 'commit_id', f);
      for (const [cid, path] of rows) {
        let s = fileIds.get(cid);
        if (!s) {
          s = new Set();
          fileIds.set(cid, s);
        }
        s.add(path);
        if (!inBase.has(cid)) entry(cid).files.add(path);
      }
    }
  }
  // Commits in the base that touched the functions/files: a fix naming one of them is promising.
  const culpritFuncs = new Map<string, string[]>();
  for (const f of funcs.keys()) {
    for (const [cid] of byFunc.all(f) as [number, string][]) {
      if (!inBase.has(cid)) continue;
      const sha = shaOf.get(cid)!;
      let l = culpritFuncs.get(sha);
      if (!l) {
        l = [];
        culpritFuncs.set(sha, l);
      }
      l.push(f);
    }
  }
  const culpritFiles = new Map<string, string[]>();
  for (const [cid, paths] of fileIds) {
    if (inBase.has(cid)) culpritFiles.set(shaOf.get(cid)!, [...paths]);
  }
  const fixersOf = db.prepare('SELECT commit_id FROM fixes_tags WHERE target = ?').pluck();
  const countFuncs = db.prepare('SELECT count(*) FROM funcs WHERE commit_id = ?').pluck();
  const funcCount = new Map<string, number>();
  for (const sha of culpritFuncs.keys()) funcCount.set(sha, countFuncs.get(g.idOf.get(sha)) as number);
  // Commits first released before the base's release sit on older lines (another stable branch).
  const baseTag =
    (db.prepare('SELECT first_tag FROM commits WHERE sha = ?').pluck().get(baseSha) as string | null) ?? null;
  for (const sha of new Set([...culpritFuncs.keys(), ...culpritFiles.keys()])) {
    for (const cid of fixersOf.all(sha) as number[]) if (!inBase.has(cid)) entry(cid);
  }

  const getCommit = db.prepare(
    'SELECT id, sha, parents, author_time, subject, body, stable, stable_hint, first_tag FROM commits WHERE id = ?',
  );
  const getFixes = db.prepare('SELECT ref, subject, target FROM fixes_tags WHERE commit_id = ?');
  const getUpstream = db
    .prepare('SELECT upstream FROM backports WHERE commit_id = ? AND upstream IS NOT NULL')
    .pluck();
  const getReverts = db
    .prepare('SELECT c.sha FROM reverts r JOIN commits c ON c.id = r.commit_id WHERE r.target = ?')
    .pluck();
  const candidates: FixCandidate[] = [];
  const seenUpstream = new Set<string>();
  for (const [cid, hit] of pool) {
    let row = getCommit.get(cid) as CommitRow;
    // A backport stands for its upstream commit when that is indexed: rank the original once.
    const up = getUpstream.get(cid) as string | undefined;
    if (up && g.idOf.has(up)) {
      const upId = g.idOf.get(up)!;
      if (inBase.has(upId) || seenUpstream.has(up) || pool.has(upId)) continue;
      row = getCommit.get(upId) as CommitRow;
    }
    if (row.parents.includes(' ')) continue; // merges carry no change of their own
    if (baseTag && row.first_tag && compareTags(row.first_tag, baseTag) < 0) continue;
    if (seenUpstream.has(row.sha)) continue;
    seenUpstream.add(row.sha);
    const reasons: Reason[] = [];
    // Functions, weighted by stack position.
    const fw = [...hit.funcs.entries()]
      .map(([f, path]) => ({ f, path, w: funcWeight(funcs.get(f) ?? 0) }))
      .sort((a, b) => b.w - a.w);
    fw.forEach((x, i) => {
      const s = i === 0 ? x.w : x.w * 0.3;
      reasons.push({
        kind: 'function',
        score: s,
        detail: `touches ${x.f}() in ${x.path} (stack position ${(funcs.get(x.f) ?? 0) + 1})`,
      });
    });
    const matchedFiles = [...hit.files].filter((p) => matchFile(p));
    if (matchedFiles.length > 0) {
      reasons.push({
        kind: 'file',
        score: fw.length > 0 ? 1 : 2,
        detail: `changes ${matchedFiles.join(', ')}`,
      });
    }
    const fixes = (
      getFixes.all(row.id) as { ref: string | null; subject: string | null; target: string | null }[]
    ).map((f) => {
      const tid = f.target ? g.idOf.get(f.target) : undefined;
      return { ...f, inBase: tid === undefined ? null : inBase.has(tid) };
    });
    let bestFix = 0;
    for (const f of fixes) {
      if (f.inBase === true) {
        const tagged = f.target!;
        let s = 5;
        let detail = `Fixes: ${tagged.slice(0, 12)} ("${f.subject ?? ''}"), which is in the base`;
        const cf = culpritFuncs.get(tagged);
        const cfl = culpritFiles.get(tagged);
        if (cf) {
          // A tree-wide change touches everything; it says little about these functions.
          s += (funcCount.get(tagged) ?? 0) > 30 ? 1 : 3;
          // The more of the crash's functions the fixed commit changed, the likelier it is the cause.
          const k = new Set(cf).size;
          s += Math.min(2, 0.5 * (k - 1));
          detail += `; it changed ${[...new Set(cf)].map((x) => `${x}()`).join(', ')}`;
        } else if (cfl) {
          s += 1.5;
          detail += `; it changed ${cfl.join(', ')}`;
        }
        bestFix = Math.max(bestFix, s);
        reasons.push({ kind: cf || cfl ? 'fixes-touches' : 'fixes-in-base', score: 0, detail });
      } else if (f.inBase === false) {
        reasons.push({
          kind: 'fixes-after-base',
          score: 0,
          detail: `Fixes: ${f.target!.slice(0, 12)}, which is not in the base (that bug came later)`,
        });
      }
    }
    // Only the strongest Fixes reason counts; a fix of a later bug only counts against when no
    // Fixes target is in the base.
    const fixReasons = reasons.filter((r) => r.kind.startsWith('fixes'));
    if (bestFix > 0) {
      const top = fixReasons.find((r) => r.kind !== 'fixes-after-base');
      if (top) top.score = bestFix;
    } else if (fixReasons.length > 0) fixReasons[0]!.score = -3;
    reasons.push(...stableAndWordReasons(row.stable, row.stable_hint, `${row.subject}\n${row.body}`, words));
    const revertedBy = (getReverts.all(row.sha) as string[]).filter((s) => !inBase.has(g.idOf.get(s) ?? -1));
    if (revertedBy.length > 0) {
      reasons.push({
        kind: 'reverted',
        score: -6,
        detail: `reverted by ${revertedBy.map((s) => s.slice(0, 12)).join(', ')}`,
      });
    }
    // Backports: in this index and in any other git index (a stable tree indexed separately).
    const backports: Backport[] = [];
    for (const other of all) {
      const rows = other
        .stmt(
          `SELECT c.id, c.sha, c.subject, c.first_tag FROM backports b JOIN commits c ON c.id = b.commit_id
           WHERE b.upstream = ? UNION SELECT c.id, c.sha, c.subject, c.first_tag FROM backports b
           JOIN commits c ON c.id = b.commit_id WHERE b.ref = ?`,
        )
        .all(row.sha, row.sha) as { id: number; sha: string; subject: string; first_tag: string | null }[];
      const line = other === idx ? baseLine : other.hasCommit(baseSha) ? other.descendantsOf(baseSha) : null;
      for (const b of rows) {
        backports.push({
          sha: b.sha,
          subject: b.subject,
          firstTag: b.first_tag,
          onBaseLine: line ? line.has(b.id) : false,
          index: other.file,
        });
      }
    }
    const otherInBase = backports.some((b) =>
      otherIndex(all, b.index)
        ?.containedIn(baseSha)
        .has(idOfIn(all, b) ?? -1),
    );
    if (otherInBase && !q.includeInBase) continue;
    const score = reasons.reduce((s, r) => s + r.score, 0);
    const stableLine = baseLineIndexed(idx, baseSha);
    candidates.push({
      source: 'git',
      id: row.sha,
      subject: row.subject,
      date: isoDate(row.author_time),
      firstTag: row.first_tag,
      score: Math.round(score * 100) / 100,
      reasons,
      fixes,
      stable: row.stable === 1,
      stableHint: row.stable_hint,
      backports,
      backportedToBase: stableLine ? backports.some((b) => b.onBaseLine) : null,
      revertedBy,
      index: idx.file,
    });
  }
  return candidates;
}

/** Reasons any candidate earns alike, commit or posted patch: a stable tag, words shared with the report. */
function stableAndWordReasons(
  stable: unknown,
  hint: string | null | undefined,
  text: string,
  words: Set<string>,
): Reason[] {
  const out: Reason[] = [];
  if (stable) out.push({ kind: 'stable', score: 2, detail: `Cc: stable${hint ? ` # ${hint}` : ''}` });
  if (words.size > 0) {
    const cw = wordsOf(text);
    const shared = [...words].filter((w) => cw.has(w));
    if (shared.length > 0) {
      out.push({
        kind: 'words',
        score: Math.min(4, shared.length),
        detail: `shares words with the report: ${shared.slice(0, 8).join(', ')}`,
      });
    }
  }
  return out;
}

function otherIndex(all: HistoryIndex[], file: string): HistoryIndex | undefined {
  return all.find((i) => i.file === file);
}
function idOfIn(all: HistoryIndex[], b: Backport): number | undefined {
  const i = otherIndex(all, b.index);
  return i ? i.loadGraph().idOf.get(b.sha) : undefined;
}

/** True when the index holds commits descending from the base other than on its own mainline: a stable line. */
const stableLineCache = new WeakMap<HistoryIndex, Map<string, boolean>>();
function baseLineIndexed(idx: HistoryIndex, baseSha: string): boolean {
  let m = stableLineCache.get(idx);
  if (!m) {
    m = new Map();
    stableLineCache.set(idx, m);
  }
  const hit = m.get(baseSha);
  if (hit !== undefined) return hit;
  // A stable line exists when some backport commit descends from the base.
  const line = idx.descendantsOf(baseSha);
  const bps = idx.db.prepare('SELECT DISTINCT commit_id FROM backports').pluck().all() as number[];
  const yes = bps.some((id) => line.has(id));
  m.set(baseSha, yes);
  return yes;
}

function mailCandidates(
  m: HistoryIndex,
  home: HistoryIndex[],
  baseSha: string | null,
  baseTime: number,
  funcs: Map<string, number>,
  words: Set<string>,
  merged: Map<string, FixCandidate>,
  queryFiles: string[],
): FixCandidate[] {
  const db = m.db;
  const hits = new Map<number, { funcs: Map<string, string>; files: Set<string> }>();
  const entry = (id: number) => {
    let e = hits.get(id);
    if (!e) {
      e = { funcs: new Map(), files: new Set() };
      hits.set(id, e);
    }
    return e;
  };
  const byFunc = db.prepare('SELECT mail_id, path FROM mail_funcs WHERE func = ?').raw();
  for (const f of funcs.keys())
    for (const [id, path] of byFunc.all(f) as [number, string][]) entry(id).funcs.set(f, path);
  for (const f of queryFiles) {
    for (const [id, path] of rowsTouchingFile(db, 'mail_files', 'mail_id', f)) entry(id).files.add(path);
  }
  const getMail = db.prepare(
    'SELECT id, msgid, time, subject, clean_subject, is_patch, is_reply, version, part, total, stable, stable_hint, body FROM mails WHERE id = ?',
  );
  const getFixes = db.prepare('SELECT ref, subject FROM mail_fixes WHERE mail_id = ?');
  const earlierPatch = db
    .prepare(
      'SELECT msgid FROM mails WHERE clean_subject = ? AND is_patch = 1 AND is_reply = 0 AND time <= ? LIMIT 1',
    )
    .pluck();
  const inBaseBySubject = home.map((h) => ({
    h,
    base: h.containedIn(baseSha!),
    q: h.db.prepare('SELECT id, sha FROM commits WHERE subject = ?'),
  }));
  const out: FixCandidate[] = [];
  const bestPerSubject = new Map<string, FixCandidate>();
  for (const [id, hit] of hits) {
    const r = getMail.get(id) as {
      id: number;
      msgid: string | null;
      time: number;
      subject: string;
      clean_subject: string;
      is_patch: number;
      is_reply: number;
      version: number;
      part: number | null;
      total: number | null;
      stable: number;
      stable_hint: string | null;
      body: string;
    };
    if (!r.is_patch || r.is_reply || r.time <= baseTime) continue;
    // Merged into the base already: not a candidate.
    let mergedInBase = false;
    for (const x of inBaseBySubject) {
      for (const c of x.q.all(r.clean_subject) as { id: number; sha: string }[])
        if (x.base.has(c.id)) mergedInBase = true;
    }
    if (mergedInBase) continue;
    const git = merged.get(r.clean_subject);
    if (git) {
      if (!git.reasons.some((x) => x.kind === 'mail')) {
        git.reasons.push({
          kind: 'mail',
          score: 0,
          detail: `posted to ${m.file} as ${r.msgid ?? r.subject}`,
        });
      }
      continue;
    }
    const reasons: Reason[] = [];
    const fw = [...hit.funcs.entries()]
      .map(([f, path]) => ({ f, path, w: funcWeight(funcs.get(f) ?? 0) }))
      .sort((a, b) => b.w - a.w);
    fw.forEach((x, i) => {
      reasons.push({
        kind: 'function',
        score: i === 0 ? x.w : x.w * 0.3,
        detail: `patch touches ${x.f}() in ${x.path} (stack position ${(funcs.get(x.f) ?? 0) + 1})`,
      });
    });
    if (hit.files.size > 0)
      reasons.push({
        kind: 'file',
        score: fw.length ? 1 : 2,
        detail: `patch changes ${[...hit.files].join(', ')}`,
      });
    const fixes = (getFixes.all(id) as { ref: string | null; subject: string | null }[]).map((f) => {
      let target: string | null = null;
      let inBase: boolean | null = null;
      for (const x of inBaseBySubject) {
        const t = (f.ref && x.h.resolve(f.ref)) || null;
        if (t) {
          target = t;
          const gid = x.h.loadGraph().idOf.get(t);
          inBase = gid !== undefined && x.base.has(gid);
          break;
        }
      }
      if (target === null && f.subject) {
        // Unknown or abbreviated id: a commit in the base with that subject, or (no git index)
        // a patch with that subject posted before the base date.
        for (const x of inBaseBySubject) {
          for (const c of x.q.all(f.subject) as { id: number; sha: string }[]) {
            if (x.base.has(c.id)) {
              target = c.sha;
              inBase = true;
            }
          }
        }
        if (target === null && home.length === 0) {
          const p = earlierPatch.get(f.subject, baseTime) as string | undefined;
          if (p) {
            target = p;
            inBase = true;
          }
        }
      }
      return { ...f, target, inBase };
    });
    if (fixes.some((f) => f.inBase)) {
      const f = fixes.find((x) => x.inBase)!;
      reasons.push({
        kind: 'fixes-in-base',
        score: 5,
        detail: `Fixes: ${f.ref ?? ''} ("${f.subject ?? ''}") names ${home.length ? 'a commit in the base' : 'a patch posted before the base date'}`,
      });
    }
    reasons.push(...stableAndWordReasons(r.stable, r.stable_hint, `${r.clean_subject}\n${r.body}`, words));
    if (home.length > 0) {
      reasons.push({
        kind: 'mail',
        score: -1,
        detail: `mailed patch, not found merged in the indexed repositories (${m.file})`,
      });
    } else reasons.push({ kind: 'mail', score: 0, detail: `mailed patch (${m.file})` });
    const c: FixCandidate = {
      source: 'mail',
      id: r.msgid ?? `mail:${r.id}`,
      subject: r.subject,
      date: isoDate(r.time),
      firstTag: null,
      score: Math.round(reasons.reduce((s, x) => s + x.score, 0) * 100) / 100,
      reasons,
      fixes,
      stable: r.stable === 1,
      stableHint: r.stable_hint,
      backports: [],
      backportedToBase: null,
      revertedBy: [],
      series: { part: r.part, total: r.total, version: r.version },
      index: m.file,
    };
    // Keep the latest version of a patch only.
    const prev = bestPerSubject.get(r.clean_subject);
    if (!prev || (prev.series?.version ?? 1) < r.version) bestPerSubject.set(r.clean_subject, c);
  }
  out.push(...bestPerSubject.values());
  return out;
}

export interface FuncHistoryEntry {
  sha: string;
  date: string;
  subject: string;
  path: string;
  change: 'added' | 'removed' | 'modified';
  firstTag: string | null;
  author: string;
}

/**
 * The commits that changed function func (what `git log -L:'^func(':file` lists), newest first.
 * With file, renames of that file are followed back; with rev, only commits contained in rev.
 */
export function functionHistory(
  idx: HistoryIndex,
  func: string,
  opts: { file?: string; rev?: string } = {},
): FuncHistoryEntry[] {
  const db = idx.db;
  let paths: Set<string> | null = null;
  if (opts.file) {
    paths = new Set([opts.file.replace(/^\.?\//, '')]);
    // Follow renames backwards: new path -> old path, transitively.
    const older = db.prepare("SELECT DISTINCT old_path FROM files WHERE path = ? AND status = 'R'").pluck();
    const queue = [...paths];
    while (queue.length > 0) {
      const p = queue.pop()!;
      for (const o of older.all(p) as string[]) {
        if (o && !paths.has(o)) {
          paths.add(o);
          queue.push(o);
        }
      }
    }
  }
  let contained: Set<number> | null = null;
  if (opts.rev) {
    const sha = idx.resolve(opts.rev);
    if (!sha) throw new IndexError(`unknown revision ${opts.rev} in ${idx.file}`);
    contained = idx.containedIn(sha);
  }
  const rows = db
    .prepare(
      `SELECT c.id, c.sha, c.author_time, c.subject, c.first_tag, c.author, f.path, f.flags
       FROM funcs f JOIN commits c ON c.id = f.commit_id WHERE f.func = ? ORDER BY c.commit_time DESC, c.id DESC`,
    )
    .all(normaliseFunc(func)) as {
    id: number;
    sha: string;
    author_time: number;
    subject: string;
    first_tag: string | null;
    author: string;
    path: string;
    flags: number;
  }[];
  const out: FuncHistoryEntry[] = [];
  for (const r of rows) {
    if (paths && !paths.has(r.path)) continue;
    if (contained && !contained.has(r.id)) continue;
    const added = (r.flags & 2) !== 0;
    const removed = (r.flags & 4) !== 0;
    out.push({
      sha: r.sha,
      date: isoDate(r.author_time),
      subject: r.subject,
      path: r.path,
      change: added && !removed ? 'added' : removed && !added ? 'removed' : 'modified',
      firstTag: r.first_tag,
      author: r.author,
    });
  }
  return out;
}

/** Opens every --repo argument: an index file, or a repository with a default index. */
export function openIndexes(repos: string[]): HistoryIndex[] {
  return repos.map((r) => HistoryIndex.open(r));
}
