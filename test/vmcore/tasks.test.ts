// listTasks() and taskLayout() on answers shaped like crash 8.0.2's on Debian 6.1 (the exact forms
// recorded on the fixture dumps: gdb's `$1 = \n {...}`, `list -h` addresses, `rd -8 -x` byte lines),
// through a fake session that answers by command. The real crash is exercised in live-scenarios.
import { describe, expect, it } from 'vitest';
import type { CrashSession } from '../../src/vmcore/session.ts';
import { findErrors } from '../../src/vmcore/session.ts';
import { layoutExpression, listTasks, parseLayoutValues, taskLayout } from '../../src/vmcore/tasks.ts';

type Answer = string | ((cmd: string) => string);

/** A session that answers from a table (exact command -> output); unknown commands are crash errors. */
function fakeSession(answers: Map<string, Answer>): { session: CrashSession; asked: string[] } {
  const asked: string[] = [];
  const session = {
    async run(command: string, opts: { check?: boolean } = {}) {
      asked.push(command);
      const a = answers.get(command);
      const output =
        a === undefined
          ? `${command.split(' ')[0]}: unknown command in this fake\n`
          : typeof a === 'string'
            ? a
            : a(command);
      const errors = findErrors(command, output);
      if (opts.check && errors.length) throw new Error(`crash: '${command}' failed: ${errors.join('; ')}`);
      return { command, output, errors, durationMs: 0 };
    },
  } as unknown as CrashSession;
  return { session, asked };
}

/** `rd -8 -x ADDR N` line(s) for the given bytes, 16 per line, as crash prints them. */
function rdBytes(addr: bigint, bytes: number[]): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 16) {
    const chunk = bytes.slice(i, i + 16).map((b) => b.toString(16).padStart(2, '0'));
    out += `${(addr + BigInt(i)).toString(16)}:  ${chunk.join(' ')} \n`;
  }
  return out;
}

const LAYOUT_61 = '$4 = \n {2416, 4, 2420, 4, 2976, 16, 32, 8, 24, 4}\n';

/** A task_struct image: the bytes listTasks reads, keyed by offset. */
function taskImage(
  pid: number,
  tgid: number,
  comm: string,
  state: number,
  stack: bigint,
): Map<number, number> {
  const m = new Map<number, number>();
  const put = (off: number, v: bigint, n: number) => {
    for (let i = 0; i < n; i++) m.set(off + i, Number((v >> BigInt(8 * i)) & 0xffn));
  };
  put(2416, BigInt.asUintN(32, BigInt(pid)), 4);
  put(2420, BigInt(tgid), 4);
  const c = Buffer.alloc(16);
  c.write(comm, 'utf8');
  for (let i = 0; i < 16; i++) m.set(2976 + i, c[i]!);
  put(24, BigInt(state), 4);
  put(32, stack, 8);
  return m;
}

/** Answers `rd -8 -x ADDR N` from task images at their addresses. */
function rdFrom(images: Map<bigint, Map<number, number>>) {
  return (cmd: string) => {
    const [, , , a, n] = cmd.split(' ');
    const addr = BigInt(`0x${a}`);
    for (const [base, img] of images) {
      const off = Number(addr - base);
      if (off < 0 || off > 4096) continue;
      const bytes: number[] = [];
      for (let i = 0; i < Number(n); i++) bytes.push(img.get(off + i) ?? 0xee);
      return rdBytes(addr, bytes);
    }
    return `rd: invalid kernel virtual address: ${a}  type: "64-bit KVADDR"\n`;
  };
}

/** The three `rd` reads listTasks makes per task under LAYOUT_61, answered from the task images. */
function answerTaskReads(a: Map<string, Answer>, addrs: bigint[], images: Map<bigint, Map<number, number>>) {
  for (const addr of addrs)
    for (const [off, n] of [
      [24, 16],
      [2416, 8],
      [2976, 16],
    ] as const)
      a.set(`rd -8 -x ${(addr + BigInt(off)).toString(16)} ${n}`, rdFrom(images));
}

describe('taskLayout', () => {
  it('reads offsets and sizes from one gdb expression', async () => {
    const { session, asked } = fakeSession(
      new Map([[layoutExpression(['pid', 'tgid', 'comm', 'stack', '__state']), LAYOUT_61]]),
    );
    expect(await taskLayout(session)).toEqual({
      pid: { name: 'pid', offset: 2416, size: 4 },
      tgid: { name: 'tgid', offset: 2420, size: 4 },
      comm: { name: 'comm', offset: 2976, size: 16 },
      stack: { name: 'stack', offset: 32, size: 8 },
      state: { name: '__state', offset: 24, size: 4 },
    });
    expect(asked).toHaveLength(1);
  });

  it('falls back to `state` on kernels before 5.14, and names what failed when neither exists', async () => {
    const old = layoutExpression(['pid', 'tgid', 'comm', 'stack', 'state']);
    const { session } = fakeSession(new Map([[old, '$1 = {1184, 4, 1188, 4, 1656, 16, 8, 8, 0, 8}\n']]));
    expect((await taskLayout(session)).state).toEqual({ name: 'state', offset: 0, size: 8 });
    const none = fakeSession(new Map());
    await expect(taskLayout(none.session)).rejects.toThrow(
      /cannot read the task_struct layout.*__state.*state/,
    );
  });

  it('parses gdb array output, and nothing else', () => {
    expect(parseLayoutValues('$4 = \n {2416, 4, 2420, 4}')).toEqual([2416, 4, 2420, 4]);
    expect(parseLayoutValues('$4 = {2416, <error>}')).toBeNull();
    expect(parseLayoutValues('p: gdb request failed')).toBeNull();
  });
});

describe('listTasks', () => {
  const head = 0xffffffff9b01aa40n;
  const init = 0xffff8ac0c1210000n;
  const worker = 0xffff8ac0c1212100n;
  const list = (addrs: bigint[]) => `${addrs.map((a) => a.toString(16)).join('\n')}\n`;
  const base = () =>
    new Map<string, Answer>([[layoutExpression(['pid', 'tgid', 'comm', 'stack', '__state']), LAYOUT_61]]);

  it('decodes pid, tgid, comm, state and stack of every task on the list, with 3 rd per task', async () => {
    const images = new Map([
      [head, taskImage(0, 0, 'swapper/0', 0, 0xffffffff9b000000n)],
      [init, taskImage(1, 1, 'init', 2, 0xffffcb0a40010000n)],
      // A comm of 16 characters has no NUL; a comm may hold blanks.
      [worker, taskImage(9, 9, 'kworker/u4:0 abc', 0x402, 0xffffcb0a40050000n)],
    ]);
    const a = base();
    a.set('list task_struct.tasks -h init_task', list([head, init, worker]));
    answerTaskReads(a, [...images.keys()], images);
    const { session, asked } = fakeSession(a);
    const tasks = await listTasks(session);
    expect(tasks).toEqual([
      { task: head.toString(16), pid: 0, tgid: 0, comm: 'swapper/0', state: 0, stack: 'ffffffff9b000000' },
      { task: init.toString(16), pid: 1, tgid: 1, comm: 'init', state: 2, stack: 'ffffcb0a40010000' },
      {
        task: worker.toString(16),
        pid: 9,
        tgid: 9,
        comm: 'kworker/u4:0 abc',
        state: 0x402,
        stack: 'ffffcb0a40050000',
      },
    ]);
    expect(asked.filter((c) => c.startsWith('rd '))).toHaveLength(9);
  });

  it('keeps a task whose memory cannot be read, with the reason', async () => {
    const images = new Map([[head, taskImage(0, 0, 'swapper/0', 0, 1n)]]);
    const a = base();
    a.set('list task_struct.tasks -h init_task', list([head, init]));
    answerTaskReads(a, [head, init], images);
    const tasks = await listTasks(fakeSession(a).session);
    expect(tasks[0]!.comm).toBe('swapper/0');
    expect(tasks[1]).toMatchObject({ task: init.toString(16), pid: -1, comm: '', stack: null });
    expect(tasks[1]!.error).toMatch(/rd -8 -x ffff8ac0c1210018 16: rd: invalid kernel virtual address/);
  });

  it('refuses a task list that loops, and an empty one', async () => {
    const a = base();
    a.set(
      'list task_struct.tasks -h init_task',
      `${list([head])}\nlist: duplicate list entry: ${head.toString(16)}\n`,
    );
    a.set(`rd -8 -x ${(head + 24n).toString(16)} 16`, rdFrom(new Map([[head, taskImage(0, 0, 's', 0, 1n)]])));
    await expect(listTasks(fakeSession(a).session)).rejects.toThrow(/duplicate list entry/);
    const b = base();
    b.set('list task_struct.tasks -h init_task', '\n');
    await expect(listTasks(fakeSession(b).session)).rejects.toThrow(/task list from init_task is empty/);
  });
});
