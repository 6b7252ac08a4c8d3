// The page shell shared by every dashboard page: landmarks (banner, navigation, main, contentinfo),
// a skip link, the stylesheet and, only where a page asks for it, the chart/filter scripts.
import { html, type SafeHtml } from './html.ts';

export type Section = 'buckets' | 'upload' | 'analyses' | 'other';

export interface PageOpts {
  title: string;
  section: Section;
  body: SafeHtml;
  /** Client scripts (our own, under /static/) the page needs; reading never depends on them. */
  scripts?: ('charts' | 'filter')[];
}

const NAV: [Section, string, string][] = [
  ['buckets', '/', 'Buckets'],
  ['upload', '/upload', 'Upload'],
  ['analyses', '/analyses', 'Analyses'],
];

export function page(opts: PageOpts): string {
  const scripts = opts.scripts ?? [];
  const needCharts = scripts.includes('charts');
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · ktriage</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/app.css">
${needCharts ? html`<link rel="stylesheet" href="/static/vendor/uPlot.min.css">` : ''}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top" role="banner">
<a class="brand" href="/">ktriage</a>
<nav aria-label="Main">
<ul>
${NAV.map(
  ([s, href, label]) =>
    html`<li><a href="${href}"${s === opts.section ? html` aria-current="page"` : ''}>${label}</a></li>`,
)}
</ul>
</nav>
</header>
<main id="main" tabindex="-1">
${opts.body}
</main>
<footer role="contentinfo">ktriage: why did the kernel crash? · <a href="/api/v1/buckets">API</a></footer>
${needCharts ? html`<script src="/static/vendor/uPlot.iife.min.js" defer></script>` : ''}
${scripts.map((s) => html`<script src="/static/${s}.js" defer></script>`)}
</body>
</html>
`.value;
}

/** An error page body (404, bad input) with what was wrong, escaped. */
export function errorPage(title: string, detail: string): string {
  return page({
    title,
    section: 'other',
    body: html`<h1>${title}</h1><p class="error" role="alert">${detail}</p><p><a href="/">Back to buckets</a></p>`,
  });
}

/** `2026-11-25 18:20` in UTC; the full ISO time goes into a <time datetime>. */
export function fmtTime(iso: string | null | undefined): SafeHtml {
  if (!iso) return html`<span class="muted">—</span>`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return html`${iso}`;
  const s = d.toISOString();
  return html`<time datetime="${s}">${s.slice(0, 10)} ${s.slice(11, 16)}</time>`;
}

/** `2026-11-25` with the full UTC time as a tooltip, for narrow table cells. */
export function fmtDay(iso: string | null | undefined): SafeHtml {
  if (!iso) return html`<span class="muted">—</span>`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return html`${iso}`;
  const s = d.toISOString();
  return html`<time datetime="${s}" title="${s.slice(0, 10)} ${s.slice(11, 19)} UTC">${s.slice(0, 10)}</time>`;
}

/** `3 days ago` style relative age against `now`, for the buckets table. */
export function fmtAge(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 90) return `${s}s ago`;
  if (s < 5400) return `${Math.round(s / 60)}m ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

/** Previous/next links around "Page N of M"; nothing when everything fits on one page. */
export function pager(
  label: string,
  pageNo: number,
  pages: number,
  href: (p: number) => string,
  words: [prev: string, next: string] = ['← Previous', 'Next →'],
): SafeHtml | '' {
  if (pages <= 1) return '';
  return html`<nav class="pager" aria-label="${label}">
${pageNo > 1 ? html`<a rel="prev" href="${href(pageNo - 1)}">${words[0]}</a>` : ''}
<span>Page ${pageNo} of ${pages}</span>
${pageNo < pages ? html`<a rel="next" href="${href(pageNo + 1)}">${words[1]}</a>` : ''}
</nav>`;
}
