// The playbook on the real crash and the fixture vmcores (test/fixtures/vmcore): recovered
// registers, arguments and objects must equal what the scenario planted (truth.json, written from
// the guest's own console, independent of crash). Skipped without crash/fixtures; fails with the
// reason when KTRIAGE_REQUIRE_ALL=1 (CI).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeLive } from '../../src/analysis/index.ts';
import type { AnalysisReport, ObjectReport } from '../../src/analysis/model.ts';
import { CrashSession } from '../../src/vmcore/session.ts';
import { baseName } from '../fixtures/vmcore/truth.ts';
import { big, type Fixture, loadFixture, RUN_LIVE, requireLive, SCENARIOS } from '../vmcore/fixtures.ts';

const CALLEE_SAVED = ['RBX', 'RBP', 'R12', 'R13', 'R14', 'R15'];

/**
 * The page's zone and node as the guest's own console put them ("Zone ranges:" and "Early memory
 * node ranges" at boot), against the report's decoding of page->flags with the layout read from the
 * dump. The page's physical address: (page - vmemmap_base) / sizeof(struct page) * PAGE_SIZE.
 */
async function expectZoneAndNodeFromConsole(fx: Fixture, s: CrashSession, page: ObjectReport) {
  const fl = page.flags.find((f) => f.field === 'flags')!;
  expect(String(fl.extra?.upper_fields)).toMatch(/^read from the dump: /);
  const console_ = readFileSync(path.join(fx.dir, fx.truth.files.console), 'utf8');
  const zones: { name: string; from: bigint; to: bigint }[] = [];
  const nodes: { node: number; from: bigint; to: bigint }[] = [];
  for (const line of console_.split('\n')) {
    const z = /\]\s+(DMA|DMA32|Normal|Movable|Device)\s+\[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]/.exec(line);
    if (z) zones.push({ name: z[1]!, from: BigInt(z[2]!), to: BigInt(z[3]!) });
    const n = /\]\s+node\s+(\d+): \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]/.exec(line);
    if (n) nodes.push({ node: Number(n[1]), from: BigInt(n[2]!), to: BigInt(n[3]!) });
  }
  expect(zones.length, 'Zone ranges in the console log').toBeGreaterThan(0);
  const base = /=\s*\$\d+\s*=\s*(\d+)/.exec((await s.run('p vmemmap_base')).output);
  const size = /SIZE:\s*(\d+)/.exec((await s.run('struct page -o')).output);
  expect(base && size, 'vmemmap_base and sizeof(struct page)').toBeTruthy();
  const phys = ((big(page.address) - BigInt(base![1]!)) / BigInt(size![1]!)) * 4096n;
  const zone = zones.find((z) => phys >= z.from && phys <= z.to);
  const node = nodes.find((n) => phys >= n.from && phys <= n.to);
  expect(zone, `a zone holds physical ${phys.toString(16)}`).toBeDefined();
  expect(fl.extra?.zone).toBe(zone!.name);
  if (node) expect(fl.extra?.node).toBe(node.node);
}

describe.skipIf(!RUN_LIVE)('analysis on the fixture vmcores', () => {
  beforeAll(() => requireLive());

  describe.each(SCENARIOS.map((s) => [s]))('%s', (scenario) => {
    let fx: Fixture;
    let s: CrashSession;
    let r: AnalysisReport;

    beforeAll(async () => {
      requireLive();
      fx = loadFixture(scenario);
      const vmcore = fx.dumps['kdump-zlib'] ?? Object.values(fx.dumps)[0]!;
      s = await CrashSession.open({ vmlinux: fx.vmlinux, vmcore, moduleDebugDir: fx.moduleDebugDir });
      // search scans all memory; the double-unlock scenario exercises it, the others skip it.
      r = await analyzeLive(s, { search: scenario === 'unlock' });
    });
    afterAll(async () => {
      await s?.close();
    });

    it('summarises the panic like the kernel did', () => {
      const t = fx.truth;
      expect(r.kernel.release).toBe(t.release);
      expect(r.panic.task?.pid).toBe(t.crash.pid);
      expect(r.panic.cpu).toBe(t.crash.cpu);
      if (t.panic.kind === 'panic') {
        expect(r.panic.exception).toBeNull();
        return;
      }
      expect(r.panic.exception?.function).toBe(t.crash.function);
      expect(r.panic.exception?.offset).toBe(Number(t.crash.offset));
      expect(r.panic.title).toMatch(new RegExp(baseName(t.crash.function!)));
    });

    it('has the oops registers in the crashing frame and the planted registers in the frames that own them', () => {
      const t = fx.truth;
      if (t.panic.kind === 'panic') return;
      const f0 = r.frames[0]!;
      for (const reg of CALLEE_SAVED) {
        if (t.registers[reg]) expect(big(f0.registers[reg]!.value!), reg).toBe(big(t.registers[reg]!));
      }
      for (const h of t.registerHoldings) {
        if (!h.frame || !h.observed || h.expected === false) continue;
        const fr = r.frames.find((f) => baseName(f.function) === h.frame);
        expect(fr, `frame ${h.frame} in the report`).toBeDefined();
        const v = fr!.registers[h.register];
        expect(v?.value, `${h.register} of ${h.frame}`).not.toBeNull();
        expect(big(v!.value!), `${h.register} of ${h.frame}`).toBe(big(t.objects[h.object]!.addr));
        expect(v!.derivation.length).toBeGreaterThan(0);
      }
    });

    it("recovers the crashing function's pointer argument of the planted type", () => {
      const t = fx.truth;
      if (t.panic.kind === 'panic') return;
      const f0 = r.frames[0]!;
      for (const o of Object.values(t.objects)) {
        const a = f0.arguments.find((x) => x.type?.replace(/\s+/g, ' ').trim() === `struct ${o.type} *`);
        if (!a) continue;
        expect(a.value, `${f0.function} argument ${a.index} (${a.type})`).not.toBeNull();
        expect(big(a.value!)).toBe(big(o.addr));
        expect(a.derivation.length).toBeGreaterThan(0);
      }
    });

    it('prints the planted objects with their values, cache and page link', async () => {
      const t = fx.truth;
      for (const o of Object.values(t.objects)) {
        const rep = r.objects.find((x) => big(x.address) === big(o.addr) && x.type === `struct ${o.type}`);
        if (!rep) {
          // Only objects reachable from the frames' arguments are printed; the timer context is a global.
          expect(o.cache, `${o.label} (${o.type}) is a slab object and must be found`).toBeUndefined();
          continue;
        }
        for (const [field, want] of Object.entries(o.fields)) {
          const path = field === 'wb_kref' ? 'wb_kref.refcount.refs.counter' : field;
          const got = rep.fields.find((f) => f.path === path);
          expect(got, `${o.type}.${field}`).toBeDefined();
          if (/^0x[0-9a-f]+$/.test(want) || /^\d+$/.test(want))
            expect(BigInt(got!.value.split(/\s/)[0]!)).toBe(BigInt(want));
          else expect(got!.value).toContain(want);
        }
        if (o.cache) {
          const m = r.memory.find((x) => big(x.address) === big(o.addr))!;
          expect(m.cache).toBe(o.cache);
          expect(m.allocated).toBe(true);
        }
        if (o.page) {
          const page = r.objects.find(
            (x) => x.type === 'struct page' && big(x.address) === big(o.page!.addr),
          );
          expect(page, 'the wb_page is followed').toBeDefined();
          expect(
            page!.links.some((l) => l.path === 'private' && big(l.target.split(' ').pop()!) === big(o.addr)),
          ).toBe(true);
          await expectZoneAndNodeFromConsole(fx, s, page!);
        }
      }
    });

    it('checks the scheduler invariants on the panic task, and they hold on a healthy scheduler', () => {
      const t = fx.truth;
      const task = r.objects.find(
        (o) => o.type === 'struct task_struct' && o.typeSource.startsWith('the panic task'),
      );
      expect(task, 'the panic task is printed').toBeDefined();
      const inv = r.invariants.filter((i) => i.object === `struct task_struct ${task!.address}`);
      const byId = new Map(inv.map((i) => [i.id, i]));
      expect(byId.get('task_struct.panic-task-on-cpu')?.status).toBe('holds');
      expect(byId.get('task_struct.panic-task-on-cpu')?.observed).toBe(
        `on_cpu = 1, task_cpu = ${t.crash.cpu}`,
      );
      expect(byId.get('task_struct.backtrace-on-own-stack')?.status).toBe('holds');
      for (const i of inv) expect(i.status, `${i.id}: ${i.observed}`).not.toBe('violated');
    });

    it('follows typed pointers beyond the innermost frames, and within a budget says what it skipped', async () => {
      if (scenario !== 'unlock') return;
      // Arguments of every frame with a prototype, not only the four innermost.
      const outer = new Set(r.frames.slice(4).map((f) => f.function));
      const fromOuter = r.objects.filter((o) => [...outer].some((f) => o.typeSource.includes(` of ${f}:`)));
      expect(fromOuter.length, `objects from ${[...outer].join(', ')}`).toBeGreaterThan(0);
      // Struct pointer members of those arguments are followed (e.g. a struct file's f_inode).
      expect(r.objects.some((o) => /^\w+\.\w+ \(struct \w+ \*/.test(o.typeSource))).toBe(true);
      // A budget of three objects: three printed, the rest listed with the command that prints them.
      const small = await analyzeLive(s, { search: false, budget: { objects: 3 } });
      expect(small.objects.length).toBe(3);
      expect(small.objectsSkipped!.length).toBeGreaterThan(0);
      for (const x of small.objectsSkipped!) {
        expect(x.reason).toBe('object budget (3 objects)');
        expect(x.command).toBe(`struct ${x.type.replace(/^struct /, '')} ${x.address} -x`);
      }
      expect(small.summary.open.some((q) => q.commands.includes(small.objectsSkipped![0]!.command))).toBe(
        true,
      );
      // The nearest first: the crashing function's planted argument is among the three.
      expect(small.objects.some((o) => big(o.address) === big(fx.truth.objects.req!.addr))).toBe(true);
      // No time at all: nothing printed, everything skipped for time.
      const none = await analyzeLive(s, { search: false, budget: { ms: 0 } });
      expect(none.objects).toEqual([]);
      expect(none.objectsSkipped!.every((x) => x.reason === 'time budget (0 ms)')).toBe(true);
    });

    it('classifies the search hits of the planted request', () => {
      if (scenario !== 'unlock') return;
      const req = fx.truth.objects.req!;
      const sr = r.searches.find((x) => big(x.value) === big(req.addr))!;
      expect(sr.hits.length).toBeGreaterThan(0);
      const inObj = sr.hits.filter((h) => h.class === 'slab-object' && h.detail.includes('fixture_req'));
      expect(inObj.length).toBeGreaterThan(0);
      expect(sr.hits.some((h) => h.class === 'task-stack')).toBe(true);
    });
  });
});
