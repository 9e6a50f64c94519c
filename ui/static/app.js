// Lantern web UI: plain DOM, no innerHTML with data, state kept in location.hash.
'use strict';
(function () {
  const PAGE_SIZE = 20;
  const SORTS = ['relevance', 'date_desc', 'date_asc'];
  const EXPORTS = { 'export-csv': '/api/v1/exports/results.csv', 'export-jsonl': '/api/v1/exports/results.jsonl', 'export-zip': '/api/v1/exports/production.zip' };
  // The facets and their headings come from the item model's field table (/ui/fields.js, loaded first).
  const FIELD_TABLE = window.LanternFields || { facets: [] };
  const FACETS = FIELD_TABLE.facets.map((f) => f.name);
  const FACET_LABELS = Object.fromEntries(FIELD_TABLE.facets.map((f) => [f.name, f.label]));
  const AUTH_OFF_NOTICE = 'Authentication is off — anyone who can reach this address can search';
  const NAMED_ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

  const $ = (id) => document.getElementById(id);
  let dom = {};
  let cur = emptyState();
  let lastKey = null;        // API query string of the results currently shown
  let lastHits = [];
  let seq = 0;               // guards against out-of-order responses
  let returnFocusId = null;  // item whose link gets focus when going back to results
  let pendingFacetFocus = null;

  // ---------- small helpers ----------
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') node.textContent = String(v);
      else if (k === 'class') node.className = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    });
    (children || []).forEach((c) => { if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }

  // Decode the HTML entities of an escaped text fragment (one pass, so "&amp;lt;" -> "&lt;").
  function decodeEntities(s) {
    return String(s).replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, ent) => {
      if (ent[0] !== '#') return Object.prototype.hasOwnProperty.call(NAMED_ENTITIES, ent) ? NAMED_ENTITIES[ent] : m;
      const n = (ent[1] === 'x' || ent[1] === 'X') ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      if (!Number.isFinite(n) || n <= 0 || n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF)) return '\uFFFD';
      return String.fromCodePoint(n);
    });
  }

  // Append an escaped fragment whose only markup is <mark>...</mark>, as text nodes and <mark> elements.
  function appendMarked(parent, fragment) {
    let marked = false;
    String(fragment || '').split(/(<mark>|<\/mark>)/).forEach((part) => {
      if (part === '<mark>') { marked = true; return; }
      if (part === '</mark>') { marked = false; return; }
      if (!part) return;
      const text = document.createTextNode(decodeEntities(part));
      if (marked) parent.appendChild(el('mark', {}, [text]));
      else parent.appendChild(text);
    });
    return parent;
  }

  function fmtDate(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  }
  function fmtAddr(a) {
    if (!a) return '';
    if (a.raw) return a.raw;
    if (a.name && a.address) return a.name + ' <' + a.address + '>';
    return a.name || a.address || '';
  }
  function fmtAddrs(list) { return (list || []).map(fmtAddr).filter(Boolean).join('; '); }
  function fmtSize(n) {
    if (n === null || n === undefined || n === '') return '';
    const b = Number(n);
    if (!Number.isFinite(b)) return String(n);
    if (b < 1024) return b + ' bytes';
    if (b < 1024 * 1024) return (b / 1024).toFixed(1) + ' KB';
    return (b / (1024 * 1024)).toFixed(1) + ' MB';
  }
  function titleOf(doc) {
    const subject = doc.subject, file = doc.file_name;
    if (doc.kind === 'attachment') return file || subject || '(no subject)';
    return subject || file || '(no subject)';
  }
  function badge(kind, value) {
    if (!value) return null;
    return el('span', { class: 'badge badge-' + kind + ' badge-' + kind + '-' + String(value).toLowerCase(), text: value });
  }

  // ---------- state <-> URL ----------
  function emptyState() {
    const filters = {};
    FACETS.forEach((f) => { filters[f] = []; });
    return { q: '', date_from: '', date_to: '', from: 0, item: '', collapse: false, pii: false, sort: '', filters };
  }
  function cloneState(s, changes) {
    const filters = {};
    FACETS.forEach((f) => { filters[f] = s.filters[f].slice(); });
    return Object.assign({}, s, { filters }, changes || {});
  }
  function parseState(hash) {
    const p = new URLSearchParams(String(hash || '').replace(/^#/, ''));
    const s = emptyState();
    s.q = p.get('q') || '';
    s.date_from = p.get('date_from') || '';
    s.date_to = p.get('date_to') || '';
    s.from = Math.max(0, parseInt(p.get('from'), 10) || 0);
    s.item = p.get('item') || '';
    s.collapse = p.get('collapse_duplicates') === 'true';
    s.pii = p.get('has_pii') === 'true';
    s.sort = SORTS.includes(p.get('sort')) ? p.get('sort') : '';
    FACETS.forEach((f) => { s.filters[f] = p.getAll(f).filter(Boolean); });
    return s;
  }
  function stateParams(s, forApi) {
    const p = new URLSearchParams();
    if (s.q) p.set('q', s.q);
    FACETS.forEach((f) => s.filters[f].forEach((v) => p.append(f, v)));
    if (s.date_from) p.set('date_from', s.date_from);
    if (s.date_to) p.set('date_to', s.date_to);
    if (s.collapse) p.set('collapse_duplicates', 'true');
    if (s.pii) p.set('has_pii', 'true');
    if (s.sort) p.set('sort', s.sort);
    if (forApi) {
      p.set('size', String(PAGE_SIZE));
      p.set('from', String(s.from));
    } else {
      if (s.from) p.set('from', String(s.from));
      if (s.item) p.set('item', s.item);
    }
    return p;
  }
  function hashFor(s) { return '#' + stateParams(s, false).toString(); }
  // The export links carry the current search (query, filters, sort) but no page.
  function updateExportLinks(s) {
    const p = stateParams(cloneState(s, { from: 0, item: '' }), false).toString();
    Object.entries(EXPORTS).forEach(([id, path]) => { $(id).setAttribute('href', path + (p ? '?' + p : '')); });
  }
  function itemHref(id) { return hashFor(cloneState(cur, { item: id })); }

  function navigate(s) {
    const h = hashFor(s);
    if (h === location.hash || (h === '#' && location.hash === '')) render(true);
    else location.hash = h; // fires hashchange -> render()
  }

  // ---------- API ----------
  function detailMessage(body, status) {
    const d = body && body.detail;
    if (typeof d === 'string' && d && typeof body.position === 'number') {
      return d + ' (at character ' + (body.position + 1) + ')' + (body.hint ? ': ' + body.hint : '');
    }
    if (typeof d === 'string' && d) return d;
    if (Array.isArray(d) && d.length) {
      return d.map((x) => (x && x.msg) ? (Array.isArray(x.loc) ? x.loc[x.loc.length - 1] + ': ' : '') + x.msg : String(x)).join('; ');
    }
    return 'Request failed (HTTP ' + status + ').';
  }
  async function getJSON(url) {
    let res;
    try {
      res = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    } catch (e) {
      throw new Error('Could not reach the Lantern service.');
    }
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (res.status === 401) showLogin('');
    if (!res.ok) {
      const error = new Error(detailMessage(body, res.status));
      error.body = body;
      throw error;
    }
    if (!body || typeof body !== 'object') throw new Error('Unexpected response from the server.');
    return body;
  }

  // ---------- banners / notices ----------
  function showError(msg, body) {
    if (!dom.login.hidden) return; // a 401: the login form says what to do
    dom.error.replaceChildren(el('span', { 'data-testid': 'error-message', text: msg }));
    // A query syntax error: show the query with the offending character marked.
    if (body && typeof body.position === 'number' && cur.q) {
      const at = Math.min(Math.max(body.position, 0), cur.q.length);
      dom.error.appendChild(el('code', { class: 'error-query', 'data-testid': 'error-query' }, [
        cur.q.slice(0, at), el('mark', { text: cur.q.slice(at, at + 1) || ' ' }), cur.q.slice(at + 1),
      ]));
    }
    dom.error.hidden = false;
  }
  function clearError() { dom.error.textContent = ''; dom.error.hidden = true; }
  function addNotice(text, testid) {
    dom.notices.appendChild(el('p', { class: 'notice', 'data-testid': testid, text }));
  }
  async function loadHealth() {
    let h = null;
    try {
      const res = await fetch('/api/v1/health', { headers: { Accept: 'application/json' } });
      h = await res.json(); // a degraded service may answer non-200 with the same body
    } catch (e) {
      addNotice('Could not check the service status.', 'health-notice');
      return;
    }
    if (h && h.status && h.status !== 'ok') {
      addNotice('Service status: ' + h.status + '. Some results may be incomplete or unavailable.', 'health-notice');
    }
  }

  // ---------- session: who is searching ----------
  async function sessionCall(method, payload) {
    const options = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (payload) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(payload);
    }
    let res = null, body = null;
    try {
      res = await fetch('/api/v1/session', options);
      body = await res.json();
    } catch (e) { body = null; }
    return { status: res ? res.status : 0, body };
  }
  function showAccount(who) {
    dom.login.hidden = true;
    dom.form.hidden = false;
    dom.layout.hidden = false;
    if (who.auth === 'off') {
      if (!document.querySelector('[data-testid="auth-notice"]')) addNotice(AUTH_OFF_NOTICE, 'auth-notice');
      dom.account.hidden = true;
      return;
    }
    dom.accountName.textContent = 'Logged in as ' + who.name + ' (' + (who.roles || []).join(', ') + ')';
    dom.account.hidden = false;
    document.querySelector('[data-testid="exports"]').hidden = !(who.permissions || []).includes('export');
  }
  function showLogin(message) {
    if (!dom.login.hidden) { if (message) setLoginError(message); return; }
    lastKey = null;
    lastHits = [];
    dom.list.replaceChildren();
    dom.total.textContent = '';
    dom.itemContent.replaceChildren();
    dom.form.hidden = true;
    dom.layout.hidden = true;
    dom.account.hidden = true;
    clearError();
    dom.login.hidden = false;
    setLoginError(message);
    dom.loginName.focus();
  }
  function setLoginError(message) {
    dom.loginError.textContent = message || '';
    dom.loginError.hidden = !message;
  }
  async function logIn(e) {
    e.preventDefault();
    const name = dom.loginName.value.trim();
    const password = dom.loginPassword.value;
    if (!name || !password) { setLoginError('Enter your name and password.'); return; }
    const answer = await sessionCall('POST', { name, password });
    dom.loginPassword.value = '';
    if (answer.status !== 200 || !answer.body) {
      setLoginError(answer.status ? detailMessage(answer.body, answer.status) : 'Could not reach the Lantern service.');
      dom.loginPassword.focus();
      return;
    }
    setLoginError('');
    showAccount(answer.body);
    render(true);
    dom.q.focus();
  }
  async function logOut() {
    await sessionCall('DELETE');
    showLogin('You have logged out.');
  }
  async function start() {
    const answer = await sessionCall('GET');
    if (answer.status === 401) { showLogin(''); return; }
    if (answer.status === 200 && answer.body) showAccount(answer.body);
    render(false);
  }

  // ---------- rendering ----------
  function setMode(mode) {
    const item = mode === 'item';
    dom.itemView.hidden = !item;
    dom.results.hidden = item;
    dom.facets.hidden = item;
    dom.layout.classList.toggle('mode-item', item);
  }
  function syncForm(s) {
    dom.q.value = s.q;
    dom.dateFrom.value = s.date_from;
    dom.dateTo.value = s.date_to;
    dom.collapse.checked = s.collapse;
    dom.pii.checked = s.pii;
    dom.sort.value = s.sort;
    updateExportLinks(s);
  }

  function render(force) {
    cur = parseState(location.hash);
    syncForm(cur);
    clearError();
    if (cur.item) showItem(cur.item);
    else showResults(force === true);
  }

  async function showResults(force) {
    setMode('results');
    document.title = cur.q ? 'Lantern – ' + cur.q : 'Lantern';
    const key = stateParams(cur, true).toString();
    if (!force && key === lastKey) { restoreFocus(); return; }
    const my = ++seq;
    dom.results.setAttribute('aria-busy', 'true');
    dom.range.textContent = 'Searching…';
    try {
      const data = await getJSON('/api/v1/search?' + key);
      if (my !== seq) return;
      lastKey = key;
      renderResults(data);
      restoreFocus();
    } catch (e) {
      if (my !== seq) return;
      lastKey = null;
      lastHits = [];
      dom.total.textContent = '';
      dom.range.textContent = 'Search failed.';
      dom.list.replaceChildren();
      showError(e.message, e.body);
    } finally {
      if (my === seq) dom.results.removeAttribute('aria-busy');
    }
  }

  function renderResults(data) {
    const total = Number(data.total) || 0;
    const hits = Array.isArray(data.hits) ? data.hits : [];
    lastHits = hits;
    dom.total.textContent = (total === 1 ? '1 item' : total + ' items') +
      (data.total_unique !== undefined ? ' (' + data.total_unique + ' distinct)' : '');
    if (hits.length) {
      const took = (data.took_ms !== undefined && data.took_ms !== null) ? ' (' + data.took_ms + ' ms)' : '';
      dom.range.textContent = 'showing ' + (cur.from + 1) + '–' + (cur.from + hits.length) + took;
    } else {
      dom.range.textContent = total ? 'No items on this page.' : 'No items match this search.';
    }
    dom.list.replaceChildren(...hits.map(renderHit));
    dom.prev.disabled = cur.from <= 0;
    dom.next.disabled = cur.from + PAGE_SIZE >= total;
    renderFacets(data.facets || {});
    window.LanternMonths.render(dom.monthChart, (data.facets || {}).month,
      (from, to) => hashFor(cloneState(cur, { date_from: from, date_to: to, from: 0, item: '' })));
  }

  function renderHit(hit) {
    const link = el('a', { href: itemHref(hit.id), class: 'result-title', 'data-testid': 'result-title', 'data-id': hit.id });
    const subjHl = hit.highlights && hit.highlights.subject && hit.highlights.subject[0];
    if (subjHl && hit.subject && titleOf(hit) === hit.subject) appendMarked(link, subjHl);
    else link.textContent = titleOf(hit);

    const meta = el('p', { class: 'result-meta' }, [
      badge('kind', hit.kind),
      badge('record', hit.record),
      hit.custodian ? el('span', { class: 'meta-field' }, [el('span', { class: 'meta-label', text: 'Custodian: ' }), hit.custodian]) : null,
      hit.from ? el('span', { class: 'meta-field' }, [el('span', { class: 'meta-label', text: 'From: ' }), fmtAddr(hit.from)]) : null,
      hit.date ? el('time', { class: 'meta-field', datetime: hit.date, text: fmtDate(hit.date) }) : null,
    ]);
    const li = el('li', { class: 'result', 'data-testid': 'result' }, [el('h3', {}, [link]), meta]);

    const bodyHl = hit.highlights && hit.highlights.body && hit.highlights.body[0];
    const snippet = hit.snippet || bodyHl;
    if (snippet) li.appendChild(appendMarked(el('p', { class: 'snippet', 'data-testid': 'snippet' }), snippet));

    if (hit.parent_id) {
      const parentHit = lastHits.find((h) => h.id === hit.parent_id);
      li.appendChild(el('p', { class: 'parent-of' }, [
        hit.kind === 'attachment' ? 'attachment of: ' : 'part of: ',
        el('a', { href: itemHref(hit.parent_id), 'data-testid': 'result-parent-link', text: parentHit ? titleOf(parentHit) : 'parent item' }),
      ]));
    }
    return li;
  }

  function renderFacets(facets) {
    const groups = FACETS.map((name) => {
      const values = (Array.isArray(facets[name]) ? facets[name] : []).slice();
      cur.filters[name].forEach((v) => { if (!values.some((x) => x.value === v)) values.push({ value: v, count: 0 }); });
      const group = el('fieldset', { class: 'facet', 'data-testid': 'facet-' + name }, [el('legend', { text: FACET_LABELS[name] })]);
      if (!values.length) group.appendChild(el('p', { class: 'muted', text: 'None' }));
      values.forEach((fv, i) => {
        const id = 'facet-' + name + '-' + i;
        const cb = el('input', { type: 'checkbox', id, 'data-facet': name, 'data-value': fv.value });
        cb.checked = cur.filters[name].includes(fv.value);
        cb.addEventListener('change', () => toggleFilter(name, fv.value, cb.checked));
        group.appendChild(el('div', { class: 'facet-row' }, [cb, el('label', { for: id }, [
          el('span', { class: 'facet-value', text: fv.value === '' ? '(none)' : fv.value }),
          el('span', { class: 'facet-count', text: String(fv.count) }),
        ])]));
      });
      return group;
    });
    dom.facetGroups.replaceChildren(...groups);
    if (pendingFacetFocus) {
      const { name, value } = pendingFacetFocus;
      pendingFacetFocus = null;
      const match = Array.from(dom.facetGroups.querySelectorAll('input[data-facet="' + name + '"]')).find((c) => c.dataset.value === value);
      if (match) match.focus();
    }
  }

  function toggleFilter(name, value, on) {
    const s = cloneState(cur, { from: 0, item: '' });
    const vals = s.filters[name].filter((v) => v !== value);
    if (on) vals.push(value);
    s.filters[name] = vals;
    pendingFacetFocus = { name, value };
    navigate(s);
  }

  function restoreFocus() {
    if (!returnFocusId) return;
    const link = Array.from(dom.list.querySelectorAll('a.result-title')).find((a) => a.dataset.id === returnFocusId);
    returnFocusId = null;
    if (link) link.focus();
  }

  // ---------- item view ----------
  async function showItem(id) {
    setMode('item');
    returnFocusId = id;
    const my = ++seq;
    dom.itemContent.replaceChildren(el('p', { class: 'muted', text: 'Loading…' }));
    let item;
    try {
      item = await getJSON('/api/v1/items/' + encodeURIComponent(id));
    } catch (e) {
      if (my !== seq) return;
      dom.itemContent.replaceChildren(el('p', { class: 'muted', text: 'This item could not be loaded.' }));
      showError(e.message);
      return;
    }
    if (my !== seq) return;
    renderItem(item);
  }

  function renderItem(item) {
    const title = titleOf(item);
    document.title = 'Lantern – ' + title;
    const heading = el('h2', { id: 'item-title', tabindex: '-1', 'data-testid': 'item-title', text: title });
    const problems = Array.isArray(item.problems) ? item.problems : [];
    const rows = [
      ['From', fmtAddr(item.from)],
      ['To', fmtAddrs(item.to)],
      ['Cc', fmtAddrs(item.cc)],
      (item.bcc && item.bcc.length) ? ['Bcc', fmtAddrs(item.bcc)] : null,
      ['Date', item.date ? el('time', { datetime: item.date, text: fmtDate(item.date) }) : ''],
      ['Custodian', item.custodian],
      ['Record', badge('record', item.record)],
      ['Kind', badge('kind', item.kind)],
      ['Channel', item.channel],
      item.file_name ? ['File name', item.file_name] : null,
      ['Content type', item.content_type],
      ['Size', fmtSize(item.size)],
      ['Source path', item.source_path],
      ['Locator', item.locator],
      ['Extraction', item.extraction ? el('span', { class: 'extraction extraction-' + item.extraction, text: item.extraction }) : ''],
      (item.also_held_by && item.also_held_by.length) ? ['Also held by', el('ul', { class: 'held-by', 'data-testid': 'also-held-by' },
        item.also_held_by.map((c) => el('li', {}, [el('a', { href: itemHref(c.id), text: c.custodian }), ' ', badge('record', c.record)])))] : null,
      ['Problems', problems.length ? el('ul', { class: 'problems' }, problems.map((p) => el('li', { text: p }))) : 'None'],
    ].filter(Boolean);
    const table = el('table', { class: 'meta-table', 'data-testid': 'item-meta' }, [
      el('tbody', {}, rows.map(([label, value]) => el('tr', {}, [
        el('th', { scope: 'row', text: label }),
        el('td', {}, [(value === null || value === undefined || value === '') ? el('span', { class: 'muted', text: '—' })
          : (typeof value === 'object' ? value : String(value))]),
      ]))),
    ]);
    const parts = [heading, table];

    if (item.parent || item.parent_id) {
      const pid = item.parent ? item.parent.id : item.parent_id;
      parts.push(el('p', { class: 'parent-of' }, [
        item.kind === 'attachment' ? 'Attachment of: ' : 'Part of: ',
        el('a', { href: itemHref(pid), 'data-testid': 'parent-link', text: item.parent ? titleOf(item.parent) : 'parent item' }),
      ]));
    }

    const atts = Array.isArray(item.attachments) ? item.attachments : [];
    const names = Array.isArray(item.attachment_names) ? item.attachment_names : [];
    if (atts.length) {
      parts.push(el('h3', { text: 'Attachments (' + atts.length + ')' }));
      parts.push(el('ul', { class: 'attachments' }, atts.map((a) => el('li', { 'data-testid': 'attachment' }, [
        el('a', { href: itemHref(a.id), text: a.file_name || '(unnamed attachment)' }),
        el('span', { class: 'muted', text: ' ' + [a.content_type, fmtSize(a.size)].filter(Boolean).join(', ') }),
      ]))));
    } else if (names.length) {
      parts.push(el('h3', { text: 'Attachments named in this item (not indexed)' }));
      parts.push(el('ul', { class: 'attachments' }, names.map((n) => el('li', { text: n }))));
    }

    parts.push(el('h3', { text: 'Text' }));
    parts.push(el('pre', { class: 'item-body', 'data-testid': 'item-body', text: item.body || '' }));
    if (!item.body) parts.push(el('p', { class: 'muted', text: 'No text was extracted from this item.' }));

    if (item.conversation_id) parts.push(conversationView(item));
    if (item.thread_id && item.kind === 'email') parts.push(threadView(item));

    dom.itemContent.replaceChildren(...parts);
    heading.focus();
  }

  // ---------- email thread ----------
  function threadView(item) {
    const list = el('ol', { class: 'thread', 'data-testid': 'thread' });
    const status = el('p', { class: 'muted', 'aria-live': 'polite', text: 'Loading thread…' });
    getJSON('/api/v1/threads/' + encodeURIComponent(item.thread_id)).then((thread) => {
      const messages = thread.messages || [];
      status.textContent = messages.length === 1 ? 'No other messages in this thread.' : messages.length + ' messages in this thread';
      list.replaceChildren(...messages.map((m) => {
        const mine = m.held_by.some((h) => h.id === item.id);
        const li = el('li', { class: 'thread-message' + (mine ? ' bubble-current' : ''), 'data-testid': 'thread-message' }, [
          m.date ? el('time', { datetime: m.date, text: fmtDate(m.date) }) : null, ' ',
          mine ? el('strong', { text: titleOf(m) }) : el('a', { href: itemHref(m.id), text: titleOf(m) }),
          el('span', { class: 'muted', text: ' — ' + (fmtAddr(m.from) || 'unknown sender') + ' · held by ' +
            m.held_by.map((h) => h.custodian + ' (' + h.record + ')').join(', ') }),
        ]);
        if (mine) li.setAttribute('aria-current', 'true');
        return li;
      }));
    }).catch((e) => { status.textContent = 'The thread could not be loaded: ' + e.message; });
    return el('section', { class: 'thread-view', 'aria-label': 'Thread' }, [el('h3', { text: 'Thread' }), status, list]);
  }

  // ---------- conversation context (chat messages) ----------
  const CONTEXT = 10;

  function bubble(message, currentId) {
    const mine = message.id === currentId;
    const li = el('li', {
      class: 'bubble' + (message.event ? ' bubble-event' : '') + (mine ? ' bubble-current' : ''),
      'data-testid': 'conversation-message', 'data-seq': String(message.seq),
    }, [
      el('div', { class: 'bubble-head' }, [
        el('span', { class: 'bubble-sender', text: fmtAddr(message.from) || (message.event ? 'system' : 'unknown') }),
        message.date ? el('time', { datetime: message.date, text: fmtDate(message.date) }) : null,
        message.event ? el('span', { class: 'badge', text: message.event }) : null,
      ]),
      el('div', { class: 'bubble-body', text: message.body || '' }),
    ]);
    if (mine) li.setAttribute('aria-current', 'true');
    (message.attachments || []).forEach((a) => li.appendChild(el('div', { class: 'bubble-attachment' }, [
      el('a', { href: itemHref(a.id), text: a.file_name || '(attachment)' }),
    ])));
    if (!mine) li.appendChild(el('a', { class: 'bubble-open', href: itemHref(message.id), text: 'open' }));
    return li;
  }

  function conversationView(item) {
    const list = el('ol', { class: 'conversation', 'data-testid': 'conversation' });
    const earlier = el('button', { type: 'button', class: 'secondary', 'data-testid': 'conversation-earlier', text: 'Earlier messages' });
    const later = el('button', { type: 'button', class: 'secondary', 'data-testid': 'conversation-later', text: 'Later messages' });
    const status = el('p', { class: 'muted', 'aria-live': 'polite', text: 'Loading conversation…' });
    const base = '/api/v1/conversations/' + encodeURIComponent(item.conversation_id);
    let first = null;
    let last = null;

    async function load(around, before, after, where) {
      const params = new URLSearchParams({ around: around, before: String(before), after: String(after) });
      let page;
      try {
        page = await getJSON(base + '?' + params.toString());
      } catch (e) {
        status.textContent = 'The conversation could not be loaded: ' + e.message;
        return;
      }
      let messages = page.messages || [];
      if (where === 'before') messages = messages.filter((m) => m.id !== around);
      if (where === 'after') messages = messages.filter((m) => m.id !== around);
      const nodes = messages.map((m) => bubble(m, item.id));
      if (where === 'before') list.prepend(...nodes); else list.append(...nodes);
      if (where !== 'after' && messages.length) first = messages[0].id;
      if (where !== 'before' && messages.length) last = messages[messages.length - 1].id;
      if (where !== 'after') earlier.hidden = !page.has_before;
      if (where !== 'before') later.hidden = !page.has_after;
      status.textContent = (page.name ? page.name + ' · ' : '') + page.total + ' messages in this conversation';
    }

    earlier.addEventListener('click', () => load(first, CONTEXT * 2, 0, 'before'));
    later.addEventListener('click', () => load(last, 0, CONTEXT * 2, 'after'));
    load(item.id, CONTEXT, CONTEXT, 'around');
    return el('section', { class: 'conversation-view', 'aria-label': 'Conversation' }, [
      el('h3', { text: 'Conversation' }), status, earlier, list, later,
    ]);
  }

  // ---------- wiring ----------
  function init() {
    dom = {
      form: $('search-form'), q: $('q'), dateFrom: $('date-from'), dateTo: $('date-to'), collapse: $('collapse'), pii: $('has-pii'), sort: $('sort'), clear: $('clear-button'),
      error: $('error-banner'), notices: $('notices'), layout: $('layout'), facets: $('facets'),
      facetGroups: $('facet-groups'), monthChart: $('month-chart'), results: $('results'), total: $('total'), range: $('range'),
      list: $('result-list'), prev: $('prev-page'), next: $('next-page'),
      itemView: $('item-view'), itemContent: $('item-content'), back: $('back-button'),
      login: $('login-view'), loginForm: $('login-form'), loginName: $('login-name'), loginPassword: $('login-password'),
      loginError: $('login-error'), account: $('account'), accountName: $('account-name'), logout: $('logout-button'),
    };
    dom.loginForm.addEventListener('submit', logIn);
    dom.logout.addEventListener('click', logOut);
    dom.form.addEventListener('submit', (e) => {
      e.preventDefault();
      navigate(cloneState(cur, {
        q: dom.q.value.trim(), date_from: dom.dateFrom.value, date_to: dom.dateTo.value, from: 0, item: '', collapse: dom.collapse.checked, pii: dom.pii.checked, sort: dom.sort.value,
      }));
    });
    dom.clear.addEventListener('click', () => { navigate(emptyState()); dom.q.focus(); });
    dom.collapse.addEventListener('change', () => navigate(cloneState(cur, { collapse: dom.collapse.checked, from: 0, item: '' })));
    dom.pii.addEventListener('change', () => navigate(cloneState(cur, { pii: dom.pii.checked, from: 0, item: '' })));
    dom.sort.addEventListener('change', () => navigate(cloneState(cur, { sort: dom.sort.value, from: 0, item: '' })));
    dom.prev.addEventListener('click', () => { navigate(cloneState(cur, { from: Math.max(0, cur.from - PAGE_SIZE) })); dom.results.focus(); });
    dom.next.addEventListener('click', () => { navigate(cloneState(cur, { from: cur.from + PAGE_SIZE })); dom.results.focus(); });
    dom.back.addEventListener('click', () => navigate(cloneState(cur, { item: '' })));
    window.addEventListener('hashchange', () => render(false));
    loadHealth();
    start();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
