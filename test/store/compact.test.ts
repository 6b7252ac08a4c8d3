// The compact stored form of a report must give back exactly the report that was stored (same
// values, same key order), for real parsed reports and for arbitrary frame values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLog } from '../../src/report/index.ts';
import type { CrashReport, Frame } from '../../src/report/types.ts';
import { decodeReport, decodeTextRefs, encodeReport, encodeTextRefs } from '../../src/store/compact.ts';
import { prepareLog } from '../../src/store/prepare.ts';
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

  it('keeps report.text as references into the raw text, rebuilt exactly on read', () => {
    const crashes = corpusReports(300).flatMap((r) => prepareLog({ text: r.text, source: r.source }).crashes);
    let withText = 0;
    let withRefs = 0;
    let referenced = 0;
    for (const c of crashes) {
      const s = encodeReport(c.report, c.rawText);
      expect(JSON.stringify(decodeReport(s, c.rawText))).toBe(JSON.stringify(c.report));
      // The prepared row is the same encoding.
      expect(c.reportJson).toBe(s);
      withText += encodeReport(c.report).length;
      referenced += s.length;
      if ((JSON.parse(s) as { $t?: unknown }).$t) {
        withRefs++;
        expect(() => decodeReport(s)).toThrow(/raw text/);
      }
    }
    // Most real reports are their raw lines minus prefixes; the stored report shrinks by the text.
    expect(withRefs).toBeGreaterThan(crashes.length * 0.9);
    expect(referenced).toBeLessThan(withText * 0.7);
  });

  it('text references: arbitrary prefixes, skipped lines, trailing newline; else verbatim', () => {
    const line = fc.stringMatching(/^[ -~]{0,12}$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(line, line, fc.boolean()), { maxLength: 12 }),
        fc.boolean(),
        (parts, nl) => {
          // raw: prefix+body lines, some of them interleaved noise that the text leaves out.
          const raw = parts.map(([p, b]) => p + b).join('\n');
          const kept = parts.filter(([, , keep]) => keep).map(([, b]) => b);
          const text = kept.join('\n') + (nl ? '\n' : '');
          const refs = encodeTextRefs(text, raw);
          if (kept.length > 0 || !nl) expect(refs).not.toBeNull();
          if (refs) expect(decodeTextRefs(refs, raw)).toBe(text);
        },
      ),
    );
    // A line the raw text does not end any of its lines with cannot be referenced.
    expect(encodeTextRefs('abc\nzzz', 'x abc\ny def')).toBeNull();
    const base = prepareLog({ text: corpusReports(50)[0]!.text }).crashes[0]!;
    const odd = { ...base.report, text: 'not in the raw text' };
    const s = encodeReport(odd, base.rawText);
    expect(JSON.parse(s).text).toBe('not in the raw text');
    expect(decodeReport(s, base.rawText)).toEqual(odd);
  });
});
