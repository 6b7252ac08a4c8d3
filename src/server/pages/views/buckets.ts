// Buckets: the syzbot-like table of every bucket, with sorting by column, filters by host, kernel
// and time, and full-text search over titles and frames. Everything is a plain GET form and links,
// so it works without JavaScript; static/filter.js only adds instant filtering of the visible rows.
import type { BucketFilter, BucketList, BucketSort } from '../../../store/types.ts';
import { sparkline } from '../charts.ts';
import { html, join, query, type SafeHtml } from '../html.ts';
import { fmtAge, fmtDay, fmtTime, page, pager } from '../layout.ts';

export const SPARK_DAYS = 28;
export const PAGE_SIZE = 50;

/** The query string of the buckets page, validated (values are echoed into the form escaped). */
export interface BucketsQuery {
  q: string;
  host: string;
  kernel: string;
  /** `24h`, `7d`, `30d`, `90d` or `` (all time). */
  since: string;
  /** Explicit UTC day range `YYYY-MM-DD` (inclusive); `from` overrides `since`. */
  from: string;
  to: string;
  sort: BucketSort;
  order: 'asc' | 'desc';
  page: number;
}

const SORTS: BucketSort[] = ['lastSeen', 'firstSeen', 'count', 'title', 'hosts'];
const SINCE: Record<string, number> = { '24h': 1, '7d': 7, '30d': 30, '90d': 90 };

export function parseBucketsQuery(get: (k: string) => string | undefined): BucketsQuery {
  const sort = SORTS.find((s) => s === get('sort')) ?? 'lastSeen';
  const order = get('order') === 'asc' ? 'asc' : get('order') === 'desc' ? 'desc' : defaultOrder(sort);
  const since = (get('since') ?? '') in SINCE ? (get('since') as string) : '';
  const day = (k: string) => {
    const v = (get(k) ?? '').trim();
    return /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) ? v : '';
  };
  const p = Number.parseInt(get('page') ?? '1', 10);
  return {
    q: (get('q') ?? '').trim().slice(0, 200),
    host: (get('host') ?? '').trim().slice(0, 200),
    kernel: (get('kernel') ?? '').trim().slice(0, 200),
    since,
    from: day('from'),
    to: day('to'),
    sort,
    order,
    page: Number.isFinite(p) && p >= 1 ? Math.min(p, 100_000) : 1,
  };
}

function defaultOrder(sort: BucketSort): 'asc' | 'desc' {
  return sort === 'title' ? 'asc' : 'desc';
}

export function toBucketFilter(q: BucketsQuery, now: number): BucketFilter {
  const f: BucketFilter = {
    sort: q.sort,
    order: q.order,
    limit: PAGE_SIZE,
    offset: (q.page - 1) * PAGE_SIZE,
    perDayDays: SPARK_DAYS,
  };
  if (q.q) f.search = q.q;
  if (q.host) f.host = q.host;
  if (q.kernel) f.kernel = q.kernel;
  const days = SINCE[q.since];
  if (q.from) f.since = `${q.from}T00:00:00.000Z`;
  else if (days) f.since = new Date(now - days * 86_400_000).toISOString();
  if (q.to) f.until = `${q.to}T23:59:59.999Z`;
  return f;
}

function stateParams(q: BucketsQuery): Record<string, string | number> {
  return {
    q: q.q,
    host: q.host,
    kernel: q.kernel,
    since: q.since,
    from: q.from,
    to: q.to,
    sort: q.sort,
    order: q.order,
  };
}

function sortHeader(q: BucketsQuery, sort: BucketSort, label: string, cls = ''): SafeHtml {
  const active = q.sort === sort;
  const nextOrder = active ? (q.order === 'asc' ? 'desc' : 'asc') : defaultOrder(sort);
  const href = query('/', { ...stateParams(q), sort, order: nextOrder });
  const ariaSort = active ? (q.order === 'asc' ? 'ascending' : 'descending') : null;
  const arrow = active ? (q.order === 'asc' ? ' ▲' : ' ▼') : '';
  return html`<th scope="col"${cls ? html` class="${cls}"` : ''}${ariaSort ? html` aria-sort="${ariaSort}"` : ''}><a href="${href}">${label}${arrow}<span class="visually-hidden">, sort ${nextOrder === 'asc' ? 'ascending' : 'descending'}</span></a></th>`;
}

function list(items: string[], max: number, title: string): SafeHtml {
  if (items.length === 0) return html`<span class="muted">—</span>`;
  const shown = items.slice(0, max);
  const more = items.length - shown.length;
  // Each name stays on one line; the list wraps between names.
  return html`<span title="${items.join(', ')}">${join(
    shown.map((i) => html`<span class="nw">${i}</span>`),
    html`, `,
  )}${more > 0 ? html` <span class="muted nw">+${more} ${title}</span>` : ''}</span>`;
}

export function renderBuckets(
  data: BucketList,
  q: BucketsQuery,
  now: number,
  hostsSeen: string[] = [],
): string {
  const filtered = Boolean(q.q || q.host || q.kernel || q.since || q.from || q.to);
  const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
  const rows = data.items.map((b) => {
    const search = `${b.title} ${b.hosts.join(' ')} ${b.kernels.join(' ')}`.toLowerCase();
    return html`<tr data-search="${search}">
<td class="title"><a href="/buckets/${b.id}">${b.title}</a> <span class="kind">${b.kind}</span></td>
<td class="num">${b.count}</td>
<td>${list(b.hosts, 3, 'hosts')}</td>
<td>${list(b.kernels, 2, 'kernels')}</td>
<td class="nowrap">${fmtDay(b.firstSeen)}</td>
<td class="nowrap">${fmtTime(b.lastSeen)} <span class="muted">(${fmtAge(b.lastSeen, now)})</span></td>
<td>${b.perDay ? sparkline(b.perDay) : html`<span class="muted">—</span>`}</td>
</tr>`;
  });
  const sinceOpts: [string, string][] = [
    ['', 'all time'],
    ['24h', 'last 24 hours'],
    ['7d', 'last 7 days'],
    ['30d', 'last 30 days'],
    ['90d', 'last 90 days'],
  ];
  const pagerNav = pager('Pages of buckets', q.page, pages, (p) =>
    query('/', { ...stateParams(q), page: p }),
  );
  const body = html`<h1>Buckets</h1>
<form class="filters" method="get" action="/" role="search" aria-label="Filter buckets">
<input type="hidden" name="sort" value="${q.sort}">
<input type="hidden" name="order" value="${q.order}">
<div><label for="f-q">Search titles and frames</label>
<input id="f-q" name="q" type="search" value="${q.q}" placeholder="e.g. nfs_unlock_request"></div>
<div><label for="f-host">Host</label>
<input id="f-host" name="host" value="${q.host}" list="hosts-list" autocomplete="off">
<datalist id="hosts-list">${hostsSeen.map((h) => html`<option value="${h}"></option>`)}</datalist></div>
<div><label for="f-kernel">Kernel (exact, or prefix*)</label>
<input id="f-kernel" name="kernel" value="${q.kernel}" placeholder="6.1.*"></div>
<div><label for="f-since">Time</label>
<select id="f-since" name="since">${sinceOpts.map(([v, l]) => html`<option value="${v}"${v === q.since ? html` selected` : ''}>${l}</option>`)}</select></div>
<div><label for="f-from">From (UTC day)</label>
<input id="f-from" name="from" type="date" value="${q.from}"></div>
<div><label for="f-to">To (UTC day)</label>
<input id="f-to" name="to" type="date" value="${q.to}"></div>
<div class="actions"><button type="submit">Apply</button>${filtered ? html` <a href="/">Clear filters</a>` : ''}</div>
</form>
<p class="summary" id="buckets-summary" aria-live="polite">${data.total} bucket${data.total === 1 ? '' : 's'}${filtered ? (data.total === 1 ? ' matches the filters' : ' match the filters') : ''}.</p>
<div class="quickfilter" hidden><label for="quick">Filter this page</label> <input id="quick" type="search" data-filter-table="buckets-table" data-filter-summary="buckets-summary" autocomplete="off"></div>
${
  data.items.length === 0
    ? filtered
      ? html`<p class="empty">No buckets match these filters.</p>`
      : html`<p class="empty">No buckets yet: <a href="/upload">upload a log</a> or run <code>ktriage ingest</code>.</p>`
    : html`<div class="tablewrap"><table id="buckets-table" class="buckets">
<caption class="visually-hidden">Crash buckets, ${q.sort} ${q.order === 'asc' ? 'ascending' : 'descending'}</caption>
<thead><tr>
${sortHeader(q, 'title', 'Title')}
${sortHeader(q, 'count', 'Count', 'num')}
${sortHeader(q, 'hosts', 'Hosts')}
<th scope="col">Kernels</th>
${sortHeader(q, 'firstSeen', 'First seen')}
${sortHeader(q, 'lastSeen', 'Last seen')}
<th scope="col">Per day<span class="visually-hidden">: crashes per day over the last ${SPARK_DAYS} days</span></th>
</tr></thead>
<tbody>
${rows}
</tbody>
</table></div>`
}
${pagerNav}`;
  return page({ title: 'Buckets', section: 'buckets', body, scripts: ['filter'] });
}
