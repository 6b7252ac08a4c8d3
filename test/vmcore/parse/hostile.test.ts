// Pathological input: very long lines, unbalanced braces, binary junk. Every parser must return
// (or throw its CrashParseError) promptly: the scanners are linear, no regex backtracking blow-up.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CrashParseError,
  parseBt,
  parseDis,
  parseKmemAddress,
  parseMod,
  parsePrint,
  parseRd,
  parseSearch,
  parseStructOffsets,
  parseSys,
  parseTypeInfo,
  splitDecl,
  splitTranscript,
} from '../../../src/vmcore/parse/index.ts';

const N = 200_000;
const inputs = [
  'A'.repeat(N),
  `${'a'.repeat(N)}!`,
  ' '.repeat(N),
  `RBX: ${'A'.repeat(N)}`,
  `0xffffffffc0224060 <f+1>:\tmov ${' '.repeat(N)}[`,
  `struct x {\n  [0] ${'a'.repeat(N)};`,
  `type = enum e {${' '.repeat(N)}`,
  `${'{'.repeat(N)}`,
  `x = ${'"'.repeat(N)}`,
  `crash> ${'`'.repeat(N)}`,
];

function attempt(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof CrashParseError) && !(e instanceof Error && /cannot parse|expected/.test(e.message)))
      throw e;
  }
}

describe('hostile input', () => {
  it('every parser returns on long pathological lines', () => {
    for (const t of inputs) {
      attempt(() => parseBt(t));
      attempt(() => parseDis(t));
      attempt(() => parseKmemAddress(t));
      attempt(() => parseMod(t));
      attempt(() => parsePrint(t));
      attempt(() => parseRd(t));
      attempt(() => parseSearch(t));
      attempt(() => parseStructOffsets(t));
      attempt(() => parseSys(t));
      attempt(() => parseTypeInfo(t));
      attempt(() => splitDecl(t));
      attempt(() => splitTranscript(t));
    }
    expect(true).toBe(true);
  });

  it('random text never crashes the value parser or the transcript splitter', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        attempt(() => parsePrint(s));
        const e = splitTranscript(`crash> p x\n${s}`);
        expect(e[0]!.command).toBe('p x');
      }),
      { numRuns: 300 },
    );
  });
});
