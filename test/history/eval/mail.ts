// Evaluation of the mailing-list path on a public-inbox archive (e.g. linux-nfs). Answer key: a
// mailed patch F whose `Fixes: <id> ("S")` names a subject S that was itself mailed as a patch P
// in the archive. The base is a date 30 days after P was posted (P merged by then), F must come
// later. Query: P's functions and files, no words. Recall@k of F (any version of it) among the
// mailed candidates, against the same pool ordered by date.
//
//   npx tsx test/history/eval/mail.ts --index FILE [--sample 300] [--lag-days 30]
import { parseArgs } from 'node:util';
import { findFixes, HistoryIndex } from '../../../src/history/query.ts';

const { values } = parseArgs({
  options: {
    index: { type: 'string' },
    sample: { type: 'string', default: '300' },
    'lag-days': { type: 'string', default: '30' },
  },
});
if (!values.index) {
  process.stderr.write('usage: mail.ts --index MAIL_INDEX_FILE [--sample N]\n');
  process.exit(2);
}
function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}
const idx = HistoryIndex.open(values.index);
const lag = Number(values['lag-days']) * 86400;
const rows = idx.db
  .prepare(
    `SELECT f.id AS fid, f.clean_subject AS fsubj, f.time AS ftime, x.subject AS target
     FROM mail_fixes x JOIN mails f ON f.id = x.mail_id
     WHERE f.is_patch = 1 AND f.is_reply = 0 AND x.subject IS NOT NULL`,
  )
  .all() as { fid: number; fsubj: string; ftime: number; target: string }[];
const findP = idx.db.prepare(
  `SELECT id, time FROM mails WHERE clean_subject = ? AND is_patch = 1 AND is_reply = 0 AND time < ?
   AND EXISTS (SELECT 1 FROM mail_files WHERE mail_id = mails.id) ORDER BY version DESC, time DESC LIMIT 1`,
);
const funcsOf = idx.db.prepare('SELECT DISTINCT func FROM mail_funcs WHERE mail_id = ?').pluck();
const filesOf = idx.db.prepare('SELECT DISTINCT path FROM mail_files WHERE mail_id = ?').pluck();
const pairs: { fsubj: string; pid: number; base: number }[] = [];
const seen = new Set<string>();
for (const r of rows) {
  const p = findP.get(r.target, r.ftime) as { id: number; time: number } | undefined;
  if (!p || r.ftime <= p.time + lag) continue;
  const key = `${r.fsubj}\0${p.id}`;
  if (seen.has(key)) continue;
  seen.add(key);
  pairs.push({ fsubj: r.fsubj, pid: p.id, base: p.time + lag });
}
pairs.sort((a, b) => hash(a.fsubj) - hash(b.fsubj));
const sample = pairs.slice(0, Number(values.sample));
const s = { n: 0, found: 0, r1: 0, r5: 0, r10: 0, b1: 0, b5: 0, b10: 0, skipped: 0 };
const ms: number[] = [];
for (const p of sample) {
  const funcs = (funcsOf.all(p.pid) as string[]).slice(0, 8).map((name) => ({ name, depth: 0 }));
  const files = (filesOf.all(p.pid) as string[]).slice(0, 8);
  if (funcs.length === 0 && files.length === 0) {
    s.skipped++;
    continue;
  }
  s.n++;
  const t0 = performance.now();
  const res = findFixes([idx], {
    base: new Date(p.base * 1000).toISOString().slice(0, 10),
    funcs,
    files,
    words: [],
  });
  ms.push(performance.now() - t0);
  const clean = (subj: string) => subj.replace(/^(\[[^\]]*\]\s*)+/, '').trim();
  const rank = res.findIndex((c) => clean(c.subject) === p.fsubj);
  const byDate = [...res].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const brank = byDate.findIndex((c) => clean(c.subject) === p.fsubj);
  if (rank >= 0) s.found++;
  if (rank === 0) s.r1++;
  if (rank >= 0 && rank < 5) s.r5++;
  if (rank >= 0 && rank < 10) s.r10++;
  if (brank === 0) s.b1++;
  if (brank >= 0 && brank < 5) s.b5++;
  if (brank >= 0 && brank < 10) s.b10++;
}
const pct = (x: number) => `${((100 * x) / Math.max(1, s.n)).toFixed(1)}%`;
ms.sort((a, b) => a - b);
process.stdout.write(
  `${pairs.length} (fix, fixed) mail pairs, ${sample.length} sampled, ${s.n} queried; in pool ${pct(s.found)}; ` +
    `recall@1 ${pct(s.r1)} @5 ${pct(s.r5)} @10 ${pct(s.r10)}; by-date baseline @1 ${pct(s.b1)} @5 ${pct(s.b5)} @10 ${pct(s.b10)}; ` +
    `query median ${ms[Math.floor(ms.length / 2)]?.toFixed(1)} ms\n`,
);
idx.close();
