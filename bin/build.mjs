#!/usr/bin/env node
// `npm run build` (and npm's `prepare`, so `npm ci` runs it): compiles src/**/*.ts to plain
// JavaScript under dist/src/, one output file per source file, relative `.ts` imports rewritten to
// `.js`. bin/ktriage.mjs runs dist/ when it is up to date with src/ and falls back to tsx otherwise.
// Why: tsx's loader (a worker thread, a transform per module) costs ~0.45 s CPU at every start, 4x
// the CLI's own loading; `ktriage parse` on a 512 MB log spends ~10% of its time there.
// Types are not checked here (`npm run typecheck` does that); esbuild only strips them.
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import { sourceStamp } from './stamp.mjs';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');
const out = join(root, 'dist');

// Taken before compiling: a source edited during the build leaves dist/ stale, never wrongly current.
const stamp = sourceStamp(src);
const files = Object.keys(stamp);
const ts = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
rmSync(out, { recursive: true, force: true });

// Relative imports of .ts files stay imports (no bundling), renamed to their .js output; packages
// stay imports too. Bundle mode is used only so that esbuild calls the resolver for every import.
const rewriteTs = {
  name: 'rewrite-ts-imports',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) =>
      args.kind === 'entry-point' ? undefined : { path: args.path.replace(/\.ts$/, '.js'), external: true },
    );
  },
};
// As npm's `prepare` step (--if-possible) a failed build must not fail `npm ci`: without a stamp
// bin/ktriage.mjs runs the TypeScript sources, only slower to start.
const ifPossible = process.argv.includes('--if-possible');
try {
  await build({
    entryPoints: ts.map((f) => join(src, f)),
    outdir: join(out, 'src'),
    outbase: src,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [rewriteTs],
  });
} catch (err) {
  rmSync(out, { recursive: true, force: true });
  process.stderr.write(
    `build: failed, the CLI will run the TypeScript sources through tsx: ${err.message}\n`,
  );
  process.exit(ifPossible ? 0 : 1);
}

// Everything else under src/ (static assets, .mjs worker entries, READMEs) is copied, so that
// paths relative to a module resolve the same in dist/src/ as in src/.
for (const f of files.filter((f) => !ts.includes(f))) {
  mkdirSync(dirname(join(out, 'src', f)), { recursive: true });
  copyFileSync(join(src, f), join(out, 'src', f));
}
// Paths that leave src/ (the dashboard's examples/) resolve through a link at the same depth.
symlinkSync(join('..', 'examples'), join(out, 'examples'));

// The stamp bin/ktriage.mjs checks (bin/stamp.mjs).
writeFileSync(join(out, 'stamp.json'), `${JSON.stringify(stamp)}\n`);
process.stderr.write(`build: ${ts.length} modules -> ${relative(root, out)}/src\n`);
