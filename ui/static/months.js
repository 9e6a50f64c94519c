// Items per month of the current search, as an SVG bar chart in the filter column. Each bar is a
// link that narrows the search to its month. Plain DOM: no innerHTML, every label set as text.
'use strict';
window.LanternMonths = (function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const WIDTH = 240;
  const HEIGHT = 72;
  const MAX_FILLED = 240;  // beyond 20 years of months, show only the months that have items

  function svg(tag, attrs, children) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, String(v)));
    (children || []).forEach((c) => node.appendChild(c));
    return node;
  }
  function title(text) { const t = document.createElementNS(SVG, 'title'); t.textContent = text; return t; }

  function monthIndex(month) { const [y, m] = month.split('-').map(Number); return y * 12 + (m - 1); }
  function monthName(index) { return Math.floor(index / 12) + '-' + String((index % 12) + 1).padStart(2, '0'); }
  // The last day of "YYYY-MM" as YYYY-MM-DD.
  function lastDay(month) {
    const [y, m] = month.split('-').map(Number);
    return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
  }

  // Every month from the first to the last (empty ones too, so a silence shows), unless that is too many.
  function series(months) {
    const counts = new Map(months.map((b) => [String(b.value), Number(b.count) || 0]));
    const indexes = months.map((b) => monthIndex(String(b.value))).filter(Number.isFinite);
    if (!indexes.length) return [];
    const first = Math.min(...indexes);
    const last = Math.max(...indexes);
    if (last - first + 1 > MAX_FILLED) return months.map((b) => ({ month: String(b.value), count: Number(b.count) || 0 }));
    const out = [];
    for (let i = first; i <= last; i++) out.push({ month: monthName(i), count: counts.get(monthName(i)) || 0 });
    return out;
  }

  // Draw `months` ([{value: 'YYYY-MM', count}]) into `container`; hrefFor(from, to) gives each bar's link.
  function render(container, months, hrefFor) {
    const bars = series(Array.isArray(months) ? months : []);
    container.replaceChildren();
    container.hidden = bars.length === 0;
    if (!bars.length) return;
    const max = Math.max(...bars.map((b) => b.count), 1);
    const step = WIDTH / bars.length;
    const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT + 14}`, role: 'group', 'aria-label': 'Items per month', class: 'month-svg' });
    bars.forEach((bar, i) => {
      if (!bar.count) return;
      const height = Math.max(2, Math.round((bar.count / max) * HEIGHT));
      const label = `${bar.month}: ${bar.count} item${bar.count === 1 ? '' : 's'}`;
      const rect = svg('rect', { x: (i * step + step * 0.1).toFixed(2), y: HEIGHT - height, width: Math.max(1, step * 0.8).toFixed(2), height, class: 'month-bar' }, [title(label)]);
      chart.appendChild(svg('a', { href: hrefFor(bar.month + '-01', lastDay(bar.month)), 'aria-label': label, 'data-month': bar.month, 'data-testid': 'month-bar' }, [rect]));
    });
    const first = svg('text', { x: 0, y: HEIGHT + 12, class: 'month-axis' });
    first.textContent = bars[0].month;
    const last = svg('text', { x: WIDTH, y: HEIGHT + 12, class: 'month-axis', 'text-anchor': 'end' });
    last.textContent = bars[bars.length - 1].month;
    chart.append(first, last);
    const caption = document.createElement('h3');
    caption.className = 'month-caption';
    caption.textContent = 'Items per month';
    container.append(caption, chart);
  }

  return { render, lastDay };
})();
