// Evaluation of the fix finder on a real public history (DPDK: kernel-style Fixes: tags, Cc
// stable, LTS branches). Answer key: for a release B, every commit F on the main line after B
// whose Fixes: target T is contained in B. Query: base B, the functions and files T touched
// (what a crash in T's code would show), no words. Measures recall@1/5/10 of F, against a
// baseline ranking of the same candidate pool by date (what reading `git log -L` output gives).
//
//   npx tsx test/history/eval/dpdk.ts --repo /path/to/dpdk.git [--index FILE] [--bases v22.11,...] [--sample 300]
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { indexRepo } from '../../../src/history/indexer.ts';
import { findFixes, HistoryIndex } from '../../../src/history/query.ts';

const { values } = parseArgs({
  options: {
    repo: { type: 'string' },
    index: { type: 'string' },
    bases: { type: 'string', default: 'v21.11,v22.11,v23.11' },
    sample: { type: 'string', default: '300' },
    main: { type: 'string', default: 'main' },
    'max-funcs': { type: 'string', default: '8' },
  },
});
if (!values.repo && !values.index) {
  process.stderr.write('usage: dpdk.ts --repo DPDK_GIT_DIR [--index FILE] [--bases v22.11] [--sample N]\n');
  process.exit(2);
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

const indexFile = values.index ?? `${values.repo}/ktriage-history.sqlite`;
if (!existsSync(indexFile) && values.repo) {
  process.stderr.write(`building ${indexFile} ...\n`);
  await indexRepo(values.repo, { index: indexFile });
}
const idx = HistoryIndex.open(indexFile);
const sampleN = Number(values.sample);
const maxFuncs = Number(values['max-funcs']);
const mainSha = idx.resolve(values.main);
if (!mainSha) throw new Error(`no ${values.main} in ${indexFile}`);
const mainSet = idx.containedIn(mainSha);
const g = idx.loadGraph();
const shaOf = new Map<number, string>();
for (const [s, i] of g.idOf) shaOf.set(i, s);

const funcsOf = idx.db.prepare('SELECT DISTINCT func FROM funcs WHERE commit_id = ?').pluck();
const filesOf = idx.db
  .prepare("SELECT DISTINCT path FROM files WHERE commit_id = ? AND (path LIKE '%.c' OR path LIKE '%.h')")
  .pluck();
const total = {
  pairs: 0,
  skipped: 0,
  r1: 0,
  r5: 0,
  r10: 0,
  b1: 0,
  b5: 0,
  b10: 0,
  found: 0,
  ms: [] as number[],
};
for (const base of values.bases.split(',')) {
  const baseSha = idx.resolve(base);
  if (!baseSha) throw new Error(`unknown base ${base}`);
  const inBase = idx.containedIn(baseSha);
  const rows = idx.db
    .prepare('SELECT f.commit_id AS fixer, f.target FROM fixes_tags f WHERE f.target IS NOT NULL')
    .all() as { fixer: number; target: string }[];
  const pairs: { fixer: string; target: number }[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    const t = g.idOf.get(r.target);
    if (t === undefined || !inBase.has(t) || inBase.has(r.fixer) || !mainSet.has(r.fixer)) continue;
    const key = `${r.fixer}:${t}`;
    if (seen.has(key)) continue;
    seen.add(key);
    pairs.push({ fixer: shaOf.get(r.fixer)!, target: t });
  }
  pairs.sort((a, b) => hash(a.fixer) - hash(b.fixer));
  const sample = pairs.slice(0, sampleN);
  const s = { pairs: 0, skipped: 0, r1: 0, r5: 0, r10: 0, b1: 0, b5: 0, b10: 0, found: 0 };
  for (const p of sample) {
    const funcs = (funcsOf.all(p.target) as string[])
      .sort((a, b) => hash(a) - hash(b))
      .slice(0, maxFuncs)
      .map((name) => ({ name, depth: 0 }));
    const files = (filesOf.all(p.target) as string[]).sort((a, b) => hash(a) - hash(b)).slice(0, maxFuncs);
    if (funcs.length === 0 && files.length === 0) {
      s.skipped++;
      continue;
    }
    s.pairs++;
    const t0 = performance.now();
    const res = findFixes([idx], { base, funcs, files, words: [] });
    total.ms.push(performance.now() - t0);
    const rank = res.findIndex((c) => c.id === p.fixer);
    if (rank >= 0) s.found++;
    if (rank === 0) s.r1++;
    if (rank >= 0 && rank < 5) s.r5++;
    if (rank >= 0 && rank < 10) s.r10++;
    // Baseline: the same pool, oldest first (reading the function's log after the base).
    const byDate = [...res].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
    const brank = byDate.findIndex((c) => c.id === p.fixer);
    if (brank === 0) s.b1++;
    if (brank >= 0 && brank < 5) s.b5++;
    if (brank >= 0 && brank < 10) s.b10++;
  }
  const pct = (x: number) => `${((100 * x) / Math.max(1, s.pairs)).toFixed(1)}%`;
  process.stdout.write(
    `${base}: ${pairs.length} fix pairs, ${sample.length} sampled, ${s.pairs} queried (${s.skipped} targets touch no C file); ` +
      `in pool ${pct(s.found)}; recall@1 ${pct(s.r1)} @5 ${pct(s.r5)} @10 ${pct(s.r10)}; ` +
      `by-date baseline @1 ${pct(s.b1)} @5 ${pct(s.b5)} @10 ${pct(s.b10)}\n`,
  );
  for (const k of Object.keys(s) as (keyof typeof s)[]) total[k] += s[k];
}
const pct = (x: number) => `${((100 * x) / Math.max(1, total.pairs)).toFixed(1)}%`;
const ms = total.ms.sort((a, b) => a - b);
process.stdout.write(
  `ALL: ${total.pairs} queries; recall@1 ${pct(total.r1)} recall@5 ${pct(total.r5)} recall@10 ${pct(total.r10)} (in pool ${pct(total.found)}); ` +
    `baseline by date @1 ${pct(total.b1)} @5 ${pct(total.b5)} @10 ${pct(total.b10)}; ` +
    `query time median ${ms[Math.floor(ms.length / 2)]?.toFixed(1)} ms, p95 ${ms[Math.floor(ms.length * 0.95)]?.toFixed(1)} ms\n`,
);
idx.close();
