// The compact stored form of a report must give back exactly the report that was stored (same
// values, same key order), for real parsed reports and for arbitrary frame values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLog } from '../../src/report/index.ts';
import type { CrashReport, Frame } from '../../src/report/types.ts';
import { decodeReport, encodeReport } from '../../src/store/compact.ts';
import { corpusReports } from './corpus.ts';

describe('compact report form', () => {
  it('round-trips real corpus reports exactly and is smaller', () => {
    const reports = corpusReports(300).flatMap((r) => parseLog(r.text));
    expect(reports.length).toBeGreaterThan(100);
    let plain = 0;
    let compact = 0;
    for (const r of reports) {
      const s = encodeReport(r);
      expect(JSON.stringify(decodeReport(s))).toBe(JSON.stringify(r));
      plain += JSON.stringify(r).length;
      compact += s.length;
    }
    expect(compact).toBeLessThan(plain * 0.8);
  });

  it('round-trips arbitrary frame values, including values equal to the defaults', () => {
    const base = parseLog(corpusReports(50)[0]!.text)[0]!;
    const frame = fc.record({
      func: fc.string(),
      offset: fc.option(fc.nat()),
      size: fc.option(fc.nat()),
      module: fc.option(fc.string()),
      address: fc.option(fc.string()),
      reliable: fc.boolean(),
      context: fc.constantFrom('task', 'irq', 'softirq', 'nmi', 'unknown'),
      inlined: fc.boolean(),
      file: fc.option(fc.string()),
      line: fc.option(fc.nat()),
    }) as fc.Arbitrary<Frame>;
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 6 }),
        fc.option(frame),
        fc.boolean(),
        (frames, ip, corrupted) => {
          const r: CrashReport = { ...base, frames, ipFrame: ip, corrupted, registers: {} };
          expect(JSON.stringify(decodeReport(encodeReport(r)))).toBe(JSON.stringify(r));
        },
      ),
    );
  });

  it('stores reports of another shape as plain JSON and reads plain JSON rows', () => {
    const base = parseLog(corpusReports(50)[0]!.text)[0]!;
    const extra = { ...base, newField: 1 } as unknown as CrashReport;
    expect(encodeReport(extra)).toBe(JSON.stringify(extra));
    const odd = { ...base, frames: [{ func: 'f' } as Frame] };
    expect(encodeReport(odd)).toBe(JSON.stringify(odd));
    expect(decodeReport(JSON.stringify(base))).toEqual(base);
    const { text, ...rest } = base;
    const reordered = { text, ...rest } as CrashReport;
    expect(JSON.stringify(decodeReport(encodeReport(reordered)))).toBe(JSON.stringify(reordered));
  });
});
