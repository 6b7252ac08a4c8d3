// What a log file is before the parser sees it: decoding bytes, refusing binary content, and
// turning kdump, pstore and journald exports into the kernel's console text plus what the
// container tells us (host, time). Everything here scans line by line; no backtracking regexes.
import { isUtf8 } from 'node:buffer';
import { basename, dirname } from 'node:path';
import type { LogFormat } from './types.ts';

export class InputError extends Error {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`${input}: ${reason}`);
  }
}

export interface DecodedText {
  text: string;
  warnings: string[];
}

/** Bytes -> text; refuses empty and binary input with a message naming the input. */
export function decodeLog(data: string | Uint8Array, source: string): DecodedText {
  const warnings: string[] = [];
  if (typeof data === 'string') {
    if (data.length === 0) throw new InputError(source, 'empty input (0 bytes): nothing to ingest');
    checkNotBinary(data, source);
    return { text: data, warnings };
  }
  if (data.length === 0) throw new InputError(source, 'empty input (0 bytes): nothing to ingest');
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const nul = buf.indexOf(0);
  if (nul >= 0 && looksBinary(buf)) {
    throw new InputError(
      source,
      `binary content (NUL byte at offset ${nul}), not a text log; compressed pstore (*.enc.z) or a vmcore? give the decompressed dmesg text`,
    );
  }
  let text: string;
  if (isUtf8(buf)) {
    text = buf.toString('utf8');
  } else {
    text = new TextDecoder('utf-8', { fatal: false }).decode(buf);
    warnings.push(`invalid UTF-8 (first bad byte near offset ${firstBadUtf8(buf)}): replaced with U+FFFD`);
  }
  if (nul >= 0) {
    warnings.push(`NUL bytes removed (first at offset ${nul})`);
    text = text.replaceAll('\0', '');
  }
  checkNotBinary(text, source);
  return { text, warnings };
}

/**
 * Binary unless it reads as text: NUL padding at the end (ramoops, preallocated files) is fine, but
 * NULs inside the first 64 KiB beyond a stray few, or more than 10% other control bytes, are not.
 */
function looksBinary(buf: Buffer): boolean {
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--;
  if (end === 0) return true;
  const n = Math.min(end, 65536);
  let ctrl = 0;
  let nul = 0;
  for (let i = 0; i < n; i++) {
    const b = buf[i]!;
    if (b === 0) nul++;
    else if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 27) ctrl++;
  }
  return ctrl / n > 0.1 || nul > Math.max(8, n / 1000);
}

function checkNotBinary(text: string, source: string): void {
  const n = Math.min(text.length, 65536);
  let ctrl = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 27) ctrl++;
  }
  if (n > 0 && ctrl / n > 0.1) {
    throw new InputError(
      source,
      `binary content (${ctrl} control characters in the first ${n}), not a text log`,
    );
  }
}

function firstBadUtf8(buf: Buffer): number {
  // Binary search for the shortest invalid prefix is wrong for multi-byte splits; scan instead.
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    let need = 0;
    if (b < 0x80) need = 0;
    else if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) need = 2;
    else if (b >= 0xf0 && b <= 0xf4) need = 3;
    else return i;
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return buf.length;
}

// ---------------------------------------------------------------------------------------------

export interface Extracted {
  format: LogFormat;
  /** Kernel console text for the parser. */
  text: string;
  host: string | null;
  occurredAt: string | null;
  /** Per line of `text` (0-based), the time the container gave that line, when it gives one. */
  lineTimes: (string | null)[] | null;
  warnings: string[];
}

/** Host and time from a kdump directory name, e.g. `/var/crash/10.0.0.7-2024-01-15-10:23:45/vmcore-dmesg.txt`. */
export function kdumpInfo(path: string): { host: string | null; occurredAt: string | null } | null {
  const file = basename(path);
  const dir = basename(dirname(path));
  // Debian kdump-tools: /var/crash/202401151023/dmesg.202401151023 (no host in the path).
  if (/^dmesg\.\d{12}$/.test(file) && /^\d{12}$/.test(dir)) {
    return { host: null, occurredAt: compactTime(dir) };
  }
  if (file !== 'vmcore-dmesg.txt' && file !== 'dmesg.txt' && file !== 'vmcore-dmesg-incomplete.txt')
    return null;
  // kexec-tools (RHEL, Fedora, Debian's kdump too): <host-or-ip>-YYYY-MM-DD-HH:MM:SS
  const m = /^(.+)-(\d{4})-(\d{2})-(\d{2})-(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(dir);
  if (m) {
    const iso = `${m[2]}-${m[3]}-${m[4]}T${m[5]}:${m[6]}:${m[7] ?? '00'}Z`;
    return { host: m[1]!, occurredAt: validIso(iso) };
  }
  if (/^\d{12}$/.test(dir)) return { host: null, occurredAt: compactTime(dir) };
  return { host: null, occurredAt: null };
}

function compactTime(s: string): string | null {
  return validIso(
    `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(8, 10)}:${s.slice(10, 12)}:00Z`,
  );
}

function validIso(s: string): string | null {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** `/sys/fs/pstore` record names: dmesg-efi-N, dmesg-ramoops-N, dmesg-erst-N, console-ramoops-N. */
export function isPstoreName(path: string): boolean {
  return (
    /^(dmesg|console|ftrace|pmsg)-[a-z_]+(-\d+)?(\.enc)?$/.test(basename(path)) ||
    /^dmesg-efi-\d+$/.test(basename(path))
  );
}

const PSTORE_HEADER = /^(Oops|Panic|Emergency|Restart|Halt|Poweroff|Unknown)#(\d+) Part(\d+)\s*$/;

export interface PstoreHeader {
  reason: string;
  count: number;
  part: number;
}

export function pstoreHeader(text: string): PstoreHeader | null {
  const nl = text.indexOf('\n');
  const first = (nl < 0 ? text : text.slice(0, nl)).trim();
  const m = PSTORE_HEADER.exec(first);
  return m ? { reason: m[1]!, count: Number(m[2]), part: Number(m[3]) } : null;
}

/** Drops the `Oops#1 Part1` header line of a pstore dmesg record. */
export function stripPstoreHeader(text: string): string {
  return pstoreHeader(text) ? text.slice(text.indexOf('\n') + 1) : text;
}

/**
 * Joins the parts of one pstore dump: Part1 holds the newest (last) bytes of the kernel log, so
 * the parts go in descending part order.
 */
export function joinPstoreParts(parts: { part: number; text: string }[]): string {
  return [...parts]
    .sort((a, b) => b.part - a.part)
    .map((p) => {
      const t = stripPstoreHeader(p.text);
      return t.endsWith('\n') ? t : `${t}\n`;
    })
    .join('');
}

// ---------------------------------------------------------------------------------------------
// journald

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

interface JournalLine {
  time: string | null;
  host: string;
  ident: string;
  message: string;
}

/**
 * One `journalctl` short-format line: `Jan 15 10:23:45 host kernel: msg` (short), or
 * `2024-01-15T10:23:45+0000 host kernel: msg` (short-iso, short-iso-precise), parsed by splitting on
 * spaces rather than with a regex over the whole line.
 */
function parseJournalLine(line: string, year: number): JournalLine | null {
  let rest: string;
  let time: string | null = null;
  if (line.length > 16 && MONTHS[line.slice(0, 3)] !== undefined && line[3] === ' ') {
    // "Jan 15 10:23:45 host ident: msg" (day may be space padded)
    const mon = MONTHS[line.slice(0, 3)]!;
    const day = Number(line.slice(4, 6).trim());
    const hms = line.slice(7, 15);
    if (!/^\d\d:\d\d:\d\d$/.test(hms) || !(day >= 1 && day <= 31)) return null;
    let frac = '';
    let i = 15;
    if (line[i] === '.') {
      const end = line.indexOf(' ', i);
      if (end < 0) return null;
      frac = line.slice(i, end);
      i = end;
    }
    if (line[i] !== ' ') return null;
    const d = new Date(
      Date.UTC(year, mon, day, Number(hms.slice(0, 2)), Number(hms.slice(3, 5)), Number(hms.slice(6, 8))),
    );
    if (frac && /^\.\d+$/.test(frac)) d.setUTCMilliseconds(Math.floor(Number(`0${frac}`) * 1000));
    time = Number.isNaN(d.getTime()) ? null : d.toISOString();
    rest = line.slice(i + 1);
  } else if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(line)) {
    const sp = line.indexOf(' ');
    if (sp < 0) return null;
    const stamp = line.slice(0, sp);
    // +0000 -> +00:00 for Date
    const iso = stamp.replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
    time = validIso(iso);
    rest = line.slice(sp + 1);
  } else {
    return null;
  }
  const sp = rest.indexOf(' ');
  if (sp <= 0) return null;
  const host = rest.slice(0, sp);
  const after = rest.slice(sp + 1);
  const colon = after.indexOf(': ');
  const identEnd = colon >= 0 ? colon : after.endsWith(':') ? after.length - 1 : -1;
  if (identEnd <= 0) return null;
  let ident = after.slice(0, identEnd);
  const br = ident.indexOf('[');
  if (br > 0) ident = ident.slice(0, br);
  if (ident.includes(' ')) return null;
  return { time, host, ident, message: colon >= 0 ? after.slice(colon + 2) : '' };
}

function looksLikeJournalText(lines: string[], year: number): boolean {
  let seen = 0;
  let ok = 0;
  for (const l of lines) {
    if (!l.trim() || l.startsWith('-- ')) continue;
    seen++;
    if (parseJournalLine(l, year)) ok++;
    if (seen >= 50) break;
  }
  return seen > 0 && ok / seen >= 0.6;
}

function looksLikeJournalJson(text: string): boolean {
  const start = text.trimStart();
  if (!start.startsWith('{')) return false;
  const nl = start.indexOf('\n');
  const first = nl < 0 ? start : start.slice(0, nl);
  try {
    const o = JSON.parse(first) as Record<string, unknown>;
    return typeof o === 'object' && o !== null && ('MESSAGE' in o || '__REALTIME_TIMESTAMP' in o);
  } catch {
    return false;
  }
}

function looksLikeJournalExport(lines: string[]): boolean {
  for (const l of lines.slice(0, 40)) {
    if (l.startsWith('__CURSOR=') || l.startsWith('__REALTIME_TIMESTAMP=')) return true;
  }
  return false;
}

function usToIso(us: unknown): string | null {
  const n = typeof us === 'string' ? Number(us) : typeof us === 'number' ? us : Number.NaN;
  if (!Number.isFinite(n) || n <= 0) return null;
  return new Date(Math.floor(n / 1000)).toISOString();
}

function messageText(m: unknown): string | null {
  if (typeof m === 'string') return m;
  // journald exports non-UTF-8 or binary messages as an array of byte values.
  if (Array.isArray(m) && m.every((b) => typeof b === 'number')) {
    return new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(m as number[]));
  }
  return null;
}

interface Rec {
  message: string;
  time: string | null;
  host: string | null;
  kernel: boolean;
}

function fromRecords(format: LogFormat, recs: Rec[], warnings: string[]): Extracted {
  // Keep kernel messages when the export has any; a `journalctl -k` export has only those.
  const anyKernel = recs.some((r) => r.kernel);
  const lines: string[] = [];
  const times: (string | null)[] = [];
  const hosts = new Map<string, number>();
  for (const r of recs) {
    if (anyKernel && !r.kernel) continue;
    for (const part of r.message.split('\n')) {
      lines.push(part);
      times.push(r.time);
    }
    if (r.host) hosts.set(r.host, (hosts.get(r.host) ?? 0) + 1);
  }
  if (hosts.size > 1) {
    warnings.push(
      `journal export holds ${hosts.size} hosts (${[...hosts.keys()].slice(0, 5).join(', ')}); using the most frequent`,
    );
  }
  const host = [...hosts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
  return {
    format,
    text: lines.join('\n'),
    host,
    occurredAt: times.find((t) => t) ?? null,
    lineTimes: times,
    warnings,
  };
}

function extractJournalJson(text: string, source: string): Extracted {
  const warnings: string[] = [];
  const recs: Rec[] = [];
  let lineNo = 0;
  let bad = 0;
  let firstBad = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    const t = line.trim();
    if (!t) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(t) as Record<string, unknown>;
    } catch {
      bad++;
      if (!firstBad) firstBad = lineNo;
      continue;
    }
    if (typeof o !== 'object' || o === null) continue;
    const msg = messageText(o.MESSAGE);
    if (msg == null) continue;
    recs.push({
      message: msg,
      time: usToIso(o.__REALTIME_TIMESTAMP),
      host: typeof o._HOSTNAME === 'string' ? o._HOSTNAME : null,
      kernel: o._TRANSPORT === 'kernel' || o.SYSLOG_IDENTIFIER === 'kernel',
    });
  }
  if (bad) warnings.push(`${bad} line(s) of the JSON journal export are not JSON (first: line ${firstBad})`);
  if (recs.length === 0) throw new InputError(source, 'journal JSON export holds no MESSAGE fields');
  return fromRecords('journal-json', recs, warnings);
}

function extractJournalExport(text: string): Extracted {
  // `journalctl -o export`: entries of KEY=value lines separated by blank lines. Binary-safe fields
  // (KEY\n<u64le size><bytes>\n) appear when a value holds newlines; handled on the string.
  const recs: Rec[] = [];
  let cur: Record<string, string> = {};
  let i = 0;
  const flush = () => {
    if (cur.MESSAGE !== undefined) {
      recs.push({
        message: cur.MESSAGE,
        time: usToIso(cur.__REALTIME_TIMESTAMP),
        host: cur._HOSTNAME ?? null,
        kernel: cur._TRANSPORT === 'kernel' || cur.SYSLOG_IDENTIFIER === 'kernel',
      });
    }
    cur = {};
  };
  while (i < text.length) {
    let nl = text.indexOf('\n', i);
    if (nl < 0) nl = text.length;
    const line = text.slice(i, nl);
    if (line === '') {
      flush();
      i = nl + 1;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) {
      cur[line.slice(0, eq)] = line.slice(eq + 1);
      i = nl + 1;
    } else {
      // Binary field: name line, then 8-byte little-endian length, then data, then '\n'.
      const lenBytes = text.slice(nl + 1, nl + 9);
      let len = 0;
      for (let k = 7; k >= 0; k--) len = len * 256 + (lenBytes.charCodeAt(k) & 0xff);
      const start = nl + 9;
      if (len > text.length - start) len = Math.max(0, text.length - start);
      cur[line] = text.slice(start, start + len);
      i = start + len + 1;
    }
  }
  flush();
  return fromRecords('journal-export', recs, []);
}

function extractJournalText(lines: string[], year: number): Extracted {
  const recs: Rec[] = [];
  for (const l of lines) {
    if (l.startsWith('-- ')) continue; // "-- Boot 3f2c... --", "-- No entries --"
    const j = parseJournalLine(l, year);
    if (!j) {
      // A continuation of a multi-line message keeps its previous record.
      if (recs.length && l.trim()) recs[recs.length - 1]!.message += `\n${l}`;
      continue;
    }
    recs.push({ message: j.message, time: j.time, host: j.host, kernel: j.ident === 'kernel' });
  }
  return fromRecords('journal', recs, []);
}

/**
 * Recognises the container format and returns the console text inside it. `path` gives kdump and
 * pstore hints from the file name; content decides the journald formats.
 */
export function extractLog(text: string, source: string, hint?: LogFormat): Extracted {
  const head = text.slice(0, 65536).split('\n');
  const year = new Date().getUTCFullYear();
  if (hint === 'journal-json' || (!hint && looksLikeJournalJson(text)))
    return extractJournalJson(text, source);
  if (hint === 'journal-export' || (!hint && looksLikeJournalExport(head))) return extractJournalExport(text);
  if (hint === 'journal' || (!hint && looksLikeJournalText(head, year)))
    return extractJournalText(text.split('\n'), year);
  const kd = hint === undefined || hint === 'kdump' ? kdumpInfo(source) : null;
  if (kd && (hint === 'kdump' || kd.host || kd.occurredAt)) {
    return { format: 'kdump', text, host: kd.host, occurredAt: kd.occurredAt, lineTimes: null, warnings: [] };
  }
  if (hint === 'pstore' || pstoreHeader(text)) {
    return {
      format: 'pstore',
      text: stripPstoreHeader(text),
      host: null,
      occurredAt: null,
      lineTimes: null,
      warnings: [],
    };
  }
  return { format: hint ?? 'console', text, host: null, occurredAt: null, lineTimes: null, warnings: [] };
}
