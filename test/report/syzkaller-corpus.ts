// Reads syzkaller's linux/report corpus files: `KEY: value` headers up to the first empty line, then the log.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SyzCase {
  name: string;
  title: string | null;
  alts: string[];
  corrupted: boolean;
  /** TYPE header (syzkaller's TitleToType of TITLE), null when absent. */
  type: string | null;
  log: string;
}

export function readSyzCase(dir: string, name: string): SyzCase {
  const data = readFileSync(join(dir, name), 'latin1').replace(/\r/g, '');
  const lines = data.split('\n');
  let title: string | null = null;
  const alts: string[] = [];
  let corrupted = false;
  let type: string | null = null;
  let i = 0;
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '') break;
    if (l.startsWith('#')) continue;
    const c = l.indexOf(':');
    const key = l.slice(0, c);
    const value = l.slice(c + 1).trim();
    if (key === 'TITLE') title = value === '' ? null : value;
    else if (key === 'ALT') alts.push(value);
    else if (key === 'CORRUPTED') corrupted = value === 'Y';
    else if (key === 'TYPE') type = value;
  }
  let log = lines.slice(i + 1).join('\n');
  const rep = log.indexOf('\nREPORT:\n');
  if (rep >= 0) log = log.slice(0, rep + 1);
  return { name, title, alts, corrupted, type, log };
}

export function listSyzCases(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /^\d+$/.test(f))
    .sort((a, b) => Number(a) - Number(b));
}
