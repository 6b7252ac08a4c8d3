// syzkaller's linux/report corpus: the first report's title must equal TITLE (no report when TITLE
// is missing or empty), the sorted alt titles must equal the ALT lines, and the corrupted flag must
// equal CORRUPTED. The scores may not fall below test/report/ratchet.json.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLog } from '../../src/report/index.ts';
import { listSyzCases, readSyzCase } from './syzkaller-corpus.ts';

const dir = resolve(import.meta.dirname, '../../../shared/corpora/syzkaller/linux-report');
const ratchet = JSON.parse(readFileSync(resolve(import.meta.dirname, 'ratchet.json'), 'utf8')) as {
  title: number;
  alt: number;
  corrupted: number;
  type: number;
};

describe.skipIf(!existsSync(dir) && process.env.KTRIAGE_REQUIRE_ALL !== '1')(
  'syzkaller linux/report corpus',
  () => {
    it('matches TITLE, ALT and CORRUPTED', () => {
      expect(existsSync(dir), `corpus missing: ${dir}`).toBe(true);
      const names = listSyzCases(dir);
      expect(names.length).toBeGreaterThan(500);
      let title = 0;
      let alt = 0;
      let corrupted = 0;
      let type = 0;
      let typed = 0;
      const failures: string[] = [];
      for (const name of names) {
        const c = readSyzCase(dir, name);
        const r = parseLog(c.log)[0];
        const got = r?.title ?? null;
        const okTitle = got === c.title;
        const gotAlts = [...(r?.altTitles ?? [])].sort();
        const okAlt = JSON.stringify(gotAlts) === JSON.stringify([...c.alts].sort());
        const okCorrupted = (r?.corrupted ?? false) === c.corrupted;
        if (okTitle) title++;
        if (okAlt) alt++;
        if (okCorrupted) corrupted++;
        // TYPE is stated for reports only; compare where both sides have one.
        const okType = c.type === null || !r || r.type === c.type;
        if (c.type !== null && r) {
          typed++;
          if (okType) type++;
        }
        const why: string[] = [];
        if (!okTitle) why.push(`title ${JSON.stringify(got)} != ${JSON.stringify(c.title)}`);
        if (!okAlt) why.push(`alt ${JSON.stringify(gotAlts)} != ${JSON.stringify(c.alts)}`);
        if (!okCorrupted) why.push(`corrupted ${r?.corrupted} != ${c.corrupted}`);
        if (!okType) why.push(`type ${r?.type} != ${c.type}`);
        if (why.length > 0) failures.push(`  ${name}: ${why.join('; ')}`);
      }
      const n = names.length;
      const score = { title: title / n, alt: alt / n, corrupted: corrupted / n, type: type / typed };
      console.log(
        `syzkaller linux/report: ${n} files, title ${(100 * score.title).toFixed(1)}%, alt ${(100 * score.alt).toFixed(1)}%, corrupted ${(100 * score.corrupted).toFixed(1)}%, type ${(100 * score.type).toFixed(1)}% of ${typed}\n${failures.join('\n')}`,
      );
      expect(score.title).toBeGreaterThanOrEqual(0.95);
      expect(score.alt).toBeGreaterThanOrEqual(0.9);
      expect(score.corrupted).toBeGreaterThanOrEqual(0.9);
      // The ratchet: raise ratchet.json when the score goes up; it may never go down.
      expect(score.title).toBeGreaterThanOrEqual(ratchet.title);
      expect(score.alt).toBeGreaterThanOrEqual(ratchet.alt);
      expect(score.corrupted).toBeGreaterThanOrEqual(ratchet.corrupted);
      expect(score.type).toBeGreaterThanOrEqual(ratchet.type);
    });
  },
);
