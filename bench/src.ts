// Benchmark of the kernel source index against cscope on the same file list, in the same run:
//   npm run bench:src [-- TREE]      (TREE defaults to $KTRIAGE_LINUX_SRC)
// Prints build wall/CPU time of `cscope -bqk` and of `ktriage src index` (worker threads on every
// core), their ratio (target <= 2.0), index sizes, peak memory, and p50/p99 of `callers` queries
// over 1,000 random functions (target p50 <= 10 ms) next to cscope's per-query time.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { indexTree, listSourceFiles, openSourceIndex } from '../src/source/index.ts';

const tree = resolve(process.argv[2] ?? process.env.KTRIAGE_LINUX_SRC ?? '');
if (!existsSync(join(tree, 'Makefile'))) {
  console.error(`bench:src: kernel tree ${tree || '(none)'} not found; pass TREE or set KTRIAGE_LINUX_SRC`);
  process.exit(2);
}
const queries = Number(process.env.BENCH_QUERIES ?? 1000);
const work = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'ktriage-bench-src-'));
const keep = process.env.BENCH_KEEP === '1';

function dirSize(dir: string, prefix: string): number {
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}
const mb = (b: number): string => `${(b / 1e6).toFixed(0)} MB`;
const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

try {
  const files = listSourceFiles(tree);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const list = join(work, 'files.txt');
  writeFileSync(list, `${files.map((f) => f.rel).join('\n')}\n`);
  console.log(`tree ${tree}: ${files.length} .c/.h files, ${mb(bytes)}; cores ${availableParallelism()}`);

  // Baseline: cscope -bqk over the same list (single-threaded by design).
  mkdirSync(join(work, 'cscope'));
  const csOut = join(work, 'cscope', 'cscope.out');
  const t0 = performance.now();
  const cs = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', 'cscope', '-bqk', '-i', list, '-f', csOut], {
    cwd: tree,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const csWall = performance.now() - t0;
  if (cs.status !== 0) throw new Error(`cscope failed (${cs.status}): ${cs.stderr.slice(-2000)}`);
  const [, csUser, csSys, csRssKb] = cs.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  const csSize = dirSize(join(work, 'cscope'), 'cscope');
  console.log(
    `cscope -bqk: ${sec(csWall)} wall, ${(csUser! + csSys!).toFixed(1)} CPU-s, peak RSS ${mb(csRssKb! * 1024)}, index ${mb(csSize)}`,
  );

  // ktriage src index: fresh index, all cores.
  const db = join(work, 'src.db');
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  let last = 0;
  const stats = await indexTree({
    tree,
    index: db,
    onProgress: (done, total) => {
      const now = performance.now();
      if (now - last > 30_000) {
        last = now;
        console.log(`  ... ${done}/${total} files, ${sec(now - t1)}, rss ${mb(process.memoryUsage().rss)}`);
      }
    },
  });
  const ixWall = performance.now() - t1;
  const cpu = process.cpuUsage(cpu0);
  const ixSize = statSync(db).size;
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(
    `ktriage src index: ${sec(ixWall)} wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU-s (process incl. workers), ` +
      `peak RSS ${mb(peak)}, index ${mb(ixSize)}`,
  );
  console.log(
    `  files ${stats.files} (parsed ${stats.parsed}, failed ${stats.failed.length}), functions ${stats.functions} ` +
      `(${stats.functionsWithErrors} with parse errors in the body), direct calls ${stats.calls}, field calls ${stats.fieldCalls}, ` +
      `function refs ${stats.fnRefs}, field writes ${stats.writes}, parse errors ${stats.parseErrors} in ${stats.filesWithParseErrors} files`,
  );
  const ratio = ixWall / csWall;
  console.log(
    `ratio (ktriage / cscope build wall): ${ratio.toFixed(2)} (target <= 2.0) ${ratio <= 2 ? 'OK' : 'OVER TARGET'}`,
  );

  // Queries: callers of 1,000 random functions (deterministic LCG so runs compare).
  const ix = openSourceIndex(db);
  const names = ix.db
    .prepare('SELECT DISTINCT s.name FROM funcs f JOIN syms s ON s.id = f.name ORDER BY s.name')
    .pluck()
    .all() as string[];
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const picked = Array.from(
    { length: Math.min(queries, names.length) },
    () => names[Math.floor(rnd() * names.length)]!,
  );
  const times: number[] = [];
  let edges = 0;
  for (const n of picked) {
    const q0 = performance.now();
    edges += ix.callers(n, 1).callers.length;
    times.push(performance.now() - q0);
  }
  ix.close();
  times.sort((a, b) => a - b);
  const p50 = pct(times, 50);
  const p99 = pct(times, 99);
  console.log(
    `callers over ${picked.length} random functions: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${times[times.length - 1]!.toFixed(1)} ms ` +
      `(${edges} edges) ${p50 <= 10 ? 'OK' : 'OVER TARGET'} (target p50 <= 10 ms)`,
  );
  // cscope on the same names, one process in line mode (no per-query process start).
  const q1 = performance.now();
  const csq = spawnSync('cscope', ['-d', '-l', '-f', csOut], {
    cwd: tree,
    input: picked.map((n) => `3${n}\n`).join(''),
    encoding: 'utf8',
    maxBuffer: 512 << 20,
  });
  const csqMs = performance.now() - q1;
  if (csq.status !== 0) console.log(`cscope queries failed: ${csq.stderr.slice(-500)}`);
  else
    console.log(
      `cscope -3 (callers) on the same ${picked.length} names: mean ${(csqMs / picked.length).toFixed(2)} ms per query`,
    );
  console.log(
    JSON.stringify({
      files: files.length,
      bytes,
      cscope: {
        wallS: csWall / 1000,
        cpuS: csUser! + csSys!,
        peakRssMB: (csRssKb! * 1024) / 1e6,
        indexMB: csSize / 1e6,
      },
      ktriage: {
        wallS: ixWall / 1000,
        cpuS: (cpu.user + cpu.system) / 1e6,
        peakRssMB: peak / 1e6,
        indexMB: ixSize / 1e6,
        functions: stats.functions,
        calls: stats.calls,
        fieldCalls: stats.fieldCalls,
        fnRefs: stats.fnRefs,
        writes: stats.writes,
        parseErrors: stats.parseErrors,
        filesWithParseErrors: stats.filesWithParseErrors,
      },
      ratio,
      query: { p50Ms: p50, p99Ms: p99, cscopeMeanMs: csqMs / picked.length },
    }),
  );
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
