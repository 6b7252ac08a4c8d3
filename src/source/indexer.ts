// `ktriage src index`: walks a kernel tree, hands files to worker threads (tree-sitter parsing is
// CPU-bound and per file), and writes their facts into the SQLite index from the main thread.
// Incremental: a file whose mtime and size are unchanged is skipped without reading; one whose
// mtime or size changed is hashed and re-extracted only if its content changed.
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createIndexes, hasIndexes, IndexError, IndexWriter, openIndex, resetIndex } from './db.ts';
import { EXTRACTOR_VERSION, type FileFacts } from './extract.ts';

export interface WorkItem {
  id: number;
  abs: string;
  rel: string;
  size: number;
  oldHash: string | null;
}
export interface WorkResult {
  id: number;
  rel: string;
  hash?: string;
  unchanged?: boolean;
  facts?: FileFacts;
  ms?: number;
  error?: string;
}

export interface IndexOptions {
  /** Root of the kernel tree. */
  tree: string;
  /** Index file; default `<tree>/.ktriage-src.db`. */
  index?: string;
  /** Worker threads; default: one per core. 0 parses in the calling thread. */
  jobs?: number;
  /**
   * Restrict to these paths relative to the tree: directories (recursive), files, or a `*` glob in
   * the last component (`include/linux/nfs*.h`). Default: the whole tree.
   */
  only?: string[];
  onProgress?: (done: number, total: number, bytes: number) => void;
}

export interface IndexStats {
  index: string;
  files: number;
  parsed: number;
  unchanged: number;
  removed: number;
  failed: Array<{ file: string; error: string }>;
  bytesParsed: number;
  functions: number;
  functionsWithErrors: number;
  calls: number;
  fieldCalls: number;
  fnRefs: number;
  writes: number;
  filesWithParseErrors: number;
  parseErrors: number;
  elapsedMs: number;
  parseMs: number;
}

export function defaultIndexPath(tree: string): string {
  return join(resolve(tree), '.ktriage-src.db');
}

interface Candidate {
  rel: string;
  abs: string;
  mtime: number;
  size: number;
}

function globToTest(pattern: string): (name: string) => boolean {
  const parts = pattern.split('*');
  return (name: string) => {
    if (parts.length === 1) return name === pattern;
    if (!name.startsWith(parts[0]!) || !name.endsWith(parts[parts.length - 1]!)) return false;
    let pos = parts[0]!.length;
    for (let i = 1; i < parts.length - 1; i++) {
      const at = name.indexOf(parts[i]!, pos);
      if (at < 0) return false;
      pos = at + parts[i]!.length;
    }
    return pos <= name.length - parts[parts.length - 1]!.length;
  };
}

const isSource = (name: string): boolean => name.endsWith('.c') || name.endsWith('.h');

/** Lists the .c/.h files under `root` (skipping dot-directories and symlinks), relative paths with '/'. */
export function listSourceFiles(root: string, only?: string[]): Candidate[] {
  const out: Candidate[] = [];
  const walk = (absDir: string, relDir: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(absDir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const abs = join(absDir, e.name);
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
      if (e.isDirectory()) walk(abs, rel);
      else if (e.isFile() && isSource(e.name)) {
        const st = statSync(abs);
        out.push({ rel, abs, mtime: Math.floor(st.mtimeMs), size: st.size });
      }
    }
  };
  if (!only || only.length === 0) walk(root, '');
  else {
    for (const spec of only) {
      const clean = spec.replace(/\/+$/, '');
      const slash = clean.lastIndexOf('/');
      const dir = slash < 0 ? '' : clean.slice(0, slash);
      const last = clean.slice(slash + 1);
      if (last.includes('*')) {
        const test = globToTest(last);
        let names: string[];
        try {
          names = readdirSync(join(root, dir));
        } catch {
          throw new IndexError(`--only ${spec}: no directory ${join(root, dir)}`);
        }
        for (const n of names.sort()) {
          if (!test(n)) continue;
          const rel = dir ? `${dir}/${n}` : n;
          const abs = join(root, rel);
          const st = lstatSync(abs);
          if (st.isDirectory()) walk(abs, rel);
          else if (st.isFile() && isSource(n))
            out.push({ rel, abs, mtime: Math.floor(st.mtimeMs), size: st.size });
        }
        continue;
      }
      const abs = join(root, clean);
      let st: import('node:fs').Stats;
      try {
        st = lstatSync(abs);
      } catch {
        throw new IndexError(`--only ${spec}: ${abs} does not exist`);
      }
      if (st.isDirectory()) walk(abs, clean);
      else if (st.isFile() && isSource(clean))
        out.push({ rel: clean, abs, mtime: Math.floor(st.mtimeMs), size: st.size });
    }
  }
  // Dedupe (overlapping --only specs) and order by size, largest first, to balance the workers.
  const seen = new Map<string, Candidate>();
  for (const c of out) seen.set(c.rel, c);
  return [...seen.values()].sort((a, b) => b.size - a.size);
}

/** Indexes (or re-indexes incrementally) a kernel tree. */
export async function indexTree(opts: IndexOptions): Promise<IndexStats> {
  const t0 = performance.now();
  const root = resolve(opts.tree);
  let st: import('node:fs').Stats;
  try {
    st = statSync(root);
  } catch {
    throw new IndexError(`kernel tree ${opts.tree}: does not exist`);
  }
  if (!st.isDirectory()) throw new IndexError(`kernel tree ${opts.tree}: not a directory`);
  const indexPath = resolve(opts.index ?? defaultIndexPath(root));
  const candidates = listSourceFiles(root, opts.only);
  if (candidates.length === 0) throw new IndexError(`kernel tree ${opts.tree}: no .c or .h files found`);

  const db = openIndex(indexPath);
  const stats: IndexStats = {
    index: indexPath,
    files: candidates.length,
    parsed: 0,
    unchanged: 0,
    removed: 0,
    failed: [],
    bytesParsed: 0,
    functions: 0,
    functionsWithErrors: 0,
    calls: 0,
    fieldCalls: 0,
    fnRefs: 0,
    writes: 0,
    filesWithParseErrors: 0,
    parseErrors: 0,
    elapsedMs: 0,
    parseMs: 0,
  };
  try {
    const prevExtractor = db.prepare("SELECT value FROM meta WHERE key='extractor'").pluck().get() as
      | string
      | undefined;
    const hasFiles = db.prepare('SELECT 1 FROM files LIMIT 1').get() !== undefined;
    if (hasFiles && prevExtractor !== String(EXTRACTOR_VERSION)) resetIndex(db);
    db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('extractor', ?)").run(
      String(EXTRACTOR_VERSION),
    );
    const prevRoot = db.prepare("SELECT value FROM meta WHERE key='root'").pluck().get() as
      | string
      | undefined;
    const known = new Map<string, { id: number; mtime: number; size: number; hash: string }>();
    if (prevRoot === undefined || prevRoot === root) {
      for (const r of db.prepare('SELECT id, path, mtime, size, hash FROM files').iterate() as Iterable<{
        id: number;
        path: string;
        mtime: number;
        size: number;
        hash: string;
      }>) {
        known.set(r.path, r);
      }
    } else {
      throw new IndexError(
        `source index ${indexPath}: built for ${prevRoot}, not ${root}; use another --index`,
      );
    }
    // Deleting a changed file's rows needs the per-file indexes; a fresh index gets them at the end
    // (bulk inserts are faster without them).
    if (known.size > 0 && !hasIndexes(db)) createIndexes(db);
    db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('root', ?)").run(root);

    const writer = new IndexWriter(db);
    const work: WorkItem[] = [];
    const sizes = new Map<string, Candidate>();
    for (const c of candidates) {
      const k = known.get(c.rel);
      if (k && k.mtime === c.mtime && k.size === c.size) {
        stats.unchanged++;
        continue;
      }
      sizes.set(c.rel, c);
      work.push({ id: work.length, abs: c.abs, rel: c.rel, size: c.size, oldHash: k?.hash ?? null });
    }
    // Files that disappeared from the scanned scope.
    const inScope = new Set(candidates.map((c) => c.rel));
    const scopeTest = scopeMatcher(opts.only);
    db.transaction(() => {
      for (const [path, k] of known) {
        if (!inScope.has(path) && scopeTest(path)) {
          writer.deleteFile(k.id);
          stats.removed++;
        }
      }
    })();

    let done = stats.unchanged;
    let bytesDone = 0;
    const total = candidates.length;
    opts.onProgress?.(done, total, 0);
    const apply = db.transaction((results: WorkResult[]) => {
      for (const r of results) {
        const c = sizes.get(r.rel)!;
        const k = known.get(r.rel);
        if (r.error) {
          stats.failed.push({ file: r.rel, error: r.error });
          continue;
        }
        if (r.unchanged && k) {
          writer.touchFile(k.id, c.mtime, c.size);
          stats.unchanged++;
          continue;
        }
        if (k) writer.deleteFile(k.id);
        const f = r.facts!;
        writer.addFile(r.rel, c.mtime, c.size, r.hash!, f);
        stats.parsed++;
        stats.bytesParsed += c.size;
        stats.parseMs += r.ms ?? 0;
        stats.functions += f.funcs.length;
        stats.functionsWithErrors += f.funcs.reduce((n, x) => n + x[3], 0);
        stats.calls += f.calls.length;
        stats.fieldCalls += f.fieldCalls.length;
        stats.fnRefs += f.fnRefs.length;
        stats.writes += f.writes.length;
        if (f.errors > 0) stats.filesWithParseErrors++;
        stats.parseErrors += f.errors;
      }
      // Buffered rows go in before this batch's transaction commits.
      writer.flush();
    });
    const onResults = (results: WorkResult[]): void => {
      apply(results);
      done += results.length;
      for (const r of results) bytesDone += sizes.get(r.rel)?.size ?? 0;
      opts.onProgress?.(done, total, bytesDone);
    };

    const batches = makeBatches(work);
    const jobs = Math.max(0, Math.floor(opts.jobs ?? availableParallelism()));
    if (jobs === 0) {
      const { processItem } = await import('./worker.ts');
      for (const b of batches) {
        onResults(b.map(processItem));
        // Let N-API finalizers run (see worker.ts).
        await new Promise((r) => setImmediate(r));
      }
    } else if (batches.length > 0) {
      await runWorkers(batches, Math.min(jobs, batches.length), onResults);
    }
    if (!hasIndexes(db)) createIndexes(db);
    db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('indexed_at', ?)").run(
      new Date().toISOString(),
    );
    db.pragma('wal_checkpoint(TRUNCATE)');
    // Planner statistics from a sample of each index (SQLite's approximate ANALYZE): a full ANALYZE
    // reads every index of a whole-tree build, seconds of single-threaded work at the end.
    db.pragma('analysis_limit = 1000');
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
  stats.elapsedMs = performance.now() - t0;
  return stats;
}

function scopeMatcher(only?: string[]): (path: string) => boolean {
  if (!only || only.length === 0) return () => true;
  const tests = only.map((spec) => {
    const clean = spec.replace(/\/+$/, '');
    const slash = clean.lastIndexOf('/');
    const dir = slash < 0 ? '' : clean.slice(0, slash);
    const last = clean.slice(slash + 1);
    if (last.includes('*')) {
      const t = globToTest(last);
      return (p: string) => {
        const rest = dir ? (p.startsWith(`${dir}/`) ? p.slice(dir.length + 1) : null) : p;
        if (rest === null) return false;
        const first = rest.split('/')[0]!;
        return t(first);
      };
    }
    return (p: string) => p === clean || p.startsWith(`${clean}/`);
  });
  return (p) => tests.some((t) => t(p));
}

/** Groups work into batches of about 1 MB or 64 files (large files alone). */
function makeBatches(work: WorkItem[]): WorkItem[][] {
  const batches: WorkItem[][] = [];
  let cur: WorkItem[] = [];
  let bytes = 0;
  for (const w of work) {
    cur.push(w);
    bytes += w.size;
    if (bytes >= 1 << 20 || cur.length >= 64) {
      batches.push(cur);
      cur = [];
      bytes = 0;
    }
  }
  if (cur.length > 0) batches.push(cur);
  return batches;
}
function runWorkers(batches: WorkItem[][], n: number, onResults: (r: WorkResult[]) => void): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    let next = 0;
    let pending = batches.length;
    const workers: Worker[] = [];
    let failed = false;
    const finish = (err?: Error): void => {
      for (const w of workers) void w.terminate();
      if (err) reject(err);
      else resolvePromise();
    };
    const boot = new URL('./worker-boot.mjs', import.meta.url);
    for (let i = 0; i < n; i++) {
      const w = new Worker(boot);
      workers.push(w);
      let inflight = 0;
      const feed = (): void => {
        // Two batches in flight per worker so it never waits for the main thread's inserts.
        while (inflight < 2 && next < batches.length) {
          w.postMessage(batches[next++]);
          inflight++;
        }
      };
      w.on('message', (message: string) => {
        const results = JSON.parse(message) as WorkResult[];
        inflight--;
        try {
          onResults(results);
        } catch (err) {
          failed = true;
          finish(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        pending--;
        if (pending === 0) finish();
        else feed();
      });
      w.on('error', (err) => {
        if (!failed) {
          failed = true;
          finish(new Error(`source index worker failed: ${err.message}`));
        }
      });
      w.on('exit', (code) => {
        if (code !== 0 && !failed && pending > 0) {
          failed = true;
          finish(new Error(`source index worker exited with code ${code}`));
        }
      });
      feed();
    }
  });
}
