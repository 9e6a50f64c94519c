// Lantern record-keeping gap page: plain DOM and SVG, every text through textContent (strict CSP).
(function () {
  'use strict';
  const API = '/api/v1/reports/record-gaps';
  const TRANSFER = API + '/transfer';
  const SVG = 'http://www.w3.org/2000/svg';
  const HOWS = ['exact', 'forwarded', 'near', 'quoted', 'note'];
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === null || v === undefined) return;
      if (k === 'text') node.textContent = String(v); else node.setAttribute(k, String(v));
    });
    (children || []).forEach((c) => { if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, String(v)));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function params() {
    const p = new URLSearchParams();
    const custodian = $('gaps-custodian').value.trim();
    if (custodian) p.append('custodian', custodian);
    if ($('gaps-from').value) p.set('from', $('gaps-from').value);
    if ($('gaps-to').value) p.set('to', $('gaps-to').value);
    return p;
  }

  async function load() {
    const p = params();
    const csv = new URLSearchParams(p); csv.set('format', 'csv');
    $('gaps-csv').setAttribute('href', API + '?' + csv.toString());
    $('gaps-status').textContent = 'Loading…';
    let response;
    try {
      response = await fetch(API + (p.toString() ? '?' + p.toString() : ''), { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    } catch (err) {
      $('gaps-status').textContent = 'The server could not be reached.';
      return;
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      $('gaps-status').textContent = (body && body.detail) ? String(body.detail) : 'The report failed (' + response.status + ').';
      return;
    }
    render(body);
  }

  function render(report) {
    const s = report.summary;
    $('gaps-status').textContent = s.business_items + ' private business items, ' + s.copied_total + ' with an official copy, '
      + s.uncopied + ' without' + (s.awaiting_filing ? ' (' + s.awaiting_filing + ' transferred, awaiting filing)' : '') + (s.pending ? '; ' + s.pending + ' private items not yet matched (run lantern report gaps --refresh)' : '') + '.';
    renderMonths(report.months);
    renderTimelines(report);
    renderUncopied(report.uncopied, report.summary.uncopied);
    renderLoss(report);
  }

  function renderMonths(rows) {
    const body = $('gaps-months');
    clear(body);
    rows.filter((r) => r.business_items || r.deleted_events || r.silences).forEach((r) => {
      body.appendChild(el('tr', {}, [
        el('td', { text: r.custodian }), el('td', { text: r.month }), el('td', { class: 'num', text: r.business_items }),
        el('td', { class: 'num', text: r.copied_total }), el('td', { text: HOWS.map((h) => r.copied[h]).join(' / ') }),
        el('td', { class: 'num' + (r.uncopied > r.awaiting_filing ? ' gap' : ''), text: r.uncopied }),
        el('td', { class: 'num', text: r.awaiting_filing }),
        el('td', { class: 'num', text: r.deleted_events }), el('td', { class: 'num', text: r.silences }),
      ]));
    });
    if (!body.firstChild) body.appendChild(el('tr', {}, [el('td', { colspan: 9, text: 'No private business items in this range.' })]));
  }

  // One chart per custodian: official volume above the axis, private below, silences shaded, losses marked.
  function renderTimelines(report) {
    const box = $('gaps-timelines');
    clear(box);
    const periods = contiguous(Array.from(new Set(report.volume.rows.map((r) => r.period))).sort(), report.volume.interval);
    const custodians = Array.from(new Set(report.volume.rows.map((r) => r.custodian))).sort();
    custodians.forEach((custodian) => {
      const mine = report.volume.rows.filter((r) => r.custodian === custodian);
      box.appendChild(el('h3', { text: custodian + ' (per ' + report.volume.interval + ')' }));
      box.appendChild(chart(periods, mine, report.silences.filter((g) => g.custodian === custodian),
        report.loss_events.filter((e) => e.custodian === custodian), report.volume.interval));
    });
    if (!custodians.length) box.appendChild(el('p', { text: 'Nothing dated in this range.' }));
  }

  // Every period from the first to the last, so quiet days show as gaps on the axis.
  function contiguous(found, interval) {
    if (found.length < 2) return found;
    const out = [];
    const last = new Date(found[found.length - 1] + 'T00:00:00Z');
    for (let d = new Date(found[0] + 'T00:00:00Z'); d <= last && out.length < 5000;) {
      out.push(d.toISOString().slice(0, 10));
      if (interval === 'month') d.setUTCMonth(d.getUTCMonth() + 1);
      else d.setUTCDate(d.getUTCDate() + (interval === 'week' ? 7 : 1));
    }
    return out;
  }

  function periodOf(day, periods) {
    // The last period starting on or before `day` (periods are ISO dates, so strings compare as dates).
    let found = -1;
    periods.forEach((p, i) => { if (p <= day) found = i; });
    return found;
  }

  function chart(periods, rows, silences, losses, interval) {
    const width = Math.max(320, periods.length * 14 + 60);
    const height = 180, mid = 90, left = 40, step = (width - left - 10) / Math.max(periods.length, 1);
    const totals = { official: {}, private: {} };
    rows.forEach((r) => { totals[r.record][r.period] = (totals[r.record][r.period] || 0) + r.count; });
    const peak = Math.max(1, ...Object.values(totals.official), ...Object.values(totals.private));
    const scale = (mid - 12) / peak;
    const root = svg('svg', { class: 'gaps-chart', width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, role: 'img' });
    root.appendChild(svg('title', {}, 'Official and private items per ' + interval));
    silences.forEach((g) => {
      const a = periodOf(g.last_before, periods), b = periodOf(g.first_after, periods);
      if (a < 0 || b < 0) return;
      const rect = svg('rect', { class: 'silence', x: left + (a + 0.5) * step, y: 4, width: Math.max(2, (b - a) * step), height: height - 24 });
      rect.appendChild(svg('title', {}, 'Silence of ' + g.days + ' days in ' + (g.conversation_name || g.conversation_id) + ': ' + g.last_before + ' to ' + g.first_after));
      root.appendChild(rect);
    });
    periods.forEach((p, i) => {
      const x = left + i * step + 1, w = Math.max(1, step - 2);
      const official = totals.official[p] || 0, priv = totals.private[p] || 0;
      if (official) root.appendChild(bar('official', x, mid - official * scale, w, official * scale, p + ': ' + official + ' official'));
      if (priv) root.appendChild(bar('private', x, mid, w, priv * scale, p + ': ' + priv + ' private'));
    });
    losses.forEach((e) => {
      const i = periodOf((e.date || '').slice(0, 10), periods);
      if (i < 0) return;
      const mark = svg('circle', { class: 'loss', cx: left + (i + 0.5) * step, cy: height - 14, r: 4 });
      mark.appendChild(svg('title', {}, e.event + ' on ' + (e.date || '').slice(0, 10) + ' in ' + (e.conversation_name || e.channel)));
      root.appendChild(mark);
    });
    root.appendChild(svg('line', { class: 'axis', x1: left, y1: mid, x2: width - 10, y2: mid }));
    root.appendChild(svg('text', { class: 'tick', x: 2, y: 14 }, peak));
    root.appendChild(svg('text', { class: 'tick', x: 2, y: mid + 4 }, 0));
    if (periods.length) {
      root.appendChild(svg('text', { class: 'tick', x: left, y: height - 2 }, periods[0]));
      root.appendChild(svg('text', { class: 'tick end', x: width - 10, y: height - 2 }, periods[periods.length - 1]));
    }
    return root;
  }

  function bar(kind, x, y, w, h, label) {
    const rect = svg('rect', { class: kind, x: x, y: y, width: w, height: Math.max(1, h) });
    rect.appendChild(svg('title', {}, label));
    return rect;
  }

  function renderUncopied(items, total) {
    const body = $('gaps-uncopied');
    clear(body);
    items.forEach((u) => {
      body.appendChild(el('tr', {}, [
        el('td', { text: (u.date || '').slice(0, 16).replace('T', ' ') }), el('td', { text: u.custodian }),
        el('td', { text: u.channel + (u.conversation_name ? ' · ' + u.conversation_name : '') }),
        el('td', {}, [el('a', { href: u.link, text: u.snippet || '(no text)' })]),
        el('td', { class: 'signals', text: (u.business_signals || []).join(', ') }),
        stateCell(u.transfer),
      ]));
    });
    if (total > items.length) body.appendChild(el('tr', {}, [el('td', { colspan: 6, text: (total - items.length) + ' more: download the CSV.' })]));
    if (!items.length) body.appendChild(el('tr', {}, [el('td', { colspan: 6, text: 'None.' })]));
  }

  function stateCell(transfer) {
    if (!transfer) return el('td', { class: 'state', 'data-state': 'not-copied', text: 'not copied' });
    return el('td', { class: 'state transferred', 'data-state': 'transferred', text: transfer.state,
      title: 'package ' + transfer.package_id + ', ' + transfer.at + ', by ' + transfer.by });
  }

  // POST the range, save the ZIP the answer carries, then show the report again: the items are now awaiting filing.
  async function transfer() {
    const p = params();
    const request = { custodian: p.getAll('custodian'), from: p.get('from') || null, to: p.get('to') || null };
    $('gaps-status').textContent = 'Building the transfer package…';
    let response;
    try {
      response = await fetch(TRANSFER, { method: 'POST', credentials: 'same-origin',
        headers: { Accept: 'application/zip', 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
    } catch (err) {
      $('gaps-status').textContent = 'The server could not be reached.';
      return;
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      $('gaps-status').textContent = (body && body.detail) ? String(body.detail) : 'The package failed (' + response.status + ').';
      return;
    }
    const id = response.headers.get('X-Lantern-Package') || 'transfer';
    const items = response.headers.get('X-Lantern-Items');
    const url = URL.createObjectURL(await response.blob());
    const link = el('a', { href: url, download: id.replace(/[^A-Za-z0-9._-]/g, '_') + '.zip' });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    await load();
    $('gaps-status').textContent = 'Package ' + id + ' downloaded (' + items + ' items): file it into the records system, '
      + 'then ingest it as official and run lantern report gaps --refresh. ' + $('gaps-status').textContent;
  }

  function renderLoss(report) {
    const list = $('gaps-loss');
    clear(list);
    report.silences.forEach((g) => list.appendChild(el('li', {
      text: g.custodian + ': no messages in ' + (g.conversation_name || g.conversation_id) + ' (' + g.channel + ') for ' + g.days
        + ' days, ' + g.last_before + ' to ' + g.first_after + ', where the usual gap is ' + g.median_gap_days + ' day(s).' })));
    report.disappearing_periods.forEach((d) => list.appendChild(el('li', {
      text: d.custodian + ': disappearing messages on in ' + (d.conversation_name || d.channel) + ' from ' + (d.start || '?').slice(0, 10)
        + (d.turned_off ? ' to ' + (d.end || '?').slice(0, 10) : ', never turned off in this range') + '.' })));
    report.loss_events.filter((e) => e.event === 'deleted').forEach((e) => list.appendChild(el('li', {}, [
      e.custodian + ': a message was deleted in ' + (e.conversation_name || e.channel) + ' on ' + (e.date || '?').slice(0, 10) + ' ',
      el('a', { href: '/#item=' + encodeURIComponent(e.id), text: 'open' })])));
    if (!list.firstChild) list.appendChild(el('li', { text: 'No silences, deleted messages or disappearing-message periods.' }));
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('gaps-form').addEventListener('submit', (event) => { event.preventDefault(); load(); });
    $('gaps-transfer').addEventListener('click', transfer);
    load();
  });
}());
