import { serve } from '@hono/node-server';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startHarness, type Harness } from '../harness';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SHOTS = path.join(ROOT, 'artifacts', 'screenshots');
export const CHROMIUM = '/usr/bin/chromium';

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

/**
 * The real stack for a browser: the whole app on a real HTTP port (test database, Redis db 1,
 * own key prefix), which can be stopped and started again on the same port to cut every
 * open connection (the waiting room's SSE stream included).
 */
export async function startWebStack(env: Record<string, string> = {}) {
  // Development mode: the pages sign in through the development token route.
  const h: Harness = await startHarness({ NODE_ENV: 'development', ...env });
  let server: Server | null = null;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = serve({ fetch: h.app.fetch, port, hostname: '127.0.0.1' }, (info) => {
        port = info.port;
        resolve();
      }) as Server;
      s.once('error', reject);
      server = s;
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = null;
      if (!s) return resolve();
      s.closeAllConnections();
      s.close(() => resolve());
    });

  await listen();
  return {
    h,
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    /** Drops every connection and stops listening (the page sees the network go away). */
    stop,
    /** Listens again on the same port. */
    restart: listen,
    async close() {
      await stop();
      await h.close();
    },
  };
}

export type WebStack = Awaited<ReturnType<typeof startWebStack>>;

/** Debian's Chromium, never a downloaded browser; flags fit a root user in a container. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A fresh browser profile per person; page errors and failed asset loads fail the test, so a
 * broken script cannot pass as "nothing happened".
 */
export async function newPerson(browser: Browser, viewport = DESKTOP): Promise<{ ctx: BrowserContext; page: Page; problems: string[] }> {
  const ctx = await browser.newContext({ viewport, reducedMotion: 'reduce' });
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/EventSource|ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|Failed to load resource/.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  return { ctx, page, problems };
}

/** Signs in through the development form on the home page. */
export async function signIn(page: Page, base: string, name: string, role: 'buyer' | 'organiser' = 'buyer') {
  await page.goto(`${base}/`);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Role').selectOption(role);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Signed in as ${name} (${role})`).waitFor();
}

/** One screenshot per step at the current size, and the same step at phone width. */
export async function shoot(page: Page, step: string) {
  mkdirSync(SHOTS, { recursive: true });
  const size = page.viewportSize() ?? DESKTOP;
  await page.screenshot({ path: path.join(SHOTS, `${step}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: path.join(SHOTS, `${step}-phone.png`), fullPage: true });
  await page.setViewportSize(size);
}
