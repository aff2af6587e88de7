import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, DESKTOP, launchChromium, newPerson, PHONE, shoot, signIn, startWebStack, type WebStack } from './stack';

// The organiser's screens and best available on the event page, in Debian's Chromium, at
// phone and desktop width, each checked with axe-core injected into the page.

let stack: WebStack;
let browser: Browser;
const problems: string[][] = [];
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-chromium.sh`);
  [stack, browser] = await Promise.all([startWebStack(), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const uniq = (s: string) => `${s}-${randomUUID().slice(0, 6)}`;
const eventually = <T>(fn: () => Promise<T> | T, timeout = 8_000) => expect.poll(fn, { timeout, interval: 50 });
const textOf = (l: Locator) => async () => ((await l.first().textContent()) ?? '').trim();

async function person(name: string, role: 'buyer' | 'organiser', viewport = DESKTOP) {
  const p = await newPerson(browser, viewport);
  problems.push(p.problems);
  await signIn(p.page, stack.url, name, role);
  return p.page;
}

/** axe-core's violations on the page as it is now (rule id and the first offending element). */
async function axe(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol, so the page's CSP (script-src 'self') stays as served.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE);
  const result = await page.evaluate(async () => (globalThis as any).axe.run((globalThis as any).document, { resultTypes: ['violations'] }));
  return result.violations.map((v: any) => `${v.id}: ${v.nodes[0]?.target?.join(' ')}`);
}

const widthOverflow = (page: Page) =>
  page.evaluate(() => {
    const root = (globalThis as any).document.documentElement;
    return root.scrollWidth - root.clientWidth;
  });

describe.each([
  ['phone', PHONE],
  ['desktop', DESKTOP],
] as const)('organiser screens at %s width', (label, viewport) => {
  it('creates (field errors in words, highlighted), edits, opens, closes and cancels an event', async () => {
    const page = await person(uniq('olga'), 'organiser', viewport);
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${stack.url}/organiser`);
    const create = page.locator('#create');
    const name = uniq(`Lifecycle ${label}`);
    await create.getByLabel('Event name').fill(name);
    // Sales that open after the show starts: refused, and the form says so in its own words.
    await create.locator('[name="startsAt"]').fill('2030-01-01T20:00');
    await create.locator('[name="salesOpenAt"]').fill('2030-02-01T10:00');
    await create.getByLabel('Save as a draft').check();
    await page.getByRole('button', { name: 'Create event' }).click();
    await eventually(() => create.locator('[name="salesOpenAt"]').getAttribute('aria-invalid')).toBe('true');
    // The reason sits beside the field and is what a screen reader reads with it.
    const described = await create.locator('[name="salesOpenAt"]').getAttribute('aria-describedby');
    await eventually(textOf(page.locator(`#${described}`))).toContain('sales close');
    const message = await textOf(page.locator('#message'))();
    expect(message).toContain('Sales open');
    expect(message).not.toMatch(/salesOpenAt|salesCloseAt|startsAt/);
    await expect.poll(textOf(page.locator('.field-error'))).not.toMatch(/salesCloseAt|startsAt/);
    expect(await axe(page)).toEqual([]);
    await shoot(page, `20-organiser-form-error-${label}`);

    await create.locator('[name="salesOpenAt"]').fill('2029-12-01T10:00');
    await page.getByRole('button', { name: 'Create event' }).click();
    await eventually(textOf(page.locator('#dash-name'))).toBe(name);
    expect(await create.locator('[aria-invalid="true"]').count()).toBe(0);
    await eventually(textOf(page.locator('#status-line'))).toContain('draft');
    const eventId = new URL(page.url()).searchParams.get('event')!;

    // The dashboard fits the phone: nothing wider than the viewport.
    await eventually(() => page.locator('#zone-stats tbody tr').count()).toBe(2);
    expect(await widthOverflow(page)).toBeLessThanOrEqual(0);
    // With nothing happening the chart's scale is 0 to 1, labelled 0, 0.5, 1.
    await eventually(() => page.locator('#chart text.axis').allTextContents()).toEqual(['0', '0.5', '1', 'now', expect.stringMatching(/^−\d+ s$/)]);

    // Edit: a new name and two more rows; a shrink is refused at the field.
    const edit = page.locator('#edit');
    await edit.getByLabel('Name of the event').fill(`${name} (edited)`);
    await edit.locator('.zone-patch[data-zone="A"] input[name="rows"]').fill('12');
    await edit.locator('.zone-patch[data-zone="FLOOR"] input[name="capacity"]').fill('150');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await eventually(() => edit.locator('.zone-patch[data-zone="FLOOR"] input[name="capacity"]').getAttribute('aria-invalid')).toBe('true');
    await eventually(textOf(page.locator('#message'))).toContain('Capacity');
    expect(await axe(page)).toEqual([]);
    await edit.locator('.zone-patch[data-zone="FLOOR"] input[name="capacity"]').fill('250');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await eventually(textOf(page.locator('#message'))).toBe('Changes saved.');
    await eventually(textOf(page.locator('#dash-name'))).toBe(`${name} (edited)`);
    const saved = (await stack.h.call('GET', `/v1/events/${eventId}`)).body;
    expect(saved.zones.map((z: any) => z.capacity)).toEqual([240, 250]);

    await page.getByRole('button', { name: 'Open sales' }).click();
    await eventually(textOf(page.locator('#status-line'))).toBe('Status: on sale.');
    // Waiting-room controls: a cap on live passes, and revoking one buyer's pass.
    await edit.getByLabel('Most buyers with a pass at once').fill('50');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await eventually(textOf(page.locator('#message'))).toBe('Changes saved.');
    expect((await stack.h.call('GET', `/v1/events/${eventId}`)).body.queue.maxActive).toBe(50);
    expect(await axe(page)).toEqual([]);
    await page.getByRole('button', { name: 'Close sales' }).click();
    await eventually(textOf(page.locator('#status-line'))).toBe('Status: sales closed.');
    await page.getByRole('button', { name: 'Open sales' }).click();
    await eventually(textOf(page.locator('#status-line'))).toBe('Status: on sale.');
    await shoot(page, `21-organiser-manage-${label}`);
    expect(await axe(page)).toEqual([]);
    await page.getByRole('button', { name: 'Cancel event' }).click();
    await eventually(textOf(page.locator('#status-line')), 15_000).toBe('Status: cancelled.');
    expect((await stack.h.call('GET', `/v1/events/${eventId}`)).body.status).toBe('cancelled');
    await eventually(() => page.locator('#pick-event option').allTextContents()).toContain(`${name} (edited) (cancelled)`);
    expect(await widthOverflow(page)).toBeLessThanOrEqual(0);
  });

  it("revokes one buyer's waiting-room pass from the dashboard", async () => {
    const ev = await stack.h.createEvent({ name: uniq(`Queue ${label}`), queue: { enabled: true, admitPerSecond: 100, passSeconds: 600 } });
    const fanId = uniq('fan');
    const fan = await stack.h.token(fanId);
    const joined = await stack.h.call('POST', `/v1/events/${ev.id}/queue`, { token: fan });
    let view = joined.body;
    for (let i = 0; view.status !== 'admitted' && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      view = (await stack.h.call('GET', `/v1/events/${ev.id}/queue?ticket=${encodeURIComponent(joined.body.ticket)}`)).body;
    }
    expect(view.status).toBe('admitted');
    const page = await person(uniq('otto'), 'organiser', viewport);
    await page.goto(`${stack.url}/organiser?event=${ev.id}`);
    await page.locator('#queue-controls').waitFor({ state: 'visible' });
    await page.locator('#revoke-user').fill(fanId);
    await page.getByRole('button', { name: 'Revoke their pass' }).click();
    await eventually(textOf(page.locator('#message'))).toContain('is revoked');
    const refused = await stack.h.call('POST', `/v1/events/${ev.id}/reservations`, {
      token: fan,
      headers: { 'x-queue-pass': view.pass },
      body: { zone: 'FLOOR', quantity: 1 },
    });
    expect(refused.body.error?.code).toBe('QUEUE_PASS_REVOKED');
    expect(await axe(page)).toEqual([]);
    expect(await widthOverflow(page)).toBeLessThanOrEqual(0);
  });

  it('a buyer asks for the best seats together and gets them held', async () => {
    const ev = await stack.h.createEvent({ name: uniq(`Best ${label}`) });
    // Someone already sits in the middle of row 1.
    const other = await stack.h.token(uniq('early'));
    expect((await stack.h.call('POST', `/v1/events/${ev.id}/reservations`, { token: other, body: { seats: ['A-1-5', 'A-1-6'] } })).status).toBe(201);
    const page = await person(uniq('bea'), 'buyer', viewport);
    await page.goto(`${stack.url}/events/${ev.id}`);
    await page.locator('#start:not([disabled])').click();
    await page.locator('#step-choose').waitFor({ state: 'visible' });
    await page.getByRole('radio', { name: /Block A/ }).check();
    await page.getByLabel('Seats together').fill('3');
    expect(await axe(page)).toEqual([]);
    await page.getByRole('button', { name: 'Find the best 3 seats together' }).click();
    await page.locator('#step-hold').waitFor({ state: 'visible' });
    // Row 1 has 4 free either side of the pair: 3 there would strand a seat, so row 2's centre.
    await eventually(textOf(page.locator('#hold-summary'))).toContain('Row 2 seat 4, row 2 seat 5, row 2 seat 6');
    expect(await widthOverflow(page)).toBeLessThanOrEqual(0);
    await shoot(page, `22-best-available-${label}`);
  });
});

it('the home page pages through events and finds one by name', async () => {
  const tag = randomUUID().slice(0, 6);
  const made: string[] = [];
  for (let i = 0; i < 14; i++) {
    const e = await stack.h.createEvent({ name: `Paging ${tag} ${String(i).padStart(2, '0')}`, salesOpenAt: new Date(Date.now() - 3_600_000 + i * 1000).toISOString() });
    made.push(e.id);
  }
  await stack.h.createEvent({ name: `Paging ${tag} hidden draft`, status: 'draft' });
  const page = await person(uniq('hana'), 'buyer', PHONE);
  await page.getByLabel('Find an event').fill(`Paging ${tag}`);
  await page.getByRole('button', { name: 'Search' }).click();
  await eventually(() => page.locator('#event-list li').count()).toBe(12);
  expect(await page.getByRole('link', { name: `Paging ${tag} 13` }).count()).toBe(1);
  expect(await axe(page)).toEqual([]);
  await page.getByRole('link', { name: 'Next page' }).click();
  await eventually(() => page.locator('#event-list li').count()).toBe(2);
  expect(await page.locator('#event-list').textContent()).toContain(`Paging ${tag} 00`);
  expect(await page.locator('#event-list').textContent()).not.toContain('hidden draft');
  expect(await page.getByRole('link', { name: 'Next page' }).count()).toBe(0);
  expect(await widthOverflow(page)).toBeLessThanOrEqual(0);
});

it('no page threw or logged an error', () => {
  expect(problems.flat()).toEqual([]);
});
