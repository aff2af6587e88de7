import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseExpired } from '../../src/worker/release';
import { CHROMIUM, launchChromium, newPerson, shoot, signIn, startWebStack, type WebStack } from './stack';

// Real browser, real stack: Debian's Chromium driving the pages served by the API, which talks
// to the test PostgreSQL and Redis. Screenshots of every step land in artifacts/screenshots/.

let stack: WebStack;
let browser: Browser;
const problems: string[][] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-chromium.sh`);
  [stack, browser] = await Promise.all([startWebStack(), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function person(name: string, role: 'buyer' | 'organiser' = 'buyer') {
  const p = await newPerson(browser);
  problems.push(p.problems);
  await signIn(p.page, stack.url, name, role);
  return p;
}

const uniq = (s: string) => `${s}-${randomUUID().slice(0, 6)}`;
const visible = (page: Page, id: string) => page.locator(`#${id}`).waitFor({ state: 'visible' });
const seat = (page: Page, label: string) => page.locator(`button.seat[data-seat="${label}"]`);
/** Retries until the page shows it (the pages update asynchronously). */
const eventually = <T>(fn: () => Promise<T> | T, timeout = 8_000) => expect.poll(fn, { timeout, interval: 50 });
const textOf = (l: Locator) => async () => ((await l.first().textContent()) ?? '').trim();

/** Another buyer, through the API: joins the waiting room, waits for the pass, holds, maybe confirms. */
async function fan(eventId: string, seats: string[], confirm: boolean) {
  const token = await stack.h.token(uniq('fan'));
  const join = await stack.h.call('POST', `/v1/events/${eventId}/queue`, { token });
  let view = join.body;
  while (view.status !== 'admitted') {
    await new Promise((r) => setTimeout(r, 100));
    view = (await stack.h.call('GET', `/v1/events/${eventId}/queue?ticket=${encodeURIComponent(join.body.ticket)}`)).body;
  }
  const hold = await stack.h.call('POST', `/v1/events/${eventId}/reservations`, {
    token,
    headers: { 'x-queue-pass': view.pass },
    body: { seats },
  });
  expect(hold.status).toBe(201);
  if (confirm) expect((await stack.h.call('POST', `/v1/reservations/${hold.body.id}/confirm`, { token, body: {} })).status).toBe(200);
}

/** Waiting room until admitted, then the seat map of zone A is drawn and painted. */
async function admittedToSeats(page: Page) {
  await visible(page, 'step-choose');
  await page.getByRole('radio', { name: /Block A/ }).check();
  await eventually(() => seat(page, 'A-1-1').getAttribute('data-status')).toBe('available');
}

describe('web booking frontend in Chromium', () => {
  it('a buyer waits in the queue (through a dropped connection), picks seats, holds, confirms and sees the booking code', async () => {
    // Sales open in a few seconds: the buyer waits in the lobby first.
    const opensAt = Date.now() + 9_000;
    const ev = (await stack.h.createEvent({
      name: uniq('Lobby Night'),
      salesOpenAt: new Date(opensAt).toISOString(),
      queue: { enabled: true, admitPerSecond: 200, passSeconds: 600 },
    })) as unknown as { id: string; name: string };
    const name = uniq('ada');
    const { page } = await person(name);
    await shoot(page, '01-events');

    await page.getByRole('link', { name: ev.name }).click();
    await page.getByRole('heading', { level: 1, name: ev.name }).waitFor();
    await eventually(textOf(page.locator('#zones tr[data-zone="A"] .avail'))).toBe('100 of 100');
    await shoot(page, '02-event');

    await page.getByRole('button', { name: 'Join the waiting room' }).click();
    await visible(page, 'step-queue');
    await eventually(() => page.locator('#conn').getAttribute('data-state')).toBe('live');
    await eventually(textOf(page.locator('#q-position'))).toBe('In the lobby');
    await eventually(textOf(page.locator('#q-eta'))).toContain('Sales open in');
    await shoot(page, '03-waiting-room');

    // The connection drops: the page says so, and says so again when it is back.
    await stack.stop();
    await eventually(() => page.locator('#conn').getAttribute('data-state')).toBe('reconnecting');
    await eventually(textOf(page.locator('#conn'))).toContain('Connection lost');
    await shoot(page, '04-connection-lost');
    await stack.restart();
    await eventually(() => page.locator('#conn').getAttribute('data-state'), 10_000).toBe('live');

    // Sales open, the lobby is drawn, the buyer is admitted and goes to seat selection.
    await admittedToSeats(page);
    expect(Date.now()).toBeGreaterThanOrEqual(opensAt - 1_000);
    // Others buy while this buyer is choosing: the map repaints without a reload.
    await Promise.all([fan(ev.id, ['A-1-3', 'A-1-4'], false), fan(ev.id, ['A-3-1', 'A-3-2', 'A-3-3'], true)]);
    await eventually(() => seat(page, 'A-1-3').getAttribute('data-status'), 5_000).toBe('held');
    await eventually(() => seat(page, 'A-3-2').getAttribute('data-status'), 5_000).toBe('sold');
    // A sold seat is announced as unavailable and cannot be picked.
    await eventually(() => seat(page, 'A-3-2').getAttribute('aria-label')).toBe('row 3 seat 2, sold');
    await seat(page, 'A-3-2').click({ force: true });
    await eventually(() => seat(page, 'A-3-2').getAttribute('aria-pressed')).toBe('false');
    await seat(page, 'A-2-5').click();
    // The map is keyboard usable: arrows move between seats, Space picks one.
    await page.keyboard.press('ArrowRight');
    await eventually(() => seat(page, 'A-2-6').evaluate((b) => b === (b.ownerDocument as any).activeElement)).toBe(true);
    await page.keyboard.press('Space');
    await eventually(() => seat(page, 'A-2-5').getAttribute('aria-pressed')).toBe('true');
    await eventually(textOf(page.locator('#selection'))).toContain('2 seats');
    await eventually(textOf(page.locator('#selection'))).toContain('€180.00');
    await shoot(page, '05-seat-map');

    await page.getByRole('button', { name: 'Hold these 2 seats' }).click();
    await visible(page, 'step-hold');
    await eventually(textOf(page.locator('#hold-summary'))).toContain('Row 2 seat 5, row 2 seat 6 in Block A');
    await eventually(textOf(page.locator('#countdown'))).toMatch(/^(10:00|9:5\d)$/);
    await shoot(page, '06-hold');

    // Held seats show as held for everybody else (public seat map).
    const map = await stack.h.call('GET', `/v1/events/${ev.id}/zones/A/seats`);
    expect(map.body.filter((s: any) => s.status === 'held').map((s: any) => s.seat).sort()).toEqual(['A-1-3', 'A-1-4', 'A-2-5', 'A-2-6']);

    await page.getByRole('button', { name: 'Confirm booking' }).click();
    await visible(page, 'step-done');
    const code = (await page.locator('#booking-code').textContent())!.trim();
    expect(code).toMatch(/^[A-Z0-9-]{4,}$/);
    const mine = await stack.h.call('GET', '/v1/me/reservations', { token: await stack.h.token(name) });
    expect(mine.body.reservations).toHaveLength(1);
    expect(mine.body.reservations[0]).toMatchObject({ status: 'confirmed', bookingCode: code, seats: ['A-2-5', 'A-2-6'] });
    await shoot(page, '07-booked');

    await page.getByRole('link', { name: 'See my reservations' }).click();
    await eventually(textOf(page.locator(`[data-reservation="${mine.body.reservations[0].id}"]`))).toContain(code);
    await eventually(textOf(page.locator('.badge.confirmed'))).toBe('Booked');
    await shoot(page, '08-my-reservations');
  });

  it('two buyers race for the same seat: exactly one holds it, the other is told it is gone', async () => {
    const ev = await stack.h.createEvent({ name: uniq('Race Night'), queue: { enabled: true, admitPerSecond: 500, passSeconds: 600 } });
    const buyers = await Promise.all([person(uniq('bea')), person(uniq('cy'))]);
    for (const { page } of buyers) {
      await page.goto(`${stack.url}/events/${ev.id}`);
      await page.getByRole('button', { name: 'Join the waiting room' }).click();
    }
    for (const { page } of buyers) {
      await admittedToSeats(page);
      await seat(page, 'A-1-1').click();
      await eventually(() => page.getByRole('button', { name: 'Hold this seat' }).isEnabled()).toBe(true);
    }
    // Both press "Hold" at the same moment.
    await Promise.all(buyers.map(({ page }) => page.evaluate("document.getElementById('hold').click()")));

    const outcome = (page: Page) =>
      Promise.race([
        visible(page, 'step-hold').then(() => 'won' as const),
        page
          .locator('#message')
          .filter({ hasText: 'just taken by someone else' })
          .waitFor()
          .then(() => 'lost' as const),
      ]);
    const results = await Promise.all(buyers.map(({ page }) => outcome(page)));
    expect([...results].sort()).toEqual(['lost', 'won']);

    const loser = buyers[results.indexOf('lost')]!.page;
    await eventually(textOf(loser.locator('#message'))).toBe(
      'Sorry, row 1 seat 1 was just taken by someone else. Please pick other seats.',
    );
    // The loser's map shows the seat as no longer available, and nothing is selected.
    await eventually(() => seat(loser, 'A-1-1').getAttribute('data-status')).toBe('held');
    await eventually(textOf(loser.locator('#selection'))).toBe('No seats chosen yet.');
    await shoot(loser, '09-race-lost');

    const held = await stack.h.call('GET', `/v1/events/${ev.id}/availability`);
    expect(held.body.zones.find((z: any) => z.code === 'A')).toMatchObject({ held: 1, sold: 0 });
    await Promise.all(buyers.map(({ ctx }) => ctx.close()));
  });

  it('a hold left alone expires in the page (general admission, no waiting room)', async () => {
    const ev = await stack.h.createEvent({ name: uniq('Short Hold'), holdSeconds: 10 });
    const name = uniq('dee');
    const { page, ctx } = await person(name);
    await page.goto(`${stack.url}/events/${ev.id}`);
    await page.getByRole('button', { name: 'Choose tickets' }).click();
    await page.getByRole('radio', { name: /Floor/ }).check();
    await page.getByLabel('Number of tickets').fill('3');
    await eventually(textOf(page.locator('#selection'))).toBe('3 × Floor · total €450.00');
    await shoot(page, '10-ga-quantity');
    await page.getByRole('button', { name: 'Hold 3 tickets' }).click();
    await visible(page, 'step-hold');
    await eventually(textOf(page.locator('#hold-summary'))).toBe('3 × Floor · total €450.00');
    const left = Number(await page.locator('#countdown').getAttribute('data-seconds'));
    expect(left).toBeGreaterThan(5);
    expect(left).toBeLessThanOrEqual(10);

    await page.locator('#step-expired').waitFor({ state: 'visible', timeout: 15_000 });
    await eventually(textOf(page.locator('#message'))).toBe(
      'Your hold expired before you confirmed, so the tickets went back on sale.',
    );
    await eventually(() => page.locator('#step-hold').isHidden()).toBe(true);
    await shoot(page, '11-hold-expired');

    // The seat-release worker's pass frees them, and the page's live availability shows it.
    await eventually(textOf(page.locator('#zones tr[data-zone="FLOOR"] .avail'))).toBe('197 of 200');
    const { core, config } = stack.h;
    const released = await releaseExpired({ ...core.transitions, batch: 100, logger: core.logger });
    expect(released).toBe(1);
    await eventually(textOf(page.locator('#zones tr[data-zone="FLOOR"] .avail'))).toBe('200 of 200');

    // The server agrees: confirming now is refused as expired.
    const { body } = await stack.h.call('GET', '/v1/me/reservations', { token: await stack.h.token(name) });
    const late = await stack.h.call('POST', `/v1/reservations/${body.reservations[0].id}/confirm`, {
      token: await stack.h.token(name),
      body: {},
    });
    expect(late.status).toBe(410);
    await ctx.close();
  });

  it('an organiser creates an event, watches it sell live, pauses and changes the admission rate', async () => {
    const { page } = await person(uniq('olga'), 'organiser');
    await page.goto(`${stack.url}/organiser`);
    const name = uniq('Organised Night');
    await page.getByLabel('Event name').fill(name);
    await page.getByRole('button', { name: 'Create event' }).click();
    await eventually(textOf(page.locator('#dash-name'))).toBe(name);
    const eventId = new URL(page.url()).searchParams.get('event')!;
    await eventually(textOf(page.locator('#k-available'))).toBe('400');

    // Buyers get through the waiting room and hold seats over a few seconds; half confirm.
    for (let i = 0; i < 8; i++) {
      await Promise.all([fan(eventId, [`A-1-${i + 1}`], i % 2 === 0), fan(eventId, [`A-2-${i + 1}`], false)]);
      await new Promise((r) => setTimeout(r, 350));
    }
    await eventually(textOf(page.locator('#k-sold'))).toBe('4');
    await eventually(textOf(page.locator('#k-held'))).toBe('12');
    await eventually(textOf(page.locator('#k-available'))).toBe('384');
    await eventually(textOf(page.locator('#zone-stats tr[data-zone="A"]'))).toContain('Block A');
    await eventually(textOf(page.locator('#queue-state'))).toContain('Admitting at 50 per second · 0 waiting · 16 admitted');
    await eventually(() => page.locator('#chart polyline').count()).toBeGreaterThan(0);

    await page.getByRole('button', { name: 'Pause admission' }).click();
    await eventually(textOf(page.locator('#queue-state'))).toContain('Paused');
    await eventually(() => page.getByRole('button', { name: 'Resume admission' }).getAttribute('aria-pressed')).toBe('true');
    await page.getByLabel('Admit per second').first().fill('120');
    await page.getByRole('button', { name: 'Set rate' }).click();
    await eventually(textOf(page.locator('#message'))).toBe('Admission rate set to 120 per second.');
    const q = await stack.h.call('GET', `/v1/admin/events/${eventId}/queue`, { token: stack.h.adminToken });
    expect(q.body).toMatchObject({ paused: true, admitPerSecond: 120 });
    await shoot(page, '12-organiser-dashboard');

    await page.getByRole('button', { name: 'Resume admission' }).click();
    await eventually(textOf(page.locator('#queue-state'))).toContain('Admitting at 120 per second');
  });

  it('no page threw or logged an error', () => {
    expect(problems.flat()).toEqual([]);
  });
});
