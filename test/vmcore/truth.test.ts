// The fixture factory's truth builder (test/fixtures/vmcore/truth.ts) on real consoles: the samples
// in ../shared (an earlier version of the fixture module on Debian 6.1) and lines shaped like the
// module's ktriage-truth output.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { baseName, buildTruth } from '../fixtures/vmcore/truth.ts';

const shared = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared');
const sample = (f: string) => readFileSync(path.join(shared, 'samples/crash-8.0.2-debian-6.1', f), 'utf8');

describe('buildTruth', () => {
  it('reads the oops of a real BUG console: RIP, registers, reliable frames only', () => {
    const t = buildTruth(sample('bug-console.txt'), 'bug', '6.1.0-56');
    expect(t.panic.kind).toBe('BUG');
    expect(t.panic.headline).toBe('kernel BUG at /build/module/vmcore_fixture.c:52!');
    // The sample ends at </TASK>, before the panic line: that is reported, not guessed.
    expect(t.panic.message).toBeNull();
    expect(t.problems).toEqual(['no "Kernel panic - not syncing" line on the console']);
    expect(t.crash).toMatchObject({
      function: 'fixture_crash',
      offset: '0x62',
      module: 'vmcore_fixture',
      pid: 1,
      comm: 'init',
      cpu: 0,
    });
    expect(t.release).toBe('6.1.0-56-amd64');
    expect(t.registers.RBX).toBe('ffff8e7542689050');
    expect(t.registers.R8).toBe('0000000000000000');
    expect(t.registers.RSP).toBe('ffffd51540013c50');
    expect(t.frames.slice(0, 5)).toEqual([
      'fixture_crash',
      'fixture_level2',
      'fixture_level1',
      'trigger_set.cold',
      'param_attr_store',
    ]);
    // "? do_syscall_64+0x69/0xb0" and the other "?" lines are not frames.
    expect(t.frames.filter((f) => f === 'do_syscall_64')).toHaveLength(1);
    expect(t.frames.at(-1)).toBe('entry_SYSCALL_64_after_hwframe');
    // No module truth lines in this old console: nothing planted, and the missing design is no problem.
    expect(t.objects).toEqual({});
  });

  it('reads a NULL dereference and its fault address', () => {
    const t = buildTruth(sample('null-console.txt'), 'null', '6.1.0-56');
    expect(t.panic.kind).toBe('NULL');
    expect(t.crash.faultAddress).toBe('0x0000000000000000');
    expect(t.crash.function).toBe('fixture_crash');
  });

  it('collects planted objects and checks the design against the console', () => {
    const console = [
      '[    6.95] ktriage-truth: object obj type=fixture_obj cache=fixture_obj addr=ffff8e7542689050 size=80',
      '[    6.95] ktriage-truth: field obj magic=0xfeedfacecafebeef id=0x1234 name=victim peer=0000000000000000',
      '[    6.95] ktriage-truth: expect function=fixture_crash frames=fixture_crash,fixture_level2,fixture_level1 kind=BUG',
      '[    6.95] ktriage-truth: expect-reg obj=obj reg=rbx holds=1 saved-by=fixture_level2',
      '[    6.95] ktriage-truth: expect-reg obj=obj reg=rdi holds=0',
      sample('bug-console.txt'),
    ].join('\n');
    const t = buildTruth(console, 'bug', '6.1.0-56');
    expect(t.objects.obj).toMatchObject({
      type: 'fixture_obj',
      cache: 'fixture_obj',
      addr: '0xffff8e7542689050',
      size: 80,
    });
    expect(t.objects.obj!.fields).toMatchObject({
      magic: '0xfeedfacecafebeef',
      id: '0x1234',
      name: 'victim',
      peer: '0x0000000000000000',
    });
    expect(t.registerHoldings).toContainEqual({
      object: 'obj',
      register: 'RBX',
      frame: 'fixture_level2',
      expected: true,
      observed: true,
    });
    // In this console RDI does hold the object: the design check must say so.
    expect(t.registerHoldings).toContainEqual({
      object: 'obj',
      register: 'RDI',
      expected: false,
      observed: true,
    });
    expect(t.problems).toContain('design says RDI does not hold obj, console says otherwise');
  });

  // Shaped like the unlock-thread console of Debian 6.1.192: the waiter's identity, then the
  // kernel's own unwind of its stack (sched_show_task) between begin/end lines.
  const waiterConsole = (state: string, waitsIn: string) =>
    [
      `[    5.123006] ktriage-truth: waiter pid=1 task=ffff8ac0c1210000 stack=ffffcb0a40010000 state=${state} design-state=0x2 waits-in=${waitsIn} comm=init`,
      '[    5.123359] ktriage-truth: waiter-trace begin pid=1',
      '[    5.123537] task:init            state:D stack:0     pid:1     ppid:0      flags:0x00000002',
      '[    5.124013] Call Trace:',
      '[    5.124343]  <TASK>',
      '[    5.124774]  __schedule+0x34d/0xa00',
      '[    5.125496]  schedule+0x5a/0xd0',
      '[    5.125817]  ? usleep_range_state+0x90/0x90',
      '[    5.126014]  flush_work+0x5c/0x90',
      '[    5.126252]  fixture_wait_writeback+0x25/0x30 [vmcore_fixture]',
      '[    5.126890]  trigger_set+0x2dc/0x3e0 [vmcore_fixture]',
      '[    5.129212]  entry_SYSCALL_64_after_hwframe+0x6e/0xd8',
      '[    5.129492] RIP: 0033:0x47b7a0',
      '[    5.129977] RAX: ffffffffffffffda RBX: 0000000000000001 RCX: 000000000047b7a0',
      '[    5.131075]  </TASK>',
      '[    5.131173] ktriage-truth: waiter-trace end pid=1',
      sample('bug-console.txt'),
      '[    5.2] Kernel panic - not syncing: Fatal exception',
    ].join('\n');

  it('records a waiter as the guest printed it: identity, state and its reliable frames', () => {
    const t = buildTruth(waiterConsole('0x2', 'fixture_wait_writeback'), 'unlock-thread', '6.1.0-56');
    expect(t.waiters).toHaveLength(1);
    expect(t.waiters[0]).toMatchObject({
      comm: 'init',
      pid: 1,
      task: '0xffff8ac0c1210000',
      stack: '0xffffcb0a40010000',
      state: 2,
      designState: 2,
      waitsIn: 'fixture_wait_writeback',
      frames: [
        '__schedule',
        'schedule',
        'flush_work',
        'fixture_wait_writeback',
        'trigger_set',
        'entry_SYSCALL_64_after_hwframe',
      ],
    });
    expect(t.waiters[0]!.trace[3]).toEqual({
      symbol: 'fixture_wait_writeback',
      offset: 0x25,
      module: 'vmcore_fixture',
    });
    // The waiter's trace is not the oops's.
    expect(t.frames[0]).toBe('fixture_crash');
    expect(t.crash.function).toBe('fixture_crash');
    expect(t.problems).toEqual([]);
  });

  it('reports a waiter in another state, or not under the designed function', () => {
    const t = buildTruth(waiterConsole('0x0', 'fixture_other_wait'), 'unlock-thread', '6.1.0-56');
    expect(t.problems).toContain('waiter init (pid 1): state 0, the design says 2');
    expect(
      t.problems.some((p) => p.startsWith('waiter init (pid 1): fixture_other_wait is not on its stack')),
    ).toBe(true);
    const lost = buildTruth(
      '[    5.1] ktriage-truth: problem waiter pid=1 still on a CPU after 5 s\nKernel panic - not syncing: x',
      'unlock-thread',
      'x',
    );
    expect(lost.problems).toContain('the guest says: waiter pid=1 still on a CPU after 5 s');
  });

  it('reports a crash in another function than designed', () => {
    const t = buildTruth(
      `ktriage-truth: expect function=fixture_other frames=fixture_other kind=BUG\n${sample('bug-console.txt')}\nKernel panic - not syncing: Fatal exception`,
      'bug',
      'x',
    );
    expect(t.problems).toContain('expected crash in fixture_other, kernel says fixture_crash');
  });

  it('strips compiler suffixes from function names', () => {
    expect(baseName('trigger_set.cold')).toBe('trigger_set');
    expect(baseName('foo.isra.0')).toBe('foo');
    expect(baseName('bar')).toBe('bar');
  });
});
