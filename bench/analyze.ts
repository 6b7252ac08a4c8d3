// bench:analyze: the full triage report on a fixture vmcore vs `crash` alone running the same
// commands. Each side starts from a fresh crash session (startup timed separately, not counted).
// A first playbook run warms the OS page cache over the dump and yields the command list; then
// crash alone runs those commands, then the playbook runs again; the ratio is the second playbook
// run over crash alone. Target <= 1.3.
// Usage: npm run bench:analyze [-- SCENARIO]   (default: unlock; fixtures as for the vmcore tests)
import { analyzeLive, renderHtml, renderMarkdown } from '../src/analysis/index.ts';
import { CrashSession } from '../src/vmcore/session.ts';
import { liveUnavailable, loadFixture } from '../test/vmcore/fixtures.ts';

const scenario = process.argv[2] ?? 'unlock';
const why = liveUnavailable();
if (why) {
  process.stderr.write(`bench:analyze: cannot run: ${why}\n`);
  process.exit(2);
}
const fx = loadFixture(scenario);
const vmcore = fx.dumps['kdump-zlib'] ?? Object.values(fx.dumps)[0]!;

async function open() {
  const t = performance.now();
  const s = await CrashSession.open({ vmlinux: fx.vmlinux, vmcore, moduleDebugDir: fx.moduleDebugDir });
  return { s, ms: performance.now() - t };
}

/** The playbook: decides its commands as it goes, parses everything, renders the report. */
async function playbook() {
  const a = await open();
  const t0 = performance.now();
  const report = await analyzeLive(a.s, { search: true });
  renderMarkdown(report);
  renderHtml(report);
  JSON.stringify(report);
  const ms = performance.now() - t0;
  await a.s.close();
  return { report, ms, startup: a.ms };
}

// 1. Warm-up run (page cache over the dump); its commands are the baseline's.
const warm = await playbook();
const commands = warm.report.commands
  .filter((c) => c.status === 'ran' || c.status === 'error')
  .map((c) => c.command);

// 2. Baseline: crash alone, the same commands in the same order, output discarded.
const b = await open();
const t = performance.now();
for (const c of commands) await b.s.run(c);
const crashMs = performance.now() - t;
await b.s.close();

// 3. The measured playbook run.
const run = await playbook();
const ratio = run.ms / crashMs;
// The playbook's own work (parsing, data flow, rendering): total minus time spent waiting for crash.
const inCrash = run.report.commands.reduce((n, c) => n + (c.ms ?? 0), 0);
process.stdout.write(
  [
    `scenario: ${scenario} (${vmcore})`,
    `crash startup: ${(run.startup / 1000).toFixed(1)} s / ${(b.ms / 1000).toFixed(1)} s (not counted)`,
    `commands: ${commands.length} (measured run: ${run.report.commands.length})`,
    `playbook warm-up run: ${(warm.ms / 1000).toFixed(2)} s`,
    `playbook (full report): ${(run.ms / 1000).toFixed(2)} s`,
    `  of which the playbook's own work: ${((run.ms - inCrash) / 1000).toFixed(2)} s`,
    `crash alone, same commands: ${(crashMs / 1000).toFixed(2)} s`,
    `ratio: ${ratio.toFixed(2)}x (target <= 1.3x)`,
    '',
  ].join('\n'),
);
process.exitCode = ratio <= 1.3 ? 0 : 1;
