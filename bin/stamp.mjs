// The stamp that ties dist/ to the sources it was compiled from: every file below src/ with its
// size and mtime. bin/build.mjs writes it to dist/stamp.json; bin/ktriage.mjs runs dist/ only while
// the sources still give the same stamp (~200 stats, ~2 ms; no esbuild loaded for it).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Files below dir as paths relative to it, sorted, each with [size, mtimeMs]. */
export function sourceStamp(dir) {
  const stamp = {};
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop();
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else {
        const st = statSync(p);
        stamp[relative(dir, p)] = [st.size, st.mtimeMs];
      }
    }
  }
  return Object.fromEntries(Object.entries(stamp).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Whether two stamps name the same files with the same sizes and mtimes. */
export function sameStamp(a, b) {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] !== undefined && a[k][0] === b[k][0] && a[k][1] === b[k][1]);
}
