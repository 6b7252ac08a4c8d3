// Task enumeration that works where crash 8.0.2 does not: on Linux 6.1 crash finds only the
// active tasks ("WARNING: active task ... not found in PID hash", TASKS: 3; `ps` and `foreach`
// show swapper/N and the panicking task), because 6.1 replaced the PID hash structures crash's
// refresh code expects. Walking init_task.tasks (the list every thread-group leader is on, as
// for_each_process() in include/linux/sched/signal.h does) finds them all.
import { CrashError } from './errors.ts';
import { parseList, parseRd } from './parse/index.ts';
import type { CrashSession } from './session.ts';

export interface TaskInfo {
  /** task_struct address, canonical hex as in ./parse (lower case, no 0x). */
  task: string;
  pid: number;
  tgid: number | null;
  comm: string;
  /** task_struct.__state (6.1) or .state (older kernels). */
  state: number | null;
  /** Base of the task's kernel stack (task_struct.stack), canonical hex. */
  stack: string | null;
  /** Why the task's fields could not be read (then pid is -1 and the rest null/empty). */
  error?: string;
}

/** Where one task_struct member lives. */
export interface FieldLayout {
  name: string;
  offset: number;
  size: number;
}

/** The task_struct members listTasks() reads, as this kernel lays them out. */
export interface TaskLayout {
  pid: FieldLayout;
  tgid: FieldLayout;
  comm: FieldLayout;
  stack: FieldLayout;
  /** `__state` (5.14+) or `state`. */
  state: FieldLayout;
}

const TASK = '((struct task_struct *)0)';

/** The gdb expression that prints offset and size of every member, as one array literal. */
export function layoutExpression(members: string[]): string {
  return `p {${members.map((m) => `(long)&${TASK}->${m}, (long)sizeof(${TASK}->${m})`).join(', ')}}`;
}

/** Parses `$1 = {2416, 4, 2420, 4, ...}` (gdb may break the line after `=`). */
export function parseLayoutValues(output: string): number[] | null {
  const open = output.indexOf('{');
  const close = output.indexOf('}', open + 1);
  if (open < 0 || close < 0) return null;
  const vals = output
    .slice(open + 1, close)
    .split(',')
    .map((x) => x.trim());
  return vals.every((v) => /^\d+$/.test(v)) ? vals.map(Number) : null;
}

/**
 * Reads the offsets and sizes of the members listTasks() needs, once per session, with ONE gdb
 * expression (about 1 s; `struct task_struct -o` takes 4-5 s, one `struct task_struct.M -o` per
 * member 1-3 s each). Kernels before 5.14 call `__state` `state`.
 */
export async function taskLayout(session: CrashSession, timeoutMs = 120_000): Promise<TaskLayout> {
  const tried: string[] = [];
  for (const state of ['__state', 'state']) {
    const members = ['pid', 'tgid', 'comm', 'stack', state];
    const r = await session.run(layoutExpression(members), { timeoutMs });
    const v = r.errors.length ? null : parseLayoutValues(r.output);
    if (!v || v.length !== members.length * 2) {
      tried.push(`${state}: ${r.errors[0] ?? r.output.trim().slice(0, 200)}`);
      continue;
    }
    const f = (i: number): FieldLayout => ({ name: members[i]!, offset: v[2 * i]!, size: v[2 * i + 1]! });
    return { pid: f(0), tgid: f(1), comm: f(2), stack: f(3), state: f(4) };
  }
  throw new CrashError(
    'command-error',
    `crash: cannot read the task_struct layout (pid, tgid, comm, stack, __state or state): ${tried.join('; ')}`,
    { input: 'task_struct' },
  );
}

/** Byte ranges of the layout's fields, merged when less than `gap` bytes apart (one `rd` each). */
function readRanges(layout: TaskLayout, gap = 64): { start: number; end: number }[] {
  const fields = Object.values(layout).sort((a, b) => a.offset - b.offset);
  const out: { start: number; end: number }[] = [];
  for (const f of fields) {
    const last = out[out.length - 1];
    if (last && f.offset - last.end < gap) last.end = Math.max(last.end, f.offset + f.size);
    else out.push({ start: f.offset, end: f.offset + f.size });
  }
  return out;
}

/** Little-endian unsigned value of `size` bytes (x86_64 and arm64 kernels are little-endian). */
function le(bytes: number[], size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] ?? 0);
  return v;
}

function signed32(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/**
 * Every process (thread-group leader) of the dump, init_task first. The list walk reads only the
 * `next` pointers; the fields come from one `rd -8` per task and field cluster, decoded here with
 * the offsets from taskLayout(). (`list -S` did the same inside crash but took 18-36 s on a loaded
 * machine; `-s` asks gdb for every member of every task and takes minutes.)
 */
export async function listTasks(
  session: CrashSession,
  timeoutMs = 120_000,
  layout?: TaskLayout,
): Promise<TaskInfo[]> {
  const lay = layout ?? (await taskLayout(session, timeoutMs));
  // A corrupt list (crash: "duplicate list entry", an unreadable next pointer) throws here.
  const r = await session.run('list task_struct.tasks -h init_task', { timeoutMs, check: true });
  const { entries } = parseList(r.output);
  if (entries.length === 0)
    throw new CrashError(
      'command-error',
      `crash: the task list from init_task is empty:\n${r.output.trim()}`,
      {
        input: 'list task_struct.tasks -h init_task',
      },
    );
  const ranges = readRanges(lay);
  const out: TaskInfo[] = [];
  for (const e of entries) {
    const base = BigInt(`0x${e.address}`);
    const bytes = new Map<number, number>(); // offset in task_struct -> byte
    let error: string | undefined;
    for (const { start, end } of ranges) {
      const cmd = `rd -8 -x ${(base + BigInt(start)).toString(16)} ${end - start}`;
      const rr = await session.run(cmd, { timeoutMs });
      if (rr.errors.length) {
        error = `${cmd}: ${rr.errors.join('; ')}`;
        break;
      }
      for (const line of parseRd(rr.output)) {
        let at = Number(BigInt(`0x${line.address}`) - base);
        for (const w of line.words) bytes.set(at++, Number.parseInt(w, 16));
      }
    }
    const get = (f: FieldLayout): number[] | null => {
      const b: number[] = [];
      for (let i = 0; i < f.size; i++) {
        const v = bytes.get(f.offset + i);
        if (v === undefined) return null;
        b.push(v);
      }
      return b;
    };
    const pid = get(lay.pid);
    const tgid = get(lay.tgid);
    const comm = get(lay.comm);
    const state = get(lay.state);
    const stack = get(lay.stack);
    if (!error && (!pid || !comm)) error = `task ${e.address}: rd returned fewer bytes than asked`;
    if (error) {
      out.push({ task: e.address, pid: -1, tgid: null, comm: '', state: null, stack: null, error });
      continue;
    }
    const nul = comm!.indexOf(0);
    out.push({
      task: e.address,
      pid: signed32(le(pid!, lay.pid.size)),
      tgid: tgid ? signed32(le(tgid, lay.tgid.size)) : null,
      comm: Buffer.from(nul < 0 ? comm! : comm!.slice(0, nul)).toString('utf8'),
      state: state ? Number(le(state, lay.state.size)) : null,
      stack: stack ? le(stack, lay.stack.size).toString(16) : null,
    });
  }
  return out;
}

export interface StackSymbol {
  /** Stack slot address, canonical hex. */
  address: string;
  symbol: string;
  offset: number;
}

/**
 * Every word on a task's kernel stack that crash prints as a symbol (`rd -s`), from the top of
 * the stack (outermost) down: what `bt -t` would show. crash 8.0.2 cannot `bt` a task missing from
 * its task table (6.1: "invalid task or pid value"), so this is how to see what a sleeping task
 * was doing. Stale return addresses are included: a function seen here was called, not
 * necessarily still running.
 */
export async function stackSymbols(
  session: CrashSession,
  task: Pick<TaskInfo, 'stack' | 'task'>,
  stackSize = 16384,
  timeoutMs = 120_000,
): Promise<StackSymbol[]> {
  if (!task.stack) throw new Error(`task ${task.task}: stack base unknown`);
  const r = await session.run(`rd -s ${task.stack} ${stackSize / 8}`, { timeoutMs, check: true });
  const out: StackSymbol[] = [];
  for (const line of r.output.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 8) continue;
    let addr = BigInt(`0x${line.slice(0, colon).trim()}`);
    for (const tok of line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)) {
      if (tok === '') continue;
      const m = /^([A-Za-z_][\w.$]*)(?:\+(\d+))?$/.exec(tok);
      if (m && !/^[0-9a-f]{16}$/.test(tok)) {
        out.push({ address: addr.toString(16), symbol: m[1]!, offset: Number(m[2] ?? 0) });
      }
      addr += 8n;
    }
  }
  return out.reverse();
}
