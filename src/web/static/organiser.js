// Organiser: create an event, then watch it sell (numbers and a live chart) and steer the
// waiting room (pause, resume, admission rate).
import { api, describeError, el, getAuth, initPage, showMessage } from './common.js';

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
    const { events } = await api('GET', '/v1/events', { auth: false });
    $('pick-event').replaceChildren(...events.map((e) => el('option', { value: e.id, text: e.name })));
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
      f('Price (€)', el('input', { name: 'price', type: 'number', min: 0, step: '0.01', required: true, value: z.price })),
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
    queue: f.elements.queueEnabled.checked
      ? { enabled: true, admitPerSecond: num('admitPerSecond'), passSeconds: num('passSeconds') }
      : { enabled: false },
    zones,
  };
  try {
    const ev = await api('POST', '/v1/admin/events', { body });
    showMessage(`Created “${ev.name}”. It is on the dashboard above.`, 'info');
    f.reset();
    resetCreateForm();
    await loadEvents(ev.id);
    openDashboard(ev.id);
  } catch (err) {
    showMessage(describeError(err));
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
    nodes.push(svgEl('text', { x: pad.l - 6, y: y(g) + 4, class: 'axis', 'text-anchor': 'end' }, fmt(Math.round(g))));
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
