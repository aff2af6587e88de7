// Organiser: create an event, then watch it sell (numbers and a live chart), open, close or
// cancel its sale, edit it, and steer the waiting room (pause, resume, admission rate).
import { api, ApiError, describeError, el, getAuth, initPage, showMessage } from './common.js';

initPage();

const $ = (id) => document.getElementById(id);
const POLL_MS = 1_000;
/** Two minutes of one-second samples. */
const HISTORY = 120;
const SERIES = [
  { key: 'holds', name: 'Holds / s', cls: 's1' },
  { key: 'confirms', name: 'Confirms / s', cls: 's2' },
  { key: 'admits', name: 'Admitted / s', cls: 's3' },
];
const SVG = 'http://www.w3.org/2000/svg';

const dash = { event: null, timer: null, last: null, samples: [], queue: null };

// ---------- who may use this page ----------

function gate() {
  const a = getAuth();
  const ok = a && a.role === 'organiser';
  $('organiser').hidden = !ok;
  if (!ok) {
    stopDashboard();
    showMessage(a ? 'This page is for organisers. Sign in as an organiser.' : 'Sign in as an organiser to create and watch events.', 'info');
    return;
  }
  showMessage('');
  loadEvents().then(() => {
    const id = new URLSearchParams(location.search).get('event');
    if (id) openDashboard(id);
  });
}

async function loadEvents(selectId) {
  try {
    // Every event of the organiser's, drafts included; the newest hundred sales.
    const { events } = await api('GET', '/v1/admin/events?limit=100');
    $('pick-event').replaceChildren(...events.map((e) => el('option', { value: e.id, text: e.status === 'on_sale' ? e.name : `${e.name} (${STATUS[e.status]})` })));
    const want = selectId ?? dash.event?.id;
    if (want) pickOption(want, events.find((e) => e.id === want)?.name ?? dash.event?.name ?? want);
  } catch (e) {
    showMessage(describeError(e));
  }
}

/** Selects an event in the picker, adding it when the on-sale list does not include it. */
function pickOption(id, name) {
  const sel = $('pick-event');
  if (![...sel.options].some((o) => o.value === id)) sel.prepend(el('option', { value: id, text: name }));
  sel.value = id;
}

$('pick').addEventListener('submit', (e) => {
  e.preventDefault();
  const id = $('pick-event').value;
  if (id) openDashboard(id);
});

// ---------- form errors ----------

/** The API's field names in the words of the form. */
const FIELD_WORDS = {
  name: 'Name',
  startsAt: 'Starts at',
  salesOpenAt: 'Sales open',
  salesCloseAt: 'Sales close',
  holdSeconds: 'Hold time',
  maxSeatsPerUser: 'Max tickets per person',
  maxActive: 'Most buyers with a pass at once',
  admitPerSecond: 'Admit per second',
  passSeconds: 'Pass valid for',
  code: 'Zone code',
  priceCents: 'Price',
  capacity: 'Capacity',
  rows: 'Rows',
  seatsPerRow: 'Seats per row',
};
const STATUS = { draft: 'draft', on_sale: 'on sale', closed: 'sales closed', cancelled: 'cancelled' };

/** Words for a server message: API field names become the form's labels. */
const inWords = (text) =>
  String(text).replace(/\b(salesOpenAt|salesCloseAt|startsAt|holdSeconds|maxSeatsPerUser|priceCents|seatsPerRow)\b/g, (f) => FIELD_WORDS[f].toLowerCase());

function clearFieldErrors(form) {
  for (const i of form.querySelectorAll('[aria-invalid="true"]')) {
    i.removeAttribute('aria-invalid');
    i.removeAttribute('aria-describedby');
  }
  for (const p of form.querySelectorAll('.field-error')) p.remove();
}

/**
 * Marks the inputs a 400/409 names (details.issues[].field or details.field, e.g.
 * "salesOpenAt" or "zones.1.capacity") with the reason beside each, focuses the first, and
 * returns a summary in the form's words. `find(field)` maps an API field to its input.
 */
function showFieldErrors(form, err, find) {
  clearFieldErrors(form);
  if (!(err instanceof ApiError)) return describeError(err);
  const d = err.details || {};
  const issues = Array.isArray(d.issues) ? d.issues : d.field ? [{ field: d.field, message: err.message }] : [];
  const marked = [];
  for (const issue of issues) {
    let input = find(issue.field);
    if (input && !(input instanceof Element)) input = input[0] ?? null;
    const last = String(issue.field).split('.').pop();
    const label = FIELD_WORDS[last] ?? last;
    const text = `${label}: ${inWords(issue.message)}`;
    if (!input) {
      marked.push(text);
      continue;
    }
    const id = `${input.name || 'field'}-${marked.length}-err`;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
    input.closest('label')?.after(el('p', { class: 'field-error', id, text: inWords(issue.message) }));
    marked.push(text);
  }
  form.querySelector('[aria-invalid="true"]')?.focus();
  return marked.length ? `Please check: ${marked.join('; ')}.` : inWords(describeError(err));
}

/** zones.N.field -> the Nth zone block's input, other fields -> the form's own input. */
const fieldFinder = (form, zoneBlocks, zoneInputName = (f) => f) => (field) => {
  const parts = String(field).split('.');
  if (parts[0] === 'zones' && parts.length === 3) {
    return zoneBlocks()[Number(parts[1])]?.querySelector(`[name="${zoneInputName(parts[2])}"]`) ?? null;
  }
  if (parts[0] === 'queue' && parts[1]) return form.elements[parts[1]] ?? null;
  return form.elements[parts[0]] ?? null;
};

// ---------- create ----------

const zonesEdit = $('zones-edit');
let zoneSeq = 0;

function zoneRow(z) {
  const n = ++zoneSeq;
  const f = (label, input) => el('label', {}, label, input);
  const kind = el('select', { name: 'kind' }, el('option', { value: 'seated', text: 'Seated' }), el('option', { value: 'ga', text: 'General admission' }));
  kind.value = z.kind;
  const rows = el('input', { name: 'rows', type: 'number', min: 1, max: 5000, value: z.rows ?? 10 });
  const per = el('input', { name: 'seatsPerRow', type: 'number', min: 1, max: 5000, value: z.seatsPerRow ?? 20 });
  const cap = el('input', { name: 'capacity', type: 'number', min: 1, max: 250000, value: z.capacity ?? 200 });
  const seated = el('div', { class: 'grid2' }, f('Rows', rows), f('Seats per row', per));
  const ga = el('div', {}, f('Capacity', cap));
  const sync = () => {
    seated.hidden = kind.value !== 'seated';
    ga.hidden = kind.value !== 'ga';
  };
  kind.addEventListener('change', sync);
  sync();
  const row = el(
    'fieldset',
    { class: 'zone-edit' },
    el('legend', { text: `Zone ${n}` }),
    el(
      'div',
      { class: 'grid2' },
      f('Zone code', el('input', { name: 'code', required: true, pattern: '[A-Za-z0-9_]{1,16}', value: z.code, title: 'letters, digits and _ (1 to 16)' })),
      f('Zone name', el('input', { name: 'zname', required: true, maxlength: 200, value: z.name })),
      f('Price', el('input', { name: 'price', type: 'number', min: 0, step: '0.01', required: true, value: z.price })),
      f('Kind', kind),
    ),
    seated,
    ga,
    el('button', { type: 'button', class: 'link', onclick: () => zonesEdit.children.length > 1 && row.remove(), text: `Remove zone ${n}` }),
  );
  return row;
}

$('add-zone').addEventListener('click', () => {
  zonesEdit.append(zoneRow({ code: `Z${zoneSeq + 1}`, name: `Zone ${zoneSeq + 1}`, kind: 'ga', price: '50.00', capacity: 100 }));
  zonesEdit.lastElementChild.querySelector('input').focus();
});

function localInput(date) {
  const d = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

function resetCreateForm() {
  const f = $('create');
  f.elements.startsAt.value = localInput(new Date(Date.now() + 7 * 86_400_000));
  f.elements.salesOpenAt.value = localInput(new Date());
  zoneSeq = 0;
  zonesEdit.replaceChildren(
    zoneRow({ code: 'A', name: 'Block A', kind: 'seated', price: '90.00', rows: 10, seatsPerRow: 20 }),
    zoneRow({ code: 'FLOOR', name: 'Floor', kind: 'ga', price: '150.00', capacity: 200 }),
  );
}

$('create').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target;
  const num = (name) => Number(f.elements[name].value);
  const iso = (name) => (f.elements[name].value ? new Date(f.elements[name].value).toISOString() : undefined);
  const zones = [...zonesEdit.querySelectorAll('.zone-edit')].map((z) => {
    const v = (n) => z.querySelector(`[name="${n}"]`).value;
    const base = { code: v('code'), name: v('zname'), priceCents: Math.round(Number(v('price')) * 100) };
    return v('kind') === 'seated'
      ? { ...base, kind: 'seated', rows: Number(v('rows')), seatsPerRow: Number(v('seatsPerRow')) }
      : { ...base, kind: 'ga', capacity: Number(v('capacity')) };
  });
  const body = {
    name: f.elements.name.value,
    startsAt: iso('startsAt'),
    salesOpenAt: iso('salesOpenAt'),
    salesCloseAt: iso('salesCloseAt'),
    holdSeconds: num('holdSeconds'),
    maxSeatsPerUser: num('maxSeatsPerUser'),
    currency: f.elements.currency.value.trim().toUpperCase(),
    queue: f.elements.queueEnabled.checked
      ? { enabled: true, admitPerSecond: num('admitPerSecond'), passSeconds: num('passSeconds') }
      : { enabled: false },
    zones,
    ...(f.elements.draft.checked ? { status: 'draft' } : {}),
  };
  clearFieldErrors(f);
  try {
    const ev = await api('POST', '/v1/admin/events', { body });
    showMessage(`Created “${ev.name}”. It is on the dashboard above.`, 'info');
    f.reset();
    resetCreateForm();
    await loadEvents(ev.id);
    openDashboard(ev.id);
  } catch (err) {
    const zoneName = (n) => ({ name: 'zname', priceCents: 'price' })[n] ?? n;
    showMessage(showFieldErrors(f, err, fieldFinder(f, () => [...zonesEdit.querySelectorAll('.zone-edit')], zoneName)));
  }
});

// ---------- dashboard ----------

async function openDashboard(id) {
  stopDashboard();
  try {
    dash.event = await api('GET', `/v1/events/${id}`, { auth: false });
  } catch (e) {
    showMessage(describeError(e));
    return;
  }
  dash.samples = [];
  dash.last = null;
  history.replaceState(null, '', `/organiser?event=${id}`);
  pickOption(id, dash.event.name);
  $('dash-name').textContent = dash.event.name;
  $('dashboard').hidden = false;
  $('queue-controls').hidden = !dash.event.queue.enabled;
  renderLifecycle();
  fillEditForm();
  $('chart-legend').replaceChildren(...SERIES.map((s) => el('li', {}, el('span', { class: `swatch ${s.cls}` }), ` ${s.name}`)));
  await poll();
  dash.timer = setInterval(poll, POLL_MS);
}

function stopDashboard() {
  clearInterval(dash.timer);
  dash.timer = null;
}

async function poll() {
  const ev = dash.event;
  if (!ev) return;
  let stats;
  let q;
  try {
    stats = await api('GET', `/v1/admin/events/${ev.id}/stats`);
    q = stats.queue;
    // An API without the queue in its stats: ask the waiting room itself.
    if (q === undefined) q = ev.queue.enabled ? await api('GET', `/v1/admin/events/${ev.id}/queue`).catch(() => null) : null;
  } catch (e) {
    $('dash-updated').textContent = describeError(e);
    return;
  }
  if (dash.event !== ev) return;
  const cur = {
    // The server's clock when it counted, so request latency does not skew the rates.
    at: Date.parse(stats.at) || Date.now(),
    holds: stats.counters?.holds,
    confirms: stats.counters?.confirms,
    admitted: q ? (q.admitted ?? q.admittedUpTo) : undefined,
  };
  const prev = dash.last;
  dash.last = cur;
  const rate = (k) => {
    if (!prev || typeof cur[k] !== 'number' || typeof prev[k] !== 'number') return null;
    const dt = (cur.at - prev.at) / 1000;
    return dt > 0 ? Math.max(0, (cur[k] - prev[k]) / dt) : null;
  };
  const sample = { holds: rate('holds'), confirms: rate('confirms'), admits: rate('admitted') };
  if (prev) {
    dash.samples.push(sample);
    if (dash.samples.length > HISTORY) dash.samples.shift();
  }

  const t = stats.totals;
  $('k-sold').textContent = fmt(t.sold);
  $('k-held').textContent = fmt(t.held);
  $('k-available').textContent = fmt(t.available);
  $('k-queue').textContent = q ? fmt(q.waiting ?? q.length ?? 0) : 'No queue';
  $('k-admit').textContent = q ? perSecond(sample.admits) : '–';
  $('k-holds').textContent = stats.counters ? perSecond(sample.holds) : 'n/a';
  $('k-confirms').textContent = stats.counters ? perSecond(sample.confirms) : 'n/a';
  $('dash-updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  renderZones(stats.zones);
  if (q) renderQueueState(q);
  drawChart();
}

const fmt = (n) => (typeof n === 'number' ? n.toLocaleString() : '–');
const perSecond = (r) => (r === null ? '…' : r >= 10 ? Math.round(r).toLocaleString() : r.toFixed(1));

function renderZones(zones) {
  const names = new Map(dash.event.zones.map((z) => [z.code, z.name]));
  $('zone-stats').tBodies[0].replaceChildren(
    ...zones.map((z) =>
      el(
        'tr',
        { 'data-zone': z.code },
        el('th', { scope: 'row', text: names.get(z.code) ?? z.code }),
        el('td', { text: fmt(z.sold) }),
        el('td', { text: fmt(z.held) }),
        el('td', { text: fmt(z.available) }),
        el('td', { text: fmt(z.capacity) }),
        el('td', {}, bar(z)),
      ),
    ),
  );
}

/** One stacked bar: sold, held, available. */
function bar(z) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 100 10');
  svg.setAttribute('class', 'bar');
  svg.setAttribute('aria-hidden', 'true');
  let x = 0;
  for (const [k, cls] of [['sold', 'b-sold'], ['held', 'b-held'], ['available', 'b-avail']]) {
    const w = z.capacity ? (z[k] / z.capacity) * 100 : 0;
    const r = document.createElementNS(SVG, 'rect');
    r.setAttribute('x', String(x));
    r.setAttribute('y', '0');
    r.setAttribute('width', String(w));
    r.setAttribute('height', '10');
    r.setAttribute('class', cls);
    svg.append(r);
    x += w;
  }
  return svg;
}

function renderQueueState(q) {
  dash.queue = q;
  const paused = !!q.paused;
  const rate = q.admitPerSecond;
  $('queue-state').textContent =
    `${paused ? 'Paused' : 'Admitting'} at ${fmt(rate)} per second · ${fmt(q.waiting ?? q.length ?? 0)} waiting` +
    (typeof q.admitted === 'number' ? ` · ${fmt(q.admitted)} admitted so far` : '');
  $('pause').textContent = paused ? 'Resume admission' : 'Pause admission';
  $('pause').setAttribute('aria-pressed', String(paused));
  if (document.activeElement !== $('rate') && typeof rate === 'number') $('rate').value = String(rate);
}

$('pause').addEventListener('click', () => patchQueue({ paused: !(dash.queue && dash.queue.paused) }));
$('rate-form').addEventListener('submit', (e) => {
  e.preventDefault();
  patchQueue({ admitPerSecond: Number($('rate').value) });
});

$('revoke-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const user = $('revoke-user').value.trim();
  if (!user) return;
  try {
    await api('DELETE', `/v1/admin/events/${dash.event.id}/queue/passes/${encodeURIComponent(user)}`);
    $('revoke-user').value = '';
    showMessage(`The pass of ${user} is revoked: it no longer lets them hold seats.`, 'info');
  } catch (err) {
    showMessage(describeError(err));
  }
});

async function patchQueue(body) {
  try {
    const q = await api('PATCH', `/v1/admin/events/${dash.event.id}/queue`, { body });
    renderQueueState(q);
    showMessage(
      body.paused === undefined ? `Admission rate set to ${fmt(q.admitPerSecond)} per second.` : body.paused ? 'Admission paused.' : 'Admission resumed.',
      'info',
    );
  } catch (e) {
    showMessage(describeError(e));
  }
}

// ---------- sale and edits ----------

function renderLifecycle() {
  const st = dash.event.status;
  $('status-line').textContent = `Status: ${STATUS[st] ?? st}.` + (st === 'draft' ? ' Buyers cannot see it or buy yet.' : '');
  $('open-sales').hidden = !(st === 'draft' || st === 'closed');
  $('close-sales').hidden = st !== 'on_sale';
  $('cancel-event').hidden = st === 'cancelled';
  for (const b of $('edit').querySelectorAll('input, button')) b.disabled = st === 'cancelled';
}

async function setStatus(status, done) {
  try {
    dash.event = await api('PATCH', `/v1/admin/events/${dash.event.id}`, { body: { status } });
    renderLifecycle();
    showMessage(done, 'info');
    loadEvents(dash.event.id);
  } catch (e) {
    showMessage(describeError(e));
  }
}

$('open-sales').addEventListener('click', () => setStatus('on_sale', 'Sales are open.'));
$('close-sales').addEventListener('click', () => setStatus('closed', 'Sales are closed. Existing holds can still be confirmed.'));
$('cancel-event').addEventListener('click', () => {
  if (!confirm(`Cancel “${dash.event.name}”? Every hold and booking is cancelled. This cannot be undone.`)) return;
  setStatus('cancelled', 'The event is cancelled; its holds and bookings are cancelled.');
});

function fillEditForm() {
  const f = $('edit');
  const e = dash.event;
  clearFieldErrors(f);
  f.elements.name.value = e.name;
  f.elements.startsAt.value = localInput(new Date(e.startsAt));
  f.elements.salesOpenAt.value = localInput(new Date(e.salesOpenAt));
  f.elements.salesCloseAt.value = localInput(new Date(e.salesCloseAt));
  f.elements.holdSeconds.value = String(e.holdSeconds);
  f.elements.maxSeatsPerUser.value = String(e.maxSeatsPerUser);
  f.elements.maxActive.value = e.queue.maxActive ? String(e.queue.maxActive) : '';
  const label = (text, input) => el('label', {}, text, input);
  $('zones-patch').replaceChildren(
    ...e.zones.map((z) =>
      el(
        'fieldset',
        { class: 'zone-patch', 'data-zone': z.code },
        el('legend', { text: `Zone ${z.code}` }),
        el(
          'div',
          { class: 'grid2' },
          label('Zone name', el('input', { name: 'zoneName', required: true, maxlength: 200, value: z.name })),
          label(`Price (${e.currency ?? 'EUR'})`, el('input', { name: 'priceCents', type: 'number', min: 0, step: '0.01', value: (z.priceCents / 100).toFixed(2) })),
          z.kind === 'seated'
            ? label(`Rows (${z.seatsPerRow} seats each)`, el('input', { name: 'rows', type: 'number', min: z.rows, max: 5000, value: z.rows }))
            : label('Capacity', el('input', { name: 'capacity', type: 'number', min: z.capacity, max: 250000, value: z.capacity })),
        ),
      ),
    ),
  );
}

$('edit').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = ev.target;
  const e = dash.event;
  const iso = (n) => new Date(f.elements[n].value).toISOString();
  const body = {};
  if (f.elements.name.value !== e.name) body.name = f.elements.name.value;
  for (const n of ['startsAt', 'salesOpenAt', 'salesCloseAt']) {
    if (f.elements[n].value && localInput(new Date(e[n])) !== f.elements[n].value) body[n] = iso(n);
  }
  for (const n of ['holdSeconds', 'maxSeatsPerUser']) if (Number(f.elements[n].value) !== e[n]) body[n] = Number(f.elements[n].value);
  const maxActive = f.elements.maxActive.value === '' ? null : Number(f.elements.maxActive.value);
  if (maxActive !== (e.queue.maxActive ?? null)) body.queue = { maxActive };
  const zones = [];
  for (const block of $('zones-patch').querySelectorAll('.zone-patch')) {
    const z = e.zones.find((x) => x.code === block.dataset.zone);
    const v = (n) => block.querySelector(`[name="${n}"]`)?.value;
    const change = { code: z.code };
    if (v('zoneName') !== z.name) change.name = v('zoneName');
    const price = Math.round(Number(v('priceCents')) * 100);
    if (price !== z.priceCents) change.priceCents = price;
    if (z.kind === 'seated' && Number(v('rows')) !== z.rows) change.rows = Number(v('rows'));
    if (z.kind === 'ga' && Number(v('capacity')) !== z.capacity) change.capacity = Number(v('capacity'));
    if (Object.keys(change).length > 1) zones.push(change);
  }
  // Zone errors name zones.N of what was sent: map N back to its block.
  const sent = zones.map((z) => z.code);
  if (zones.length) body.zones = zones;
  if (!Object.keys(body).length) {
    showMessage('Nothing to save: no field was changed.', 'info');
    return;
  }
  clearFieldErrors(f);
  try {
    dash.event = await api('PATCH', `/v1/admin/events/${e.id}`, { body });
    $('dash-name').textContent = dash.event.name;
    fillEditForm();
    showMessage('Changes saved.', 'info');
    loadEvents(dash.event.id);
  } catch (err) {
    const blocks = () => sent.map((code) => $('zones-patch').querySelector(`.zone-patch[data-zone="${code}"]`));
    showMessage(showFieldErrors(f, err, fieldFinder(f, blocks, (n) => (n === 'name' ? 'zoneName' : n))));
  }
});

function drawChart() {
  const svg = $('chart');
  const W = 600;
  const H = 180;
  const pad = { l: 44, r: 8, t: 10, b: 20 };
  const vals = dash.samples.flatMap((s) => SERIES.map((k) => s[k.key]).filter((v) => typeof v === 'number'));
  const max = niceMax(Math.max(1, ...vals));
  // Up to two minutes; a young dashboard spans what it has (at least 30 s) rather than a sliver.
  const span = Math.min(HISTORY, Math.max(30, dash.samples.length));
  const x = (i) => pad.l + (i / (span - 1)) * (W - pad.l - pad.r);
  const y = (v) => H - pad.b - (v / max) * (H - pad.t - pad.b);
  const nodes = [];
  for (const g of [0, max / 2, max]) {
    nodes.push(svgEl('line', { x1: pad.l, x2: W - pad.r, y1: y(g), y2: y(g), class: 'grid' }));
    nodes.push(svgEl('text', { x: pad.l - 6, y: y(g) + 4, class: 'axis', 'text-anchor': 'end' }, tick(g)));
  }
  nodes.push(svgEl('text', { x: W - pad.r, y: H - 4, class: 'axis', 'text-anchor': 'end' }, 'now'));
  nodes.push(svgEl('text', { x: pad.l, y: H - 4, class: 'axis' }, span >= HISTORY ? '−2 min' : `−${span} s`));
  const offset = span - dash.samples.length;
  for (const s of SERIES) {
    const pts = dash.samples
      .map((p, i) => (typeof p[s.key] === 'number' ? `${x(offset + i).toFixed(1)},${y(p[s.key]).toFixed(1)}` : null))
      .filter(Boolean);
    if (pts.length) nodes.push(svgEl('polyline', { points: pts.join(' '), class: `line ${s.cls}` }));
  }
  svg.replaceChildren(...nodes);
  const last = dash.samples.at(-1) || {};
  svg.setAttribute(
    'aria-label',
    `Rates per second, most recent on the right. Latest: ${SERIES.map((s) => `${s.name} ${last[s.key] === null || last[s.key] === undefined ? 'unknown' : perSecond(last[s.key])}`).join(', ')}.`,
  );
}

/** An axis label: whole numbers as they are, a half step (max 1 -> 0.5) with its decimal. */
const tick = (g) => (Number.isInteger(g) ? fmt(g) : g.toLocaleString(undefined, { maximumFractionDigits: 1 }));

function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

resetCreateForm();
document.addEventListener('auth-change', gate);
gate();
