// Analyses: reports that later stages (vmcore triage, source index, fix candidates) attach to
// crashes and buckets. Stored HTML is shown in a sandboxed iframe (no scripts, no same-origin, no
// forms, no top navigation), so whatever it holds cannot run in the dashboard's origin; Markdown is
// shown as escaped preformatted text; JSON is pretty-printed, escaped.
import type { Analysis, AnalysisSummary } from '../../../store/types.ts';
import { html, query } from '../html.ts';
import { fmtTime, page } from '../layout.ts';

const KINDS = ['vmcore', 'source', 'fixes', 'transcript', 'note'];

export function renderAnalyses(items: AnalysisSummary[], kind: string): string {
  const body = html`<h1>Analyses</h1>
<p>Reports attached to crashes and buckets by <code>ktriage analyze</code>, the source index and the fix finder.</p>
<nav class="tabs" aria-label="Analysis kinds"><ul>
<li><a href="/analyses"${kind === '' ? html` aria-current="page"` : ''}>all</a></li>
${KINDS.map((k) => html`<li><a href="${query('/analyses', { kind: k })}"${kind === k ? html` aria-current="page"` : ''}>${k}</a></li>`)}
</ul></nav>
${
  items.length === 0
    ? html`<p class="empty">No analyses${kind ? html` of kind ${kind}` : ''} yet.</p>`
    : html`<div class="tablewrap"><table class="analyses">
<caption class="visually-hidden">Analyses, newest first</caption>
<thead><tr><th scope="col">Title</th><th scope="col">Kind</th><th scope="col">Crash</th><th scope="col">Bucket</th><th scope="col">Created</th><th scope="col">Formats</th></tr></thead>
<tbody>${items.map(
        (a) => html`<tr>
<td><a href="/analyses/${a.id}">${a.title}</a></td>
<td>${a.kind}</td>
<td>${a.crashId !== null ? html`<a href="/crashes/${a.crashId}">#${a.crashId}</a>` : '—'}</td>
<td>${a.bucketId !== null ? html`<a href="/buckets/${a.bucketId}">${a.bucketId}</a>` : '—'}</td>
<td class="nowrap">${fmtTime(a.createdAt)}</td>
<td>${a.formats.join(', ')}</td>
</tr>`,
      )}</tbody></table></div>`
}`;
  return page({ title: 'Analyses', section: 'analyses', body });
}

export function renderAnalysis(a: Analysis): string {
  const metaEntries = Object.entries(a.meta ?? {});
  const body = html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/analyses">Analyses</a> › ${a.id}</nav>
<h1>${a.title}</h1>
<dl class="facts">
<dt>Kind</dt><dd>${a.kind}</dd>
<dt>Created</dt><dd>${fmtTime(a.createdAt)}</dd>
${a.crashId !== null ? html`<dt>Crash</dt><dd><a href="/crashes/${a.crashId}">#${a.crashId}</a></dd>` : ''}
${a.bucketId !== null ? html`<dt>Bucket</dt><dd><a href="/buckets/${a.bucketId}">${a.bucketId}</a></dd>` : ''}
${a.jobId !== null ? html`<dt>Job</dt><dd>${a.jobId}</dd>` : ''}
${metaEntries.map(([k, v]) => html`<dt>${k}</dt><dd><code>${typeof v === 'string' ? v : JSON.stringify(v)}</code></dd>`)}
</dl>
${
  a.html
    ? html`<h2>Report</h2>
<iframe class="analysis" title="Analysis report: ${a.title}" sandbox="" referrerpolicy="no-referrer" srcdoc="${a.html}"></iframe>`
    : ''
}
${
  a.markdown
    ? a.html
      ? html`<details><summary>The same report as text (Markdown)</summary><pre class="md" tabindex="0">${a.markdown}</pre></details>`
      : html`<h2>Report</h2><pre class="md" tabindex="0">${a.markdown}</pre>`
    : ''
}
${
  a.json !== null && a.json !== undefined
    ? html`<details${a.html || a.markdown ? '' : html` open`}><summary>Structured data (JSON)</summary><pre class="json" tabindex="0">${JSON.stringify(a.json, null, 2)}</pre></details>`
    : ''
}`;
  return page({ title: a.title, section: 'analyses', body });
}
