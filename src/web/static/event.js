// The buyer's journey on one event page: waiting room → seats or quantity → hold → confirm.
import { api, describeError, el, formatDuration, getAuth, initPage, money, seatName, serverNow, showMessage, uuid } from './common.js';
import { mountBestAvailable } from './best-available.js';
import { watchSeatOverflow } from './seat-hint.js';

initPage();

const $ = (id) => document.getElementById(id);
const eventId = $('event').dataset.eventId;
const STEPS = ['step-start', 'step-queue', 'step-choose', 'step-hold', 'step-done', 'step-expired'];
/** Draw at most this many seats at once; bigger zones are shown a block of rows at a time. */
const MAX_DRAWN_SEATS = 2_500;
const SEAT_REFRESH_MS = 2_000;
const AVAILABILITY_REFRESH_MS = 3_000;

const state = {
  event: null,
  /** {pass, expiresAt} once admitted (or null when the event has no waiting room) */
  pass: null,
  es: null,
  zone: null,
  selected: new Set(),
  seatStatus: new Map(),
  block: 0,
  seatTimer: null,
  hold: null,
  countdownTimer: null,
  lobbyTimer: null,
};

function show(step, { focus = true } = {}) {
  for (const s of STEPS) $(s).hidden = s !== step;
  document.body.dataset.step = step;
  // Move keyboard and screen-reader users (and phone screens) to what just appeared.
  const h = $(step).querySelector('h3');
  if (focus && h) {
    h.tabIndex = -1;
    h.focus({ preventScroll: true });
    $(step).scrollIntoView({ block: 'nearest' });
  }
}

// ---------- start ----------

function refreshStart() {
  const signedIn = !!getAuth();
  $('start').disabled = !signedIn || !state.event;
  $('start-hint').textContent = signedIn ? '' : 'Sign in above to book.';
}

$('start').addEventListener('click', () => {
  showMessage('');
  if (state.event.queue.enabled) joinQueue();
  else showChoose();
});

// ---------- waiting room ----------

async function joinQueue() {
  $('start').disabled = true;
  try {
    const r = await api('POST', `/v1/events/${eventId}/queue`);
    show('step-queue');
    renderQueue(r);
    if (r.status === 'admitted') return admitted(r);
    openStream(r.ticket);
  } catch (e) {
    showMessage(describeError(e));
    refreshStart();
  }
}

function setConn(kind, text) {
  $('conn').dataset.state = kind;
  $('conn').textContent = text;
}

function openStream(ticket) {
  closeStream();
  const es = new EventSource(`/v1/events/${eventId}/queue/stream?ticket=${encodeURIComponent(ticket)}`);
  state.es = es;
  es.addEventListener('open', () => setConn('live', 'Connected: your place updates live.'));
  es.addEventListener('position', (e) => renderQueue(JSON.parse(e.data)));
  es.addEventListener('admitted', (e) => {
    closeStream();
    admitted(JSON.parse(e.data));
  });
  es.addEventListener('error', () => {
    if (es.readyState === EventSource.CONNECTING) {
      // The browser retries on its own (the server's retry hint); say so rather than freeze.
      setConn('reconnecting', 'Connection lost. Reconnecting… you keep your place in the queue.');
      return;
    }
    // Closed for good: the stream ended (e.g. admitted on an earlier connection) or was
    // refused. One snapshot tells which; otherwise try a fresh stream shortly.
    closeStream();
    setConn('reconnecting', 'Connection lost. Reconnecting… you keep your place in the queue.');
    setTimeout(() => recoverQueue(ticket), 1_500);
  });
}

async function recoverQueue(ticket) {
  try {
    const r = await api('GET', `/v1/events/${eventId}/queue?ticket=${encodeURIComponent(ticket)}`, { auth: false });
    renderQueue(r);
    if (r.status === 'admitted') return admitted(r);
    openStream(ticket);
  } catch (e) {
    if (e.status === 0 || e.status >= 500) {
      setTimeout(() => recoverQueue(ticket), 3_000);
    } else {
      showMessage(describeError(e));
      show('step-start');
      refreshStart();
    }
  }
}

function closeStream() {
  if (state.es) state.es.close();
  state.es = null;
}

function renderQueue(v) {
  clearInterval(state.lobbyTimer);
  if (v.status === 'lobby') {
    $('q-position').textContent = 'In the lobby';
    $('q-ahead').textContent = 'Drawn at opening';
    const tick = () => {
      const s = (Date.parse(v.opensAt) - serverNow()) / 1000;
      $('q-eta').textContent = s > 0 ? `Sales open in ${formatDuration(s)}` : 'Opening now…';
    };
    tick();
    state.lobbyTimer = setInterval(tick, 1_000);
    $('q-note').textContent =
      `${v.lobbySize === 1 ? '1 person is' : `${v.lobbySize} people are`} in the lobby. Everyone in it gets a random ` +
      'place when sales open, so there is no need to rush. Keep this page open.';
  } else if (v.status === 'waiting') {
    $('q-position').textContent = String(v.position);
    $('q-ahead').textContent = v.ahead === 0 ? 'Nobody: you are next' : String(v.ahead);
    $('q-eta').textContent = v.paused
      ? 'Paused by the organiser'
      : v.etaSeconds === null || v.etaSeconds === undefined
        ? 'Calculating…'
        : `About ${formatDuration(v.etaSeconds)}`;
    $('q-note').textContent = v.paused
      ? 'The organiser has paused admission for a moment. You keep your place.'
      : 'Keep this page open: you will go straight to choosing tickets when it is your turn.';
  } else if (v.status === 'admitted') {
    $('q-position').textContent = "It's your turn";
    $('q-ahead').textContent = '0';
    $('q-eta').textContent = 'Now';
  }
}

function admitted(v) {
  clearInterval(state.lobbyTimer);
  state.pass = { pass: v.pass, expiresAt: v.expiresAt };
  showChoose();
}

// ---------- choosing ----------

function showChoose() {
  show('step-choose');
  const p = state.pass;
  $('pass-note').textContent = p
    ? `It's your turn. Your place is kept until ${new Date(p.expiresAt).toLocaleTimeString()}.`
    : '';
  const current = document.querySelector('input[name="zone"]:checked') || document.querySelector('input[name="zone"]');
  current.checked = true;
  selectZone(current.value);
  updateSelection();
}

for (const r of document.querySelectorAll('input[name="zone"]')) {
  r.addEventListener('change', () => selectZone(r.value));
}

function zoneOf(code) {
  return state.event.zones.find((z) => z.code === code);
}

const best = mountBestAvailable({
  eventId,
  zone: () => (state.event && zoneOf(state.zone)?.kind === 'seated' ? zoneOf(state.zone) : null),
  pass: () => state.pass?.pass ?? null,
  maxPerUser: () => state.event?.maxSeatsPerUser ?? 1,
  currency: () => state.event?.currency,
  onHeld: (r) => showHold(r),
  onPassLost: () => {
    state.pass = null;
    stopSeatRefresh();
    show('step-start');
    refreshStart();
  },
  refresh: () => refreshSeats(),
});

function selectZone(code) {
  const zone = zoneOf(code);
  if (state.zone !== code) {
    state.selected.clear();
    state.block = 0;
  }
  state.zone = code;
  stopSeatRefresh();
  $('seat-area').hidden = zone.kind !== 'seated';
  $('ga-area').hidden = zone.kind !== 'ga';
  if (zone.kind === 'seated') {
    buildSeatMap(zone);
    refreshSeats();
    // A huge zone's map is megabytes: refresh it less often than a theatre's.
    state.seatTimer = setInterval(refreshSeats, zone.capacity > 10_000 ? 5 * SEAT_REFRESH_MS : SEAT_REFRESH_MS);
  } else {
    $('qty').max = String(state.event.maxSeatsPerUser);
  }
  updateSelection();
  best.update();
}

function stopSeatRefresh() {
  clearInterval(state.seatTimer);
  state.seatTimer = null;
}

function rowsPerBlock(zone) {
  return Math.max(1, Math.floor(MAX_DRAWN_SEATS / zone.seatsPerRow));
}

function buildSeatMap(zone) {
  const per = rowsPerBlock(zone);
  const blocks = Math.ceil(zone.rows / per);
  const sel = $('seat-block');
  $('seat-block-wrap').hidden = blocks <= 1;
  sel.replaceChildren(
    ...Array.from({ length: blocks }, (_, b) =>
      el('option', { value: b, text: `Rows ${b * per + 1}–${Math.min(zone.rows, (b + 1) * per)}` }),
    ),
  );
  sel.value = String(state.block);
  sel.onchange = () => {
    state.block = Number(sel.value);
    buildSeatMap(zone);
    paintSeats();
  };
  const first = state.block * per + 1;
  const last = Math.min(zone.rows, first + per - 1);
  const rows = [];
  for (let r = first; r <= last; r++) {
    const seats = [];
    for (let n = 1; n <= zone.seatsPerRow; n++) {
      const label = `${zone.code}-${r}-${n}`;
      seats.push(
        el('button', {
          type: 'button',
          class: 'seat',
          'data-seat': label,
          'aria-pressed': 'false',
          tabindex: r === first && n === 1 ? '0' : '-1',
          text: String(n),
        }),
      );
    }
    rows.push(el('div', { class: 'seat-row', role: 'group', 'aria-label': `Row ${r}` }, el('span', { class: 'row-label', 'aria-hidden': 'true', text: String(r) }), ...seats));
  }
  $('seatmap').replaceChildren(...rows);
  watchSeatOverflow($('seatmap'));
}

$('seatmap').addEventListener('click', (e) => {
  const b = e.target.closest('button.seat');
  if (b) toggleSeat(b.dataset.seat);
});

// Arrow keys move through the map (one tab stop for the whole map, not one per seat).
$('seatmap').addEventListener('keydown', (e) => {
  const b = e.target.closest('button.seat');
  if (!b) return;
  const rows = [...$('seatmap').querySelectorAll('.seat-row')];
  const ri = rows.indexOf(b.parentElement);
  const seats = [...rows[ri].querySelectorAll('button.seat')];
  const si = seats.indexOf(b);
  let target = null;
  if (e.key === 'ArrowRight') target = seats[si + 1];
  else if (e.key === 'ArrowLeft') target = seats[si - 1];
  else if (e.key === 'ArrowDown') target = rows[ri + 1]?.querySelectorAll('button.seat')[si];
  else if (e.key === 'ArrowUp') target = rows[ri - 1]?.querySelectorAll('button.seat')[si];
  else if (e.key === 'Home') target = seats[0];
  else if (e.key === 'End') target = seats[seats.length - 1];
  if (!target) return;
  e.preventDefault();
  b.tabIndex = -1;
  target.tabIndex = 0;
  target.focus();
});

function toggleSeat(label) {
  showMessage('');
  if (state.selected.has(label)) state.selected.delete(label);
  else if (state.seatStatus.get(label) !== 'available') return;
  else if (state.selected.size >= state.event.maxSeatsPerUser) {
    showMessage(`You can choose at most ${state.event.maxSeatsPerUser} seats for this event.`);
    return;
  } else state.selected.add(label);
  paintSeats();
  updateSelection();
}

async function refreshSeats() {
  const zone = state.zone;
  try {
    const seats = await api('GET', `/v1/events/${eventId}/zones/${encodeURIComponent(zone)}/seats`, { auth: false });
    if (zone !== state.zone) return;
    state.seatStatus = new Map(seats.map((s) => [s.seat, s.status]));
    const lost = [...state.selected].filter((s) => state.seatStatus.get(s) !== 'available');
    if (lost.length) {
      for (const s of lost) state.selected.delete(s);
      showMessage(
        `Sorry, ${lost.map(seatName).join(', ')} ${lost.length === 1 ? 'was' : 'were'} just taken by someone else. Please pick other seats.`,
      );
      updateSelection();
    }
    paintSeats();
  } catch (e) {
    showMessage(describeError(e));
  }
}

const STATUS_TEXT = { available: 'available', held: 'held by someone else', sold: 'sold' };

function paintSeats() {
  for (const b of $('seatmap').querySelectorAll('button.seat')) {
    const label = b.dataset.seat;
    const status = state.seatStatus.get(label) || 'available';
    const mine = state.selected.has(label);
    const cls = mine ? 'selected' : status;
    if (b.dataset.status !== cls) {
      b.dataset.status = cls;
      b.className = `seat ${cls}`;
      b.setAttribute('aria-pressed', mine ? 'true' : 'false');
      b.setAttribute('aria-label', `${seatName(label)}, ${mine ? 'your choice' : STATUS_TEXT[status]}`);
      // Not `disabled`: a disabled button drops out of keyboard reach and its label with it.
      b.setAttribute('aria-disabled', !mine && status !== 'available' ? 'true' : 'false');
    }
  }
}

$('qty').addEventListener('input', updateSelection);

function updateSelection() {
  const zone = zoneOf(state.zone);
  if (!zone) return;
  if (zone.kind === 'seated') {
    const n = state.selected.size;
    $('selection').textContent = n
      ? `${n} ${n === 1 ? 'seat' : 'seats'}: ${[...state.selected].map(seatName).join(', ')} · total ${money(n * zone.priceCents, state.event.currency)}`
      : 'No seats chosen yet.';
    $('hold').disabled = n === 0;
    $('hold').textContent = n > 1 ? `Hold these ${n} seats` : 'Hold this seat';
  } else {
    const q = Number($('qty').value);
    const ok = Number.isInteger(q) && q >= 1 && q <= state.event.maxSeatsPerUser;
    $('selection').textContent = ok
      ? `${q} × ${zone.name} · total ${money(q * zone.priceCents, state.event.currency)}`
      : `Choose between 1 and ${state.event.maxSeatsPerUser} tickets.`;
    $('hold').disabled = !ok;
    $('hold').textContent = q > 1 ? `Hold ${q} tickets` : 'Hold 1 ticket';
  }
}

$('hold').addEventListener('click', async () => {
  const zone = zoneOf(state.zone);
  const body = zone.kind === 'seated' ? { seats: [...state.selected] } : { zone: zone.code, quantity: Number($('qty').value) };
  const headers = { 'idempotency-key': uuid() };
  if (state.pass) headers['x-queue-pass'] = state.pass.pass;
  showMessage('');
  $('hold').disabled = true;
  try {
    const r = await api('POST', `/v1/events/${eventId}/reservations`, { body, headers });
    state.selected.clear();
    showHold(r);
  } catch (e) {
    showMessage(describeError(e));
    if (e.code === 'SEATS_UNAVAILABLE') {
      for (const s of e.details.seats || []) state.selected.delete(s);
      await refreshSeats();
    } else if (e.code === 'QUEUE_PASS_REQUIRED') {
      state.pass = null;
      stopSeatRefresh();
      show('step-start');
      refreshStart();
      return;
    }
    updateSelection();
  }
});

// ---------- hold ----------

function showHold(r) {
  stopSeatRefresh();
  state.hold = r;
  show('step-hold');
  $('hold-summary').textContent = describeHold(r);
  const tick = () => {
    const left = (Date.parse(r.expiresAt) - serverNow()) / 1000;
    if (left <= 0) return expired();
    const s = Math.ceil(left);
    $('countdown').textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    $('countdown').dataset.seconds = String(s);
  };
  clearInterval(state.countdownTimer);
  tick();
  state.countdownTimer = setInterval(tick, 250);
}

function describeHold(r) {
  const zone = zoneOf(r.zone);
  const what = r.seats.length ? `${r.seats.map(seatName).join(', ')} in ${zone.name}` : `${r.quantity} × ${zone.name}`;
  return `${what[0].toUpperCase()}${what.slice(1)} · total ${money(r.totalCents, state.event.currency)}`;
}

function expired() {
  clearInterval(state.countdownTimer);
  state.hold = null;
  show('step-expired');
  showMessage('Your hold expired before you confirmed, so the tickets went back on sale.');
}

$('confirm').addEventListener('click', async () => {
  const r = state.hold;
  if (!r) return;
  $('confirm').disabled = true;
  showMessage('');
  try {
    const done = await confirmOrPay(r);
    if (!done) return;
    clearInterval(state.countdownTimer);
    state.hold = null;
    show('step-done');
    $('done-summary').textContent = describeHold(done);
    $('booking-code').textContent = done.bookingCode;
  } catch (e) {
    if (e.code === 'HOLD_EXPIRED') expired();
    else showMessage(describeError(e));
  } finally {
    $('confirm').disabled = false;
  }
});

/**
 * Confirms directly when nothing is owed; a paid hold (402 PAYMENT_REQUIRED) goes to the
 * payment step instead: checkout, then the provider's page (the test-card page under dev).
 */
async function confirmOrPay(r) {
  try {
    return await api('POST', `/v1/reservations/${r.id}/confirm`, { body: {} });
  } catch (e) {
    if (e.code !== 'PAYMENT_REQUIRED') throw e;
  }
  const c = await api('POST', `/v1/reservations/${r.id}/checkout`);
  if (!c.redirectUrl) {
    showMessage('Card payments are not available on this page yet; ask the box office.');
    return null;
  }
  location.assign(`${c.redirectUrl}?reservation=${encodeURIComponent(r.id)}`);
  return null;
}

$('release').addEventListener('click', async () => {
  const r = state.hold;
  if (!r) return;
  try {
    await api('POST', `/v1/reservations/${r.id}/cancel`);
    clearInterval(state.countdownTimer);
    state.hold = null;
    showChoose();
    showMessage('Released. Those tickets are back on sale.', 'info');
  } catch (e) {
    showMessage(describeError(e));
  }
});

$('again').addEventListener('click', () => {
  showMessage('');
  showChoose();
});

// ---------- live availability ----------

async function refreshAvailability() {
  try {
    const { zones } = await api('GET', `/v1/events/${eventId}/availability`, { auth: false });
    for (const z of zones) {
      const cell = document.querySelector(`#zones tr[data-zone="${CSS.escape(z.code)}"] .avail`);
      if (cell) cell.textContent = z.available === 0 ? `Sold out (${z.capacity})` : `${z.available} of ${z.capacity}`;
    }
  } catch {
    // The table keeps its last numbers; the journey reports its own errors.
  }
}

async function init() {
  show('step-start', { focus: false });
  try {
    state.event = await api('GET', `/v1/events/${eventId}`, { auth: false });
  } catch (e) {
    showMessage(describeError(e));
    return;
  }
  refreshStart();
  document.addEventListener('auth-change', () => {
    // A different person: start over rather than carry someone else's pass or hold.
    closeStream();
    stopSeatRefresh();
    clearInterval(state.countdownTimer);
    state.pass = null;
    state.hold = null;
    show('step-start', { focus: false });
    refreshStart();
  });
  setInterval(refreshAvailability, AVAILABILITY_REFRESH_MS);
}

init();
