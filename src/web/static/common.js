// Shared by every page: who is signed in, calling the JSON API, and turning its errors into
// plain sentences. No framework; the pages are rendered on the server.

const AUTH_KEY = 'boxoffice.auth';

/** @returns {{token: string, sub: string, role: 'buyer'|'organiser', expiresAt: string} | null} */
export function getAuth() {
  try {
    const a = JSON.parse(localStorage.getItem(AUTH_KEY) || 'null');
    if (a && a.token && Date.parse(a.expiresAt) > Date.now() + 60_000) return a;
  } catch {}
  return null;
}

export function setAuth(a) {
  if (a) localStorage.setItem(AUTH_KEY, JSON.stringify(a));
  else localStorage.removeItem(AUTH_KEY);
  document.dispatchEvent(new CustomEvent('auth-change', { detail: a }));
}

/** Server time minus ours, from the Date header, so countdowns match the server's clock. */
let clockOffsetMs = 0;
export const serverNow = () => Date.now() + clockOffsetMs;

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

/** Calls the JSON API with the signed-in token; rejects with ApiError (status 0 = network). */
export async function api(method, path, { body, headers = {}, auth = true } = {}) {
  const h = { accept: 'application/json', ...headers };
  const a = auth ? getAuth() : null;
  if (a) h.authorization = `Bearer ${a.token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'NETWORK', 'network error');
  }
  const date = Date.parse(res.headers.get('date') || '');
  // The header has one-second resolution: only correct clocks that are clearly off.
  if (date && Math.abs(date - Date.now()) > 2_000) clockOffsetMs = date - Date.now();
  let data = null;
  const text = await res.text();
  try {
    data = text ? JSON.parse(text) : null;
  } catch {}
  if (!res.ok) {
    const e = data && data.error ? data.error : {};
    if (res.status === 401 && a) setAuth(null);
    throw new ApiError(res.status, e.code || `HTTP_${res.status}`, e.message || res.statusText, e.details);
  }
  return data;
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** Every error the API can return, as a sentence a buyer or organiser can act on. */
export function describeError(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong in this page. Please reload and try again.';
  const d = err.details || {};
  switch (err.code) {
    case 'NETWORK':
      return "We can't reach the box office. Check your connection; we'll keep trying.";
    case 'UNAUTHENTICATED':
      return 'Please sign in to continue.';
    case 'FORBIDDEN':
      return getAuth()?.role === 'organiser'
        ? "You aren't allowed to do that."
        : 'This needs an organiser account. Sign in as an organiser.';
    case 'QUEUE_PASS_REQUIRED':
      return 'Your turn from the waiting room has run out or is missing. Join the waiting room again.';
    case 'NOT_FOUND':
      return /reservation/.test(err.message)
        ? "We couldn't find that reservation."
        : /zone/.test(err.message)
          ? "We couldn't find that zone."
          : "We couldn't find that event.";
    case 'SALES_CLOSED':
      return d.salesCloseAt && Date.parse(d.salesCloseAt) < Date.now()
        ? 'Sales for this event have closed.'
        : 'Sales for this event are not open right now.';
    case 'SEATS_UNAVAILABLE': {
      const seats = Array.isArray(d.seats) ? d.seats.map(seatName) : [];
      if (!seats.length) return 'Those seats were just taken by someone else. Please pick other seats.';
      return `Sorry, ${seats.join(', ')} ${seats.length === 1 ? 'was' : 'were'} just taken by someone else. Please pick other seats.`;
    }
    case 'SOLD_OUT':
      return 'Not enough tickets are left in that zone. Try fewer tickets or another zone.';
    case 'HOLD_EXPIRED':
      return 'Your hold expired before you confirmed, so the tickets went back on sale.';
    case 'RESERVATION_CANCELLED':
      return 'This reservation was cancelled, so it cannot be confirmed.';
    case 'ALREADY_CONFIRMED':
      return 'This booking is already confirmed, so it cannot be released here.';
    case 'LIMIT_EXCEEDED':
      return typeof d.max === 'number'
        ? `You can have at most ${plural(d.max, 'ticket', 'tickets')} for this event` +
            (d.current ? ` and already have ${d.current}.` : '.')
        : 'That is more tickets than one person may have for this event.';
    case 'RATE_LIMITED':
      return 'Too many requests at once. Wait a moment and try again.';
    case 'IDEMPOTENCY_IN_PROGRESS':
      return 'Your previous request is still being processed. Give it a second.';
    case 'IDEMPOTENCY_KEY_REUSED':
      return 'That request was already sent with different details. Please try again.';
    case 'QUEUE_DISABLED':
      return 'This event has no waiting room.';
    case 'PAYLOAD_TOO_LARGE':
      return 'That request is too large.';
    case 'INVALID_REQUEST': {
      const issues = Array.isArray(d.issues) ? d.issues : [];
      if (issues.length) return `Please check the form: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}.`;
      return `That request was not valid: ${err.message}.`;
    }
    case 'UNAVAILABLE':
      return 'The box office is briefly unavailable. Please try again in a few seconds.';
    default:
      return err.status >= 500
        ? 'Something went wrong on our side. Please try again.'
        : 'That did not work. Please try again.';
  }
}

/** "A-3-12" → "row 3 seat 12 (A)". */
export function seatName(label) {
  const m = /^(.+)-(\d+)-(\d+)$/.exec(label);
  return m ? `row ${m[2]} seat ${m[3]}` : label;
}

const formats = new Map();
/** Minor units in the event's currency, always in one locale so pages read the same everywhere. */
export function money(cents, currency = 'EUR') {
  if (!formats.has(currency)) formats.set(currency, new Intl.NumberFormat('en-US', { style: 'currency', currency }));
  return formats.get(currency).format(cents / 100);
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Tiny element builder: el('p', {class: 'x'}, 'text', child). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** A random UUID, also on plain-http origins where crypto.randomUUID is missing. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function showMessage(text, kind = 'error') {
  const m = document.getElementById('message');
  if (!m) return;
  m.textContent = text || '';
  m.dataset.kind = kind;
}

/** Header: who is signed in; the sign-in box when nobody is (or on "Switch"). */
function renderWho() {
  const who = document.getElementById('whoami');
  const box = document.getElementById('signin');
  const a = getAuth();
  who.replaceChildren();
  if (a) {
    who.append(
      el('span', { text: `Signed in as ${a.sub} (${a.role})` }),
      el('button', { type: 'button', class: 'link', onclick: () => setAuth(null), text: 'Sign out' }),
    );
    box.hidden = true;
  } else {
    who.append(el('span', { text: 'Not signed in' }));
    box.hidden = false;
  }
}

function initSignIn() {
  const form = document.getElementById('dev-signin');
  if (!form) return;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const err = document.getElementById('signin-error');
    err.textContent = '';
    const sub = form.elements.sub.value.trim();
    const role = form.elements.role.value;
    try {
      const t = await api('POST', '/v1/dev/token', { body: { sub, role }, auth: false });
      setAuth({ token: t.token, sub: t.sub, role: t.role, expiresAt: t.expiresAt });
    } catch (e) {
      err.textContent =
        e.code === 'INVALID_REQUEST'
          ? 'Use 1 to 128 letters, digits, spaces or . _ @ - for your name.'
          : describeError(e);
    }
  });
}

/** Timestamps are rendered in UTC by the server; show them in the reader's own zone. */
function localTimes() {
  const f = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  for (const t of document.querySelectorAll('time[datetime]')) t.textContent = f.format(new Date(t.getAttribute('datetime')));
}

export function initPage() {
  initSignIn();
  renderWho();
  localTimes();
  document.addEventListener('auth-change', renderWho);
  // Another tab signed in or out.
  window.addEventListener('storage', (e) => {
    if (e.key === AUTH_KEY) document.dispatchEvent(new CustomEvent('auth-change', { detail: getAuth() }));
  });
}
