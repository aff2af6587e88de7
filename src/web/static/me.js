// "My reservations": every hold and booking of the signed-in buyer.
import { api, describeError, el, getAuth, initPage, money, seatName, serverNow, showMessage } from './common.js';

initPage();

const list = document.getElementById('reservations');
const eventNames = new Map();
const STATUS = { held: 'Held', confirmed: 'Booked', cancelled: 'Released', expired: 'Expired' };

async function eventName(id) {
  if (!eventNames.has(id)) {
    eventNames.set(
      id,
      api('GET', `/v1/events/${id}`, { auth: false }).then(
        (e) => e.name,
        () => 'An event',
      ),
    );
  }
  return eventNames.get(id);
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
  const names = await Promise.all(rs.map((r) => eventName(r.eventId)));
  list.replaceChildren(...rs.map((r, i) => card(r, names[i])));
}

function card(r, name) {
  // A hold past its expiry is expired whatever the worker has got round to recording.
  const status = r.status === 'held' && Date.parse(r.expiresAt) <= serverNow() ? 'expired' : r.status;
  const what = r.seats.length ? r.seats.map(seatName).join(', ') : `${r.quantity} × ${r.zone}`;
  const li = el(
    'li',
    { class: `card res ${status}`, 'data-reservation': r.id },
    el('h2', {}, el('a', { href: `/events/${r.eventId}`, text: name })),
    el('p', {}, el('span', { class: `badge ${status}`, text: STATUS[status] }), ` ${r.zone}: ${what} · ${money(r.totalCents)}`),
  );
  if (status === 'confirmed') {
    li.append(el('p', { class: 'code-line' }, 'Booking code: ', el('strong', { class: 'code', text: r.bookingCode })));
  } else if (status === 'held') {
    li.append(
      el('p', { text: `Held until ${new Date(r.expiresAt).toLocaleTimeString()}.` }),
      el(
        'div',
        { class: 'actions' },
        el('button', { type: 'button', class: 'primary', onclick: () => act(r, 'confirm'), text: 'Confirm booking' }),
        el('button', { type: 'button', onclick: () => act(r, 'cancel'), text: 'Release' }),
      ),
    );
  }
  return li;
}

async function act(r, what) {
  try {
    await api('POST', `/v1/reservations/${r.id}/${what}`, what === 'confirm' ? { body: {} } : {});
    await load();
    showMessage(what === 'confirm' ? 'Booked. Your booking code is shown below.' : 'Released.', 'info');
  } catch (e) {
    await load();
    showMessage(describeError(e));
  }
}

document.addEventListener('auth-change', load);
load();
