// Task enumeration that works where crash 8.0.2 does not: on Linux 6.1 crash finds only the
// active tasks ("WARNING: active task ... not found in PID hash", TASKS: 3; `ps` and `foreach`
// show swapper/N and the panicking task), because 6.1 replaced the PID hash structures crash's
// refresh code expects. Walking init_task.tasks (the list every thread-group leader is on, as
// for_each_process() in include/linux/sched/signal.h does) finds them all.
import { getField, parseList, type Scalar, type StructValue } from './parse/index.ts';
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
}

function text(v: StructValue | null, name: string): Scalar | null {
  if (!v) return null;
  const f = getField(v, name);
  return f && f.kind === 'scalar' ? f : null;
}

function num(v: StructValue | null, name: string): number | null {
  const f = text(v, name);
  if (!f) return null;
  if (f.hex !== null) return Number(BigInt(`0x${f.hex}`));
  const n = Number(f.text);
  return Number.isFinite(n) ? n : null;
}

/** "init\000\000..." -> init */
function cString(v: StructValue | null, name: string): string {
  const f = text(v, name);
  const s = f?.string ?? f?.text.replace(/^"|"$/g, '') ?? '';
  const nul = s.indexOf('\\000');
  return nul >= 0 ? s.slice(0, nul) : s;
}

/** Every process (thread-group leader) of the dump, init_task first. */
export async function listTasks(session: CrashSession, timeoutMs = 120_000): Promise<TaskInfo[]> {
  // -S reads the members from memory (fast); -s would ask gdb for every member of every task, which
  // takes minutes on a loaded machine. __state is 5.14+; older kernels call it .state.
  let r = await session.run(
    'list task_struct.tasks -S task_struct.pid,tgid,comm,__state,stack -h init_task',
    {
      timeoutMs,
    },
  );
  if (r.errors.length)
    r = await session.run('list task_struct.tasks -S task_struct.pid,tgid,comm,state,stack -h init_task', {
      timeoutMs,
      check: true,
    });
  const { entries } = parseList(r.output);
  return entries.map((e) => ({
    task: e.address,
    pid: num(e.value, 'pid') ?? -1,
    tgid: num(e.value, 'tgid'),
    comm: cString(e.value, 'comm'),
    state: num(e.value, '__state') ?? num(e.value, 'state'),
    stack: text(e.value, 'stack')?.hex ?? null,
  }));
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
