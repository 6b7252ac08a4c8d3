// Scheduler facts: task_struct state bits (include/linux/sched.h TASK_*), kernel stack size, and
// invariants of a task as the scheduler maintains them (kernel/sched/core.c).
import type { Invariant, ObjectFacts } from './nfs.ts';
import { type FlagLayout, type KernelVersion, pickByVersion } from './version.ts';

const BASE = [
  { bit: 0, name: 'TASK_INTERRUPTIBLE' },
  { bit: 1, name: 'TASK_UNINTERRUPTIBLE' },
  { bit: 2, name: '__TASK_STOPPED' },
  { bit: 3, name: '__TASK_TRACED' },
  { bit: 4, name: 'EXIT_DEAD' },
  { bit: 5, name: 'EXIT_ZOMBIE' },
  { bit: 6, name: 'TASK_PARKED' },
  { bit: 7, name: 'TASK_DEAD' },
  { bit: 8, name: 'TASK_WAKEKILL' },
  { bit: 9, name: 'TASK_WAKING' },
  { bit: 10, name: 'TASK_NOLOAD' },
  { bit: 11, name: 'TASK_NEW' },
];

/** task_struct.state (4.19) / __state (6.1) bits (include/linux/sched.h); 0 is TASK_RUNNING. */
export const TASK_STATE_LAYOUTS: FlagLayout[] = [
  {
    field: 'task_struct.state',
    enumName: 'TASK_* (include/linux/sched.h)',
    range: { from: '4.19', until: '4.20' },
    bits: BASE,
    provenance: { readIn: ['v4.19.1'], files: ['include/linux/sched.h'] },
  },
  {
    field: 'task_struct.__state',
    enumName: 'TASK_* (include/linux/sched.h)',
    range: { from: '6.1', until: '6.2' },
    bits: [
      ...BASE,
      { bit: 12, name: 'TASK_RTLOCK_WAIT' },
      { bit: 13, name: 'TASK_FREEZABLE' },
      { bit: 15, name: 'TASK_FROZEN' },
    ],
    provenance: { readIn: ['Debian linux-source-6.1 (6.1.176)'], files: ['include/linux/sched.h'] },
  },
];

/** Task state bit layout for a version (include/linux/sched.h). */
export function taskStateFlags(v: KernelVersion | null): FlagLayout | null {
  return pickByVersion(TASK_STATE_LAYOUTS, v);
}

/** The state field's name: `state` before 5.14, `__state` after (include/linux/sched.h). */
export function taskStateField(v: KernelVersion | null): string {
  return v && (v.major > 5 || (v.major === 5 && v.minor >= 14)) ? '__state' : 'state';
}

/** THREAD_SIZE on x86_64 (arch/x86/include/asm/page_64_types.h): 16 KiB (doubled with KASAN). */
export const X86_64_THREAD_SIZE = 16384n;

/** The base of the kernel stack that contains addr (stacks are THREAD_SIZE aligned, vmapped with VMAP_STACK). */
export function stackBase(addr: bigint, threadSize = X86_64_THREAD_SIZE): bigint {
  return addr & ~(threadSize - 1n);
}

/** PF_IDLE in task_struct.flags (include/linux/sched.h): the per-CPU idle task, never enqueued. */
export const PF_IDLE = 0x2n;

/** task_cpu(p) (include/linux/sched.h): thread_info.cpu with THREAD_INFO_IN_TASK from 5.16, task_struct.cpu before. */
function taskCpu(o: ObjectFacts): bigint | null {
  return o.field('thread_info.cpu') ?? o.field('cpu');
}

function taskState(o: ObjectFacts): bigint | null {
  return o.field('__state') ?? o.field('state');
}

const SCHED_6_1 = {
  readIn: ['Debian linux-source-6.1 (6.1.192)'],
  files: ['kernel/sched/core.c', 'include/linux/sched.h'],
};

/** Invariants of struct task_struct (kernel/sched/core.c), checked against Debian's 6.1 source. */
export const TASK_INVARIANTS: Invariant[] = [
  {
    id: 'task_struct.panic-task-on-cpu',
    type: 'task_struct',
    at: [],
    applies: (o) => o.site?.panicTask === o.address,
    statement:
      'The task that was running on the crashing CPU is marked as running there: on_cpu == 1 and task_cpu() == that CPU',
    why: 'prepare_task() sets next->on_cpu = 1 before context_switch(), and finish_task() clears prev->on_cpu only after the switch (kernel/sched/core.c); init_idle() sets on_cpu = 1 for the idle tasks. task_cpu() reads thread_info.cpu (include/linux/sched.h), which __set_task_cpu() sets before the task can run on that CPU.',
    range: { from: '6.1', until: '6.2' },
    provenance: SCHED_6_1,
    check(o) {
      const onCpu = o.field('on_cpu');
      const cpu = taskCpu(o);
      const want = o.site?.panicCpu ?? null;
      const expected = `on_cpu = 1, task_cpu = ${want ?? 'the crashing CPU'}`;
      if (onCpu === null || cpu === null)
        return {
          status: 'unknown',
          observed: `on_cpu ${onCpu ?? 'unknown'}, task_cpu ${cpu ?? 'unknown'}`,
          expected,
        };
      const ok = onCpu === 1n && (want === null || cpu === BigInt(want));
      return {
        status: ok ? 'holds' : 'violated',
        observed: `on_cpu = ${onCpu}, task_cpu = ${cpu}`,
        expected,
      };
    },
    ifViolated:
      'The task backtraced as the panic task was not the one running on that CPU: the task pointer (per-CPU current_task / pcpu_hot.current_task) or the task_struct is corrupt, or the stack belongs to another task (a stack pivot or overflow into a neighbour). Compare `ps -m` and `runq -c CPU` with the bt header.',
  },
  {
    id: 'task_struct.running-is-queued',
    type: 'task_struct',
    at: [],
    // The idle task is TASK_RUNNING but never enqueued (init_idle: __sched_fork sets on_rq = 0).
    applies: (o) => {
      const st = taskState(o);
      const fl = o.field('flags');
      return (st === null || st === 0n) && (fl === null || (fl & PF_IDLE) === 0n);
    },
    statement:
      'A task in TASK_RUNNING (other than an idle task) is on a runqueue: on_rq == TASK_ON_RQ_QUEUED (1) or TASK_ON_RQ_MIGRATING (2)',
    why: 'Only ttwu_do_wakeup() (after activate_task() set on_rq = TASK_ON_RQ_QUEUED, or for a task still queued), try_to_wake_up() on current, __schedule() for prev with a signal pending (still queued), init_idle() and wake_up_new_task() write TASK_RUNNING for a task (kernel/sched/core.c); current itself sets it while it runs, hence queued. __schedule() dequeues (on_rq = 0) only a task whose state is not TASK_RUNNING; a migration dequeue leaves on_rq = TASK_ON_RQ_MIGRATING. The one window, wake_up_new_task() between the state write and activate_task(), is under p->pi_lock and the rq lock.',
    range: { from: '6.1', until: '6.2' },
    provenance: SCHED_6_1,
    check(o) {
      const st = taskState(o);
      const onRq = o.field('on_rq');
      const expected = 'on_rq = 1 (TASK_ON_RQ_QUEUED) or 2 (TASK_ON_RQ_MIGRATING)';
      if (st === null || onRq === null)
        return {
          status: 'unknown',
          observed: `state ${st ?? 'unknown'}, on_rq ${onRq ?? 'unknown'}`,
          expected,
        };
      if (onRq === 1n || onRq === 2n)
        return { status: 'holds', observed: `TASK_RUNNING, on_rq = ${onRq}`, expected };
      if (o.site?.functions.includes('wake_up_new_task'))
        return {
          status: 'unknown',
          observed: `TASK_RUNNING, on_rq = ${onRq}, inside wake_up_new_task() (state written before activate_task)`,
          expected,
        };
      return { status: 'violated', observed: `TASK_RUNNING, on_rq = ${onRq}`, expected };
    },
    ifViolated:
      'A runnable task that no runqueue holds will never be scheduled (a lost wakeup) or the task_struct is stale (freed and reused): check `kmem` on it, `runq`, and who wrote __state (`ktriage src writers task_struct.__state`).',
  },
  {
    id: 'task_struct.backtrace-on-own-stack',
    type: 'task_struct',
    at: [],
    applies: (o) => o.site?.panicTask === o.address && o.site.stackPointers.length > 0,
    statement:
      "The panic task's backtrace runs on its own kernel stack: some frame's stack pointer lies in [task.stack, task.stack + THREAD_SIZE)",
    why: 'Kernel entry from user space and kernel threads run on the task stack (task_stack_page(), include/linux/sched/task_stack.h; allocated by alloc_thread_stack_node() in kernel/fork.c); interrupts and exceptions may switch to per-CPU stacks, but the backtrace continues on the task stack below them.',
    range: { from: '4.19', until: '6.2' },
    provenance: {
      readIn: ['Debian linux-source-6.1 (6.1.192)'],
      files: ['include/linux/sched/task_stack.h', 'kernel/fork.c'],
    },
    check(o) {
      const stack = o.field('stack');
      const site = o.site!;
      const expected = `a frame SP in [stack, stack + 0x${site.threadSize.toString(16)})`;
      if (stack === null) return { status: 'unknown', observed: 'task.stack unknown', expected };
      const inside = site.stackPointers.filter((sp) => sp >= stack && sp < stack + site.threadSize);
      return {
        status: inside.length > 0 ? 'holds' : 'violated',
        observed:
          inside.length > 0
            ? `${inside.length} of ${site.stackPointers.length} frame SPs in the stack at 0x${stack.toString(16)}`
            : `no frame SP in the stack at 0x${stack.toString(16)} (SPs ${site.stackPointers
                .slice(0, 3)
                .map((x) => `0x${x.toString(16)}`)
                .join(', ')})`,
        expected,
      };
    },
    ifViolated:
      "The stack walked is not this task's: the task pointer is wrong, task.stack is corrupt, or the stack pointer left the stack (overflow past the guard page, a pivot). `bt -r` and `task -R stack` show both.",
  },
];
