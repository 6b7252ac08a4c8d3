// Bucket: crashes per day, hosts and kernels with counts, the representative report with its
// annotated trace, and every member crash with why it joined (rule, similarity).
import type {
  AnalysisSummary,
  Bucket,
  Crash,
  CrashSummary,
  JoinRule,
  NameCount,
} from '../../../store/types.ts';
import { dayChart, padDays } from '../charts.ts';
import { html, query, type SafeHtml } from '../html.ts';
import { fmtTime, page, pager } from '../layout.ts';
import { messagesBlock, reportFacts, traceTable } from './report.ts';

export const MEMBERS_PAGE = 200;

const RULE_TEXT: Record<JoinRule, string> = {
  new: 'founded the bucket',
  'title+stack': 'same title, similar stack',
  title: 'same title (no stack to compare)',
  stack: 'different title, most similar stack',
};

/** Hosts and kernels shown before "show all" (a fleet bucket can have thousands of hosts). */
export const COUNTS_SHOWN = 25;

export interface BucketView {
  bucket: Bucket;
  /** UTC day the chart ends on (default: today). */
  today?: string;
  /** Show every host and kernel instead of the top COUNTS_SHOWN. */
  allCounts?: boolean;
  representative: Crash | null;
  /** The page of members to show (newest first). */
  members: CrashSummary[];
  memberPage: number;
}

function counts(
  all: NameCount[],
  label: string,
  id: string,
  hrefFor: (name: string) => string,
  showAll: boolean,
  allHref: string,
): SafeHtml {
  if (all.length === 0) return html`<p class="muted">None recorded.</p>`;
  const sorted = [...all].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  const rows = showAll ? sorted : sorted.slice(0, COUNTS_SHOWN);
  const rest = sorted.length - rows.length;
  return html`<table class="counts" aria-labelledby="${id}">
<thead><tr><th scope="col">${label}</th><th scope="col" class="num">Crashes</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><th scope="row"><a href="${hrefFor(r.name)}">${r.name}</a></th><td class="num">${r.count}</td></tr>`)}</tbody>
</table>
${rest > 0 ? html`<p><a href="${allHref}">Show all ${sorted.length}</a> (${rest} more, ${rest === 1 ? 'it has' : 'they have'} ${sorted.slice(COUNTS_SHOWN).reduce((a, r) => a + r.count, 0)} crashes)</p>` : ''}`;
}

export function similarityText(rule: JoinRule | null, similarity: number | null): string {
  const r = rule ? RULE_TEXT[rule] : 'unknown';
  return similarity === null ? r : `${r} (similarity ${similarity.toFixed(2)})`;
}

export function analysesList(items: AnalysisSummary[]): SafeHtml {
  if (items.length === 0) return html`<p class="muted">No analyses yet.</p>`;
  return html`<ul>${items.map((a) => html`<li><a href="/analyses/${a.id}">${a.title}</a> <span class="kind">${a.kind}</span> ${fmtTime(a.createdAt)}</li>`)}</ul>`;
}

export function renderBucket(v: BucketView): string {
  const b = v.bucket;
  const rep = v.representative;
  const pages = Math.max(1, Math.ceil(b.count / MEMBERS_PAGE));
  const memberRows = v.members.map(
    (c) => html`<tr${rep && c.id === rep.id ? html` class="rep"` : ''}>
<td class="num"><a href="/crashes/${c.id}">#${c.id}</a></td>
<td>${c.title === b.title ? html`<span class="muted">as the bucket</span>` : html`${c.title} <span class="tag">other title</span>`}</td>
<td>${c.host}</td>
<td>${c.kernel}</td>
<td class="nowrap">${fmtTime(c.occurredAt)}</td>
<td><span class="rule rule-${c.rule ?? 'unknown'}" title="${similarityText(c.rule, c.similarity)}">${c.rule ?? '?'}</span></td>
<td class="num">${c.similarity === null ? html`<span class="muted">—</span>` : c.similarity.toFixed(2)}</td>
</tr>`,
  );
  const pagerNav = pager(
    'Pages of member crashes',
    v.memberPage,
    pages,
    (p) => `${query(`/buckets/${b.id}`, { page: p, all: v.allCounts ? 1 : null })}#members`,
    ['← Newer', 'Older →'],
  );
  const body = html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/">Buckets</a> › bucket ${b.id}</nav>
<h1>${b.title}</h1>
<dl class="facts inline">
<dt>Crashes</dt><dd>${b.count}</dd>
<dt>Hosts</dt><dd>${b.hostCounts.length}</dd>
<dt>Kernels</dt><dd>${b.kernelCounts.length}</dd>
<dt>First seen</dt><dd>${fmtTime(b.firstSeen)}</dd>
<dt>Last seen</dt><dd>${fmtTime(b.lastSeen)}</dd>
<dt>Kind</dt><dd>${b.kind}</dd>
</dl>
<section aria-labelledby="h-perday">
<h2 id="h-perday">Crashes per day</h2>
${dayChart(padDays(b.perDay, v.today ?? new Date().toISOString().slice(0, 10)), `Crashes per day in bucket ${b.id}`)}
</section>
<div class="cols">
<section aria-labelledby="h-hosts"><h2 id="h-hosts">Hosts</h2>${counts(b.hostCounts, 'Host', 'h-hosts', (h) => query('/', { host: h }), Boolean(v.allCounts), `${query(`/buckets/${b.id}`, { all: 1 })}#h-hosts`)}</section>
<section aria-labelledby="h-kernels"><h2 id="h-kernels">Kernel versions</h2>${counts(b.kernelCounts, 'Kernel', 'h-kernels', (k) => query('/', { kernel: k }), Boolean(v.allCounts), `${query(`/buckets/${b.id}`, { all: 1 })}#h-kernels`)}</section>
</div>
<section aria-labelledby="h-rep">
<h2 id="h-rep">Representative report</h2>
${
  rep
    ? html`<p>Crash <a href="/crashes/${rep.id}">#${rep.id}</a> from ${rep.host}, ${fmtTime(rep.occurredAt)}.</p>
${reportFacts(rep.report)}
${messagesBlock(rep.report)}
${traceTable(rep.report, rep.report.kernelRelease ?? rep.kernel, 'Call trace of the representative crash.')}`
    : html`<p class="muted">The representative crash is missing.</p>`
}
<details><summary>Signature compared by bucketing (${b.signature.length} frames)</summary><ol class="sig">${b.signature.map((s) => html`<li><code>${s}</code></li>`)}</ol></details>
</section>
<section aria-labelledby="h-members" id="members">
<h2 id="h-members">Member crashes (${b.count})</h2>
<p class="muted">Rule: <b>new</b> founded the bucket; <b>title+stack</b> same title and a similar stack; <b>title</b> same title with no stack to compare; <b>stack</b> a different title whose stack is the most similar above the threshold.</p>
<div class="tablewrap"><table class="members">
<caption class="visually-hidden">Member crashes, newest first, and why each joined</caption>
<thead><tr><th scope="col">Crash</th><th scope="col">Title</th><th scope="col">Host</th><th scope="col">Kernel</th><th scope="col">Occurred</th><th scope="col">Joined by</th><th scope="col" class="num">Similarity</th></tr></thead>
<tbody>${memberRows}</tbody>
</table></div>
${pagerNav}
</section>
<section aria-labelledby="h-analyses"><h2 id="h-analyses">Analyses</h2>${analysesList(b.analyses)}</section>`;
  return page({ title: b.title, section: 'buckets', body, scripts: ['charts'] });
}
