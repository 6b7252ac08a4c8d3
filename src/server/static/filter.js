// Instant filtering of the rows on the current page of a table (the server-side form filters too;
// this only saves a round trip). Rows carry their searchable text in data-search.
(() => {
  for (const input of document.querySelectorAll('input[data-filter-table]')) {
    const table = document.getElementById(input.dataset.filterTable);
    const summary = document.getElementById(input.dataset.filterSummary);
    if (!table) continue;
    const box = input.closest('.quickfilter');
    if (box) box.hidden = false;
    const original = summary ? summary.textContent : '';
    const rows = Array.from(table.tBodies[0].rows);
    input.addEventListener('input', () => {
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      for (const row of rows) {
        const text = row.dataset.search || row.textContent.toLowerCase();
        const ok = words.every((w) => text.includes(w));
        row.hidden = !ok;
        if (ok) shown++;
      }
      if (summary)
        summary.textContent = words.length
          ? `${shown} of ${rows.length} buckets on this page match "${input.value}".`
          : original;
    });
  }
})();
