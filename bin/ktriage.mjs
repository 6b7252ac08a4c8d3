#!/usr/bin/env node
// The ktriage command, wherever it is called from. It runs the compiled JavaScript in dist/ when
// that was built from exactly the files now in src/ (bin/build.mjs writes their sizes and mtimes
// to dist/stamp.json; `npm ci` builds it), else the TypeScript sources through tsx's loader, so an
// edit in src/ is never run stale. Checking ~200 files costs ~2 ms; tsx costs ~0.45 s per start.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sameStamp, sourceStamp } from './stamp.mjs';

const root = join(import.meta.dirname, '..');

function distIsCurrent() {
  if (process.env.KTRIAGE_NO_DIST === '1') return false;
  try {
    const built = JSON.parse(readFileSync(join(root, 'dist', 'stamp.json'), 'utf8'));
    return sameStamp(built, sourceStamp(join(root, 'src')));
  } catch {
    return false;
  }
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
