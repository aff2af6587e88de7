import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseExpired } from '../../src/worker/release';
import { CHROMIUM, launchChromium, newPerson, PHONE, shoot, signIn, startWebStack, type WebStack } from './stack';

// The payment step in a real browser: the dev provider's test-card page, its signed webhook,
// the tickets page with QR codes, "My reservations", and the event page at phone width.

let stack: WebStack;
let browser: Browser;
const problems: string[][] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-chromium.sh`);
  [stack, browser] = await Promise.all([startWebStack({ PAYMENT_PROVIDER: 'dev' }), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  expect(problems.flat()).toEqual([]);
});

const uniq = (s: string) => `${s}-${randomUUID().slice(0, 6)}`;
const eventually = <T>(fn: () => Promise<T> | T, timeout = 8_000) => expect.poll(fn, { timeout, interval: 50 });

async function person(viewport?: { width: number; height: number }) {
  const p = await newPerson(browser, viewport);
  problems.push(p.problems);
  await signIn(p.page, stack.url, uniq('payer'));
  return p;
}

/** Event page → two seats of Block A → hold → "Confirm booking", which leads to the test-card page. */
async function holdAndGoToPayment(page: Page, eventId: string, seats = ['A-1-1', 'A-1-2']) {
  await page.goto(`${stack.url}/events/${eventId}`);
  await page.getByRole('button', { name: 'Choose tickets' }).click();
  await page.getByRole('radio', { name: /Block A/ }).check();
  for (const s of seats) {
    const b = page.locator(`button.seat[data-seat="${s}"]`);
    await eventually(() => b.getAttribute('data-status')).toBe('available');
    await b.click();
  }
  await page.getByRole('button', { name: seats.length === 1 ? 'Hold this seat' : `Hold these ${seats.length} seats` }).click();
  await page.locator('#step-hold').waitFor({ state: 'visible' });
  await page.getByRole('button', { name: 'Confirm booking' }).click();
  await page.waitForURL(/\/pay\/[0-9a-f-]{36}\?reservation=/);
  await page.getByRole('heading', { name: 'Payment' }).waitFor();
  return new URL(page.url()).searchParams.get('reservation')!;
}

describe('payment step in Chromium (dev provider)', () => {
  it('pays with the test card and shows the tickets with their QR codes', async () => {
    const ev = await stack.h.createEvent({ name: uniq('Paid Night') });
    const { page, ctx } = await person();
    const reservationId = await holdAndGoToPayment(page, ev.id);
    await eventually(async () => (await page.locator('#pay-summary').textContent()) ?? '').toBe('2 seat(s) · €180.00');
    await shoot(page, '20-pay');
    await page.getByRole('button', { name: /Pay with test card/ }).click();
    await page.getByRole('heading', { name: "Paid: you're booked" }).waitFor();
    expect(((await page.locator('#pay-booking-code').textContent()) ?? '').trim()).toMatch(/^[0-9A-Z]{10}$/);
    await page.getByRole('link', { name: 'Show my tickets' }).click();
    await page.waitForURL(`${stack.url}/reservations/${reservationId}/tickets`);
    await eventually(() => page.locator('img.qr').count()).toBe(2);
    // The images really decode (SVG from the API through a data: URL).
    await eventually(() => page.locator('img.qr').first().evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await page.getByRole('heading', { name: 'Ticket 1: row 1 seat 1' }).waitFor();
    await shoot(page, '21-tickets');
    const r = await stack.h.core.sql`select status from reservations where id = ${reservationId}`;
    expect(r[0]!.status).toBe('confirmed');
    await ctx.close();
  });

  it('a declined card leaves the hold; trying again pays', async () => {
    const ev = await stack.h.createEvent({ name: uniq('Declined Night') });
    const { page, ctx } = await person();
    const reservationId = await holdAndGoToPayment(page, ev.id);
    await page.getByRole('button', { name: /declined test card/ }).click();
    await page.getByRole('heading', { name: 'Payment declined' }).waitFor();
    await shoot(page, '22-declined');
    const held = await stack.h.core.sql`select status from reservations where id = ${reservationId}`;
    expect(held[0]!.status).toBe('held');
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.waitForURL(/\/pay\//);
    await page.getByRole('button', { name: /Pay with test card/ }).click();
    await page.getByRole('heading', { name: "Paid: you're booked" }).waitFor();
    await ctx.close();
  });

  it('a payment after the hold expired is refunded and says so', async () => {
    const ev = await stack.h.createEvent({ name: uniq('Late Night') });
    const { page, ctx } = await person();
    const reservationId = await holdAndGoToPayment(page, ev.id, ['A-2-1']);
    // The buyer dawdles: the hold runs out and the seat-release job puts the seat back on sale.
    await stack.h.core.sql`update reservations set expires_at = now() - interval '1 second' where id = ${reservationId}`;
    await releaseExpired({ ...stack.h.core.transitions, logger: stack.h.core.logger, batch: 10 });
    await page.getByRole('button', { name: /Pay with test card/ }).click();
    await page.getByRole('heading', { name: 'Payment refunded' }).waitFor();
    await shoot(page, '23-refunded');
    const refunds = await stack.h.core.sql`select f.status, f.reason from refunds f join payments p on p.id = f.payment_id
      where p.reservation_id = ${reservationId}`;
    expect(refunds).toEqual([{ status: 'succeeded', reason: 'late' }]);
    await page.goto(`${stack.url}/me`);
    const card = page.locator(`li[data-reservation="${reservationId}"]`);
    await eventually(async () => (await card.locator('.pay-state').textContent()) ?? '').toBe('Payment refunded');
    await ctx.close();
  });

  it('My reservations shows date, zone names, payment state, a cancel button for holds and tickets of bookings', async () => {
    const ev = (await stack.h.createEvent({ name: uniq('List Night') })) as unknown as { id: string; startsAt: string };
    const { page, ctx } = await person();
    const paidId = await holdAndGoToPayment(page, ev.id, ['A-3-1']);
    await page.getByRole('button', { name: /Pay with test card/ }).click();
    await page.getByRole('heading', { name: "Paid: you're booked" }).waitFor();
    const heldId = await holdAndGoToPayment(page, ev.id, ['A-3-2']);
    await page.goto(`${stack.url}/me`);
    const paid = page.locator(`li[data-reservation="${paidId}"]`);
    const held = page.locator(`li[data-reservation="${heldId}"]`);
    await paid.waitFor();
    await eventually(() => paid.locator('time').getAttribute('datetime')).toBe(ev.startsAt);
    expect(await paid.textContent()).toContain('Block A: row 3 seat 1');
    await eventually(() => paid.locator('.pay-state').textContent()).toBe('Paid');
    await eventually(() => held.locator('.pay-state').textContent()).toBe('Payment started');
    await shoot(page, '24-my-reservations');
    await held.getByRole('button', { name: 'Cancel hold' }).click();
    await eventually(async () => (await held.locator('.badge').textContent()) ?? '').toBe('Released');
    await paid.getByRole('link', { name: 'Show tickets' }).click();
    await eventually(() => page.locator('img.qr').count()).toBe(1);
    await ctx.close();
  });

  it('at phone width the zone table fits and the seat map says which seats are off screen', async () => {
    const ev = await stack.h.createEvent({
      name: uniq('Wide Rows'),
      zones: [{ code: 'A', name: 'Block A', priceCents: 9000, kind: 'seated', rows: 5, seatsPerRow: 20 }],
    });
    const { page, ctx } = await person(PHONE);
    await page.goto(`${stack.url}/events/${ev.id}`);
    const avail = page.locator('#zones thead th').last();
    await eventually(() => avail.textContent()).toBe('Available');
    const box = (await avail.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    await page.getByRole('button', { name: 'Choose tickets' }).click();
    await page.getByRole('radio', { name: /Block A/ }).check();
    const hint = page.locator('.seat-hint');
    await eventually(async () => (await hint.textContent()) ?? '').toMatch(/^Scroll sideways: seats \d+–20 to the right →$/);
    await shoot(page, '25-phone-seat-map');
    await page.locator('#seatmap').evaluate((m) => (m.scrollLeft = m.scrollWidth));
    await eventually(async () => (await hint.textContent()) ?? '').toMatch(/^Scroll sideways: ← seats 1–\d+ to the left$/);
    await ctx.close();
  });
});
