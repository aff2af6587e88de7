// A confirmed booking's tickets with their QR codes (SVG from the API, shown as images).
import { api, describeError, el, getAuth, initPage, seatName, showMessage } from './common.js';

initPage();

const list = document.getElementById('tickets');
const summary = document.getElementById('tickets-summary');
const reservationId = summary.dataset.reservation;

async function load() {
  showMessage('');
  if (!getAuth()) {
    list.replaceChildren();
    return showMessage('Sign in to see your tickets.', 'info');
  }
  try {
    const [r, { tickets }] = await Promise.all([
      api('GET', `/v1/reservations/${reservationId}`),
      api('GET', `/v1/reservations/${reservationId}/tickets`),
    ]);
    summary.textContent = `Booking ${r.bookingCode}: ${tickets.length} ticket(s). Show one code per person at the door.`;
    list.replaceChildren(...tickets.map(card));
  } catch (e) {
    list.replaceChildren();
    showMessage(e.code === 'NOT_CONFIRMED' ? 'This reservation has no tickets: it is not a confirmed booking.' : describeError(e));
  }
}

function card(t, i) {
  // The SVG arrives as text: shown through an image (data: URL), never inserted as markup.
  const src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(t.qrSvg)}`;
  const where = t.seat ? seatName(t.seat) : `${t.zone}, general admission`;
  return el(
    'li',
    { class: 'card ticket', 'data-ticket': t.id },
    el('h2', { text: `Ticket ${i + 1}: ${where}` }),
    el('img', { class: 'qr', src, alt: `QR code of ticket ${i + 1} (${where})`, width: 220, height: 220 }),
    el('p', { class: 'ticket-code' }, el('code', { text: t.code })),
  );
}

document.addEventListener('auth-change', load);
load();
