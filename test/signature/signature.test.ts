import { describe, expect, it } from 'vitest';
import type { CrashReport, Frame } from '../../src/report/types.ts';
import { frameSignature, normalizeFrameName, stackSimilarity } from '../../src/signature/index.ts';

const frame = (func: string, reliable = true): Frame => ({
  func,
  offset: 1,
  size: 2,
  module: null,
  address: null,
  reliable,
  context: 'task',
  inlined: false,
  file: null,
  line: null,
});

function report(frames: Frame[], registers: Record<string, string> = {}): CrashReport {
  return {
    kind: 'bug',
    title: 't',
    altTitles: [],
    type: 'BUG',
    corrupted: false,
    corruptedReason: null,
    guiltyFrame: null,
    bugLocation: null,
    messages: [],
    ipFrame: null,
    frames,
    registers,
    code: null,
    modules: [],
    taint: null,
    kernelRelease: null,
    kernelBuild: null,
    hardware: null,
    cpu: null,
    pid: null,
    comm: null,
    context: null,
    startLine: 1,
    endLine: 1,
    text: '',
  };
}

describe('frameSignature', () => {
  it('drops offsets, compiler suffixes, unreliable and generic frames, and puts the RIP function first', () => {
    const r = report(
      [
        frame('dump_stack'),
        frame('foo.isra.0'),
        frame('bar.constprop.3'),
        frame('junk', false),
        frame('baz.cold'),
        frame('qux.part.1'),
        frame('do_syscall_64'),
        frame('entry_SYSCALL_64_after_hwframe'),
      ],
      { RIP: '0010:top_fn.cold+0x1/0x2' },
    );
    expect(frameSignature(r)).toEqual(['top_fn', 'foo', 'bar', 'baz', 'qux']);
  });

  it('leaves out frames the kernel printed as a bare address (they differ from machine to machine)', () => {
    const r = report([frame('driver_register'), frame('0xffffffffc00b7000'), frame('do_one_initcall')]);
    expect(frameSignature(r)).toEqual(['driver_register', 'do_one_initcall']);
  });

  it('normalises names', () => {
    expect(normalizeFrameName('a.isra.12.cold')).toBe('a');
    expect(normalizeFrameName('plain')).toBe('plain');
  });
});

describe('stackSimilarity', () => {
  it('is 1 for equal stacks and 0 for disjoint ones', () => {
    expect(stackSimilarity(['a', 'b', 'c'], ['a', 'b', 'c'])).toBeCloseTo(1);
    expect(stackSimilarity(['a', 'b'], ['x', 'y'])).toBe(0);
  });

  it('weighs a common top more than a common bottom', () => {
    const top = stackSimilarity(['a', 'b', 'c', 'd', 'e'], ['a', 'b', 'x', 'y', 'z']);
    const bottom = stackSimilarity(['a', 'b', 'c', 'd', 'e'], ['v', 'w', 'x', 'd', 'e']);
    expect(top).toBeGreaterThan(bottom);
  });

  it('penalises frames that moved', () => {
    const same = stackSimilarity(['a', 'b', 'c'], ['a', 'b', 'c', 'd']);
    const shifted = stackSimilarity(['a', 'b', 'c'], ['x', 'y', 'a', 'b', 'c']);
    expect(same).toBeGreaterThan(shifted);
  });

  it('is symmetric and stays in [0, 1]', () => {
    const a = ['f', 'g', 'h', 'f', 'g'];
    const b = ['g', 'f', 'h', 'g', 'f', 'f'];
    const s1 = stackSimilarity(a, b);
    expect(s1).toBeCloseTo(stackSimilarity(b, a));
    expect(s1).toBeGreaterThanOrEqual(0);
    expect(s1).toBeLessThanOrEqual(1);
  });
});
