// fs (inode life cycle) and sched (task) invariants: the checks on hand-made facts, and the source
// facts each rule rests on, re-read from Debian's linux-source-6.1 tree ($KTRIAGE_LINUX_SRC).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  atFunction,
  type CrashSite,
  type Invariant,
  invariantsFor,
  type ObjectFacts,
  PF_IDLE,
  parseKernelVersion,
} from '../../src/knowledge/index.ts';
import { linuxSrc } from '../support/linux-src.ts';

const v61 = parseKernelVersion('6.1.0-56-amd64')!;

function facts(
  type: string,
  fields: Record<string, bigint>,
  flags: string[] | null,
  site: Partial<CrashSite> = {},
): ObjectFacts {
  return {
    type,
    address: 'ffff8b02c1214200',
    flags: flags ? new Set(flags) : null,
    field: (p) => fields[p] ?? null,
    related: {},
    site: {
      panicTask: 'ffff8b02c1214200',
      panicCpu: 1,
      stackPointers: [0xffffcdc5c0013bb8n, 0xffffcdc5c0013bc8n],
      threadSize: 16384n,
      functions: [],
      argumentOf: [],
      ...site,
    },
  };
}
const inv = (type: string, id: string): Invariant => invariantsFor(type, v61).find((i) => i.id === id)!;

describe('sched invariants (task_struct)', () => {
  const onCpu = inv('task_struct', 'task_struct.panic-task-on-cpu');
  const queued = inv('task_struct', 'task_struct.running-is-queued');
  const ownStack = inv('task_struct', 'task_struct.backtrace-on-own-stack');

  it('the panic task is on_cpu on the crashing CPU (6.1 thread_info.cpu, 4.19-style task_struct.cpu)', () => {
    const ok = facts('task_struct', { on_cpu: 1n, 'thread_info.cpu': 1n }, null);
    expect(onCpu.applies!(ok)).toBe(true);
    expect(onCpu.check(ok)).toMatchObject({ status: 'holds', observed: 'on_cpu = 1, task_cpu = 1' });
    expect(onCpu.check(facts('task_struct', { on_cpu: 1n, cpu: 0n }, null)).status).toBe('violated');
    expect(onCpu.check(facts('task_struct', { on_cpu: 0n, 'thread_info.cpu': 1n }, null))).toMatchObject({
      status: 'violated',
      expected: 'on_cpu = 1, task_cpu = 1',
    });
    expect(onCpu.check(facts('task_struct', { 'thread_info.cpu': 1n }, null)).status).toBe('unknown');
    // Another task: the rule says nothing about it.
    expect(onCpu.applies!(facts('task_struct', {}, null, { panicTask: 'ffff1111' }))).toBe(false);
  });

  it('a TASK_RUNNING task is queued, except idle tasks and inside wake_up_new_task', () => {
    const t = (state: bigint, onRq: bigint, flags = 0x400100n, functions: string[] = []) =>
      facts('task_struct', { __state: state, on_rq: onRq, flags }, null, { functions });
    expect(queued.check(t(0n, 1n)).status).toBe('holds');
    expect(queued.check(t(0n, 2n)).status).toBe('holds');
    expect(queued.check(t(0n, 0n))).toMatchObject({
      status: 'violated',
      observed: 'TASK_RUNNING, on_rq = 0',
    });
    expect(queued.check(t(0n, 0n, 0x400100n, ['wake_up_new_task'])).status).toBe('unknown');
    expect(queued.applies!(t(0n, 0n, 0x400100n | PF_IDLE))).toBe(false);
    // TASK_UNINTERRUPTIBLE: may be queued (before schedule()) or not; no constraint.
    expect(queued.applies!(t(2n, 0n))).toBe(false);
    // 4.19 names the field `state`.
    expect(queued.check(facts('task_struct', { state: 0n, on_rq: 0n }, null)).status).toBe('violated');
  });

  it("the panic task's backtrace runs on its own stack", () => {
    const f = (stack: bigint) => facts('task_struct', { stack }, null);
    expect(ownStack.check(f(0xffffcdc5c0010000n))).toMatchObject({
      status: 'holds',
      observed: '2 of 2 frame SPs in the stack at 0xffffcdc5c0010000',
    });
    // The stack one THREAD_SIZE higher does not hold these frames.
    expect(ownStack.check(f(0xffffcdc5c0014000n)).status).toBe('violated');
    expect(ownStack.check(facts('task_struct', {}, null)).status).toBe('unknown');
    expect(ownStack.applies!(facts('task_struct', {}, null, { stackPointers: [] }))).toBe(false);
  });
});

describe('fs invariants (inode)', () => {
  const evicted = inv('inode', 'inode.freeing-when-evicted');
  const cleared = inv('inode', 'inode.clear-implies-freeing');
  const unref = inv('inode', 'inode.freeing-unreferenced');

  it('an inode being evicted has I_FREEING; the rule is about the argument of evict-side functions', () => {
    expect(evicted.atArgument).toBe(true);
    expect(evicted.at.some((p) => atFunction(p, 'nfs_evict_inode'))).toBe(true);
    expect(evicted.at.some((p) => atFunction(p, 'ext4_evict_inode.cold'))).toBe(true);
    expect(evicted.at.some((p) => atFunction(p, 'evict_inodes'))).toBe(false);
    expect(evicted.check(facts('inode', {}, ['I_FREEING', 'I_CLEAR'])).status).toBe('holds');
    expect(evicted.check(facts('inode', {}, ['I_DIRTY_PAGES']))).toMatchObject({
      status: 'violated',
      observed: 'I_FREEING clear',
    });
    expect(evicted.check(facts('inode', {}, null)).status).toBe('unknown');
  });

  it('I_CLEAR only with I_FREEING', () => {
    expect(cleared.applies!(facts('inode', {}, ['I_SYNC']))).toBe(false);
    expect(cleared.check(facts('inode', {}, ['I_FREEING', 'I_CLEAR'])).status).toBe('holds');
    expect(cleared.check(facts('inode', {}, ['I_CLEAR', 'I_DIRTY_SYNC'])).status).toBe('violated');
  });

  it('an inode being freed has no references', () => {
    expect(unref.applies!(facts('inode', {}, ['I_REFERENCED']))).toBe(false);
    expect(unref.check(facts('inode', { 'i_count.counter': 0n }, ['I_FREEING'])).status).toBe('holds');
    expect(unref.check(facts('inode', { 'i_count.counter': 1n }, ['I_WILL_FREE']))).toMatchObject({
      status: 'violated',
      observed: 'I_WILL_FREE set, i_count = 1',
    });
    expect(unref.check(facts('inode', {}, ['I_FREEING'])).status).toBe('unknown');
  });
});

// --- The source facts behind the rules, in Debian's 6.1 tree -------------------------------------

const SRC = linuxSrc();
const needSrc = SRC === null && process.env.KTRIAGE_REQUIRE_ALL === '1';

/** Lines of a C file with the function each is in (kernel style: the body opens with `{` in column 0). */
function withFunctions(file: string): { line: string; func: string | null }[] {
  const out: { line: string; func: string | null }[] = [];
  let candidate: string | null = null;
  let func: string | null = null;
  for (const line of readFileSync(path.join(SRC!, file), 'utf8').split('\n')) {
    if (func === null) {
      const m = /^[A-Za-z_]/.test(line) ? /(\w+)\(/.exec(line) : null;
      if (m) candidate = m[1]!;
      if (line.startsWith('{')) func = candidate;
      else if (line.startsWith(';') || line.endsWith(';')) candidate = null;
    } else if (line.startsWith('}')) {
      func = null;
      candidate = null;
    }
    out.push({ line, func });
  }
  return out;
}
const funcsWhere = (file: string, re: RegExp) =>
  [
    ...new Set(
      withFunctions(file)
        .filter((l) => re.test(l.line))
        .map((l) => l.func),
    ),
  ].sort();
const body = (file: string, func: string) =>
  withFunctions(file)
    .filter((l) => l.func === func)
    .map((l) => l.line)
    .join('\n');

describe.skipIf(SRC === null && !needSrc)("the rules' premises in Debian's linux-source-6.1", () => {
  it('has the tree', () => {
    if (!SRC) throw new Error('KTRIAGE_REQUIRE_ALL=1 but no linux-source tree ($KTRIAGE_LINUX_SRC)');
    expect(existsSync(path.join(SRC, 'fs/inode.c'))).toBe(true);
  });

  it('fs/inode.c: I_FREEING is set only with i_count 0; I_CLEAR only by clear_inode with I_FREEING; evict checks it', () => {
    if (!SRC) return;
    expect(funcsWhere('fs/inode.c', /i_state(\s*\|?=\s*|, state \| )I_FREEING\b/)).toEqual([
      'clear_inode',
      'evict_inodes',
      'inode_lru_isolate',
      'invalidate_inodes',
      'iput_final',
    ]);
    for (const f of ['evict_inodes', 'inode_lru_isolate', 'invalidate_inodes'])
      expect(body('fs/inode.c', f), f).toMatch(/if \(atomic_read\(&inode->i_count\)/);
    expect(body('fs/inode.c', 'iput')).toMatch(
      /atomic_dec_and_lock\(&inode->i_count, &inode->i_lock\)[\s\S]*iput_final\(inode\)/,
    );
    expect(body('fs/inode.c', 'clear_inode')).toMatch(/inode->i_state = I_FREEING \| I_CLEAR;/);
    for (const dir of ['fs', 'fs/nfs', 'fs/ext4']) {
      for (const f of readdirSync(path.join(SRC, dir)).filter((x) => x.endsWith('.c'))) {
        // Code only: comments mention ->evict_inode() too.
        const text = readFileSync(path.join(SRC, dir, f), 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/\/\/.*$/gm, '');
        if (`${dir}/${f}` !== 'fs/inode.c')
          expect(text, `${dir}/${f} writes I_CLEAR`).not.toMatch(/i_state\s*(\|=|=)[^;]*I_CLEAR/);
        if (`${dir}/${f}` !== 'fs/inode.c')
          expect(text, `${dir}/${f} calls ->evict_inode`).not.toMatch(/->evict_inode\(/);
      }
    }
    for (const f of ['evict', 'clear_inode'])
      expect(body('fs/inode.c', f), f).toContain('BUG_ON(!(inode->i_state & I_FREEING));');
    expect(funcsWhere('fs/inode.c', /->evict_inode\(/)).toEqual(['evict']);
    expect(body('fs/inode.c', 'igrab')).toMatch(
      /if \(!\(inode->i_state & \(I_FREEING\|I_WILL_FREE\)\)\) \{\s*__iget\(inode\)/,
    );
  });

  it('kernel/sched/core.c: who writes TASK_RUNNING, on_rq and on_cpu', () => {
    if (!SRC) return;
    expect(funcsWhere('kernel/sched/core.c', /->__state, TASK_RUNNING\)|->__state = TASK_RUNNING/)).toEqual([
      '__schedule',
      'init_idle',
      'try_to_wake_up',
      'ttwu_do_wakeup',
      'wake_up_new_task',
    ]);
    expect(body('kernel/sched/core.c', 'ttwu_do_activate')).toMatch(/activate_task\([\s\S]*ttwu_do_wakeup\(/);
    expect(body('kernel/sched/core.c', 'activate_task')).toContain('p->on_rq = TASK_ON_RQ_QUEUED;');
    expect(body('kernel/sched/core.c', 'deactivate_task')).toContain(
      'p->on_rq = (flags & DEQUEUE_SLEEP) ? 0 : TASK_ON_RQ_MIGRATING;',
    );
    // __schedule dequeues for sleep only when prev's state is not TASK_RUNNING (prev_state != 0).
    expect(body('kernel/sched/core.c', '__schedule')).toMatch(
      /&& prev_state\) \{[\s\S]*deactivate_task\(rq, prev, DEQUEUE_SLEEP/,
    );
    expect(body('kernel/sched/core.c', 'prepare_task')).toContain('WRITE_ONCE(next->on_cpu, 1);');
    expect(body('kernel/sched/core.c', 'init_idle')).toMatch(/idle->on_cpu = 1;/);
    const h = readFileSync(path.join(SRC, 'include/linux/sched.h'), 'utf8');
    expect(h).toMatch(new RegExp(`#define PF_IDLE\\s+0x${PF_IDLE.toString(16).padStart(8, '0')}\\b`));
    expect(h).toMatch(/return READ_ONCE\(task_thread_info\(p\)->cpu\);/);
    const sh = readFileSync(path.join(SRC, 'kernel/sched/sched.h'), 'utf8');
    expect(sh).toMatch(/#define TASK_ON_RQ_QUEUED\s+1\b/);
    expect(sh).toMatch(/#define TASK_ON_RQ_MIGRATING\s+2\b/);
  });
});
