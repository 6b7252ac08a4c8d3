// Small crash outputs: `sys`, `log`, `list`, `task`, `ps`, `sym`.
import { CrashParseError, canonHex, lines } from './common.ts';
import { parseStruct, type StructValue } from './struct.ts';

export interface SysInfo {
  /** Every `KEY: value` line, keys upper case as printed (`LOAD AVERAGE`). */
  fields: Record<string, string>;
  kernel: string | null;
  dumpfile: string | null;
  cpus: number | null;
  release: string | null;
  version: string | null;
  machine: string | null;
  panic: string | null;
  tainted: boolean;
}

/** Parses `sys` output. */
export function parseSys(text: string): SysInfo {
  const fields: Record<string, string> = {};
  for (const raw of lines(text)) {
    const m = /^\s*([A-Z][A-Z ]*[A-Z]):\s(.*)$/.exec(raw);
    if (m && !m[1]!.startsWith('WARNING')) fields[m[1]!] = m[2]!.trim();
  }
  if (Object.keys(fields).length === 0) throw new CrashParseError('sys', 'no `KEY: value` lines');
  const panic = fields.PANIC ?? null;
  return {
    fields,
    kernel: fields.KERNEL?.replace(/\s+\[TAINTED\]$/, '') ?? null,
    dumpfile: fields.DUMPFILE ?? null,
    cpus: fields.CPUS ? Number.parseInt(fields.CPUS, 10) : null,
    release: fields.RELEASE ?? null,
    version: fields.VERSION ?? null,
    machine: fields.MACHINE?.split(/\s+/)[0] ?? null,
    panic: panic === null ? null : panic.replace(/^"|"$/g, ''),
    tainted: /\[TAINTED\]/.test(fields.KERNEL ?? ''),
  };
}

export interface LogLine {
  /** Seconds since boot (`[    3.118648]`), or null. */
  time: number | null;
  text: string;
}

/** Parses `log` output into lines (continuation lines keep time null). */
export function parseCrashLog(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of lines(text)) {
    const m = /^\[\s*(\d+\.\d+)\]\s?(.*)$/.exec(raw);
    if (m) out.push({ time: Number(m[1]), text: m[2]! });
    else if (raw.trim() !== '') out.push({ time: null, text: raw });
  }
  return out;
}

export interface ListEntry {
  address: string;
  /** `list -s T.field` output for this entry. */
  value: StructValue | null;
}

/** Parses `list [-s T[.f]] [-o OFF] START` output. */
export function parseList(text: string): { entries: ListEntry[]; duplicate: string | null } {
  const entries: ListEntry[] = [];
  let buf: string[] = [];
  let duplicate: string | null = null;
  const flush = () => {
    const e = entries[entries.length - 1];
    if (e && buf.length > 0) {
      const blocks = parseStruct(buf.join('\n'));
      const b = blocks[0];
      if (b && b.value.kind === 'struct') e.value = b.value;
    }
    buf = [];
  };
  for (const raw of lines(text)) {
    const dup = /duplicate list entry:\s+([0-9a-f]+)/.exec(raw);
    if (dup) {
      duplicate = canonHex(dup[1]!);
      continue;
    }
    const m = /^([0-9a-f]{8,16})\s*$/.exec(raw);
    if (m) {
      flush();
      entries.push({ address: canonHex(m[1]!), value: null });
    } else if (raw.trim() !== '') buf.push(raw);
  }
  flush();
  return { entries, duplicate };
}

export interface TaskHeader {
  pid: number;
  task: string;
  cpu: number | null;
  command: string;
}

/** Parses the `PID: N  TASK: ADDR  CPU: N  COMMAND: "x"` header line. */
export function parseTaskHeader(line: string): TaskHeader | null {
  const m = /PID:\s+(\d+)\s+TASK:\s+([0-9a-f]+)\s+CPU:\s+(\d+|-)\s+COMMAND:\s+"(.*)"/.exec(line);
  if (!m) return null;
  return {
    pid: Number(m[1]),
    task: canonHex(m[2]!),
    cpu: m[3] === '-' ? null : Number(m[3]),
    command: m[4]!,
  };
}

/** Parses `task [-R f,g] [PID|TASK]` output: the header and the task_struct (or the selected members). */
export function parseTask(text: string): { header: TaskHeader; task: StructValue }[] {
  const out: { header: TaskHeader; task: StructValue }[] = [];
  let cur: { header: TaskHeader; body: string[] } | null = null;
  const done = () => {
    if (!cur) return;
    const blocks = cur.body.join('\n').trim() === '' ? [] : parseStruct(cur.body.join('\n'));
    const members = blocks.flatMap((b) => (b.value.kind === 'struct' ? b.value.members : []));
    out.push({ header: cur.header, task: { kind: 'struct', members } });
  };
  for (const raw of lines(text)) {
    const h = parseTaskHeader(raw);
    if (h) {
      done();
      cur = { header: h, body: [] };
    } else if (cur) cur.body.push(raw);
  }
  done();
  if (out.length === 0) throw new CrashParseError('task', 'no PID/TASK header');
  return out;
}

export interface PsRow {
  pid: number;
  ppid: number;
  cpu: number;
  task: string;
  state: string;
  comm: string;
  /** `>`: the active task on its CPU. */
  active: boolean;
}

/** Parses `ps` output. */
export function parsePs(text: string): PsRow[] {
  const out: PsRow[] = [];
  for (const raw of lines(text)) {
    const m = /^(>?)\s*(\d+)\s+(\d+)\s+(\d+)\s+([0-9a-f]+)\s+([A-Z]{2})\s+[\d.]+\s+\d+\s+\d+\s+(.*)$/.exec(
      raw,
    );
    if (m) {
      out.push({
        active: m[1] === '>',
        pid: Number(m[2]),
        ppid: Number(m[3]),
        cpu: Number(m[4]),
        task: canonHex(m[5]!),
        state: m[6]!,
        comm: m[7]!.trim(),
      });
    }
  }
  return out;
}

export interface SymInfo {
  address: string;
  type: string;
  symbol: string;
  module: string | null;
  file: string | null;
  line: number | null;
}

/** Parses `sym NAME|ADDR`: `ffffffffc0224060 (T) fixture_crash [vmcore_fixture] /path.c: 48`. */
export function parseSym(text: string): SymInfo[] {
  const out: SymInfo[] = [];
  for (const raw of lines(text)) {
    const m = /^([0-9a-f]{8,16})\s+\((\w)\)\s+(\S+)(?:\s+\[(\S+)\])?(?:\s+(\S+):\s+(\d+))?\s*$/.exec(
      raw.trim(),
    );
    if (m) {
      out.push({
        address: canonHex(m[1]!),
        type: m[2]!,
        symbol: m[3]!,
        module: m[4] ?? null,
        file: m[5] ?? null,
        line: m[6] ? Number(m[6]) : null,
      });
    }
  }
  return out;
}

/**
 * The VMCOREINFO note as `help -n` prints it (in the kdump sub-header or the ELF notes):
 * `NUMBER(SECTION_SIZE_BITS)=27`, `LENGTH(node_data)=1024`, `OSRELEASE=6.1.0-50-amd64`. Keys are
 * kept as printed; later duplicates win. Returns an empty record when the output has no such lines.
 */
export function parseVmcoreinfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of lines(text)) {
    const t = raw.trim();
    const eq = t.indexOf('=');
    if (eq <= 0) continue;
    const key = t.slice(0, eq);
    const value = t.slice(eq + 1);
    // Keys are upper-case words with an optional (name) or (type.member) argument; no spaces.
    if (!/^[A-Z][A-Z0-9_-]*(?:\([\w.]+\))?$/.test(key) || /\s/.test(value) || value === '') continue;
    out[key] = value;
  }
  return out;
}

/** A number from a VMCOREINFO record (`NUMBER(x)` values are printed with %d, LENGTH with %lu). */
export function vmcoreinfoNumber(info: Record<string, string>, key: string): number | null {
  const v = info[key];
  if (v === undefined || !/^-?\d+$/.test(v)) return null;
  return Number(v);
}
