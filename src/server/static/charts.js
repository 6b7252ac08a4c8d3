// Upgrades the server-rendered SVG bar chart of crashes per day to an interactive uPlot chart
// (hover values, drag to zoom, double-click to reset). Without scripts the SVG stays.
(() => {
  if (typeof uPlot !== 'function') return;
  for (const fig of document.querySelectorAll('figure.daychart[data-series]')) {
    let series;
    try {
      series = JSON.parse(fig.dataset.series);
    } catch {
      continue;
    }
    if (!Array.isArray(series) || series.length === 0) continue;
    const xs = series.map((d) => Date.parse(`${d[0]}T00:00:00Z`) / 1000);
    const ys = series.map((d) => d[1]);
    const holder = document.createElement('div');
    holder.className = 'uplot-holder';
    holder.setAttribute('aria-hidden', 'true'); // the SVG's label and the tables carry the data for AT
    fig.insertBefore(holder, fig.firstChild);
    const width = Math.min(900, fig.clientWidth || 760);
    const bars = uPlot.paths?.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined;
    new uPlot(
      {
        width,
        height: 200,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        // One bar per day: pad half a day on each side so that the end bars are whole.
        scales: {
          x: { time: true, range: () => [xs[0] - 43200, xs[xs.length - 1] + 43200] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [{}, { label: 'crashes', size: 50 }],
        series: [
          { label: 'day (UTC)' },
          {
            label: 'crashes',
            stroke: '#cf222e',
            fill: 'rgba(207,34,46,0.35)',
            paths: bars,
            points: { show: false },
          },
        ],
        legend: { live: true },
      },
      [xs, ys],
      holder,
    );
    fig.classList.add('live');
  }
})();
