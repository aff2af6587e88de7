// Tells a phone user that the seat map scrolls sideways, and which seats are off screen.
import { el } from './common.js';

/** Keeps a hint under `map` ("Seats 12–20 are to the right →") while seats are cut off. */
export function watchSeatOverflow(map) {
  let hint = map.nextElementSibling?.classList.contains('seat-hint') ? map.nextElementSibling : null;
  if (!hint) {
    hint = el('p', { class: 'seat-hint', 'aria-live': 'polite' });
    map.after(hint);
  }
  const update = () => {
    const box = map.getBoundingClientRect();
    const row = map.querySelector('.seat-row');
    const seats = row ? [...row.querySelectorAll('button.seat')] : [];
    const right = seats.filter((s) => s.getBoundingClientRect().right > box.right + 1).map((s) => s.textContent);
    const left = seats.filter((s) => s.getBoundingClientRect().left < box.left - 1).map((s) => s.textContent);
    const parts = [];
    if (left.length) parts.push(`← seats ${range(left)} to the left`);
    if (right.length) parts.push(`seats ${range(right)} to the right →`);
    hint.textContent = parts.length ? `Scroll sideways: ${parts.join(', ')}` : '';
    hint.hidden = !parts.length;
    map.classList.toggle('more-right', right.length > 0);
    map.classList.toggle('more-left', left.length > 0);
  };
  map.onscroll = update;
  if (!watched.has(map)) window.addEventListener('resize', () => watched.get(map)());
  watched.set(map, update);
  update();
  return update;
}

const watched = new WeakMap();

const range = (xs) => (xs.length === 1 ? xs[0] : `${xs[0]}–${xs[xs.length - 1]}`);
