// The crash sessions the factory recorded next to the dumps (for the parser tests of
// src/vmcore/parse): one per scenario, complete, and consistent with the scenario's truth.
// Needs only the fixture directory, not crash.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBt, splitTranscript } from '../../src/vmcore/parse/index.ts';
import { loadRecordedSession, recordedOutput } from '../../src/vmcore/recorder.ts';
import { fixturesRoot, loadFixture, recordedSessions, SCENARIOS } from './fixtures.ts';

const index = path.join(fixturesRoot(), 'sessions', 'index.json');
const HAVE = existsSync(index);
const RUN = HAVE || process.env.KTRIAGE_REQUIRE_ALL === '1';

describe.skipIf(!RUN)('recorded crash sessions', () => {
  beforeAll(() => {
    if (!HAVE)
      throw new Error(`recorded sessions missing (${index}); run test/fixtures/vmcore/make-fixtures.sh`);
  });

  it('exist for every scenario, with the truth.json that points back to them', () => {
    const all = recordedSessions();
    for (const s of SCENARIOS) {
      const mine = all.filter((e) => e.scenario === s);
      expect(
        mine.map((e) => e.format),
        s,
      ).toContain('kdump-zlib');
      const fx = loadFixture(s);
      const t = fx.truth as typeof fx.truth & { sessions?: Record<string, string> };
      for (const e of mine) expect(path.resolve(fx.dir, t.sessions?.[e.format] ?? '')).toBe(e.session);
    }
  });

  it.each(SCENARIOS)('%s: every command answered, bt shows the crashing function', (scenario) => {
    const e = recordedSessions().find((x) => x.scenario === scenario && x.format === 'kdump-zlib')!;
    const rec = loadRecordedSession(e.session);
    expect(rec.commands.length).toBeGreaterThan(20);
    expect(rec.commands.filter((c) => c.error)).toEqual([]);
    const bt = parseBt(recordedOutput(rec, 'bt')!)[0]!;
    const fn = loadFixture(scenario).truth.crash.function!;
    const names = bt.frames.flatMap((f) => [f.func, f.exception?.symbol ?? '']);
    expect(names).toContain(fn);
    // The transcript beside it holds the same commands in order.
    const entries = splitTranscript(readFileSync(e.transcript, 'utf8'));
    expect(entries.map((x) => x.command)).toEqual(rec.commands.map((c) => c.command));
  });
});
