// The dev provider's test-card page: succeed or fail the payment, then show what happened.
import { api, describeError, getAuth, initPage, money, showMessage } from './common.js';

initPage();

const $ = (id) => document.getElementById(id);
const paymentId = $('pay').dataset.payment;
const reservationId = new URLSearchParams(location.search).get('reservation');

function show(id) {
  for (const s of ['pay', 'pay-done', 'pay-failed', 'pay-refunded']) $(s).hidden = s !== id;
}

async function load() {
  if (!getAuth()) return showMessage('Sign in to pay for your reservation.', 'info');
  if (!reservationId) return showMessage('This payment link is incomplete: open it from your reservation.');
  try {
    const r = await api('GET', `/v1/reservations/${reservationId}`);
    $('pay-summary').textContent = `${r.seats.length ? `${r.seats.length} seat(s)` : `${r.quantity} ticket(s)`} · ${money(r.totalCents, r.payment?.currency)}`;
    $('pay-until').textContent = new Date(r.expiresAt).toLocaleTimeString();
    if (r.status === 'confirmed') done(r);
  } catch (e) {
    showMessage(describeError(e));
  }
}

function done(r) {
  show('pay-done');
  $('pay-booking-code').textContent = r.bookingCode;
  $('pay-tickets').href = `/reservations/${r.id}/tickets`;
}

async function pay(verdict) {
  showMessage('');
  for (const b of ['card-ok', 'card-declined']) $(b).disabled = true;
  try {
    const res = await api('POST', `/v1/dev/payments/${paymentId}/${verdict}`, { body: {} });
    if (res.outcome === 'confirmed' || res.reservation.status === 'confirmed') done(res.reservation);
    else if (res.outcome === 'failed') show('pay-failed');
    else if (res.outcome.startsWith('refunded')) show('pay-refunded');
    else showMessage(`The payment could not be applied (${res.outcome}).`);
  } catch (e) {
    showMessage(describeError(e));
  } finally {
    for (const b of ['card-ok', 'card-declined']) $(b).disabled = false;
  }
}

$('card-ok').addEventListener('click', () => pay('succeed'));
$('card-declined').addEventListener('click', () => pay('fail'));
$('pay-retry').addEventListener('click', async () => {
  try {
    const c = await api('POST', `/v1/reservations/${reservationId}/checkout`);
    location.assign(`${c.redirectUrl}?reservation=${reservationId}`);
  } catch (e) {
    showMessage(describeError(e));
  }
});

document.addEventListener('auth-change', load);
load();
