// "Best available" beside picking seats: the server chooses the best block of N adjacent
// seats in one row of the zone (front rows first, nearest the centre, no stranded single
// seat when it can help it). Mounted by event.js, which keeps the journey's state.
import { api, describeError, money, showMessage, uuid } from './common.js';

const $ = (id) => document.getElementById(id);

/**
 * hooks: eventId, zone() -> the chosen seated zone, pass() -> queue pass or null,
 * maxPerUser, onHeld(reservation), onPassLost(), refresh() (repaint the seat map).
 */
export function mountBestAvailable(hooks) {
  const qty = $('best-qty');
  const button = $('best-hold');
  const note = $('best-note');
  if (!qty || !button) return { update() {} };

  const update = () => {
    const zone = hooks.zone();
    const n = Number(qty.value);
    const ok = !!zone && Number.isInteger(n) && n >= 1 && n <= hooks.maxPerUser();
    qty.max = String(Math.min(hooks.maxPerUser(), zone?.seatsPerRow ?? 1));
    button.disabled = !ok;
    button.textContent = ok && n > 1 ? `Find the best ${n} seats together` : 'Find the best seat';
    note.textContent = ok ? `Total ${money(n * zone.priceCents, hooks.currency?.())}.` : `Choose between 1 and ${hooks.maxPerUser()} seats.`;
  };

  qty.addEventListener('input', update);
  button.addEventListener('click', async () => {
    const zone = hooks.zone();
    if (!zone) return;
    const headers = { 'idempotency-key': uuid() };
    const pass = hooks.pass();
    if (pass) headers['x-queue-pass'] = pass;
    showMessage('');
    button.disabled = true;
    try {
      hooks.onHeld(await api('POST', `/v1/events/${hooks.eventId}/reservations`, { body: { zone: zone.code, quantity: Number(qty.value) }, headers }));
    } catch (e) {
      if (e.code === 'SEATS_UNAVAILABLE' && typeof e.details?.largestBlock === 'number') {
        const b = e.details.largestBlock;
        showMessage(
          b === 0
            ? `${zone.name} has no seats left.`
            : `No ${qty.value} seats together are left in ${zone.name}; the most side by side is ${b}. Try ${b} or pick seats on the map.`,
        );
        hooks.refresh();
      } else if (e.code === 'QUEUE_PASS_REQUIRED') {
        showMessage(describeError(e));
        hooks.onPassLost();
        return;
      } else showMessage(describeError(e));
      update();
    }
  });
  update();
  return { update };
}
