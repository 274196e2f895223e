// Sorting and filtering of the findings table; no network, no framework.
(() => {
  'use strict';
  const table = document.getElementById('findings');
  if (!table) return;
  const body = table.tBodies[0];
  // In the order written, which is the report's: ties in a sort keep it.
  const rows = Array.from(body.rows);
  const texts = rows.map((row) => row.textContent.toLowerCase());
  const filter = document.getElementById('filter');
  const statusFilter = document.getElementById('status-filter');
  const shown = document.getElementById('shown');

  function applyFilters() {
    const needle = filter.value.trim().toLowerCase();
    const status = statusFilter.value;
    let count = 0;
    rows.forEach((row, i) => {
      const visible = (!status || row.dataset.status === status) && (!needle || texts[i].includes(needle));
      row.hidden = !visible;
      if (visible) count += 1;
    });
    shown.textContent = count + ' of ' + rows.length + ' findings shown';
  }
  filter.addEventListener('input', applyFilters);
  statusFilter.addEventListener('change', applyFilters);

  const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
  const headers = Array.from(table.tHead.rows[0].cells);
  headers.forEach((header, column) => {
    header.querySelector('button').addEventListener('click', () => {
      const ascending = header.getAttribute('aria-sort') !== 'ascending';
      headers.forEach((other) => other.setAttribute('aria-sort', 'none'));
      header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      const direction = ascending ? 1 : -1;
      const keyed = rows.map((row, i) => {
        const cell = row.cells[column];
        return [cell.dataset.sort ?? cell.textContent, i];
      });
      keyed.sort((a, b) => direction * collator.compare(a[0], b[0]) || a[1] - b[1]);
      // Emptied first: moving rows one by one out of a table on the page costs a hundred times
      // more (20,000 rows: 10 s against 0.1 s in Chromium).
      body.textContent = '';
      const sorted = document.createDocumentFragment();
      for (const [, i] of keyed) sorted.appendChild(rows[i]);
      body.appendChild(sorted);
    });
  });
  applyFilters();
})();
