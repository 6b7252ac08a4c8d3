#!/usr/bin/env node
// The ktriage command, wherever it is called from. It runs the compiled JavaScript in dist/ when
// that was built from exactly the files now in src/ (bin/build.mjs writes their sizes and mtimes
// to dist/stamp.json; `npm ci` builds it), else the TypeScript sources through tsx's loader, so an
// edit in src/ is never run stale. Checking ~200 files costs ~2 ms; tsx costs ~0.45 s per start.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');

function distIsCurrent() {
  if (process.env.KTRIAGE_NO_DIST === '1') return false;
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, 'dist', 'stamp.json'), 'utf8'));
  } catch {
    return false;
  }
  const src = join(root, 'src');
  let seen = 0;
  const stack = [src];
  while (stack.length > 0) {
    const dir = stack.pop();
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        stack.push(p);
        continue;
      }
      const want = stamp[relative(src, p)];
      if (!want) return false;
      const st = statSync(p);
      if (st.size !== want[0] || st.mtimeMs !== want[1]) return false;
      seen++;
    }
  }
  return seen === Object.keys(stamp).length;
}

let main;
if (distIsCurrent()) {
  ({ main } = await import('../dist/src/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
