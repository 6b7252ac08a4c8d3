// Reads real crash output from ../shared (samples of crash 8.0.2 on Debian 6.1, the seed session).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const shared = path.resolve(repoRoot, '../shared');

export function readShared(rel: string): string {
  return readFileSync(path.join(shared, rel), 'utf8');
}

export const SAMPLES = 'samples/crash-8.0.2-debian-6.1';

/**
 * Lines of a sample from the first line matching `start` (the n-th match) up to, not including,
 * the first later line matching `end` (or the end of the file).
 */
export function section(text: string, start: RegExp, end: RegExp | null, nth = 0): string {
  const ls = text.split('\n');
  let seen = -1;
  let from = -1;
  for (let i = 0; i < ls.length; i++) {
    if (start.test(ls[i]!)) {
      seen++;
      if (seen === nth) {
        from = i;
        break;
      }
    }
  }
  if (from < 0) throw new Error(`sample section ${start} #${nth} not found`);
  let to = ls.length;
  if (end) {
    for (let i = from + 1; i < ls.length; i++) {
      if (end.test(ls[i]!)) {
        to = i;
        break;
      }
    }
  }
  return ls.slice(from, to).join('\n');
}
