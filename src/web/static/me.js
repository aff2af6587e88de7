// "My reservations": every hold and booking of the signed-in buyer, with payment and tickets.
import { api, describeError, el, getAuth, initPage, money, seatName, serverNow, showMessage } from './common.js';

initPage();

const list = document.getElementById('reservations');
const events = new Map();
const STATUS = { held: 'Held', confirmed: 'Booked', cancelled: 'Released', expired: 'Expired', refunded: 'Refunded' };
const PAYMENT = { pending: 'Payment started', succeeded: 'Paid', failed: 'Payment declined', refunded: 'Payment refunded' };

/** The event behind a reservation (name, date, zone names), fetched once per page. */
function eventOf(id) {
  if (!events.has(id)) {
    events.set(
      id,
      api('GET', `/v1/events/${id}`, { auth: false }).catch(() => ({ name: 'An event', startsAt: null, zones: [] })),
    );
  }
  return events.get(id);
}

async function load() {
  showMessage('');
  if (!getAuth()) {
    list.replaceChildren();
    showMessage('Sign in to see your reservations.', 'info');
    return;
  }
  let rs;
  try {
    ({ reservations: rs } = await api('GET', '/v1/me/reservations'));
  } catch (e) {
    showMessage(describeError(e));
    return;
  }
  if (!rs.length) {
    list.replaceChildren(el('li', { class: 'card', text: 'No reservations yet. Pick an event to book.' }));
    return;
  }
  const evs = await Promise.all(rs.map((r) => eventOf(r.eventId)));
  list.replaceChildren(...rs.map((r, i) => card(r, evs[i])));
}

function card(r, ev) {
  // A hold past its expiry is expired whatever the worker has got round to recording.
  const status = r.status === 'held' && Date.parse(r.expiresAt) <= serverNow() ? 'expired' : r.status;
  const zoneName = ev.zones.find((z) => z.code === r.zone)?.name ?? r.zone;
  const what = r.seats.length ? r.seats.map(seatName).join(', ') : `${r.quantity} × general admission`;
  const li = el(
    'li',
    { class: `card res ${status}`, 'data-reservation': r.id },
    el('h2', {}, el('a', { href: `/events/${r.eventId}`, text: ev.name })),
    ev.startsAt ? el('p', { class: 'when' }, el('time', { datetime: ev.startsAt, text: new Date(ev.startsAt).toLocaleString() })) : null,
    el('p', {}, el('span', { class: `badge ${status}`, text: STATUS[status] ?? status }), ` ${zoneName}: ${what} · ${money(r.totalCents, ev.currency)}`),
  );
  if (r.payment) li.append(el('p', { class: 'pay-state', 'data-payment': r.payment.status, text: PAYMENT[r.payment.status] }));
  if (status === 'confirmed') {
    li.append(
      el('p', { class: 'code-line' }, 'Booking code: ', el('strong', { class: 'code', text: r.bookingCode })),
      el('p', {}, el('a', { class: 'button primary', href: `/reservations/${r.id}/tickets`, text: 'Show tickets' })),
    );
  } else if (status === 'held') {
    li.append(
      el('p', { text: `Held until ${new Date(r.expiresAt).toLocaleTimeString()}.` }),
      el(
        'div',
        { class: 'actions' },
        el('button', { type: 'button', class: 'primary', onclick: () => confirmOrPay(r), text: r.totalCents > 0 ? 'Pay and book' : 'Confirm booking' }),
        el('button', { type: 'button', onclick: () => cancel(r), text: 'Cancel hold' }),
      ),
    );
  }
  return li;
}

async function confirmOrPay(r) {
  try {
    await api('POST', `/v1/reservations/${r.id}/confirm`, { body: {} });
    await load();
    showMessage('Booked. Your booking code is shown below.', 'info');
  } catch (e) {
    if (e.code !== 'PAYMENT_REQUIRED') {
      await load();
      return showMessage(describeError(e));
    }
    try {
      const c = await api('POST', `/v1/reservations/${r.id}/checkout`);
      if (c.redirectUrl) location.assign(`${c.redirectUrl}?reservation=${encodeURIComponent(r.id)}`);
      else showMessage('Card payments are not available on this page yet; ask the box office.');
    } catch (err) {
      showMessage(describeError(err));
    }
  }
}

async function cancel(r) {
  try {
    await api('POST', `/v1/reservations/${r.id}/cancel`);
    await load();
    showMessage('Hold cancelled. Those tickets are back on sale.', 'info');
  } catch (e) {
    await load();
    showMessage(describeError(e));
  }
}

document.addEventListener('auth-change', load);
load();
