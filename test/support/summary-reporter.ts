// Prints one plain closing line, `tests: N passed, N failed, N skipped`, after vitest's own
// summary, so that any CI reader can count the tests without knowing vitest's format.
import type { Reporter } from 'vitest/reporters';

interface TaskLike {
  type: string;
  mode?: string;
  result?: { state?: string };
  tasks?: TaskLike[];
}

function count(tasks: readonly TaskLike[], acc: { passed: number; failed: number; skipped: number }): void {
  for (const t of tasks) {
    if (t.tasks && t.type !== 'test') {
      count(t.tasks, acc);
      continue;
    }
    const state = t.result?.state;
    if (state === 'pass') acc.passed++;
    else if (state === 'fail') acc.failed++;
    else acc.skipped++;
  }
}

export default class SummaryReporter implements Reporter {
  onFinished(files: readonly TaskLike[] = [], errors: readonly unknown[] = []): void {
    const acc = { passed: 0, failed: 0, skipped: 0 };
    count(files, acc);
    // A file that failed to load (syntax error, failing beforeAll) has no passing tests: count it.
    for (const f of files) if (f.result?.state === 'fail' && !(f.tasks?.length ?? 0)) acc.failed++;
    acc.failed += errors.length;
    process.stdout.write(`\ntests: ${acc.passed} passed, ${acc.failed} failed, ${acc.skipped} skipped\n`);
  }
}
