// Raw memory: `search VALUE` hits and `rd [-8|-16|-32|-64] ADDR [COUNT]` words.
import { CrashParseError, canonHex, isElision, lines } from './common.ts';

export interface SearchHit {
  /** Where the value was found. */
  address: string;
  /** The word found there (canonical hex). */
  value: string;
}

/** Parses `search [-k|-u|-p] [-m MASK] VALUE` output: `ADDR: VALUE` lines. */
export function parseSearch(text: string): { hits: SearchHit[]; elided: boolean } {
  const hits: SearchHit[] = [];
  let elided = false;
  for (const raw of lines(text)) {
    const l = raw.trim();
    if (l === '') continue;
    if (isElision(l)) {
      elided = true;
      continue;
    }
    const m = /^([0-9a-f]{8,16}):\s+([0-9a-f]+)\b/.exec(l);
    if (m) hits.push({ address: canonHex(m[1]!), value: canonHex(m[2]!) });
  }
  return { hits, elided };
}

export interface MemoryLine {
  address: string;
  /** Words as canonical hex, in order. */
  words: string[];
  /** Bytes per word (1, 2, 4, 8). */
  width: number;
  /** The ASCII column, if printed. */
  ascii: string | null;
}

/** Parses `rd` output. Words are the leading hex tokens of equal width; what follows is the ASCII column. */
export function parseRd(text: string): MemoryLine[] {
  const out: MemoryLine[] = [];
  for (const raw of lines(text)) {
    const m = /^\s*([0-9a-f]{8,16}):\s+(.*)$/.exec(raw);
    if (!m) continue;
    const rest = m[2]!;
    const toks = rest.split(/(\s+)/);
    const words: string[] = [];
    let width = 0;
    let consumed = 0;
    for (const tok of toks) {
      if (/^\s+$/.test(tok) || tok === '') {
        consumed += tok.length;
        continue;
      }
      if (!/^[0-9a-f]+$/.test(tok) || (width !== 0 && tok.length !== width)) break;
      width = tok.length;
      words.push(canonHex(tok));
      consumed += tok.length;
    }
    if (words.length === 0) continue;
    const ascii = rest.slice(consumed).trim();
    out.push({ address: canonHex(m[1]!), words, width: width / 2, ascii: ascii === '' ? null : ascii });
  }
  if (out.length === 0 && text.trim() !== '') throw new CrashParseError('rd', 'no `ADDR: words` line');
  return out;
}

/** Words of rd output as a map address -> value (for 8-byte words). */
export function rdWords(mem: MemoryLine[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of mem) {
    let a = BigInt(`0x${l.address}`);
    for (const w of l.words) {
      m.set(a.toString(16), w);
      a += BigInt(l.width);
    }
  }
  return m;
}
