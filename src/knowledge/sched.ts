// Scheduler facts: task_struct state bits (include/linux/sched.h TASK_*), kernel stack size.
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
