// Benchmark of the history index against plain git, measured in the same run:
//  1. index build time vs the same streaming `git log -p -U0` read by a consumer that only counts
//     bytes (target: build <= 1.5x the git pass);
//  2. per-function history from the index vs `git log -L:'^func(':file` for the same functions
//     (target: >= 100x faster); the commit counts are compared as a sanity check.
//
//   npm run bench:history -- --repo /path/to/repo.git [--range A..B] [--funcs 10]
// Without --repo it uses this project's own repository (small; the ratios then mean little).
// --query-only FILE reuses an index built earlier and runs only the -L comparison.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findMissingBlobs, gitDirOf, gitEnv, isPartialClone, listRefs } from '../src/history/git.ts';
import { cDriverConfig, indexRepo, logPassArgs } from '../src/history/indexer.ts';
import { functionHistory, HistoryIndex } from '../src/history/query.ts';

const { values } = parseArgs({
  options: {
    repo: { type: 'string', default: process.env.KTRIAGE_HISTORY_REPO },
    range: { type: 'string' },
    funcs: { type: 'string', default: '10' },
    keep: { type: 'string' },
    'query-only': { type: 'string' },
  },
});
const repo = resolve(values.repo ?? resolve(import.meta.dirname, '..'));
const gitDir = gitDirOf(repo);
const tmp = mkdtempSync(join(tmpdir(), 'ktriage-bench-history-'));
const indexFile = values['query-only'] ?? values.keep ?? join(tmp, 'index.sqlite');

function gitPass(args: string[]): Promise<{ bytes: number; seconds: number; code: number }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn('git', ['-C', repo, ...args], { env: gitEnv(), stdio: ['ignore', 'pipe', 'ignore'] });
    let bytes = 0;
    child.stdout.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    child.on('error', rej);
    child.on('close', (code) => res({ bytes, seconds: (performance.now() - t0) / 1000, code: code ?? 1 }));
  });
}

async function main() {
  process.stdout.write(
    `repository: ${repo}${values.range ? ` range ${values.range}` : ' (all branches and tags)'}\n`,
  );
  if (!values['query-only']) await buildBench();
  await queryBench();
}

async function buildBench() {
  // The baseline reads exactly what the indexer reads: same revisions, driver, excludes.
  const revs = values.range ? values.range.split(/\s+/) : ['--branches', '--tags', '--remotes', 'HEAD'];
  let pathspec: string[] = [];
  if (isPartialClone(gitDir)) {
    const missing = await findMissingBlobs(repo, revs);
    const paths = new Set([...missing.values()].flatMap((s) => [...s]));
    if (paths.size > 0) pathspec = ['.', ...[...paths].map((p) => `:(exclude,literal,top)${p}`)];
  }
  const driver = cDriverConfig();
  const base1 = await gitPass([...driver.args, ...logPassArgs(revs, pathspec)]);
  if (base1.code !== 0) throw new Error(`baseline git log failed (exit ${base1.code})`);
  const t0 = performance.now();
  const r = await indexRepo(repo, { index: indexFile, range: values.range, full: true });
  const build = (performance.now() - t0) / 1000;
  const base2 = await gitPass([...driver.args, ...logPassArgs(revs, pathspec)]);
  driver.cleanup();
  const baseline = (base1.seconds + base2.seconds) / 2;
  process.stdout.write(
    `git log -p -U0 (stream, ${(base1.bytes / 1e6).toFixed(0)} MB): ${base1.seconds.toFixed(1)} s and ${base2.seconds.toFixed(1)} s\n` +
      `index build: ${build.toFixed(1)} s for ${r.totalCommits} commits (${(statSync(indexFile).size / 1e6).toFixed(0)} MB)\n` +
      `  phases: ${Object.entries(r.phases)
        .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
        .join(', ')}\n` +
      `RATIO build / git log = ${(build / baseline).toFixed(2)}x (target <= 1.5x)\n`,
  );
}

async function queryBench() {
  // Functions for the -L comparison: changed often, defined as `name(` at column 0 in HEAD's
  // file so that `-L:'^name(':file` finds the definition (git uses the first match).
  const idx = HistoryIndex.open(indexFile);
  const head = listRefs(repo).length > 0 ? 'HEAD' : null;
  if (!head) throw new Error('no HEAD');
  const cands = idx.db
    .prepare(
      `SELECT f.func, f.path, count(*) AS n FROM funcs f GROUP BY f.func, f.path HAVING n >= 5
       ORDER BY n DESC LIMIT 400`,
    )
    .all() as { func: string; path: string; n: number }[];
  const chosen: { func: string; path: string }[] = [];
  const want = Number(values.funcs);
  // Spread over the list (not only the most changed) with a fixed stride.
  const stride = Math.max(1, Math.floor(cands.length / (want * 3)));
  for (let i = 0; i < cands.length && chosen.length < want; i += stride) {
    const c = cands[i]!;
    const g = spawnSync('git', ['-C', repo, 'grep', '-q', '-e', `^${c.func}(`, 'HEAD', '--', c.path], {
      env: gitEnv(),
    });
    if (g.status === 0) chosen.push(c);
  }
  if (chosen.length === 0)
    throw new Error('no function defined as `name(` at column 0 in HEAD with 5+ changes');
  const lDriver = cDriverConfig();
  const tCold = performance.now();
  functionHistory(idx, chosen[0]!.func, { file: chosen[0]!.path, rev: 'HEAD' });
  const cold = performance.now() - tCold;
  const rows: { func: string; gitMs: number; idxMs: number; gitN: number; idxN: number }[] = [];
  for (const c of chosen) {
    const g0 = performance.now();
    const out = spawnSync(
      'git',
      // Same function boundaries as the index: without a C driver (bare repositories read no
      // .gitattributes) -L ends the range at the first goto label and misses later changes.
      ['-C', repo, ...lDriver.args, 'log', '--format=%H', '-s', `-L:^${c.func}(:${c.path}`, 'HEAD'],
      {
        env: gitEnv(),
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      },
    );
    const gitMs = performance.now() - g0;
    const gitN =
      out.status === 0 ? out.stdout.split('\n').filter((l) => /^[0-9a-f]{40}$/.test(l)).length : -1;
    const reps = 20;
    const i0 = performance.now();
    let idxN = 0;
    for (let k = 0; k < reps; k++) idxN = functionHistory(idx, c.func, { file: c.path, rev: 'HEAD' }).length;
    const idxMs = (performance.now() - i0) / reps;
    rows.push({ func: `${c.func} (${c.path})`, gitMs, idxMs, gitN, idxN });
    process.stdout.write(
      `  ${c.func.padEnd(36)} git -L ${gitMs.toFixed(0).padStart(6)} ms (${gitN} commits)  index ${idxMs.toFixed(2).padStart(7)} ms (${idxN})\n`,
    );
  }
  idx.close();
  lDriver.cleanup();
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const gitMed = med(rows.map((r) => r.gitMs));
  const idxMed = med(rows.map((r) => r.idxMs));
  const agree = rows.filter((r) => r.gitN === r.idxN).length;
  process.stdout.write(
    `per-function history: git log -L median ${gitMed.toFixed(0)} ms, index median ${idxMed.toFixed(2)} ms (first query incl. graph load ${cold.toFixed(0)} ms)\n` +
      `commit counts equal for ${agree}/${rows.length} functions (git -L counts a change anywhere up to the next top-level line;\n` +
      `  the index counts changes inside the function's body, e.g. not a new function added right after it)\n` +
      `RATIO git log -L / index = ${(gitMed / idxMed).toFixed(0)}x (target >= 100x)\n`,
  );
}

try {
  await main();
} finally {
  if (!values.keep) rmSync(tmp, { recursive: true, force: true });
}
