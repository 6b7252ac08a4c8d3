// Inputs for the load, fault and bench runs: real reports from ../shared/corpora, each cut out of
// its log (the lines the parser says it spans) into a file of its own, distinct by text. The
// number of reports each file holds is what the parser finds in it, so expected counts come from
// the same parser the store uses, never from a hard-coded number.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLog } from '../../src/report/index.ts';
import { prepareLog } from '../../src/store/prepare.ts';
import { repoRoot, shared } from './helpers.ts';

function walk(d: string, out: string[]): void {
  for (const e of readdirSync(d).sort()) {
    const p = join(d, e);
    const s = statSync(p);
    if (s.isDirectory()) walk(p, out);
    else if (s.size < 1_000_000) out.push(p);
  }
}

export interface CorpusReport {
  source: string;
  text: string;
}

/** Up to `want` distinct single-report texts from the corpora, in a stable order. */
export function corpusReports(want: number): CorpusReport[] {
  // Cached per parser version (the hash of src/report), since cutting takes seconds.
  const h = createHash('sha256');
  const src: string[] = [];
  walk(join(repoRoot, 'src/report'), src);
  walk(join(repoRoot, 'src/store'), src);
  for (const f of src) h.update(f).update(readFileSync(f));
  const version = h.digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'ktriage-corpus-cache');
  const cache = join(dir, `${version}-${want}.json`);
  try {
    return JSON.parse(readFileSync(cache, 'utf8')) as CorpusReport[];
  } catch {}
  const out = withRecurrences(cutReports(want), want);
  mkdirSync(dir, { recursive: true });
  // Cuts made by an older parser or store are never read again: drop them.
  for (const f of readdirSync(dir))
    if (/^[0-9a-f]{16}-\d+\.json$/.test(f) && !f.startsWith(`${version}-`))
      rmSync(join(dir, f), { force: true });
  writeFileSync(`${cache}.${process.pid}`, JSON.stringify(out));
  renameSync(`${cache}.${process.pid}`, cache);
  return out;
}

function cutReports(want: number): CorpusReport[] {
  const files: string[] = [];
  walk(join(shared, 'corpora'), files);
  walk(join(shared, 'seed'), files);
  const seen = new Set<string>();
  const out: CorpusReport[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    if (text.includes('\0')) continue;
    const lines = text.split('\n');
    for (const r of parseLog(text)) {
      const cut = lines.slice(r.startLine - 1, r.endLine).join('\n');
      // Keep it only if the cut parses back to exactly one report; keep what that report spans
      // (the store's content hash is over those lines), distinct by that text.
      const again = parseLog(cut);
      if (again.length !== 1) continue;
      const a = again[0]!;
      const exact = cut
        .split('\n')
        .slice(a.startLine - 1, a.endLine)
        .join('\n');
      // Distinct by the store's own content hash, so N files are exactly N crashes per host.
      const prepared = prepareLog({ text: `${exact}\n`, source: f });
      if (prepared.crashes.length !== 1) continue;
      const h = prepared.crashes[0]!.contentHash;
      if (seen.has(h)) continue;
      seen.add(h);
      out.push({ source: f, text: `${exact}\n` });
      if (out.length >= want) return out;
    }
  }
  return out;
}

const STAMP = /^\[\s*(\d+)\.(\d{6})\]/;

/**
 * When the corpora hold fewer distinct reports than wanted, the rest are recurrences: the same
 * report printed again later (every `[ sec.usec]` stamp moved on by a day per round), which is a
 * different crash with its own content hash, as when a machine hits the same bug again.
 */
function withRecurrences(base: CorpusReport[], want: number): CorpusReport[] {
  const stamped = base.filter((r) => r.text.split('\n').some((l) => STAMP.test(l)));
  const out = [...base];
  for (let round = 1; out.length < want && stamped.length > 0; round++) {
    for (const r of stamped) {
      if (out.length >= want) break;
      const text = r.text
        .split('\n')
        .map((l) => {
          const m = STAMP.exec(l);
          if (!m) return l;
          const sec = String(Number(m[1]) + round * 86400).padStart(5, ' ');
          return `[${sec}.${m[2]}]${l.slice(m[0].length)}`;
        })
        .join('\n');
      out.push({ source: `${r.source} (recurrence ${round})`, text });
    }
  }
  return out;
}

/** Writes reports as files r00000.log ... into dir; returns the paths. */
export function writeReports(dir: string, reports: CorpusReport[]): string[] {
  mkdirSync(dir, { recursive: true });
  return reports.map((r, i) => {
    const p = join(dir, `r${String(i).padStart(5, '0')}.log`);
    writeFileSync(p, r.text);
    return p;
  });
}
