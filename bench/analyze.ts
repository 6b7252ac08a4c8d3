// bench:analyze: the full triage report on a fixture vmcore vs `crash` alone running the same
// commands. Both sides start from a fresh crash session (startup timed separately, not counted);
// the ratio is (playbook time) / (raw crash time for the commands the playbook ran). Target <= 1.3.
// Usage: npm run bench:analyze [-- SCENARIO]   (default: unlock; fixtures as for the vmcore tests)
import { analyzeLive } from '../src/analysis/index.ts';
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
const open = async () => {
  const t = performance.now();
  const s = await CrashSession.open({ vmlinux: fx.vmlinux, vmcore, moduleDebugDir: fx.moduleDebugDir });
  return { s, ms: performance.now() - t };
};

// 1. The playbook (decides its commands as it goes, parses everything, builds the report).
const a = await open();
let t = performance.now();
const report = await analyzeLive(a.s, { search: true });
const { renderMarkdown, renderHtml } = await import('../src/analysis/index.ts');
renderMarkdown(report);
renderHtml(report);
JSON.stringify(report);
const playbookMs = performance.now() - t;
await a.s.close();
const commands = report.commands
  .filter((c) => c.status === 'ran' || c.status === 'error')
  .map((c) => c.command);

// 2. Baseline: crash alone, the same commands in the same order, output discarded.
const b = await open();
t = performance.now();
for (const c of commands) await b.s.run(c);
const crashMs = performance.now() - t;
await b.s.close();

const ratio = playbookMs / crashMs;
process.stdout.write(
  [
    `scenario: ${scenario} (${vmcore})`,
    `crash startup: ${(a.ms / 1000).toFixed(1)} s / ${(b.ms / 1000).toFixed(1)} s (not counted)`,
    `commands: ${commands.length}`,
    `playbook (full report): ${(playbookMs / 1000).toFixed(2)} s`,
    `crash alone, same commands: ${(crashMs / 1000).toFixed(2)} s`,
    `ratio: ${ratio.toFixed(2)}x (target <= 1.3x)`,
    '',
  ].join('\n'),
);
process.exitCode = ratio <= 1.3 ? 0 : 1;
