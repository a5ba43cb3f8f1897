// ordercare console: plain ES module, no build step. Every action is a call
// of the public HTTP API with the session cookie (HttpOnly, set by
// POST /v1/session) and, for state-changing calls, the session's CSRF token
// in X-CSRF-Token. Nothing is kept in localStorage or sessionStorage.

const lang = document.documentElement.lang || 'en';
let T = {};            // the catalogue's messages for lang
let S = null;          // the session (GET /v1/session)
let offset = 0;        // server clock minus browser clock, ms
let timers = [];       // intervals of the current page
let closers = [];      // other things the current page must end (event streams)
let keyHandler = null; // the current page's keyboard shortcuts

// ---------- helpers ----------

function t(key, vars = {}) {
  let s = T[key] ?? key;
  for (const [k, v] of Object.entries(vars)) s = s.split('{' + k + '}').join(String(v));
  return s;
}

// h builds an element; children are nodes or text (never parsed as HTML).
function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const svgNS = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...kids) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of kids.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

const view = () => document.getElementById('view');
function show(...nodes) { const v = view(); v.replaceChildren(...nodes); }
function announce(text) { document.getElementById('live').textContent = text; }

async function api(method, path, body, extra = {}) {
  const headers = { ...extra };
  const opt = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    opt.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  if (method !== 'GET' && S) headers['X-CSRF-Token'] = S.csrf;
  let r;
  try { r = await fetch(path, opt); } catch (e) { return { status: 0, data: { error: { code: 'network', message: t('err.network') } } }; }
  const text = await r.text();
  let data = text;
  try { data = text ? JSON.parse(text) : null; } catch (_) { /* not JSON */ }
  if (r.status === 401 && S && path !== '/v1/session') { S = null; go('#/signin'); }
  return { status: r.status, ok: r.ok, data, headers: r.headers, text };
}

// fill puts vars into a catalogue text's {name} slots.
function fill(s, vars = {}) {
  for (const [k, v] of Object.entries(vars)) s = s.split('{' + k + '}').join(String(v));
  return s;
}

// fieldName is the catalogue's name of a JSON path's last field
// (steps[0].script.en → "script"), else the field itself.
function fieldName(path) {
  const parts = String(path || '').split(/[.[\]]+/).filter((x) => x && !/^\d+$/.test(x));
  let leaf = parts.pop() || '';
  if (parts.length && /^(script|reason)$/.test(parts[parts.length - 1])) leaf = parts.pop(); // script.en: the script
  return T['field.' + leaf] ?? leaf;
}

// fieldLabel names a JSON path for people: the field's name in the
// catalogue, then the path itself.
function fieldLabel(path) {
  if (!path) return t('tpl.document');
  const name = fieldName(path);
  return name && name !== path ? name + ' (' + path + ')' : path;
}

// apiErr is an API error answer's parts: {code, field, reason, args, message}.
function apiErr(res) {
  const e = res && res.data && res.data.error;
  return e && typeof e === 'object' ? e : null;
}

// errText explains an API error answer in the console's language, from the
// catalogue: by its reason (apierr.<code>.<reason>), else by its code and
// field (apierr.<code>.<field>), else by its code (apierr.<code>, naming the
// field). Only with the generic text is the server's English message added,
// as a secondary detail; without any translation, the message is all there is.
function errText(res) {
  const e = apiErr(res);
  if (!e) return t(res.status === 0 ? 'err.network' : 'err.status', { status: res.status });
  const args = { ...(e.args || {}) };
  if (args.until) args.until = fmt(args.until);
  if (args.outcome) args.outcome = outcomeLabel(args.outcome);
  const top = e.field && /^[A-Za-z_-]+$/.test(e.field) ? e.field : ''; // a body's own field, not a path into a document
  const specific = (e.reason && T['apierr.' + e.code + '.' + e.reason]) || (top && T['apierr.' + e.code + '.' + top]);
  if (specific) return h('span', { class: 'apierr', 'data-code': e.code, 'data-reason': e.reason || null }, fill(specific, args));
  const generic = T['apierr.' + e.code];
  if (!generic) return h('span', { class: 'apierr', 'data-code': e.code, lang: 'en' }, e.message || t('err.status', { status: res.status }));
  return h('span', { class: 'apierr', 'data-code': e.code }, fill(generic, { ...args, field: fieldLabel(e.field) }),
    e.message ? [' ', detail(e.message)] : null);
}

// detail is the server's own English words, shown small beside a translation.
function detail(text) { return h('small', { class: 'detail', lang: 'en', title: t('err.detail') }, text); }

function note(kind, text, ...extra) { return h('div', { class: 'msg ' + kind, role: kind === 'err' ? 'alert' : 'status' }, text, ...extra); }

function now() { return Date.now() + offset; }
async function syncClock() {
  const r = await api('GET', '/healthz');
  if (r.ok && r.data && r.data.now) offset = Date.parse(r.data.now) - Date.now();
}

function fmt(iso, withDate = true) {
  if (!iso) return '';
  const d = new Date(iso);
  const o = { timeZone: S ? S.timezone : 'UTC', hour: '2-digit', minute: '2-digit', hour12: false };
  if (withDate) { o.month = '2-digit'; o.day = '2-digit'; }
  return new Intl.DateTimeFormat(lang, o).format(d);
}

function left(iso) {
  const ms = Date.parse(iso) - now();
  const a = Math.abs(ms), hh = Math.floor(a / 3600e3), mm = Math.floor((a % 3600e3) / 60e3);
  const span = hh ? t('time.hm', { h: hh, m: mm }) : t('time.m', { m: mm });
  return ms < 0 ? t('time.over', { span }) : t('time.left', { span });
}

function shopDay(date) { // YYYY-MM-DD of date in the shop's zone
  return new Intl.DateTimeFormat('en-CA', { timeZone: S.timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

function tagLabel(tag) { return T['tag.' + tag] ?? tag; }
function outcomeLabel(o) { return T['outcome.' + o] ?? o; }
function wfLabel(w) { return T['wf.' + w] ?? w; }
function reasonLabel(r) { return T['skip.' + r] ?? r; }

function go(hash) { if (location.hash === hash) route(); else location.hash = hash; }

function params() {
  const [path, q] = location.hash.slice(1).split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), q: new URLSearchParams(q || '') };
}

// ---------- chrome ----------

function renderChrome() {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  const links = [];
  if (S && S.role === 'agent') links.push(['#/queue', 'nav.queue']);
  if (S && S.role === 'ops') links.push(['#/queue', 'nav.queue'], ['#/workflows', 'nav.workflows'], ['#/orders', 'nav.orders'], ['#/metrics', 'nav.metrics'], ['#/settings', 'nav.settings']);
  const cur = '#/' + (params().parts[0] || '');
  nav.replaceChildren(...links.map(([href, key]) => h('a', { href, class: cur === href ? 'on' : null, 'aria-current': cur === href ? 'page' : null }, t(key))));
  const langSel = h('select', { 'aria-label': t('lang.choose'), id: 'lang', onchange: (e) => {
    document.cookie = 'oc_lang=' + e.target.value + '; path=/; SameSite=Strict; max-age=31536000';
    location.reload();
  } }, h('option', { value: 'zh-CN', selected: lang === 'zh-CN' }, '中文'), h('option', { value: 'en', selected: lang === 'en' }, 'English'));
  const kids = [langSel];
  if (S) {
    kids.unshift(h('span', { title: t('tz.title'), id: 'tz' }, t('tz.label', { tz: S.timezone })));
    kids.unshift(h('span', { id: 'me' }, S.role === 'ops' ? t('who.ops', { shop: S.shop_name }) : t('who.agent', { name: S.agent_name, shop: S.shop_name })));
    kids.push(h('button', { id: 'signout', onclick: async () => { await api('DELETE', '/v1/session'); S = null; go('#/signin'); } }, t('signout')));
  }
  who.replaceChildren(...kids);
}

function helpOverlay(lines) {
  const o = document.getElementById('help');
  o.replaceChildren(h('div', { class: 'card', role: 'dialog', 'aria-modal': 'true', 'aria-label': t('keys.title') },
    h('h2', {}, t('keys.title')),
    h('ul', {}, lines.map(([k, d]) => h('li', {}, h('kbd', {}, k), ' ', t(d)))),
    h('button', { onclick: () => { o.hidden = true; } }, t('close'))));
  o.hidden = false;
  o.querySelector('button').focus();
}

document.addEventListener('keydown', (e) => {
  const tag = (e.target.tagName || '').toLowerCase();
  if (e.key === 'Escape') { document.getElementById('help').hidden = true; }
  if (tag === 'input' || tag === 'textarea' || tag === 'select' || e.ctrlKey || e.metaKey || e.altKey) return;
  if (keyHandler) keyHandler(e);
});

// ---------- sign in ----------

function pageSignIn() {
  const msg = h('div');
  const key = h('input', { id: 'key', type: 'password', autocomplete: 'current-password', required: true, size: 40 });
  const agent = h('input', { id: 'agent', autocomplete: 'username', size: 20, pattern: '[a-z0-9][a-z0-9_-]{1,39}' });
  const form = h('form', { class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    const body = { key: key.value.trim() };
    if (agent.value.trim()) body.agent = agent.value.trim();
    const r = await api('POST', '/v1/session', body);
    if (!r.ok) { msg.replaceChildren(note('err', signInError(r))); return; }
    S = r.data;
    key.value = '';
    go(S.role === 'ops' ? '#/workflows' : '#/queue');
  } },
    h('h1', {}, t('signin.title')),
    h('p', { class: 'muted' }, t('signin.help')),
    h('label', { for: 'key' }, t('signin.key')), key,
    h('label', { for: 'agent' }, t('signin.agent')), agent,
    h('p', { class: 'muted' }, t('signin.agent.help')),
    msg,
    h('button', { class: 'primary', type: 'submit', id: 'signin' }, t('signin.submit')));
  show(form);
  key.focus();
}

function signInError(r) {
  const e = (r.data && r.data.error) || {};
  if (e.field === 'agent' && r.status === 400) return t('signin.err.agent');
  if (e.field === 'agent' && r.status === 403) return t('signin.err.personal');
  if (r.status === 401) return t('signin.err.key');
  if (r.status === 403) return t('signin.err.admin');
  return errText(r);
}

// ---------- queue ----------

async function pageQueue() {
  const { q } = params();
  const tag = q.get('tag') || '';
  let seen = null, rows = [], sel = 0;
  const chips = h('div', { class: 'chips row', role: 'group', 'aria-label': t('queue.filter') });
  const body = h('tbody');
  const status = h('div');
  const liveState = h('span', { id: 'livestate', class: 'muted', title: t('queue.liveTitle') });
  const table = h('table', { id: 'queue' }, h('thead', {}, h('tr', {},
    h('th', {}, t('queue.priority')), h('th', {}, t('queue.tag')), h('th', {}, t('queue.why')),
    h('th', { class: 'wide' }, t('queue.order')), h('th', {}, t('queue.due')), h('th', {}, t('queue.state')))), body);
  show(h('h1', {}, t('queue.title')), h('p', { class: 'muted' }, t('queue.keys'), ' ', liveState), chips, status, table);

  async function load() {
    const [open, claimed] = await Promise.all([api('GET', '/v1/tasks?status=open'), api('GET', '/v1/tasks?status=claimed'), syncClock()]);
    if (!open.ok) { status.replaceChildren(note('err', errText(open))); return; }
    status.replaceChildren();
    const all = [...open.data.tasks, ...(claimed.ok ? claimed.data.tasks : [])];
    all.sort((a, b) => a.priority - b.priority || Date.parse(a.due_at) - Date.parse(b.due_at) || a.id.localeCompare(b.id));
    const tags = [...new Set(all.map((x) => x.tag).filter(Boolean))].sort();
    chips.replaceChildren(h('button', { 'aria-pressed': String(!tag), onclick: () => go('#/queue') }, t('queue.all')),
      ...tags.map((g) => h('button', { 'aria-pressed': String(tag === g), 'data-tag': g, onclick: () => go('#/queue?tag=' + encodeURIComponent(g)) }, tagLabel(g))));
    const fresh = [];
    if (seen) for (const x of all) if (!seen.has(x.id)) fresh.push(x.id);
    seen = new Set([...(seen || []), ...all.map((x) => x.id)]);
    if (fresh.length) announce(t('queue.new', { n: fresh.length }));
    rows = all.filter((x) => !tag || x.tag === tag);
    if (sel >= rows.length) sel = Math.max(0, rows.length - 1);
    body.replaceChildren(...rows.map((x, i) => h('tr', {
      'data-id': x.id, class: [x.breached ? 'breached' : '', fresh.includes(x.id) ? 'new' : '', i === sel ? 'sel' : ''].join(' ').trim() || null,
      onclick: () => go('#/task/' + encodeURIComponent(x.id)),
    },
      h('td', {}, h('span', { class: 'pill p' + x.priority }, 'P' + x.priority)),
      h('td', {}, x.tag ? h('span', { class: 'pill tag tag-' + x.tag }, tagLabel(x.tag)) : ''),
      h('td', {}, h('a', { href: '#/task/' + encodeURIComponent(x.id) }, x.reason || x.step), h('div', { class: 'muted' }, wfLabel(x.workflow))),
      h('td', { class: 'wide' }, x.order_id, x.order && x.order.total ? h('div', { class: 'muted' }, x.order.total + ' ' + (x.order.currency || '')) : ''),
      h('td', {}, h('span', { class: x.breached ? 'breach' : '' }, x.breached ? t('queue.breached') + ' · ' : '', left(x.due_at)), h('div', { class: 'muted' }, fmt(x.due_at))),
      h('td', {}, x.status === 'claimed' ? t('queue.claimedBy', { agent: x.agent }) : t('status.open')))));
    if (!rows.length) body.replaceChildren(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, t('queue.empty'))));
  }
  function select(i) {
    if (!rows.length) return;
    sel = Math.max(0, Math.min(rows.length - 1, i));
    body.querySelectorAll('tr').forEach((tr, j) => tr.classList.toggle('sel', j === sel));
    body.querySelectorAll('tr')[sel].scrollIntoView({ block: 'nearest' });
  }
  keyHandler = async (e) => {
    if (e.key === 'j' || e.key === 'ArrowDown') { select(sel + 1); e.preventDefault(); }
    else if (e.key === 'k' || e.key === 'ArrowUp') { select(sel - 1); e.preventDefault(); }
    else if ((e.key === 'Enter' || e.key === 'o') && rows[sel]) go('#/task/' + encodeURIComponent(rows[sel].id));
    else if (e.key === 'c' && rows[sel]) {
      const r = await api('POST', '/v1/tasks/' + encodeURIComponent(rows[sel].id) + '/claim', {});
      if (r.ok) go('#/task/' + encodeURIComponent(rows[sel].id)); else status.replaceChildren(note('err', errText(r)));
    }
    else if (e.key === 'r') load();
    else if (e.key === '?') helpOverlay([['j / k', 'keys.move'], ['Enter', 'keys.open'], ['c', 'keys.claim'], ['r', 'keys.refresh'], ['?', 'keys.help']]);
  };
  await load();
  // New tasks arrive by push (GET /v1/tasks/events, Server-Sent Events):
  // each "changed" reloads the list. Where the stream is unavailable (on
  // AWS, API Gateway buffers responses and the API answers 501) or drops,
  // the queue polls every `poll` seconds (3; ?poll=0 turns polling off).
  const poll = q.has('poll') ? Number(q.get('poll')) : 3;
  let live = false, lastLoad = Date.now();
  const setLive = (on) => {
    live = on;
    document.body.dataset.stream = on ? 'live' : 'polling';
    liveState.textContent = on ? t('queue.live') : poll > 0 ? t('queue.polling', { s: poll }) : '';
  };
  setLive(false);
  if (window.EventSource) {
    const es = new EventSource('/v1/tasks/events');
    es.addEventListener('ready', () => setLive(true));
    es.addEventListener('changed', () => { lastLoad = Date.now(); load(); });
    es.addEventListener('bye', () => setLive(false));
    es.onerror = () => setLive(false); // EventSource reconnects by itself unless the server refused it
    closers.push(() => es.close());
  }
  if (poll > 0) {
    timers.push(setInterval(() => {
      // Polling while the stream is down; a slow safety net while it is up.
      if (!live || Date.now() - lastLoad > 60000) { lastLoad = Date.now(); load(); }
    }, poll * 1000));
  }
}


// ---------- task ----------

async function pageTask(id) {
  const msg = h('div', { id: 'taskmsg' });
  const root = h('div');
  show(root);
  let d = null, order = null;

  async function load() {
    const r = await api('GET', '/v1/tasks/' + encodeURIComponent(id) + '?locale=' + encodeURIComponent(lang));
    if (!r.ok) { show(note('err', r.status === 404 ? t('task.notfound') : errText(r)), h('a', { href: '#/queue' }, t('back.queue'))); return false; }
    d = r.data;
    const [o, m] = await Promise.all([api('GET', '/v1/orders/' + encodeURIComponent(d.task.order_id)),
      api('GET', '/v1/orders/' + encodeURIComponent(d.task.order_id) + '/messages')]);
    order = o.ok ? o.data : null;
    render(m.ok ? m.data.messages : []);
    return true;
  }

  async function act(path, body, onErr) {
    const r = await api('POST', '/v1/tasks/' + encodeURIComponent(id) + path, body);
    if (r.ok) { d.task = r.data; return r; }
    const before = d.task;
    await load();
    msg.replaceChildren(onErr(r, before));
    return r;
  }

  // conflict explains a refused action and offers the next one: back to
  // the queue (another agent holds it, it is done or cancelled), claim
  // again (my lease lapsed), retry (the outcome is saved, the workflow not
  // resumed yet), reload (anything else).
  const toQueue = () => h('a', { href: '#/queue', id: 'toqueue', class: 'btn' }, t('back.queue'));
  const reloadBtn = () => h('button', { id: 'reload', onclick: async () => { msg.replaceChildren(); await load(); } }, t('task.reload'));
  function conflict(r, before) {
    const e = apiErr(r) || {};
    const tk = d.task;
    const wasMine = before && before.status === 'claimed' && before.agent === S.agent;
    if (e.code === 'resume_pending') {
      return note('warn', errText(r), ' ', h('button', { id: 'retry', onclick: () => complete(lastOutcome, lastNote) }, t('task.retry')));
    }
    if (r.status === 404) return note('err', t('task.notfound'), ' ', toQueue());
    if (r.status === 409) {
      if (e.reason === 'task_held' || (tk.status === 'claimed' && tk.agent !== S.agent)) {
        const args = { agent: (e.args && e.args.agent) || tk.agent, until: fmt((e.args && e.args.until) || tk.lease_until) };
        return note('err', wasMine ? t('task.err.lostTo', args) : errText(r), ' ', toQueue());
      }
      if (e.reason === 'task_done' || e.reason === 'task_cancelled' || tk.status === 'done' || tk.status === 'cancelled') return note('err', errText(r), ' ', toQueue());
      if (tk.status === 'open') return expired();
    }
    return note('err', errText(r), ' ', reloadBtn());
  }

  // expired is the message for a lease that lapsed while the task was
  // mine: it went back to the queue; claim it again to go on.
  function expired() {
    return note('warn', t('task.err.expired'), ' ', h('button', { id: 'reclaim', class: 'primary', onclick: claim }, t('task.reclaim')));
  }

  // leaseLapsed reloads the task when I held it and my lease is over by the
  // server's clock; true (and the message shown) when it lapsed.
  async function leaseLapsed() {
    if (!(d.task.status === 'claimed' && d.task.agent === S.agent && d.task.lease_until)) return false;
    await syncClock();
    if (Date.parse(d.task.lease_until) > now()) return false;
    lapsed = true; // until claimed again: outcomes and notes wait for the claim
    await load();
    if (d.task.status === 'claimed' && d.task.agent === S.agent) { lapsed = false; render(null); return false; } // extended meanwhile
    msg.replaceChildren(d.task.status === 'claimed' ? note('err', t('task.err.lostTo', { agent: d.task.agent, until: fmt(d.task.lease_until) }), ' ', toQueue()) : expired());
    return true;
  }

  let lapsed = false; // my lease ran out on this page
  async function claim() {
    const r = await act('/claim', {}, conflict);
    if (r.ok) { lapsed = false; await load(); msg.replaceChildren(note('ok', t('task.claimed'))); } // the message last: the page is settled once it shows
  }
  let lastOutcome = '', lastNote = '';
  async function complete(outcome, text) {
    lastOutcome = outcome; lastNote = text;
    if (await leaseLapsed()) return;
    const body = { outcome };
    if (text) body.note = text;
    const r = await act('/complete', body, conflict);
    if (r.ok) { msg.replaceChildren(note('ok', t('task.done', { outcome: outcomeLabel(outcome) }))); render(null); }
  }

  let msgs = [];
  function render(messages) {
    if (messages) msgs = messages;
    const tk = d.task, o = tk.order || {};
    const lz = d.localized || {};
    const why = lz.reason || tk.reason;
    // The script is said to the buyer: in the buyer's language, as the
    // workflow rendered it; the agent's language beside it, to understand it.
    const script = tk.script || lz.script;
    const holder = tk.status === 'claimed' && tk.agent === S.agent;
    const agent = S.role === 'agent'; // ops read tasks; agents act on them
    const canAct = agent && (holder || (tk.status === 'open' && !lapsed)); // after my lease ran out: claim again first
    const noteBox = h('textarea', { id: 'note', rows: 3, cols: 40, 'aria-label': t('task.note') });
    const actions = [];
    if (tk.status === 'open' && agent) actions.push(h('button', { class: 'primary', id: 'claim', onclick: claim }, t('task.claim'), ' (c)'));
    if (tk.status === 'claimed' && !holder) actions.push(note('warn', t('task.err.heldBy', { agent: tk.agent, until: fmt(tk.lease_until) })));
    if (holder) actions.push(h('span', { class: 'muted' }, t('task.lease', { until: fmt(tk.lease_until) })));
    const outcomes = canAct ? h('div', { class: 'row', id: 'outcomes' },
      tk.outcomes.map((oc, i) => h('button', { 'data-outcome': oc, onclick: () => complete(oc, noteBox.value.trim()) }, (i + 1) + '. ' + outcomeLabel(oc)))) : null;
    const parcels = order && order.shipments ? order.shipments : [];
    const contact = o.buyer_phone
      ? h('div', { class: 'contact', id: 'contact' }, (o.buyer_name || '') + ' · ', h('a', { href: 'tel:' + o.buyer_phone }, o.buyer_phone))
      : h('p', { class: 'muted', id: 'contact' }, t('task.contactHidden'));
    const items = (order && order.order.items) ? order.order.items.map((it) => h('li', {}, it.quantity + ' × ' + it.title + (it.price ? ' · ' + it.price : ''))) : (o.items || []).map((x) => h('li', {}, x));
    root.replaceChildren(
      h('p', {}, h('a', { href: '#/queue' }, '← ' + t('back.queue'))),
      h('h1', {}, h('span', { class: 'pill p' + tk.priority }, 'P' + tk.priority), ' ', tk.tag ? h('span', { class: 'pill tag tag-' + tk.tag }, tagLabel(tk.tag)) : '', ' ', wfLabel(tk.workflow), ' · ', tk.order_id),
      msg,
      h('div', { class: 'grid two' },
        h('div', {},
          h('section', { class: 'card' }, h('h2', {}, t('task.why')), h('p', { id: 'why' }, why),
            lz.reason && lz.reason !== tk.reason ? h('p', { class: 'muted', id: 'whyshop' }, t('task.shopWords'), ' ', tk.reason) : null,
            h('p', { class: tk.breached ? 'breach' : 'muted' }, tk.breached ? t('queue.breached') + ' · ' : '', t('task.due', { at: fmt(tk.due_at) }), ' · ', left(tk.due_at))),
          h('section', { class: 'card' }, h('h2', {}, t('task.script')), h('div', { class: 'script', id: 'script', lang: o.locale || null }, script),
            lz.script && tk.script && lz.script !== tk.script ? h('p', { class: 'muted', id: 'scriptlocal', lang: lz.locale }, t('task.inYourLanguage'), ' ', lz.script) : null),
          h('section', { class: 'card' }, h('h2', {}, t('task.act')), h('div', { class: 'row' }, actions), outcomes,
            canAct ? [h('label', { for: 'note' }, t('task.note')), noteBox, h('div', { class: 'row' },
              h('button', { id: 'addnote', onclick: async () => {
                if (!noteBox.value.trim()) return;
                if (await leaseLapsed()) return;
                const r = await act('/notes', { text: noteBox.value.trim() }, conflict);
                if (r.ok) { noteBox.value = ''; msg.replaceChildren(note('ok', t('task.noted'))); render(null); }
              } }, t('task.addnote')))] : null,
            tk.status === 'done' ? note('ok', t('task.done', { outcome: outcomeLabel(tk.outcome) }) + ' · ' + tk.agent) : null)),
        h('div', {},
          h('section', { class: 'card' }, h('h2', {}, t('task.buyer')), contact),
          h('section', { class: 'card', id: 'order' }, h('h2', {}, t('task.order')),
            h('p', {}, t('order.total'), ': ', h('b', {}, (o.total || (order && order.order.total) || '') + ' ' + (o.currency || '')),
              o.payment_method ? ' · ' + t('pay.' + o.payment_method) : '', o.cod_fee ? ' · ' + t('order.codfee', { fee: o.cod_fee }) : ''),
            h('ul', {}, items),
            parcels.length ? h('div', {}, h('h3', {}, t('order.parcels')), h('ul', {}, parcels.map((p) => h('li', {},
              (p.carrier || '') + ' ', p.tracking_url ? h('a', { href: p.tracking_url, rel: 'noreferrer', target: '_blank' }, p.tracking_number) : p.tracking_number,
              ' · ', T['ship.' + p.status] ?? (p.status || ''), p.pickup_point ? ' · ' + p.pickup_point : '')))) : null),
          h('section', { class: 'card' }, h('h2', {}, t('task.timeline')), timeline(tk, d.related, msgs)))));
    keyHandler = (e) => {
      if (e.key === 'c' && tk.status === 'open' && agent) claim();
      else if (e.key === 'n') { const n = document.getElementById('note'); if (n) { n.focus(); e.preventDefault(); } }
      else if (/^[1-9]$/.test(e.key) && tk.outcomes[Number(e.key) - 1] && canAct) complete(tk.outcomes[Number(e.key) - 1], noteBox.value.trim());
      else if (e.key === 'q' || e.key === 'Escape') go('#/queue');
      else if (e.key === '?') helpOverlay([['c', 'keys.claim'], ['n', 'keys.note'], ['1-9', 'keys.outcome'], ['q', 'keys.back'], ['?', 'keys.help']]);
    };
  }
  await load();
  timers.push(setInterval(() => { if (d) leaseLapsed(); }, 15000)); // a lease lapsing while the page is open
}

function timeline(task, related, messages, extra = []) {
  const items = [];
  for (const m of messages || []) {
    if (m.status === 'skipped') items.push({ at: m.at, k: 'skip', text: t('tl.skip', { step: m.step, reason: reasonLabel(m.reason) }) });
    else if (m.status === 'sent' || m.status === 'failed') items.push({ at: m.sent_at || m.at, k: 'message', text: (m.kind === 'shop' ? t('tl.notice') : t('tl.sent')) + ' · ' + (m.channel || '') + (m.status === 'failed' ? ' · ' + t('tl.failed') : '') + ': ' + (m.text || '') });
  }
  for (const tk of [task, ...(related || [])].filter(Boolean)) {
    items.push({ at: tk.created_at, k: 'task', text: t('tl.task', { reason: tk.reason }) });
    for (const n of tk.notes || []) items.push({ at: n.at, k: 'note', text: t('tl.note', { agent: n.agent, text: n.text }) });
    if (tk.done_at) items.push({ at: tk.done_at, k: 'task', text: t('tl.done', { agent: tk.agent, outcome: outcomeLabel(tk.outcome) }) + (tk.outcome_note ? ' — ' + tk.outcome_note : '') });
  }
  items.push(...extra);
  items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return h('ol', { class: 'timeline', id: 'timeline' }, items.map((x) => h('li', { class: 'k-' + x.k }, h('span', { class: 'when' }, fmt(x.at)), h('span', { class: 'kind' }, t('kind.' + x.k)), x.text)));
}

// ---------- workflows (ops) ----------

async function pageWorkflows() {
  const [w, m] = await Promise.all([api('GET', '/v1/workflows'), api('GET', '/v1/metrics')]);
  if (!w.ok) { show(note('err', errText(w))); return; }
  const figs = {};
  if (m.ok) for (const x of m.data.workflows) figs[x.workflow] = x;
  const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
  show(h('h1', {}, t('wf.title')), h('p', { class: 'muted' }, t('wf.window')),
    h('table', { id: 'workflows' }, h('thead', {}, h('tr', {}, ['wf.name', 'wf.version', 'wf.runs', 'wf.sent', 'wf.skipped', 'wf.outcomes', 'wf.tasks'].map((k) => h('th', {}, t(k))))),
      h('tbody', {}, w.data.workflows.map((x) => {
        const f = figs[x.workflow] || {};
        return h('tr', { 'data-workflow': x.workflow },
          h('td', {}, h('a', { href: '#/template/' + x.workflow }, wfLabel(x.workflow)), h('div', { class: 'muted' }, x.workflow)),
          h('td', {}, x.live_version ? 'v' + x.live_version : t('wf.default'), x.enabled ? '' : ' · ' + t('wf.off')),
          h('td', {}, f.runs_started ?? 0), h('td', {}, f.sent ?? 0), h('td', {}, sum(f.skipped)),
          h('td', {}, Object.entries(f.outcomes || {}).map(([k, v]) => outcomeLabel(k) + ' ' + v).join(', ')),
          h('td', {}, (f.tasks_opened ?? 0) + ' / ' + (f.tasks_completed ?? 0)));
      }))));
}

// ---------- template editor (ops) ----------

// jsonPaths maps each value's path (steps[0].script.en) to its offset in text.
function jsonPaths(text) {
  const out = {};
  let i = 0;
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const str = () => { let s = ''; i++; while (i < text.length && text[i] !== '"') { if (text[i] === '\\') { s += text[i + 1]; i += 2; } else s += text[i++]; } i++; return s; };
  function val(path) {
    ws(); out[path] = i;
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws(); if (text[i] !== '"') throw new Error('key');
        const kStart = i; const k = str(); ws(); i++; // ':'
        const p = path ? path + '.' + k : k;
        val(p); out[p + '#key'] = kStart; ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        throw new Error('object');
      }
    } else if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (let n = 0; ; n++) {
        val(path + '[' + n + ']'); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        throw new Error('array');
      }
    } else if (c === '"') str();
    else { while (i < text.length && /[^,\]}\s]/.test(text[i])) i++; }
  }
  try { val(''); } catch (_) { /* a syntax error: the API names it */ }
  return out;
}

function lineOf(text, offset) { return text.slice(0, offset).split('\n').length; }

async function pageTemplate(wf) {
  const enc = encodeURIComponent(wf);
  const [r, sc] = await Promise.all([api('GET', '/v1/templates/' + enc), api('GET', '/v1/workflows/' + enc + '/schema')]);
  if (!r.ok) { show(note('err', errText(r))); return; }
  const schema = sc.ok && sc.data && sc.data.properties ? sc.data : null; // without it: the JSON view only
  let etag = r.headers.get('ETag');
  const ed = h('textarea', { id: 'tpl', spellcheck: 'false', 'aria-label': t('tpl.json'), wrap: 'off' });
  ed.value = r.text;
  let doc = null;
  try { doc = JSON.parse(r.text); } catch (_) { /* shown in the JSON view */ }
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  const errs = h('div', { id: 'errors', 'aria-live': 'polite' });
  const prev = h('div', { id: 'preview', class: 'preview' });
  const orderIn = h('input', { id: 'previewOrder', placeholder: t('tpl.sampleOrder'), size: 14 });
  const versions = h('div', { id: 'versions' });
  const diff = h('div', { id: 'diff' });
  const form = h('div', { id: 'tplform', class: 'tplform' });
  const jsonPanel = h('div', { id: 'panel-json', role: 'tabpanel', 'aria-labelledby': 'tab-json' }, h('div', { class: 'editor' }, gutter, ed));
  const formPanel = h('div', { id: 'panel-form', role: 'tabpanel', 'aria-labelledby': 'tab-form' }, form);
  const tabForm = h('button', { id: 'tab-form', role: 'tab', onclick: () => setTab('form') }, t('tpl.tab.form'));
  const tabJson = h('button', { id: 'tab-json', role: 'tab', onclick: () => setTab('json') }, t('tpl.tab.json'));
  let tab = schema && doc ? 'form' : 'json';
  let errLine = 0, lastErr = null;

  function paintGutter() {
    const n = ed.value.split('\n').length;
    const kids = [];
    for (let k = 1; k <= n; k++) kids.push(h('div', { class: k === errLine ? 'err' : null, 'data-line': k }, k));
    gutter.replaceChildren(...kids);
    gutter.scrollTop = ed.scrollTop;
  }
  ed.addEventListener('input', () => {
    paintGutter();
    try { doc = JSON.parse(ed.value); } catch (_) { /* the form waits for valid JSON */ }
  });
  ed.addEventListener('scroll', () => { gutter.scrollTop = ed.scrollTop; });

  // The form edits doc; the JSON view follows each edit, and the form is
  // drawn again from the JSON when its tab opens.
  function renderForm() {
    if (!schema || !doc) return;
    form.replaceChildren(templateForm(schema, doc, (p, redraw) => {
      ed.value = JSON.stringify(doc, null, 2);
      paintGutter();
      if (redraw || p[p.length - 1] === 'default_locale') renderForm(); // what is shown changed
    }));
    if (lastErr) markField(lastErr.path, lastErr.text, false);
  }
  function setTab(which) {
    if (which === 'form') {
      try { doc = JSON.parse(ed.value); } catch (e) { errs.replaceChildren(note('err', t('tpl.syntax', { msg: e.message }))); which = 'json'; }
    }
    tab = which;
    if (tab === 'form') renderForm();
    tabForm.setAttribute('aria-selected', String(tab === 'form')); tabJson.setAttribute('aria-selected', String(tab === 'json'));
    formPanel.hidden = tab !== 'form'; jsonPanel.hidden = tab !== 'json';
    if (tab === 'json') paintGutter();
  }

  // markField shows an error beside its field in the form: the control
  // with the error's path, else its nearest enclosing field.
  function markField(path, text, focus = true) {
    form.querySelectorAll('.fielderr').forEach((x) => x.remove());
    form.querySelectorAll('[aria-invalid]').forEach((x) => x.removeAttribute('aria-invalid'));
    let el = null;
    for (let p = path; !el; p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, '')) {
      el = form.querySelector('[data-path="' + CSS.escape(p) + '"]');
      if (!p || !/(\.[^.[\]]+|\[\d+\])$/.test(p)) break;
    }
    if (!el) return null;
    const box = el.closest('.field') || el;
    el.setAttribute('aria-invalid', 'true');
    const msgEl = h('div', { class: 'fielderr', 'data-path': path, role: 'alert', id: 'err-' + path.replace(/[^A-Za-z0-9_-]/g, '_') }, text.cloneNode ? text.cloneNode(true) : text);
    box.append(msgEl);
    el.setAttribute('aria-describedby', msgEl.id);
    if (focus) { box.scrollIntoView({ block: 'center' }); if (el.focus) el.focus({ preventScroll: true }); }
    return el;
  }

  function showFieldError(res, prefix = '') {
    const e = apiErr(res) || {};
    let path = e.field || '';
    if (prefix && path.startsWith(prefix)) path = path.slice(prefix.length);
    const text = errText({ status: res.status, data: { error: { ...e, field: path } } });
    lastErr = { path, text };
    const pos = jsonPaths(ed.value);
    let at = pos[path];
    for (let p = path; at === undefined && p; p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, '')) at = pos[p];
    errLine = at !== undefined ? lineOf(ed.value, at) : 0;
    paintGutter();
    if (errLine && tab === 'json') { ed.scrollTop = Math.max(0, (errLine - 6) * 20); gutter.scrollTop = ed.scrollTop; }
    const inForm = tab === 'form' && markField(path, text);
    errs.replaceChildren(note('err', h('span', { class: 'errsum', 'data-path': path }, text.cloneNode ? text.cloneNode(true) : text),
      inForm ? [' ', h('button', { id: 'gotofield', onclick: () => markField(path, text) }, t('tpl.toField'))] : null,
      errLine ? [' ', h('button', { id: 'goto', onclick: () => {
        setTab('json');
        const lines = ed.value.split('\n'); let off = 0;
        for (let k = 0; k < errLine - 1; k++) off += lines[k].length + 1;
        ed.focus(); ed.setSelectionRange(off, off + lines[errLine - 1].length);
        ed.scrollTop = (errLine - 5) * 20;
      } }, t('tpl.line', { line: errLine }))] : null));
  }
  function clearErrors() {
    errLine = 0; lastErr = null; paintGutter(); errs.replaceChildren();
    form.querySelectorAll('.fielderr').forEach((x) => x.remove());
    form.querySelectorAll('[aria-invalid]').forEach((x) => x.removeAttribute('aria-invalid'));
  }

  async function preview() {
    const body = { template: null, locales: ['zh-CN', 'en'] };
    try { body.template = JSON.parse(ed.value); } catch (e) { errs.replaceChildren(note('err', t('tpl.syntax', { msg: e.message }))); return false; }
    if (orderIn.value.trim()) body.order_id = orderIn.value.trim();
    const p = await api('POST', '/v1/templates/' + enc + '/preview', body);
    if (!p.ok) { showFieldError(p, 'template.'); return false; } // the last good preview stays
    clearErrors();
    const by = {};
    for (const x of p.data.scripts) (by[x.locale] ||= []).push(x);
    prev.replaceChildren(h('p', { class: 'muted' }, p.data.sample ? t('tpl.forSample') : t('tpl.forOrder', { id: p.data.order_id })),
      h('div', { class: 'grid half' }, Object.entries(by).map(([loc, xs]) => h('div', { 'data-locale': loc }, h('h2', {}, loc),
        xs.map((x) => h('div', {}, h('h3', {}, x.step + ' · ' + t('tpl.field.' + x.field) + (x.used !== x.locale ? ' (' + x.used + ')' : '')),
          x.error ? note('err', t('tpl.renderError', { field: fieldLabel(x.path) }), ' ', detail(x.error)) : h('div', { class: 'script' }, x.text)))))));
    return true;
  }

  async function save(bodyText, ifMatch) {
    const res = await api('PUT', '/v1/templates/' + enc, bodyText, ifMatch ? { 'If-Match': ifMatch } : {});
    if (!res.ok) {
      if (res.status === 412) errs.replaceChildren(note('err', errText(res)));
      else showFieldError(res);
      return null;
    }
    etag = res.headers.get('ETag');
    clearErrors();
    errs.replaceChildren(note('ok', t('tpl.saved', { v: res.data.version })));
    await loadVersions();
    return res.data;
  }

  async function loadVersions() {
    const v = await api('GET', '/v1/templates/' + enc + '/versions');
    if (!v.ok) { versions.replaceChildren(note('err', errText(v))); return; }
    const a = h('select', { id: 'diffA', 'aria-label': t('tpl.from') }), b = h('select', { id: 'diffB', 'aria-label': t('tpl.to') });
    for (const x of v.data.versions) { a.append(h('option', { value: x.version }, 'v' + x.version)); b.append(h('option', { value: x.version }, 'v' + x.version)); }
    if (v.data.versions.length > 1) a.selectedIndex = 1;
    versions.replaceChildren(
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, t('tpl.version')), h('th', {}, t('tpl.saved.at')), h('th', {}, ''))),
        h('tbody', {}, v.data.versions.map((x) => h('tr', { 'data-version': x.version }, h('td', {}, 'v' + x.version + (x.version === v.data.latest ? ' · ' + t('tpl.live') : '')),
          h('td', {}, fmt(x.created_at)),
          h('td', {}, x.version === v.data.latest ? '' : h('button', { 'data-rollback': x.version, onclick: async () => {
            const old = await api('GET', '/v1/templates/' + enc + '/versions/' + x.version);
            if (!old.ok) { errs.replaceChildren(note('err', errText(old))); return; }
            const saved = await save(old.text, etag);
            if (saved) {
              ed.value = old.text; paintGutter();
              try { doc = JSON.parse(old.text); } catch (_) { /* stays */ }
              if (tab === 'form') renderForm();
              errs.replaceChildren(note('ok', t('tpl.rolledBack', { from: x.version, v: saved.version })));
            }
          } }, t('tpl.rollback', { v: x.version }))))))),
      v.data.versions.length > 1 ? h('div', { class: 'row' }, t('tpl.compare'), a, '→', b, h('button', { id: 'compare', onclick: async () => {
        const [x, y] = await Promise.all([a.value, b.value].map((n) => api('GET', '/v1/templates/' + enc + '/versions/' + n)));
        diff.replaceChildren(h('div', { class: 'diff', 'aria-label': t('tpl.diff') }, lineDiff(x.text, y.text)));
      } }, t('tpl.diff'))) : h('p', { class: 'muted' }, t('tpl.oneVersion')));
  }

  show(h('p', {}, h('a', { href: '#/workflows' }, '← ' + t('nav.workflows'))),
    h('h1', {}, t('tpl.title', { wf: wfLabel(wf) }), ' ', h('span', { class: 'muted', id: 'tplversion' }, r.headers.get('Template-Default') ? t('wf.default') : 'v' + r.headers.get('Template-Version'))),
    h('div', { class: 'grid two' },
      h('div', {}, h('p', { class: 'muted' }, schema ? t('tpl.help') : t('tpl.noSchema')), errs,
        schema ? h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('tpl.views') }, tabForm, tabJson) : null,
        formPanel, jsonPanel,
        h('div', { class: 'row' },
          h('button', { id: 'check', onclick: preview }, t('tpl.check')),
          h('button', { class: 'primary', id: 'save', onclick: async () => { if (await preview()) await save(ed.value, etag); } }, t('tpl.save')))),
      h('div', {}, h('section', { class: 'card' }, h('h2', {}, t('tpl.preview')), h('div', { class: 'row' }, orderIn, h('button', { id: 'previewBtn', onclick: preview }, t('tpl.previewBtn'))), prev),
        h('section', { class: 'card' }, h('h2', {}, t('tpl.versions')), versions, diff))));
  setTab(tab);
  await loadVersions();
  await preview();
}

// ---------- the template form, drawn from the workflow's JSON Schema ----------

// pathStr writes a path array (['steps', 0, 'after']) as the API names
// fields: steps[0].after.
function pathStr(p) { return p.map((k, i) => typeof k === 'number' ? '[' + k + ']' : (i ? '.' : '') + k).join(''); }

function getAt(o, p) { for (const k of p) { if (o === null || o === undefined) return undefined; o = o[k]; } return o; }

// setAt sets (or, for undefined, deletes) the value at path p of o.
function setAt(o, p, v) {
  let cur = o;
  for (let i = 0; i < p.length - 1; i++) {
    if (cur[p[i]] === undefined || cur[p[i]] === null) cur[p[i]] = typeof p[i + 1] === 'number' ? [] : {};
    cur = cur[p[i]];
  }
  const last = p[p.length - 1];
  if (v === undefined) { if (Array.isArray(cur)) cur.splice(last, 1); else delete cur[last]; } else cur[last] = v;
}

// templateForm draws the form of doc from schema; onChange(path) runs after
// each edit (doc is edited in place). Every control carries data-path, the
// API's name of its field, for errors to find it.
function templateForm(schema, doc, onChange) {
  const defs = schema.$defs || {};
  const deref = (sub) => { let n = 0; while (sub && sub.$ref && n++ < 10) sub = defs[sub.$ref.replace('#/$defs/', '')]; return sub || {}; };
  const isLocalized = (sub) => (sub.$ref || '').endsWith('/localized') || !!deref(sub).patternProperties;
  // What an action allows and requires, from the step schema's if/then rules.
  const stepRules = {};
  for (const r of (defs.step && defs.step.allOf) || []) {
    const act = r.if && r.if.properties && r.if.properties.action && r.if.properties.action.const;
    if (!act) continue;
    stepRules[act] = { hidden: new Set(Object.entries((r.then && r.then.properties) || {}).filter(([, v]) => v === false).map(([k]) => k)), required: new Set((r.then && r.then.required) || []) };
  }
  const label = (name) => T['field.' + name] ?? String(name);
  // changed sets the value at p and tells onChange; redraw asks for the
  // form to be drawn again (a list or the fields that apply changed). A
  // step's new action drops the fields it does not allow.
  const changed = (p, v, redraw = false) => {
    setAt(doc, p, v);
    if (p.length === 3 && p[0] === 'steps' && p[2] === 'action' && stepRules[v]) {
      for (const k of stepRules[v].hidden) delete doc.steps[p[1]][k];
      redraw = true;
    }
    onChange(p, redraw);
  };
  const localeRe = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/;

  function field(p, sub, required) {
    const name = p[p.length - 1];
    const path = pathStr(p);
    const id = 'f-' + path.replace(/[^A-Za-z0-9_-]/g, '_');
    const s = deref(sub);
    const val = getAt(doc, p);
    const wrap = (control, extra) => h('div', { class: 'field', 'data-field': path },
      h('label', { for: id }, label(name), required ? ' *' : '', ' ', h('code', { class: 'muted' }, name)), control, extra || null);
    if (isLocalized(sub)) {
      const locs = [...new Set([...(val ? Object.keys(val) : []), doc.default_locale || 'en'])];
      return h('fieldset', { class: 'field localized', 'data-field': path, 'data-path': path }, h('legend', {}, label(name), required ? ' *' : ''),
        locs.map((loc) => {
          const lp = [...p, loc], lid = id + '_' + loc.replace(/[^A-Za-z0-9]/g, '_');
          return h('div', { class: 'field', 'data-field': pathStr(lp) }, h('label', { for: lid }, loc),
            h('textarea', { id: lid, rows: 3, lang: loc, 'data-path': pathStr(lp), oninput: (e) => changed(lp, e.target.value === '' ? undefined : e.target.value) }, val && val[loc] !== undefined ? val[loc] : ''));
        }),
        h('div', { class: 'row' }, h('input', { id: id + '-newloc', size: 7, 'aria-label': t('tpl.newLocale'), placeholder: 'ja' }),
          h('button', { type: 'button', 'data-addlocale': path, onclick: (e) => {
            const loc = e.target.previousSibling.value.trim();
            if (!localeRe.test(loc)) { e.target.previousSibling.setAttribute('aria-invalid', 'true'); return; }
            if (!val || val[loc] === undefined) changed([...p, loc], '', true);
          } }, t('tpl.addLocale'))));
    }
    if (s.enum) {
      return wrap(h('select', { id, 'data-path': path, onchange: (e) => changed(p, e.target.value === '' ? undefined : e.target.value) },
        required ? null : h('option', { value: '' }, '—'),
        s.enum.map((x) => h('option', { value: x, selected: val === x }, T['enum.' + x] ?? x))));
    }
    const type = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
    if (type === 'null') return h('p', { class: 'muted field', 'data-field': path }, label(name), ': ', t('tpl.none'));
    if (type === 'boolean') {
      return wrap(h('input', { id, type: 'checkbox', 'data-path': path, checked: val === true || (val === undefined && name === 'enabled'), onchange: (e) => changed(p, e.target.checked) }));
    }
    if (type === 'integer' || type === 'number') {
      return wrap(h('input', { id, type: 'number', 'data-path': path, min: s.minimum, max: s.maximum, step: type === 'integer' ? 1 : 'any', value: val ?? '',
        oninput: (e) => changed(p, e.target.value === '' ? undefined : Number(e.target.value)) }));
    }
    if (type === 'array') {
      const items = deref(s.items);
      if (items.enum) { // a set of choices: checkboxes
        return h('fieldset', { class: 'field', 'data-field': path, 'data-path': path }, h('legend', {}, label(name), ' ', h('code', { class: 'muted' }, name)),
          h('div', { class: 'row' }, items.enum.map((x) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: x, checked: (val || []).includes(x), onchange: (e) => {
            const set = new Set(getAt(doc, p) || []); if (e.target.checked) set.add(x); else set.delete(x);
            const order = items.enum.filter((y) => set.has(y)); changed(p, order.length ? order : undefined);
          } }), ' ', T['enum.' + x] ?? x))));
      }
      if (items.type === 'object' || items.properties) { // a list of objects: one fieldset each
        const list = () => getAt(doc, p) || [];
        const blank = () => p.length === 1 && p[0] === 'steps'
          ? { id: 'step_' + (list().length + 1), action: 'message', after: '1h', script: { [doc.default_locale || 'zh-CN']: '' } } : {};
        return h('fieldset', { class: 'field', 'data-field': path, 'data-path': path }, h('legend', {}, label(name), ' ', h('code', { class: 'muted' }, name)),
          (val || []).map((_, i) => h('div', { class: 'item' }, objectFields([...p, i], items, h('legend', {}, '#' + (i + 1))),
            h('button', { type: 'button', class: 'small', 'data-remove': pathStr([...p, i]), onclick: () => { const xs = list(); xs.splice(i, 1); changed(p, xs, true); } }, t('tpl.remove')))),
          h('button', { type: 'button', 'data-add': path, onclick: () => changed(p, [...list(), blank()], true) }, t('tpl.add')));
      }
      // a list of words: one per line
      return wrap(h('textarea', { id, rows: Math.min(6, Math.max(2, (val || []).length)), 'data-path': path, 'aria-describedby': id + '-h',
        oninput: (e) => { const xs = e.target.value.split('\n').map((x) => x.trim()).filter(Boolean); changed(p, xs.length ? xs : (required ? [] : undefined)); } }, (val || []).join('\n')),
        h('div', { class: 'muted small', id: id + '-h' }, t('tpl.onePerLine')));
    }
    if (type === 'object' && s.properties) return objectFields(p, s, h('legend', {}, label(name), ' ', h('code', { class: 'muted' }, name)));
    if (type === 'object' || (!type && val !== null && typeof val === 'object')) { // free-form: its JSON
      return wrap(h('textarea', { id, rows: 4, class: 'mono', 'data-path': path, oninput: (e) => {
        try { changed(p, e.target.value.trim() === '' ? undefined : JSON.parse(e.target.value)); e.target.removeAttribute('aria-invalid'); } catch (_) { e.target.setAttribute('aria-invalid', 'true'); }
      } }, val === undefined ? '' : JSON.stringify(val, null, 1)));
    }
    const hint = s.$ref || sub.$ref || '';
    return wrap(h('input', { id, type: 'text', 'data-path': path, value: val ?? '', pattern: s.pattern ? s.pattern.replace(/^\^|\$$/g, '') : null,
      placeholder: hint.endsWith('/duration') ? t('tpl.eg', { v: '30m' }) : hint.endsWith('/time_of_day') ? t('tpl.eg', { v: '22:00' }) : null, size: hint ? 8 : 24,
      oninput: (e) => changed(p, e.target.value === '' && !required ? undefined : e.target.value) }));
  }

  // objectFields is a fieldset with a field per property of s that applies
  // (for a step: those its action allows), required ones first marked.
  function objectFields(p, s, legend) {
    const val = getAt(doc, p) || {};
    let props = Object.keys(s.properties || {});
    let required = new Set(s.required || []);
    if (s === defs.step || p.length === 2 && p[0] === 'steps') {
      const rule = stepRules[val.action] || { hidden: new Set(), required: new Set() };
      props = props.filter((k) => !rule.hidden.has(k));
      required = new Set([...required, ...rule.required]);
      legend = h('legend', {}, t('tpl.stepN', { n: p[1] + 1, id: val.id || '' }), ' · ', T['enum.' + val.action] ?? (val.action || ''));
    }
    // Texts last, so timing and targeting read first.
    props = [...props.filter((k) => !isLocalized(s.properties[k])), ...props.filter((k) => isLocalized(s.properties[k]))];
    return h('fieldset', { class: 'group', 'data-path': pathStr(p) || null }, legend, props.map((k) => field([...p, k], s.properties[k], required.has(k))));
  }

  const top = { ...schema, properties: { ...schema.properties } };
  delete top.properties.workflow; // fixed by the page
  return objectFields([], top, null);
}

// lineDiff is a line LCS diff of two texts.
function lineDiff(a, b) {
  const x = a.split('\n'), y = b.split('\n');
  const n = x.length, m = y.length;
  const L = Array.from({ length: n + 1 }, () => new Int32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { out.push(h('span', { class: 'same' }, '  ' + x[i])); i++; j++; }
    else if (j < m && (i >= n || L[i][j + 1] >= L[i + 1][j])) { out.push(h('span', { class: 'add' }, '+ ' + y[j])); j++; }
    else { out.push(h('span', { class: 'del' }, '- ' + x[i])); i++; }
  }
  const changed = out.filter((e) => e.className !== 'same').length;
  return [h('p', { class: 'muted' }, t('tpl.changed', { n: changed })), ...out];
}

// ---------- orders (ops) ----------

async function pageOrders(id) {
  const input = h('input', { id: 'orderid', placeholder: t('orders.placeholder'), value: id || '', size: 24 });
  const out = h('div');
  const recent = h('div');
  show(h('h1', {}, t('orders.title')),
    h('form', { class: 'row', onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) go('#/orders/' + encodeURIComponent(input.value.trim())); } },
      input, h('button', { class: 'primary', id: 'search' }, t('orders.search'))), out, recent);
  if (!id) {
    const l = await api('GET', '/v1/orders?limit=20');
    if (l.ok) recent.replaceChildren(h('h2', {}, t('orders.recent')), h('ul', {}, (l.data.orders || []).map((o) => h('li', {}, h('a', { href: '#/orders/' + encodeURIComponent(o.order.id) }, o.order.id), ' · ', t('status.' + o.status), o.updated_at ? ' · ' + fmt(o.updated_at) : ''))));
    return;
  }
  const enc = encodeURIComponent(id);
  const [o, ev, runs, msgs, ...tasks] = await Promise.all([api('GET', '/v1/orders/' + enc), api('GET', '/v1/orders/' + enc + '/events?limit=1000'),
    api('GET', '/v1/runs?order=' + enc), api('GET', '/v1/orders/' + enc + '/messages'),
    ...['open', 'claimed', 'done', 'cancelled'].map((st) => api('GET', '/v1/tasks?status=' + st))]);
  if (!o.ok) { out.replaceChildren(note('err', o.status === 404 ? t('orders.notfound', { id }) : errText(o))); return; }
  const ord = o.data;
  const extra = [];
  for (const e of (ev.ok ? ev.data.events : [])) extra.push({ at: e.event.occurred_at || e.delivery.received_at, k: 'event', text: (T['ev.' + e.event.type] ?? e.event.type) + ' · ' + e.delivery.source });
  for (const r of (runs.ok ? runs.data.runs : [])) {
    extra.push({ at: r.started_at, k: 'run', text: t('tl.run', { wf: wfLabel(r.workflow), v: r.template_version, status: r.status }) + (r.step ? ' · ' + t('tl.step', { step: r.step }) : '') + (r.next_at ? ' · ' + t('tl.next', { at: fmt(r.next_at) }) : '') });
    if (r.outcome_at) extra.push({ at: r.outcome_at, k: 'run', text: t('tl.outcome', { wf: wfLabel(r.workflow), outcome: outcomeLabel(r.outcome) }) + (r.value ? ' · ' + r.value : '') });
  }
  const orderTasks = tasks.flatMap((x) => x.ok ? x.data.tasks : []).filter((x) => x.order_id === id);
  out.replaceChildren(h('section', { class: 'card', id: 'orderview' },
    h('h2', {}, t('orders.order', { id }), ' · ', t('status.' + ord.status)),
    h('p', {}, t('order.total'), ': ', (ord.order.total || '') + ' ' + (ord.order.currency || ''), ord.order.payment_method ? ' · ' + t('pay.' + ord.order.payment_method) : ''),
    h('ul', {}, (ord.order.items || []).map((it) => h('li', {}, it.quantity + ' × ' + it.title))),
    h('h2', {}, t('task.timeline')), timeline(null, orderTasks, msgs.ok ? msgs.data.messages : [], extra)));
}

// ---------- metrics (ops) ----------

async function pageMetrics() {
  const { q } = params();
  const days = Math.min(31, Math.max(1, Number(q.get('days')) || 7));
  const out = h('div', { id: 'metrics' }, h('p', { class: 'muted' }, '…'));
  const picker = h('div', { class: 'chips row', role: 'group', 'aria-label': t('metrics.range') },
    [1, 7, 14, 30].map((n) => h('button', { 'aria-pressed': String(n === days), onclick: () => go('#/metrics?days=' + n) }, t('metrics.days', { n }))));
  show(h('h1', {}, t('metrics.title')), picker, out);
  // Days in the shop's zone: midnight to midnight, the last one up to now.
  const end = new Date(now());
  const spans = [];
  const mid = (d) => { // the shop-zone midnight at or before d
    const day = shopDay(d);
    let guess = Date.parse(day + 'T00:00:00Z');
    const off = Date.parse(new Date(guess).toLocaleString('en-US', { timeZone: S.timezone })) - Date.parse(new Date(guess).toLocaleString('en-US', { timeZone: 'UTC' }));
    return new Date(guess - off);
  };
  let to = end, from = mid(end);
  for (let k = 0; k < days; k++) {
    spans.unshift({ day: shopDay(from), from, to });
    to = from; from = mid(new Date(from.getTime() - 3600e3));
  }
  const reps = await Promise.all(spans.map((sp) => api('GET', '/v1/metrics?from=' + encodeURIComponent(sp.from.toISOString()) + '&to=' + encodeURIComponent(sp.to.toISOString()))));
  const bad = reps.find((r) => !r.ok);
  if (bad) { out.replaceChildren(note('err', errText(bad))); return; }
  const wfs = reps[0].data.workflows.map((w) => w.workflow);
  const per = (fn) => spans.map((sp, i) => ({ day: sp.day, vals: reps[i].data.workflows.map(fn) }));
  const total = (fn) => reps.reduce((a, r) => a + r.data.workflows.reduce((b, w) => b + fn(w), 0), 0);
  const sumv = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
  const gmv = reps.reduce((a, r) => a + r.data.workflows.reduce((b, w) => b + Number(w.gmv_recovered || 0), 0), 0);
  const handling = reps.flatMap((r) => r.data.workflows.map((w) => w.median_handling_seconds).filter((x) => x !== null && x !== undefined));
  const reasons = {};
  for (const r of reps) for (const w of r.data.workflows) for (const [k, v] of Object.entries(w.skipped || {})) reasons[k] = (reasons[k] || 0) + v;
  out.replaceChildren(
    h('div', { class: 'stats' },
      stat('metrics.sent', total((w) => w.sent), 'stat-sent'),
      stat('metrics.skipped', total((w) => sumv(w.skipped)), 'stat-skipped'),
      stat('metrics.chasedPaid', total((w) => w.chased_paid || 0) + ' / ' + total((w) => w.orders_chased || 0), 'stat-paid'),
      stat('metrics.gmv', gmv.toFixed(2), 'stat-gmv'),
      stat('metrics.cod', total((w) => w.cod_confirmed || 0) + ' / ' + total((w) => (w.cod_confirmed || 0) + (w.cod_declined || 0) + (w.cod_unreachable || 0)), 'stat-cod'),
      stat('metrics.tasks', total((w) => w.tasks_completed) + ' / ' + total((w) => w.tasks_opened), 'stat-tasks'),
      stat('metrics.handling', handling.length ? t('metrics.minutes', { n: Math.round(handling.reduce((a, b) => a + b, 0) / handling.length / 60) }) : '—', 'stat-handling')),
    h('h2', {}, t('metrics.sentByDay')), barChart(per((w) => w.sent), wfs.map(wfLabel), 'chart-sent'),
    h('h2', {}, t('metrics.skippedByReason')), barChart([{ day: t('metrics.all'), vals: Object.values(reasons) }], Object.keys(reasons).map(reasonLabel), 'chart-skipped', true),
    h('h2', {}, t('metrics.conversions')), barChart(spans.map((sp, i) => ({ day: sp.day, vals: [
      sumOf(reps[i], (w) => w.chased_paid || 0), sumOf(reps[i], (w) => w.cod_confirmed || 0),
      sumOf(reps[i], (w) => (w.outcomes || {}).reviewed || 0), sumOf(reps[i], (w) => (w.outcomes || {}).revised || 0)] })),
    [t('metrics.conv.paid'), t('metrics.conv.cod'), t('metrics.conv.reviewed'), t('metrics.conv.revised')], 'chart-conv'),
    h('h2', {}, t('metrics.table')), metricsTable(spans, reps));
}

function sumOf(rep, fn) { return rep.data.workflows.reduce((a, w) => a + fn(w), 0); }
function stat(key, value, id) { return h('div', { class: 'card', id }, h('div', { class: 'muted' }, t(key)), h('div', { class: 'big' }, value)); }

// barChart draws grouped bars: one group per entry of groups, one bar per series.
function barChart(groups, series, id, horizontal = false) {
  const W = 720, H = 220, pad = 30;
  const max = Math.max(1, ...groups.flatMap((g) => g.vals));
  const gw = (W - pad * 2) / Math.max(1, groups.length);
  const bw = Math.max(2, (gw - 8) / Math.max(1, series.length));
  const kids = [s('line', { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, stroke: '#8a95a3' }), s('text', { x: 4, y: 14, 'font-size': 11, fill: '#555d66' }, String(max))];
  groups.forEach((g, gi) => {
    g.vals.forEach((v, si) => {
      const bh = (H - pad * 2) * v / max;
      const x = pad + gi * gw + 4 + si * bw, y = H - pad - bh;
      kids.push(s('rect', { x, y, width: bw - 1, height: bh, class: 'sw' + (si % 7), fill: ['#0b5cad', '#c25e00', '#1e6b34', '#7a1450', '#8a6d00', '#0d5c4f', '#5b6570'][si % 7] }, s('title', {}, series[si] + ': ' + v)));
      if (v) kids.push(s('text', { x: x + bw / 2 - 1, y: y - 2, 'font-size': 10, 'text-anchor': 'middle', fill: '#1c1f23' }, String(v)));
    });
    kids.push(s('text', { x: pad + gi * gw + gw / 2, y: H - pad + 14, 'font-size': 11, 'text-anchor': 'middle', fill: '#555d66' }, g.day.length > 5 && !horizontal ? g.day.slice(5) : g.day));
  });
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', id, role: 'img', 'aria-label': series.join(', ') }, kids);
  return h('div', { class: 'card' }, svg, h('div', { class: 'legend' }, series.map((name, i) => h('span', {}, h('i', { class: 'sw' + (i % 7) }), name))));
}

function metricsTable(spans, reps) {
  const rows = [];
  spans.forEach((sp, i) => {
    for (const w of reps[i].data.workflows) {
      if (!w.sent && !w.runs_started && !Object.keys(w.skipped || {}).length && !w.tasks_opened && !Object.keys(w.outcomes || {}).length) continue;
      rows.push(h('tr', {}, h('td', {}, sp.day), h('td', {}, wfLabel(w.workflow)), h('td', {}, w.runs_started), h('td', {}, w.sent),
        h('td', {}, Object.entries(w.skipped || {}).map(([k, v]) => reasonLabel(k) + ' ' + v).join(', ')),
        h('td', {}, Object.entries(w.outcomes || {}).map(([k, v]) => outcomeLabel(k) + ' ' + v).join(', ')),
        h('td', {}, (w.steps || []).filter((x) => x.sent || Object.keys(x.skipped || {}).length).map((x) => x.step + ': ' + x.sent + (Object.keys(x.skipped || {}).length ? ' (+' + Object.values(x.skipped).reduce((a, b) => a + b, 0) + ')' : '')).join(', '))));
    }
  });
  return h('table', { id: 'metricstable' }, h('thead', {}, h('tr', {}, ['metrics.day', 'wf.name', 'wf.runs', 'wf.sent', 'wf.skipped', 'wf.outcomes', 'metrics.steps'].map((k) => h('th', {}, t(k))))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 7, class: 'muted' }, t('metrics.none')))));
}

// ---------- settings (ops) ----------

function randomSecret() {
  const b = new Uint8Array(32); crypto.getRandomValues(b);
  return 'whsec_' + btoa(String.fromCharCode(...b));
}

async function pageSettings() {
  const msg = h('div', { id: 'settingsmsg' });
  const [src, ag] = await Promise.all([api('GET', '/v1/shops/' + encodeURIComponent(S.shop) + '/sources'), api('GET', '/v1/agents')]);
  if (!src.ok) { show(note('err', errText(src))); return; }
  const origin = location.origin;
  const url = h('input', { id: 'chanurl', type: 'url', size: 40, value: src.data.webhook_channel ? src.data.webhook_channel.url : '' });
  const agentId = h('input', { id: 'newagentid', size: 12, pattern: '[a-z0-9][a-z0-9_-]{1,39}', placeholder: 'li-na' });
  const agentName = h('input', { id: 'newagentname', size: 16, placeholder: '李娜' });
  show(h('h1', {}, t('settings.title')), msg,
    h('section', { class: 'card' }, h('h2', {}, t('settings.sources')),
      h('table', { id: 'sources' }, h('thead', {}, h('tr', {}, ['settings.source', 'settings.webhook', 'settings.connected', ''].map((k) => h('th', {}, k ? t(k) : '')))),
        h('tbody', {}, src.data.sources.map((x) => h('tr', { 'data-source': x.source }, h('td', {}, x.source), h('td', {}, h('code', {}, origin + x.webhook)),
          h('td', {}, x.connected ? t('settings.yes') + ' · ' + fmt(x.updated_at) : t('settings.no')),
          h('td', {}, x.source === 'standard' ? h('button', { id: 'rotate-standard', onclick: async () => {
            if (!confirm(t('settings.rotate.confirm'))) return;
            const secret = randomSecret();
            const r = await api('PUT', '/v1/shops/' + encodeURIComponent(S.shop) + '/sources/standard', { secret });
            msg.replaceChildren(r.ok ? note('ok', t('settings.rotated'), ' ', h('code', { class: 'key' }, secret)) : note('err', errText(r)));
          } }, t('settings.rotate')) : '')))))),
    h('section', { class: 'card' }, h('h2', {}, t('settings.channel')), h('p', { class: 'muted' }, t('settings.channel.help')),
      h('form', { class: 'row', onsubmit: async (e) => {
        e.preventDefault();
        const secret = randomSecret();
        const r = await api('PUT', '/v1/shops/' + encodeURIComponent(S.shop) + '/channels/webhook', { url: url.value.trim(), secret });
        msg.replaceChildren(r.ok ? note('ok', t('settings.channel.saved'), ' ', h('code', { class: 'key' }, secret)) : note('err', errText(r)));
      } }, h('label', { for: 'chanurl' }, t('settings.channel.url')), url, h('button', { class: 'primary' }, t('settings.channel.save')))),
    h('section', { class: 'card' }, h('h2', {}, t('settings.agents')),
      h('table', { id: 'agents' }, h('tbody', {}, (ag.ok ? ag.data.agents : []).map((a) => h('tr', { 'data-agent': a.id },
        h('td', {}, a.id), h('td', {}, a.name), h('td', {}, a.active ? t('settings.active') : t('settings.inactive')),
        h('td', { class: 'row' },
          h('button', { onclick: async () => { const n = prompt(t('settings.rename'), a.name); if (!n) return; const r = await api('PATCH', '/v1/agents/' + a.id, { name: n }); if (r.ok) pageSettings(); else msg.replaceChildren(note('err', errText(r))); } }, t('settings.rename')),
          h('button', { onclick: async () => { const r = await api('PATCH', '/v1/agents/' + a.id, { active: !a.active }); if (r.ok) pageSettings(); else msg.replaceChildren(note('err', errText(r))); } }, a.active ? t('settings.deactivate') : t('settings.activate')),
          h('button', { onclick: async () => { const r = await api('POST', '/v1/agents/' + a.id + '/key'); msg.replaceChildren(r.ok ? note('ok', t('settings.newkey', { id: a.id }), ' ', h('code', { class: 'key' }, r.data.key)) : note('err', errText(r))); } }, t('settings.newkeyBtn'))))))),
      h('form', { class: 'row', onsubmit: async (e) => {
        e.preventDefault();
        const r = await api('POST', '/v1/agents', { id: agentId.value.trim(), name: agentName.value.trim() });
        if (!r.ok) { msg.replaceChildren(note('err', errText(r))); return; }
        await pageSettings();
        document.getElementById('settingsmsg').replaceChildren(note('ok', t('settings.newkey', { id: r.data.agent.id }), ' ', h('code', { class: 'key', id: 'agentkey' }, r.data.key)));
      } }, h('label', { for: 'newagentid' }, t('settings.agentid')), agentId, h('label', { for: 'newagentname' }, t('settings.agentname')), agentName, h('button', { class: 'primary', id: 'addagent' }, t('settings.addagent')))));
}

// ---------- routing ----------

async function route() {
  timers.forEach(clearInterval); timers = []; keyHandler = null;
  closers.forEach((f) => f()); closers = [];
  const { parts } = params();
  if (!S) {
    const r = await api('GET', '/v1/session');
    if (r.ok) S = r.data;
  }
  renderChrome();
  if (!S) { pageSignIn(); return; }
  await syncClock();
  const [p, a] = parts;
  const ops = S.role === 'ops';
  try {
    if (p === 'task' && a) await pageTask(a);
    else if (p === 'workflows' && ops) await pageWorkflows();
    else if (p === 'template' && a && ops) await pageTemplate(a);
    else if (p === 'orders' && ops) await pageOrders(a);
    else if (p === 'metrics' && ops) await pageMetrics();
    else if (p === 'settings' && ops) await pageSettings();
    else if (p === 'queue' || !ops) await pageQueue();
    else await pageWorkflows();
  } catch (e) {
    show(note('err', t('err.page', { msg: e.message })));
  }
  document.body.dataset.ready = location.hash;
}

async function start() {
  const r = await fetch('/console/i18n.json');
  const cat = await r.json();
  T = { ...cat.en, ...(cat[lang] || {}) };
  document.title = t('app.title');
  window.addEventListener('hashchange', route);
  await route();
}

start();
