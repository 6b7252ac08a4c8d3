// Property tests: the parser never throws, chunking does not change its output, and time stays
// linear in the input size on adversarial logs (compared between n and 2n, not against a clock).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CrashLogParser, parseLog } from '../../src/report/index.ts';
import type { CrashReport } from '../../src/report/types.ts';
import { listSyzCases, readSyzCase } from './syzkaller-corpus.ts';

const syzDir = resolve(import.meta.dirname, '../../../shared/corpora/syzkaller/linux-report');
const samples = (() => {
  try {
    const names = listSyzCases(syzDir);
    return names.filter((_, i) => i % 25 === 0).map((n) => readSyzCase(syzDir, n).log);
  } catch {
    return [
      '[    1.000000] BUG: unable to handle page fault for address: 0000000000000008\n[    1.000001] RIP: 0010:foo+0x1/0x2\n',
    ];
  }
})();

function checkReports(reps: CrashReport[]): void {
  for (const r of reps) {
    expect(r.startLine).toBeGreaterThanOrEqual(1);
    expect(r.endLine).toBeGreaterThanOrEqual(r.startLine);
    expect(typeof r.title).toBe('string');
    expect(r.title.length).toBeLessThanOrEqual(120);
  }
}

function parseChunked(text: string, cuts: number[]): CrashReport[] {
  const out: CrashReport[] = [];
  const p = new CrashLogParser((r) => out.push(r));
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    const to = Math.min(text.length, c);
    if (to > at) p.push(text.slice(at, to));
    at = Math.max(at, to);
  }
  p.push(text.slice(at));
  p.end();
  return out;
}

const strip = (rs: CrashReport[]) => JSON.stringify(rs);

describe('parser properties', () => {
  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000 }), (bytes) => {
        checkReports(parseLog(Buffer.from(bytes).toString('latin1')));
        checkReports(parseLog(Buffer.from(bytes).toString('utf8')));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary text made of report vocabulary', () => {
    const words = fc.constantFrom(
      'BUG: ',
      'WARNING: ',
      'INFO: ',
      'kernel BUG at a.c:1!',
      'Call Trace:',
      '<IRQ>',
      '</IRQ>',
      ' ? ',
      'RIP: 0010:',
      'f+0x1/0x2',
      '[<ffffffff81000000>]',
      '[    1.000000] ',
      '[  T12] ',
      'Kernel panic - not syncing: ',
      'Modules linked in: a b',
      'Code: 0f <0b>',
      '\n',
      ' in ',
      'general protection fault: 0000',
      'CPU: 0 PID: 1 Comm: x Tainted: G W 6.1.0 #1',
    );
    fc.assert(
      fc.property(fc.array(words, { maxLength: 300 }), (ws) => {
        checkReports(parseLog(ws.join('')));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on mutated corpus logs, and chunking does not change the result', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('del', 'dup', 'swap', 'junk', 'cut')), {
          maxLength: 8,
        }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (log, muts, cuts) => {
          let lines = log.split('\n');
          for (const [a, b, op] of muts) {
            const i = a % Math.max(1, lines.length);
            const j = b % Math.max(1, lines.length);
            if (op === 'del') lines.splice(i, 1);
            else if (op === 'dup') lines.splice(i, 0, lines[j] ?? '');
            else if (op === 'swap') [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
            else if (op === 'junk')
              lines.splice(
                i,
                0,
                String.fromCharCode(...Array.from({ length: 20 }, (_, k) => (b * 31 + k * 7) % 256)),
              );
            else lines = lines.map((l, k) => (k === i ? l.slice(0, b % (l.length + 1)) : l));
          }
          const text = lines.join('\n');
          const whole = parseLog(text);
          checkReports(whole);
          const chunked = parseChunked(
            text,
            cuts.map((c) => c % (text.length + 1)),
          );
          // parseLog also applies the whole-log VM-disconnected rule; compare without it.
          if (!text.includes('serialport: VM disconnected.')) expect(strip(chunked)).toBe(strip(whole));
        },
      ),
      { numRuns: 150 },
    );
  });
});

/** Fastest of a few runs of f (the minimum is the least disturbed by GC and other processes). */
function timeIt(f: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    // CPU time of this process: other jobs on a shared machine do not inflate it.
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000);
  }
  return best;
}

/** t(2n)/t(n): about 2 for linear work, about 4 for quadratic. Each measurement repeats the parse
 * enough times to take tens of milliseconds, so that scheduler noise on a shared machine averages out;
 * up to three ratios are taken and the smallest kept: a loaded CI machine or a GC pause can push one
 * attempt of linear work past the limit, while quadratic work shows ~4 in every attempt. */
function growth(make: (n: number) => string, n: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3 && best >= 2.6; i++) best = Math.min(best, growthOnce(make, n));
  return best;
}

function growthOnce(make: (n: number) => string, n: number): number {
  const small = make(n);
  const big = make(2 * n);
  parseLog(small);
  parseLog(big);
  const once = timeIt(() => parseLog(small));
  const reps = Math.max(1, Math.ceil(40 / Math.max(once, 0.05)));
  const many = (s: string) => () => {
    for (let i = 0; i < reps; i++) parseLog(s);
  };
  const t1 = timeIt(many(small));
  const t2 = timeIt(many(big));
  return t2 / t1;
}

describe('linear time', () => {
  const LIMIT = 3.2;

  it('one huge line (5 MB vs 10 MB)', () => {
    const g = growth((n) => `[    1.000000] BUG: ${'BUG: Call Trace: <IRQ> '.repeat(n / 24)}\n`, 5_000_000);
    expect(g).toBeLessThan(LIMIT);
  });

  it('many Call Trace: lines (5*10^4 vs 10^5)', () => {
    const g = growth(
      (n) =>
        `[    1.000000] general protection fault: 0000 [#1] SMP\n${'[    1.000001] Call Trace:\n'.repeat(n)}`,
      50_000,
    );
    expect(g).toBeLessThan(LIMIT);
  });

  it('deep <IRQ> nesting', () => {
    const g = growth(
      (n) =>
        `[    1.000000] BUG: soft lockup - CPU#0 stuck for 22s!\n[    1.000000] Call Trace:\n${'[    1.000001]  <IRQ>\n[    1.000001]  foo+0x1/0x2\n'.repeat(n)}${'[    1.000002]  </IRQ>\n'.repeat(n)}`,
      40_000,
    );
    expect(g).toBeLessThan(LIMIT);
  });

  it('many reports in one log (250 vs 500)', () => {
    const one = readFileSync(resolve(import.meta.dirname, '../../../shared/seed/machine-b.log'), 'utf8');
    const g = growth((n) => `${one}\n`.repeat(n), 250);
    expect(g).toBeLessThan(LIMIT);
  });
});
