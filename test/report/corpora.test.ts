// The other corpora in ../shared/corpora and the expectations their upstream tests state
// (transcribed into expected.json / *.right / *.out / calltrace-* files). Where the upstream
// tool's notion of an oops differs from ours (abrt counts MCE logs and page allocation failures;
// satyr joins all stacks of a file), the test maps the expectation onto our fields and requires
// a high agreement rate instead of skipping files; mismatches are printed. Each rate's floor is
// the score reached so far (a ratchet: raise it when the score goes up, never lower it).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFrameLine } from '../../src/report/fields.ts';
import { parseLog } from '../../src/report/index.ts';
import type { CrashReport, Frame } from '../../src/report/types.ts';

const corpora = resolve(import.meta.dirname, '../../../shared/corpora');
const have = existsSync(corpora);
const required = process.env.KTRIAGE_REQUIRE_ALL === '1';
const read = (...p: string[]) => readFileSync(resolve(corpora, ...p), 'utf8');
const readJson = <T>(...p: string[]) => JSON.parse(read(...p)) as T;

/** Agreement rate with the failures printed, so that a regression names its file. */
function rate(name: string, results: [string, boolean][]): number {
  const bad = results.filter(([, ok]) => !ok).map(([w]) => `  ${w}`);
  const r = results.filter(([, ok]) => ok).length / results.length;
  console.log(
    `${name}: ${results.length - bad.length}/${results.length}${bad.length ? `\n${bad.join('\n')}` : ''}`,
  );
  return r;
}

const allFrames = (reps: CrashReport[]): Frame[] => reps.flatMap((r) => r.frames);

/**
 * Whether a report's text (console prefixes stripped) holds a snippet of the raw log. A snippet
 * that starts with `] ` (the end of a console timestamp, as squad writes them) must start a line.
 */
function holds(text: string, snippet: string): boolean {
  if (!snippet.startsWith('] ')) return text.includes(snippet);
  const rest = snippet.slice(2);
  return text.startsWith(rest) || text.includes(`\n${rest}`);
}
const fnName = (f: string) => f.replace(/^\?\s*/, '').replace(/\+0x.*$/, '');

describe.skipIf(!have && !required)('corpora', () => {
  it('satyr: frames, taint letters, modules and stack labels as satyr parses them', () => {
    interface Case {
      file: string;
      first_function: string | null;
      last_function: string | null;
      frame_count: number;
      taint_flag_count: number;
      module_count: number;
      first_frame_special_stack: string | null;
    }
    const d = readJson<{ parse_cases: Case[] }>('satyr', 'expected.json');
    const res: [string, boolean][] = [];
    for (const c of d.parse_cases) {
      const reps = parseLog(read('satyr', 'kerneloopses', c.file));
      // satyr: one stack per file: the faulting frame (RIP/EIP/PC) and every trace frame, '?' ones included.
      const ip = reps.find((r) => r.ipFrame)?.ipFrame;
      const frames = [...(ip ? [ip] : []), ...allFrames(reps)];
      const taint = reps.find((r) => r.taint !== null)?.taint ?? '';
      const taintCount = [...taint].filter((ch) => ch !== 'G').length;
      const modules = Math.max(0, ...reps.map((r) => r.modules.length));
      const label = {
        task: null,
        irq: 'IRQ',
        nmi: 'NMI',
        softirq: 'SOFTIRQ',
        exception: null,
        unknown: null,
      };
      const first = allFrames(reps)[0];
      const checks: [string, unknown, unknown][] = [
        ['frame_count', frames.length, c.frame_count],
        ['taint', taintCount, c.taint_flag_count],
        ['modules', modules, c.module_count],
        ['special_stack', first ? label[first.context] : null, c.first_frame_special_stack],
      ];
      if (c.first_function !== null) checks.push(['first', frames[0]?.func, c.first_function]);
      if (c.last_function !== null) checks.push(['last', frames.at(-1)?.func, c.last_function]);
      for (const [what, got, want] of checks)
        res.push([`${c.file} ${what}: ${got} != ${want}`, got === want]);
    }
    expect(rate('satyr', res)).toBeGreaterThanOrEqual(0.96);
  });

  it('abrt: the oopses abrt-dump-oops finds, with their kernel version and frames', () => {
    const dir = resolve(corpora, 'abrt', 'examples');
    const res: [string, boolean][] = [];
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.test'))) {
      const rightFile = resolve(dir, f.replace(/\.test$/, '.right'));
      if (!existsSync(rightFile)) continue;
      const right = readFileSync(rightFile, 'utf8');
      const reps = parseLog(readFileSync(resolve(dir, f), 'utf8'));
      const found = /abrt-dump-oops: Found oopses: (\d+)/.exec(right);
      // .right files of other tools (Xorg backtraces) state no kernel oops at all.
      const want = found ? Number(found[1]) : 0;
      res.push([`${f}: ${reps.length} reports, abrt found ${want}`, reps.length === want]);
      const versions = [...right.matchAll(/^Version: (.+)$/gm)].map((m) => m[1]!);
      for (const v of new Set(versions)) {
        res.push([
          `${f}: kernel ${v} not found (${reps.map((r) => r.kernelRelease)})`,
          reps.some((r) => r.kernelRelease === v),
        ]);
      }
      // Frames abrt extracted (`[<addr>] func+0x..` lines) are frames of our reports.
      const ours = new Set(
        reps.flatMap((r) => [...r.frames, ...(r.ipFrame ? [r.ipFrame] : [])].map((x) => x.func)),
      );
      const traceFuncs = right
        .split('\n')
        .filter((l) => /^ \[<[0-9a-f]+>\] (?:\? )?[\w.]+\+0x/.test(l))
        .map((l) => parseFrameLine(l, 'task')!.func);
      const missing = traceFuncs.filter((fn) => !ours.has(fn));
      if (traceFuncs.length > 0)
        res.push([`${f}: trace frames missing: ${missing.join(', ')}`, missing.length === 0]);
    }
    expect(rate('abrt', res)).toBeGreaterThanOrEqual(0.92);
  });

  it('kerneloops: each oops kerneloops submits starts a report of ours holding its frames', () => {
    const dir = resolve(corpora, 'kerneloops', 'test');
    const res: [string, boolean][] = [];
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.txt'))) {
      const out = readFileSync(resolve(dir, `${f}.out`), 'utf8');
      const reps = parseLog(readFileSync(resolve(dir, f), 'utf8'));
      const submitted = [...out.matchAll(/---\[start of oops\]---\n([\s\S]*?)---\[end of oops\]---/g)].map(
        (m) => m[1]!,
      );
      res.push([`${f}: no report`, submitted.length === 0 || reps.length > 0]);
      for (const text of submitted) {
        const funcs = text
          .split('\n')
          .map((l) => parseFrameLine(l, 'task'))
          .filter((x): x is Frame => x !== null)
          .map((x) => x.func);
        const ours = new Set(
          reps.flatMap((r) => [...r.frames, ...(r.ipFrame ? [r.ipFrame] : [])].map((x) => x.func)),
        );
        const missing = funcs.filter((fn) => !ours.has(fn));
        res.push([`${f}: frames missing: ${missing.join(', ')}`, missing.length === 0]);
      }
    }
    expect(rate('kerneloops', res)).toBeGreaterThanOrEqual(1);
  });

  it('lkp-tests: the call trace lkp extracts is the report we find', () => {
    const dir = resolve(corpora, 'lkp-tests', 'dmesg-calltrace');
    const res: [string, boolean][] = [];
    for (const f of readdirSync(dir).filter((x) => x.startsWith('dmesg-'))) {
      const expFile = resolve(dir, f.replace('dmesg-', 'calltrace-'));
      if (!existsSync(expFile)) continue;
      const dmesg = readFileSync(resolve(dir, f), 'utf8');
      const exp = readFileSync(expFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
      const reps = parseLog(dmesg);
      const lines = dmesg.split('\n');
      const firstLine = lines.indexOf(exp[0]!) + 1;
      const rep = reps.find((r) => r.startLine <= firstLine + 3 && r.endLine >= firstLine) ?? reps[0];
      res.push([`${f}: no report at line ${firstLine} (${reps.map((r) => r.startLine)})`, rep !== undefined]);
      if (!rep) continue;
      const funcs = exp
        .map((l) => l.replace(/^\[ *\d+\.\d+\] /, ''))
        .filter((l) => /^\s+(?:\? )?[\w.]+\+0x/.test(l))
        .map((l) => parseFrameLine(l, 'task')!.func);
      const ours = new Set(reps.flatMap((r) => r.frames.map((x) => x.func)));
      const missing = funcs.filter((fn) => !ours.has(fn));
      res.push([`${f}: frames missing: ${missing.join(', ')}`, missing.length === 0]);
      const lastLine = lines.indexOf(exp.at(-1)!) + 1;
      res.push([
        `${f}: report ends at ${rep.endLine}, lkp at ${lastLine}`,
        lastLine <= 0 || rep.endLine >= lastLine,
      ]);
    }
    expect(rate('lkp-tests', res)).toBeGreaterThanOrEqual(0.87);
  });

  it('clearlinux telemetrics: reason line, kernel version, taint, modules and numbered frames', () => {
    interface Case {
      file: string;
      expected_reason: string;
      payload_contains: string[];
    }
    const d = readJson<{ cases: Case[] }>('clearlinux-telemetrics', 'expected.json');
    const res: [string, boolean][] = [];
    for (const c of d.cases) {
      const text = read('clearlinux-telemetrics', 'oops_test_files', c.file);
      const lines = text.split('\n');
      const reps = parseLog(text);
      const rep = reps.find((r) => (lines[r.startLine - 1] ?? '').includes(c.expected_reason)) ?? reps[0];
      res.push([
        `${c.file}: no report starting at "${c.expected_reason}" (${reps.map((r) => r.title)})`,
        rep !== undefined,
      ]);
      if (!rep) continue;
      const frames = rep.frames;
      for (const p of c.payload_contains) {
        const version = /^Kernel Version : (.*)$/.exec(p);
        const tainted = /^Tainted : (.*)$/.exec(p);
        const frame = /^#(\d+) (\? )?(\S+)$/.exec(p);
        if (version) {
          const m = version;
          const v = `${rep.kernelRelease ?? ''} ${rep.kernelBuild ?? ''}`;
          res.push([`${c.file}: version ${v} != ${m[1]}`, v.startsWith(m[1]!)]);
        } else if (tainted) {
          const m = tainted;
          const want = m[1] === 'Not tainted' ? null : m[1]!.replace(/\s+/g, '');
          res.push([`${c.file}: taint ${rep.taint} != ${want}`, rep.taint === want]);
        } else if (frame) {
          const m = frame;
          const f = frames[Number(m[1]) - 1];
          const ok = f !== undefined && f.func === m[3] && f.reliable === (m[2] === undefined);
          res.push([`${c.file}: frame ${p} != ${f ? `${f.reliable ? '' : '? '}${f.func}` : 'none'}`, ok]);
        } else {
          // A module list line: consecutive modules of ours.
          const want = p.replace(/^Modules : /, '').trim();
          const mods = rep.modules.join(' ');
          const plain = want.replace(/\([A-Z]+\)/g, '');
          res.push([`${c.file}: modules "${want}" not in ours`, mods.includes(plain)]);
        }
      }
    }
    expect(rate('clearlinux', res)).toBeGreaterThanOrEqual(0.93);
  });

  it('kernelci logspec: crash errors with their call traces and hardware', () => {
    interface Err {
      error_type: string;
      error_summary?: string;
      call_trace?: string[];
      hardware?: string;
    }
    interface Case {
      dir: string;
      log_file: string;
      expected: { errors: Err[] };
    }
    const d = readJson<{ cases: Case[] }>('kernelci-logspec', 'expected.json');
    const res: [string, boolean][] = [];
    const crashTypes =
      /^linux\.kernel\.(?:panic|warning|bug|oops|ubsan|kasan|null_pointer|general_protection|call_trace|exception)/;
    for (const c of d.cases) {
      const reps = parseLog(read('kernelci-logspec', c.dir, c.log_file));
      const crashes = c.expected.errors.filter((e) => crashTypes.test(e.error_type));
      res.push([
        `${c.log_file}: ${reps.length} reports for ${crashes.length} crash errors`,
        reps.length > 0 === crashes.length > 0,
      ]);
      for (const e of crashes) {
        if (e.call_trace) {
          const want = e.call_trace
            .filter((x) => x !== '<TASK>' && x !== '</TASK>')
            .map((x) => fnName(x).split(' from ')[0]!);
          const ok = reps.some((r) => {
            const ours = r.frames.map((f) => f.func);
            return want.every((w) => ours.includes(w));
          });
          res.push([`${c.log_file}: no report with trace ${want.slice(0, 4).join(',')}...`, ok]);
        }
        if (e.hardware) {
          res.push([
            `${c.log_file}: hardware ${e.hardware} not found`,
            reps.some((r) => r.hardware === e.hardware),
          ]);
        }
      }
    }
    expect(rate('kernelci', res)).toBeGreaterThanOrEqual(0.98);
  });

  it('squad: the snippet squad extracts is inside one report, and what it excludes is outside', () => {
    interface Case {
      log: string;
      expected_test_names: string[];
      log_contains: string[];
      log_not_contains: string[];
    }
    const d = readJson<{ cases: Case[] }>('squad', 'expected.json');
    const res: [string, boolean][] = [];
    for (const c of d.cases) {
      if (c.log === '/dev/null') {
        res.push(['empty log gives no report', parseLog('').length === 0]);
        continue;
      }
      const text = read('squad', c.log);
      const reps = parseLog(text);
      const detailed = c.expected_test_names.filter((n) => /^check-kernel-[a-z]+-./.test(n));
      res.push([
        `${c.log}: ${reps.length} reports, squad expects ${detailed.length} issues`,
        reps.length > 0 === detailed.length > 0,
      ]);
      if (c.log_contains.length === 0) continue;
      const holder = reps.find((r) => c.log_contains.every((s) => holds(r.text, s.replace(/"\}$/, ''))));
      res.push([`${c.log}: no report holds ${JSON.stringify(c.log_contains)}`, holder !== undefined]);
      if (holder) {
        for (const s of c.log_not_contains)
          res.push([`${c.log}: report holds "${s}"`, !holds(holder.text, s)]);
      }
    }
    expect(rate('squad', res)).toBeGreaterThanOrEqual(1);
  });
});
