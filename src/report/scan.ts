// The streaming parser's fast path: native substring scans that find the next line that may
// start a report (so that the lines before it need no parsing), and the char-code walks over plain
// console lines. Pure functions over a chunk of text; the parser (stream.ts) keeps their state.
import { ANY_HEADER, INFO_MESSAGES_WITH_STACK, LINUX_OOPSES } from './oopses.ts';
import { plainConsoleEnd } from './prefix.ts';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// The fast path's scan for the next possible header (or the console-hangup marker, so that skipped
// text needs no second scan). One alternation of ~30 literals runs at ~300 MB/s in V8, one of the
// 17 long headers still at ~450 MB/s (too many characters can start a match). Instead, native
// substring searches (indexOf, memchr on the needle's first character: fast when that character is
// rare in console text, as upper case letters are, slow for common lower case ones):
// - every header with a colon (`INFO:`, `WARNING:`, `int3:`, `divide error:` ...) from the
//   text's colons: one indexOf(':') walk, each colon checked against the headers whose first
//   colon follows the same character. One pass however many such headers there are (each
//   searched on its own costs 10-30 ms per 100 MB: a pass per needle);
// - the headers without a colon (or with one at no fixed place, as `kernel BUG at f.c:1`) by a
//   few short anchors (< 7 characters: V8 searches longer needles slower) with a rare first
//   character ('fault': general protection / double / unhandled fault; a few hits per MB in other
//   text, each costs one line parsed in full);
// - a header without a colon that no anchor covers (none at present) on its own.
// The headers with a colon are checked at each colon by the character before it, from a table.
const SCAN_ANCHORS = ['BUG', 'Kernel', 'Unable', 'Bootin', 'fault'];
const SCANNED = [...LINUX_OOPSES.map((o) => o.header), 'serialport: VM disconnected.'];
const SCAN_REST = SCANNED.filter((h) => !SCAN_ANCHORS.some((a) => h.includes(a)));
export const SCAN_LITERALS = [...SCAN_ANCHORS, ...SCAN_REST.filter((h) => !h.includes(':'))];
/** A header with a colon, as the colon walk checks it. */
interface ColonHeader {
  header: string;
  /** Index of its first colon. */
  colon: number;
  /** Its character two after the colon (compared before the whole header), or -1 if it ends sooner. */
  probe: number;
}
/** Headers with a colon, by the character code (< 128) before their first colon. */
const SCAN_BY_COLON: (ColonHeader[] | null)[] = new Array<ColonHeader[] | null>(128).fill(null);
let SCAN_COLON_MAX = 0;
for (const header of SCAN_REST) {
  const colon = header.indexOf(':');
  if (colon < 0) continue;
  const entry: ColonHeader = {
    header,
    colon,
    probe: colon + 2 < header.length ? header.charCodeAt(colon + 2) : -1,
  };
  // A header that starts with its colon follows a number (`irq 11: nobody cared`): it is looked
  // for at the colons after a digit (most colons after a digit fail the probe at once).
  const keys =
    colon > 0 ? [header.charCodeAt(colon - 1)] : [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39];
  for (const k of keys) SCAN_BY_COLON[k] = [...(SCAN_BY_COLON[k] ?? []), entry];
  SCAN_COLON_MAX = Math.max(SCAN_COLON_MAX, colon);
}

/** Start of the first header with a colon (of SCAN_BY_COLON) at or after `from` in text, or -1. */
export function nextColonHeader(text: string, from: number): number {
  let best = -1;
  for (let c = text.indexOf(':', from); c >= 0; c = text.indexOf(':', c + 1)) {
    // A header found starts at most SCAN_COLON_MAX before its colon: later colons cannot beat it.
    if (best >= 0 && c - SCAN_COLON_MAX > best) break;
    const before = c > 0 ? text.charCodeAt(c - 1) : 128;
    const list = before < 128 ? SCAN_BY_COLON[before]! : null;
    if (list === null) continue;
    for (let k = 0; k < list.length; k++) {
      const e = list[k]!;
      const s = c - e.colon;
      if (
        s >= from &&
        (best < 0 || s < best) &&
        (e.probe < 0 || text.charCodeAt(c + 2) === e.probe) &&
        text.startsWith(e.header, s)
      )
        best = s;
    }
  }
  return best;
}
/** A superset of the lines process() must look at closely (see there). */
export const LINE_HOT = new RegExp(
  [ANY_HEADER.source, ...['serialport: VM disconnected.', ...INFO_MESSAGES_WITH_STACK].map(escapeRe)].join(
    '|',
  ),
);

/**
 * Start of the first line in text[from, limit) that is not a plain console line (`[ 12.345678] `,
 * parsePrefix's console context, never part of a report of unprefixed lines), else limit. Char
 * codes only: no substring per line.
 */
export function nextNonConsoleLine(text: string, from: number, limit: number): number {
  let i = from;
  while (i < limit) {
    const e = plainConsoleEnd(text, i);
    if (e < 0) return i;
    const nl = text.indexOf('\n', e);
    if (nl < 0) return i;
    i = nl + 1;
  }
  return limit;
}

/** Whether a line holds one of the info messages that print a stack (see INFO_MESSAGES_WITH_STACK). */
export function hasInfoWithStack(raw: string): boolean {
  for (let k = 0; k < INFO_MESSAGES_WITH_STACK.length; k++)
    if (raw.includes(INFO_MESSAGES_WITH_STACK[k]!)) return true;
  return false;
}
