// Where the fixture dumps are, and whether the live tests can run. The factory
// (test/fixtures/vmcore/make-fixtures.sh, run by .ci/setup.d/30-vmcore.sh) writes them under
// $KTRIAGE_CACHE/fixtures/<abi>/ and exports KTRIAGE_VMCORE_FIXTURES in CI.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { CrashError } from '../../src/vmcore/errors.ts';
import { resolveCrashBinary } from '../../src/vmcore/session.ts';
import type { Truth } from '../fixtures/vmcore/truth.ts';

export const SCENARIOS = ['sysrq', 'null', 'bug', 'unlock', 'unlock-thread', 'softirq'] as const;

export interface Fixture {
  scenario: string;
  dir: string;
  truth: Truth;
  vmlinux: string;
  moduleDebugDir: string;
  dumps: Record<string, string>;
}

export function fixturesRoot(): string {
  if (process.env.KTRIAGE_VMCORE_FIXTURES) return path.resolve(process.env.KTRIAGE_VMCORE_FIXTURES);
  const cache = process.env.KTRIAGE_CACHE || path.join(homedir(), '.cache', 'ktriage');
  return path.join(cache, 'fixtures', 'current');
}

export function loadFixture(scenario: string, root = fixturesRoot()): Fixture {
  const dir = path.join(root, scenario);
  const truthPath = path.join(dir, 'truth.json');
  if (!existsSync(truthPath)) throw new Error(`vmcore fixture ${scenario}: ${truthPath} missing`);
  const truth = JSON.parse(readFileSync(truthPath, 'utf8')) as Truth;
  const dumps: Record<string, string> = {};
  for (const [format, file] of Object.entries(truth.files.dumps)) dumps[format] = path.join(dir, file);
  return {
    scenario,
    dir,
    truth,
    vmlinux: path.resolve(dir, truth.files.vmlinux),
    moduleDebugDir: path.resolve(dir, truth.files.moduleDebugDir),
    dumps,
  };
}

/** Why the live tests cannot run here (null when they can). */
export function liveUnavailable(): string | null {
  try {
    resolveCrashBinary();
  } catch (e) {
    return e instanceof CrashError ? e.message : String(e);
  }
  const root = fixturesRoot();
  for (const s of SCENARIOS) {
    const p = path.join(root, s, 'truth.json');
    if (!existsSync(p)) {
      return `vmcore fixtures missing (${p}); make them with: sudo bash test/fixtures/vmcore/make-fixtures.sh (or set KTRIAGE_VMCORE_FIXTURES)`;
    }
  }
  const f = loadFixture('bug', root);
  if (!existsSync(f.vmlinux))
    return `vmlinux ${f.vmlinux} missing: rerun test/fixtures/vmcore/make-fixtures.sh`;
  return null;
}

/** Live tests run when crash and the fixtures are here, and must (failing) when KTRIAGE_REQUIRE_ALL=1. */
export const LIVE_REASON = liveUnavailable();
export const RUN_LIVE = LIVE_REASON === null || process.env.KTRIAGE_REQUIRE_ALL === '1';

/** Call in beforeAll: throws the reason so every test of the suite fails with it (CI). */
export function requireLive(): void {
  if (LIVE_REASON) throw new Error(`live crash tests cannot run (KTRIAGE_REQUIRE_ALL=1): ${LIVE_REASON}`);
}

/** Canonical bigint of a hex string with or without 0x. */
export function big(hex: string): bigint {
  return BigInt(hex.startsWith('0x') ? hex : `0x${hex}`);
}

export interface RecordedFixtureSession {
  scenario: string;
  format: string;
  /** Path of the RecordedSession JSON (load with loadRecordedSession from src/vmcore/recorder.ts). */
  session: string;
  /** Path of the same session as a `crash>` transcript. */
  transcript: string;
  truth: string;
}

/** The crash sessions the factory recorded on the fixture dumps (sessions/index.json). */
export function recordedSessions(root = fixturesRoot()): RecordedFixtureSession[] {
  const dir = path.join(root, 'sessions');
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as RecordedFixtureSession[];
  return index.map((e) => ({
    ...e,
    session: path.join(dir, e.session),
    transcript: path.join(dir, e.transcript),
    truth: path.join(dir, e.truth),
  }));
}
