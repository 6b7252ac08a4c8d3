// Server-side SVG charts: they need no JavaScript, so a page reads the same with scripts off. The
// bucket page upgrades its bar chart to an interactive uPlot chart when scripts run (static/charts.js
// reads the same numbers from the data-series attribute).

import type { DayCount } from '../../store/types.ts';
import { html, type SafeHtml } from './html.ts';

const DAY = 86_400_000;

/**
 * Per-day counts over a window that ends today and spans at least `minDays`: the store gives days
 * from first to last crash only, and a chart that stops at the last crash hides that it stopped.
 * Missing days are zeros; days after `today` (clock skew) are kept.
 */
export function padDays(perDay: DayCount[], today: string, minDays = 30): DayCount[] {
  const counts = new Map(perDay.map((d) => [d.day, d.count]));
  const t = Date.parse(`${today}T00:00:00Z`);
  const days = perDay.map((d) => Date.parse(`${d.day}T00:00:00Z`)).filter((x) => !Number.isNaN(x));
  const last = Math.max(t, ...days);
  const first = Math.min(last - (minDays - 1) * DAY, ...days);
  const out: DayCount[] = [];
  for (let x = first; x <= last; x += DAY) {
    const day = new Date(x).toISOString().slice(0, 10);
    out.push({ day, count: counts.get(day) ?? 0 });
  }
  return out;
}

/** A sparkline of crashes per day: one bar per day, zeros as a baseline tick. */
export function sparkline(perDay: DayCount[], opts: { width?: number; height?: number } = {}): SafeHtml {
  const w = opts.width ?? 112;
  const h = opts.height ?? 22;
  const n = perDay.length;
  if (n === 0) return html`<span class="muted">—</span>`;
  const max = Math.max(1, ...perDay.map((d) => d.count));
  const total = perDay.reduce((a, d) => a + d.count, 0);
  const bw = w / n;
  const label = `${total} crashes in the last ${n} days, at most ${max} a day`;
  const bars = perDay.map((d, i) => {
    const bh = d.count === 0 ? 1 : Math.max(2, Math.round((d.count / max) * (h - 2)));
    const cls = d.count === 0 ? 'z' : 'b';
    return html`<rect class="${cls}" x="${(i * bw).toFixed(1)}" y="${h - bh}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${bh}"><title>${d.day}: ${d.count}</title></rect>`;
  });
  return html`<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${label}">${bars}</svg>`;
}

/** A bar chart of crashes per day with axes labels; `id` lets charts.js replace it with uPlot. */
export function dayChart(perDay: DayCount[], caption: string): SafeHtml {
  const w = 760;
  const h = 180;
  const padL = 34;
  const padB = 22;
  const n = perDay.length;
  if (n === 0) return html`<p class="muted">No crashes in this period.</p>`;
  const max = Math.max(1, ...perDay.map((d) => d.count));
  const bw = (w - padL) / n;
  const ih = h - padB - 6;
  const bars = perDay.map((d, i) => {
    const bh = d.count === 0 ? 0 : Math.max(2, Math.round((d.count / max) * ih));
    return html`<rect class="b" x="${(padL + i * bw).toFixed(1)}" y="${h - padB - bh}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${bh}"><title>${d.day}: ${d.count}</title></rect>`;
  });
  const first = perDay[0]!.day;
  const last = perDay[n - 1]!.day;
  const total = perDay.reduce((a, d) => a + d.count, 0);
  const series = JSON.stringify(perDay.map((d) => [d.day, d.count]));
  return html`<figure class="daychart" data-series="${series}">
<svg width="100%" viewBox="0 0 ${w} ${h}" role="img" aria-label="${caption}: ${total} crashes from ${first} to ${last}, at most ${max} a day">
<line class="axis" x1="${padL}" y1="${h - padB}" x2="${w}" y2="${h - padB}"></line>
<text class="tick" x="${padL - 4}" y="12" text-anchor="end">${max}</text>
<text class="tick" x="${padL - 4}" y="${h - padB}" text-anchor="end">0</text>
<text class="tick" x="${padL}" y="${h - 6}">${first}</text>
<text class="tick" x="${w}" y="${h - 6}" text-anchor="end">${last}</text>
${bars}
</svg>
<figcaption>${caption}</figcaption>
</figure>`;
}
