// Compact storage form of a CrashReport (crashes.report). A stored report is mostly frames, and a
// frame is mostly keys and default values (`"module":null,"reliable":true,"context":"task",...`):
// the plain JSON averaged 4.6 KB per crash on the corpus, which made the crash row the bulk of
// the ingest write. The compact form drops report fields that hold their default and stores each
// frame as a positional array without its trailing defaults. decodeReport() restores exactly the
// object that was encoded, keys in the same order, so the Store returns the same CrashReport.
//
// The encoding only applies when the report has exactly the known keys (in any order; another
// order is recorded) and every frame the known keys in the known order; anything else (a parser
// that grew a field) is stored as plain JSON, which
// decodeReport() also reads, as it reads rows written before this format existed.
import type { CrashReport, Frame } from '../report/types.ts';

/** Marks the compact form: `{"$c":1,...}`. Plain CrashReport JSON never has this key. */
const MARK = '$c';

const FRAME_KEYS = [
  'func',
  'offset',
  'size',
  'module',
  'address',
  'reliable',
  'context',
  'inlined',
  'file',
  'line',
] as const satisfies readonly (keyof Frame)[];
const FRAME_DEFAULTS: readonly unknown[] = [
  undefined,
  null,
  null,
  null,
  null,
  true,
  'task',
  false,
  null,
  null,
];

/** Report fields and their defaults (undefined: always stored). Order is the parser's key order. */
const REPORT_FIELDS: readonly [keyof CrashReport, unknown][] = [
  ['kind', undefined],
  ['title', undefined],
  ['altTitles', []],
  ['type', undefined],
  ['corrupted', false],
  ['corruptedReason', null],
  ['guiltyFrame', null],
  ['bugLocation', null],
  ['ipFrame', null],
  ['messages', []],
  ['frames', []],
  ['registers', {}],
  ['code', null],
  ['modules', []],
  ['taint', null],
  ['kernelRelease', null],
  ['kernelBuild', null],
  ['hardware', null],
  ['cpu', null],
  ['pid', null],
  ['comm', null],
  ['context', null],
  ['startLine', undefined],
  ['endLine', undefined],
  ['text', undefined],
];

/** The parser's key order; a report with the same keys in another order records its order. */
const REPORT_KEYS = REPORT_FIELDS.map(([k]) => k as string);
const REPORT_KEY_LIST = REPORT_KEYS.join('\n');
const REPORT_KEY_SET = [...REPORT_KEYS].sort().join('\n');
const DEFAULTS = new Map<string, unknown>(REPORT_FIELDS);
const FRAME_KEY_LIST = FRAME_KEYS.join('\n');

function isDefault(v: unknown, def: unknown): boolean {
  if (def === undefined) return false;
  if (v === def) return true;
  if (Array.isArray(def)) return Array.isArray(v) && v.length === 0;
  if (def !== null && typeof def === 'object')
    return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
  return false;
}

/** Exactly the known keys, in order, none undefined (JSON would drop those, and so must we). */
function shapeOk(o: unknown, keyList: string): boolean {
  return (
    o !== null &&
    typeof o === 'object' &&
    Object.keys(o).join('\n') === keyList &&
    Object.values(o).every((v) => v !== undefined)
  );
}

function frameOk(f: unknown): f is Frame {
  return shapeOk(f, FRAME_KEY_LIST);
}

function encodeFrame(f: Frame): unknown[] {
  const vals: unknown[] = FRAME_KEYS.map((k) => f[k]);
  let n = vals.length;
  while (n > 1 && vals[n - 1] === FRAME_DEFAULTS[n - 1]) n--;
  vals.length = n;
  return vals;
}

function decodeFrame(a: unknown[]): Frame {
  const f: Record<string, unknown> = {};
  for (let i = 0; i < FRAME_KEYS.length; i++) f[FRAME_KEYS[i]!] = i < a.length ? a[i] : FRAME_DEFAULTS[i];
  return f as unknown as Frame;
}

/**
 * The report's text as line references into the crash's raw text, which the store keeps anyway:
 * report.text is the report's own lines of the raw text (other contexts' interleaved lines
 * dropped) without their printk prefixes, so each of its lines is a suffix of a later raw line.
 * Encoded as [trailing newline 0|1, then runs of (raw lines skipped, prefix length, run length)];
 * a timestamped report is a handful of runs instead of ~1.3 KB of repeated text. null when some
 * line is not such a suffix or the references would not rebuild the text exactly.
 */
export function encodeTextRefs(text: string, raw: string): number[] | null {
  const nl = text.endsWith('\n');
  const lines = (nl ? text.slice(0, -1) : text).split('\n');
  const rawLines = raw.split('\n');
  const out: number[] = [nl ? 1 : 0];
  let i = 0;
  for (const l of lines) {
    const from = i;
    while (i < rawLines.length && !rawLines[i]!.endsWith(l)) i++;
    if (i >= rawLines.length) return null;
    const skip = i - from;
    const plen = rawLines[i]!.length - l.length;
    const n = out.length;
    if (n > 1 && out[n - 3] === skip && out[n - 2] === plen) out[n - 1]!++;
    else out.push(skip, plen, 1);
    i++;
  }
  return decodeTextRefs(out, raw) === text ? out : null;
}

/** The text encodeTextRefs() described, rebuilt from the same raw text. */
export function decodeTextRefs(refs: number[], raw: string): string {
  const rawLines = raw.split('\n');
  const lines: string[] = [];
  let i = 0;
  for (let k = 1; k + 2 < refs.length; k += 3) {
    const [skip, plen, n] = [refs[k]!, refs[k + 1]!, refs[k + 2]!];
    for (let j = 0; j < n; j++) {
      i += skip;
      const line = rawLines[i++];
      if (line === undefined) throw new Error('stored report text references lines past its raw text');
      lines.push(line.slice(plen));
    }
  }
  return lines.join('\n') + (refs[0] === 1 ? '\n' : '');
}

/**
 * The stored form of a report: compact when its shape is the known one, else plain JSON. With the
 * crash's raw text (stored beside it), report.text is kept as references into it (`$t`).
 */
export function encodeReport(r: CrashReport, rawText?: string): string {
  const keys = Object.keys(r);
  const sameOrder = keys.join('\n') === REPORT_KEY_LIST;
  if (!sameOrder && [...keys].sort().join('\n') !== REPORT_KEY_SET) return JSON.stringify(r);
  if (!Object.values(r).every((v) => v !== undefined)) return JSON.stringify(r);
  if (!r.frames.every(frameOk) || (r.ipFrame !== null && !frameOk(r.ipFrame))) return JSON.stringify(r);
  const out: Record<string, unknown> = { [MARK]: 1 };
  // Another key order than the parser's current one (an older or newer parser) is kept as is.
  if (!sameOrder) out.$k = keys;
  for (const k of keys as (keyof CrashReport)[]) {
    const v = r[k];
    if (isDefault(v, DEFAULTS.get(k))) continue;
    if (k === 'frames') out[k] = (v as Frame[]).map(encodeFrame);
    else if (k === 'ipFrame') out[k] = encodeFrame(v as Frame);
    else if (k === 'text' && rawText !== undefined && typeof v === 'string') {
      const refs = encodeTextRefs(v, rawText);
      if (refs) out.$t = refs;
      else out[k] = v;
    } else out[k] = v;
  }
  return JSON.stringify(out);
}

/** The CrashReport of a stored report (compact or plain JSON); rawText: the crash's raw_text. */
export function decodeReport(s: string, rawText?: string): CrashReport {
  const o = JSON.parse(s) as Record<string, unknown>;
  if (o[MARK] !== 1) return o as unknown as CrashReport;
  const keys = Array.isArray(o.$k) ? (o.$k as string[]) : REPORT_KEYS;
  const r: Record<string, unknown> = {};
  for (const k of keys) {
    if (k in o) {
      const v = o[k];
      if (k === 'frames') r[k] = (v as unknown[][]).map(decodeFrame);
      else if (k === 'ipFrame') r[k] = decodeFrame(v as unknown[]);
      else r[k] = v;
    } else if (k === 'text' && Array.isArray(o.$t)) {
      if (rawText === undefined) throw new Error('this stored report needs its raw text to decode');
      r[k] = decodeTextRefs(o.$t as number[], rawText);
    } else {
      const def = DEFAULTS.get(k);
      // Fresh containers: callers may mutate what they get.
      r[k] = Array.isArray(def) ? [] : def !== null && typeof def === 'object' ? {} : def;
    }
  }
  return r as unknown as CrashReport;
}
