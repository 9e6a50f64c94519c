// The search-term report panel: one query per line, run with the filters of the current search
// (POST /api/v1/reports/terms), shown as a table and downloadable as CSV. Plain DOM, text only.
'use strict';
(function () {
  // The list filters of GET /search, from the item model's field table (/ui/fields.js, loaded first).
  const FILTERS = (window.LanternFields || { filters: [] }).filters.filter((f) => f.filter === 'terms').map((f) => f.name);
  const $ = (id) => document.getElementById(id);

  // The filters of the search in the address bar, in the shape GET /search takes them.
  function currentFilters() {
    const p = new URLSearchParams(location.hash.replace(/^#/, ''));
    const filters = {};
    FILTERS.forEach((name) => { const values = p.getAll(name).filter(Boolean); if (values.length) filters[name] = values; });
    ['date_from', 'date_to'].forEach((name) => { if (p.get(name)) filters[name] = p.get(name); });
    if (p.get('has_pii') === 'true') filters.has_pii = true;
    return filters;
  }
  function queries() { return $('term-queries').value.split('\n').map((q) => q.trim()).filter(Boolean); }

  function post(format) {
    return fetch('/api/v1/reports/terms?format=' + format, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: format === 'csv' ? 'text/csv' : 'application/json' },
      body: JSON.stringify({ queries: queries(), filters: currentFilters() }),
    });
  }
  function say(text) { $('term-status').textContent = text; }
  async function failure(res) {
    let detail = 'The report failed (' + res.status + ').';
    try {
      const body = await res.json();
      if (body && typeof body.detail === 'string') detail = body.detail + (body.hint ? ' — ' + body.hint : '');
    } catch (e) { /* not JSON: keep the status line */ }
    return detail;
  }

  function counts(byValue) {
    return Object.entries(byValue || {}).map(([value, count]) => value + ': ' + count).join(', ');
  }
  function row(cells, header) {
    const tr = document.createElement('tr');
    cells.forEach((text) => {
      const cell = document.createElement(header ? 'th' : 'td');
      if (header) cell.setAttribute('scope', 'col');
      cell.textContent = text === null || text === undefined ? '—' : String(text);
      tr.appendChild(cell);
    });
    return tr;
  }
  function renderReport(report) {
    const table = document.createElement('table');
    table.className = 'term-table';
    table.setAttribute('data-testid', 'term-table');
    const head = document.createElement('thead');
    head.appendChild(row(['Query', 'Hits', 'Unique hits', 'Hits with families', 'By custodian', 'By record'], true));
    const body = document.createElement('tbody');
    [...report.queries, report.total].forEach((r) => {
      body.appendChild(row([r.query, r.hits, r.unique_hits, r.hits_with_families, counts(r.by_custodian), counts(r.by_record)]));
    });
    table.append(head, body);
    $('term-result').replaceChildren(table);
  }

  async function run(event) {
    event.preventDefault();
    if (!queries().length) { say('Write one query per line first.'); return; }
    say('Counting…');
    try {
      const res = await post('json');
      if (!res.ok) { say(await failure(res)); $('term-result').replaceChildren(); return; }
      renderReport(await res.json());
      say('Counted ' + queries().length + ' quer' + (queries().length === 1 ? 'y' : 'ies') + ' with the current filters.');
    } catch (e) {
      say('Could not reach the Lantern service.');
    }
  }
  async function download() {
    if (!queries().length) { say('Write one query per line first.'); return; }
    try {
      const res = await post('csv');
      if (!res.ok) { say(await failure(res)); return; }
      const url = URL.createObjectURL(await res.blob());
      const link = document.createElement('a');
      link.href = url;
      link.download = 'search-term-report.csv';
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      say('Could not reach the Lantern service.');
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('term-form').addEventListener('submit', run);
    $('term-csv').addEventListener('click', download);
  });
})();
