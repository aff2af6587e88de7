import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Logger } from 'pino';
import { etag } from 'hono/etag';
import { secureHeaders } from 'hono/secure-headers';
import type { Core } from '../core';
import type { BoxEvent } from '../events/model';
import type { AuthEnv } from '../http/auth';
import { AppError } from '../shared/errors';
import { loadAssets } from './assets';
import { devTokenRoute } from './dev-token';
import { EventPage, HomePage, MePage, NotFoundPage, OrganiserPage, UnavailablePage, type PageEnv } from './pages';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The web booking frontend (buyer journey, organiser dashboard) and its development token route. */
export function webRoutes(app: OpenAPIHono<AuthEnv>, core: Core): void {
  const devSignIn = core.config.env !== 'production';
  if (devSignIn) devTokenRoute(app, core.config.jwtSecret);

  const assets = loadAssets();
  const env: PageEnv = { devSignIn, asset: assets.url };
  // Everything the pages load comes from this origin: no CDN, works offline, and an
  // injected script tag from anywhere else would not run.
  const headers = secureHeaders({
    // TLS (and so HSTS) belongs to whatever terminates it in front of the API.
    strictTransportSecurity: false,
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  });
  for (const path of ['/', '/events/*', '/me', '/organiser', '/static/*']) app.use(path, headers);

  app.use('/static/*', etag());
  app.get('/static/:file', (c) => {
    const a = assets.get(c.req.param('file'));
    if (!a) return html(c, <NotFoundPage env={env} what="file" />, 404);
    // Revalidated each time (ETag, 304): tiny files, and a deploy is picked up at once.
    return c.body(a.body, 200, { 'content-type': a.type, 'cache-control': 'no-cache' });
  });

  const page = (c: Context, render: () => Promise<Rendered>) => renderPage(c, env, core.logger, render);

  app.get('/', async (c) => page(c, async () => <HomePage env={env} events={await core.events.list(true)} />));

  app.get('/events/:id', async (c) =>
    page(c, async () => {
      const id = c.req.param('id');
      if (!UUID.test(id)) return notFound(c, env, 'event');
      let event: BoxEvent;
      try {
        event = await core.events.get(id.toLowerCase());
      } catch (err) {
        if (err instanceof AppError && err.status === 404) return notFound(c, env, 'event');
        throw err;
      }
      // Counts are a nicety for the first paint; the page refreshes them live anyway.
      const counts = await core.events.availability(event.id).catch(() => null);
      return <EventPage env={env} event={event} counts={counts} />;
    }),
  );

  app.get('/me', (c) => html(c, <MePage env={env} />));
  app.get('/organiser', (c) => html(c, <OrganiserPage env={env} />));
}

type Page = HtmlEscapedString | Promise<HtmlEscapedString>;
type Rendered = Page | Response;

/** JSX renders elements only; the doctype keeps browsers out of quirks mode. */
async function html(c: Context, page: Page, status: 200 | 404 | 503 = 200, headers?: Record<string, string>): Promise<Response> {
  return c.html(`<!doctype html>${await page}`, status, headers);
}

/** A page never shows a raw error or a stack trace: failures become a plain-language page. */
async function renderPage(c: Context, env: PageEnv, logger: Logger, render: () => Promise<Rendered>): Promise<Response> {
  try {
    const out = await render();
    return out instanceof Response ? out : await html(c, out);
  } catch (err) {
    const outage = err instanceof AppError && err.status === 503;
    if (!outage) logger.warn({ err, path: c.req.path }, 'page failed to render');
    return html(c, <UnavailablePage env={env} />, 503, { 'Retry-After': '2' });
  }
}

function notFound(c: Context, env: PageEnv, what: string): Promise<Response> {
  return html(c, <NotFoundPage env={env} what={what} />, 404);
}
