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
  let r = await session.run('list task_struct.tasks -S task_struct.pid,tgid,comm,__state -h init_task', {
    timeoutMs,
  });
  if (r.errors.length)
    r = await session.run('list task_struct.tasks -S task_struct.pid,tgid,comm,state -h init_task', {
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
  }));
}
