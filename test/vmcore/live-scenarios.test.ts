// The real crash on the real fixture dumps: for every scenario, the engine's backtrace matches what
// the kernel itself reported at the crash (truth.json: crashing function, offset, registers,
// frames) and reading the planted objects at their known addresses returns the planted values.
// Skipped without crash/fixtures; fails with the reason when KTRIAGE_REQUIRE_ALL=1 (CI).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BtTask,
  fieldBig,
  getField,
  kernelException,
  parseBt,
  parseKmemAddress,
  parseList,
  parsePrint,
  parseStruct,
  type Value,
} from '../../src/vmcore/parse/index.ts';
import { CrashSession } from '../../src/vmcore/session.ts';
import { listTasks, stackSymbols, type TaskInfo } from '../../src/vmcore/tasks.ts';
import { baseName } from '../fixtures/vmcore/truth.ts';
import { big, type Fixture, loadFixture, RUN_LIVE, requireLive, SCENARIOS } from './fixtures.ts';

/** kdump-zlib for every scenario; the ELF dump too for `bug` (each crash startup costs 15-30 s). */
const CASES: [string, string][] = SCENARIOS.flatMap((s) => [
  [s, 'kdump-zlib'] as [string, string],
  ...(s === 'bug' ? [[s, 'elf'] as [string, string]] : []),
]);

/** Where a truth field lives in the struct crash prints. */
const FIELD_PATH: Record<string, string> = { wb_kref: 'wb_kref.refcount.refs.counter' };

/**
 * Function names of a bt, innermost first: each frame's function, then the function of the
 * exception RIP dumped under it (crash prints that one as `[exception RIP: f+off]`, and only
 * sometimes again as a frame of its own); adjacent duplicates collapsed.
 */
function frameNames(t: BtTask): string[] {
  const out: string[] = [];
  const push = (f: string) => {
    if (out[out.length - 1] !== f) out.push(f);
  };
  for (const f of t.frames) {
    push(f.func);
    if (f.exception?.symbol) push(f.exception.symbol);
  }
  return out;
}

/** `want` appears in `got` in order (other frames may come between: crash's stale frames). */
function expectSubsequence(got: string[], want: string[]): void {
  let at = 0;
  for (const w of want) {
    const i = got.indexOf(w, at);
    expect(
      i,
      `frame ${w} (after ${want.slice(0, want.indexOf(w)).join(' ')}) in crash's bt: ${got.join(' ')}`,
    ).toBeGreaterThanOrEqual(at);
    at = i + 1;
  }
}

function scalarOf(v: Value | null) {
  return v && v.kind === 'scalar' ? v : null;
}

describe.skipIf(!RUN_LIVE)('live crash on the fixture dumps', () => {
  beforeAll(() => requireLive());

  describe.each(CASES)('%s (%s)', (scenario, format) => {
    let fx: Fixture;
    let s: CrashSession;
    let bt: BtTask;
    let tasks: TaskInfo[];

    beforeAll(async () => {
      requireLive();
      fx = loadFixture(scenario);
      const vmcore = fx.dumps[format];
      if (!vmcore) throw new Error(`${scenario}: no ${format} dump in truth.json`);
      s = await CrashSession.open({ vmlinux: fx.vmlinux, vmcore, moduleDebugDir: fx.moduleDebugDir });
      const tasksBt = parseBt((await s.run('bt', { check: true })).output);
      expect(tasksBt).toHaveLength(1);
      bt = tasksBt[0]!;
      tasks = await listTasks(s);
    });
    afterAll(async () => {
      await s?.close();
    });

    it('bt names the task, CPU and crashing function the kernel reported', () => {
      const t = fx.truth;
      expect(bt.pid).toBe(t.crash.pid);
      expect(bt.command).toBe(t.crash.comm);
      expect(bt.cpu).toBe(t.crash.cpu);
      const names = frameNames(bt);
      expect(names).toContain(t.crash.function);
      if (t.panic.kind === 'panic') {
        // panic() called directly (sysrq): the crashing function is the caller of panic.
        expect(names[names.indexOf('panic') + 1]).toBe(t.crash.function);
      } else {
        const ex = kernelException(bt);
        expect(ex, 'an exception frame with the faulting RIP').not.toBeNull();
        expect(ex!.exception.symbol).toBe(t.crash.function);
        expect(ex!.exception.offset).toBe(Number(t.crash.offset));
      }
    });

    it('bt frames contain the kernel trace in order, and the module frames back to back', () => {
      const names = frameNames(bt);
      const from = names.indexOf(fx.truth.crash.function!);
      const below = names.slice(from);
      let want = fx.truth.frames;
      const bogus = bt.frames.find((f) => f.exception?.bogus);
      if (bogus) {
        // crash 8.0.2 cannot unwind from the IRQ stack back into the interrupted task on 6.1: it
        // says so ("possibly bogus exception frame"). The frames up to that IRQ entry must match;
        // those of the interrupted context (idle loop) are not in crash's bt at all.
        expect(fx.truth.panic.inInterrupt, 'a bogus exception frame outside interrupt context').toBe(true);
        const cut = want.indexOf(bogus.func);
        expect(cut, `${bogus.func} in the kernel's trace`).toBeGreaterThan(0);
        want = want.slice(0, cut + 1);
      }
      expectSubsequence(below, want);
      const designed = fx.truth.expected.frames;
      const i = below.map(baseName).indexOf(designed[0]!);
      expect(below.map(baseName).slice(i, i + designed.length)).toEqual(designed);
    });

    it('the exception frame holds the registers of the oops', () => {
      if (fx.truth.panic.kind === 'panic') return; // no exception frame for a direct panic()
      const regs = kernelException(bt)!.exception.registers;
      for (const [name, value] of Object.entries(fx.truth.registers)) {
        expect(regs[name], `register ${name}`).toBeDefined();
        expect(big(regs[name]!), `register ${name}`).toBe(big(value));
      }
      for (const h of fx.truth.registerHoldings) {
        const obj = fx.truth.objects[h.object]!;
        expect(big(regs[h.register]!) === big(obj.addr), `${h.register} holds ${h.object}`).toBe(h.observed);
      }
    });

    it('an interrupt-context crash shows the IRQ stack', () => {
      const other = bt.frames.filter((f) => f.stack !== 'task');
      if (fx.truth.panic.inInterrupt)
        expect(other.length, 'frames on an IRQ/softirq stack').toBeGreaterThan(0);
      else expect(other.map((f) => `${f.func} (${f.stack})`)).toEqual([]);
    });

    it('struct and kmem read the planted objects back', async () => {
      for (const o of Object.values(fx.truth.objects)) {
        const out = (await s.run(`struct ${o.type} ${o.addr}`, { check: true })).output;
        const v = parseStruct(out)[0]!.value;
        for (const [field, want] of Object.entries(o.fields)) {
          const got = scalarOf(getField(v, FIELD_PATH[field] ?? field));
          expect(got, `${o.type}.${field}`).not.toBeNull();
          if (/^0x[0-9a-f]+$/.test(want) || /^\d+$/.test(want)) {
            expect(fieldBig(v, FIELD_PATH[field] ?? field), `${o.type}.${field}`).toBe(BigInt(want));
          } else {
            expect(got!.string ?? got!.text, `${o.type}.${field}`).toContain(want);
          }
        }
        if (o.cache) {
          const k = parseKmemAddress((await s.run(`kmem ${o.addr}`, { check: true })).output);
          expect(k.cache?.name).toBe(o.cache);
          expect(k.object?.allocated).toBe(true);
          expect(big(k.object!.address)).toBe(big(o.addr));
        }
        if (o.page) {
          const p = parseStruct((await s.run(`struct page ${o.page.addr} -x`, { check: true })).output)[0]!
            .value;
          expect(fieldBig(p, 'private')).toBe(big(o.page.private));
        }
      }
    });

    it('globals and the module list read back as planted', async () => {
      const p = parsePrint((await s.run('p fixture_global_obj', { check: true })).output);
      expect(big(scalarOf(p[0]!.value)!.hex!)).toBe(big(fx.truth.globals.fixture_global_obj!));
      const l = parseList(
        (await s.run('list fixture_obj.node -s fixture_obj.id,name -H fixture_objs', { check: true })).output,
      );
      expect(l.entries.map((e) => big(e.address))).toEqual(fx.truth.listed.map((x) => big(x.addr)));
      expect(l.entries.map((e) => fieldBig(e.value!, 'id'))).toEqual(
        fx.truth.listed.map((x) => BigInt(x.id)),
      );
    });

    it('task enumeration finds every process, beyond the 3 crash 8.0.2 sees', async () => {
      expect(tasks.length).toBeGreaterThan(3);
      expect(tasks.filter((t) => t.error)).toEqual([]);
      expect(tasks[0]).toMatchObject({ pid: 0, comm: 'swapper/0' });
      expect(tasks.find((t) => t.pid === 1)?.comm).toBe('init');
      expect(new Set(tasks.map((t) => t.task)).size, 'no task twice').toBe(tasks.length);
      if (fx.truth.crash.pid && fx.truth.crash.pid > 0) {
        expect(tasks.find((t) => t.pid === fx.truth.crash.pid)?.comm).toBe(fx.truth.crash.comm);
      }
    });

    // Checks that apply to one scenario are registered only there (not reported as skipped elsewhere).
    if (scenario === 'unlock-thread')
      it('the waiter is found as the guest saw it, and its stack holds the frames the guest unwound', async () => {
        expect(fx.truth.waiters.length, 'waiters planted by the scenario').toBeGreaterThan(0);
        for (const w of fx.truth.waiters) {
          const task = tasks.find((t) => big(t.task) === big(w.task!));
          expect(task, `waiter ${w.comm} at ${w.task}`).toBeDefined();
          expect(task).toMatchObject({ pid: w.pid, comm: w.comm, state: w.state });
          expect(big(task!.stack!)).toBe(big(w.stack!));
          // crash 8.0.2 cannot bt it (not in its task table on 6.1): read its stack instead. Every
          // reliable frame of the kernel's own unwind is a return address on that stack, innermost
          // first (the raw scan also holds stale words, so in order, not back to back).
          // Compiler suffixes are compared without: the kernel printed `__flush_work.isra.0+0x173`
          // where crash names the same return address `__flush_work+371` (6.1.176).
          const at = (sym: string, off: number) => `${baseName(sym)}+${off}`;
          const words = (await stackSymbols(s, task!)).reverse().map((x) => at(x.symbol, x.offset));
          expectSubsequence(
            words,
            w.trace.map((f) => at(f.symbol, f.offset)),
          );
          expect(w.frames.map(baseName)).toContain(w.waitsIn);
        }
      });

    if (scenario === 'sysrq')
      it('the offset-based task walk reads what `list -S` reads', async () => {
        // The slow way (crash reads each member itself): same tasks, same values.
        const r = await s.run(
          'list task_struct.tasks -S task_struct.pid,tgid,comm,__state,stack -h init_task',
          {
            timeoutMs: 300_000,
            check: true,
          },
        );
        const slow = parseList(r.output).entries.map((e) => ({
          task: e.address,
          pid: Number(fieldBig(e.value!, 'pid')),
          tgid: Number(fieldBig(e.value!, 'tgid')),
          state: Number(fieldBig(e.value!, '__state')),
          stack: fieldBig(e.value!, 'stack')!.toString(16),
        }));
        expect(tasks.map(({ task, pid, tgid, state, stack }) => ({ task, pid, tgid, state, stack }))).toEqual(
          slow,
        );
        for (const [i, e] of parseList(r.output).entries.entries()) {
          const comm = scalarOf(getField(e.value!, 'comm'));
          expect(comm?.string ?? comm?.text, `comm of ${e.address}`).toContain(tasks[i]!.comm);
        }
      });
  });
});
