import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { HtmlEscapedString } from 'hono/utils/html';
import { etag } from 'hono/etag';
import { secureHeaders } from 'hono/secure-headers';
import type { EventService } from '../events/service';
import type { AuthEnv } from '../http/auth';
import type { ErrorAnswer, HtmlErrorRenderer } from '../http/error-boundary';
import { Errors } from '../shared/errors';
import { loadAssets } from './assets';
import { devTokenRoute } from './dev-token';
import { ErrorPage } from './pages/errors';
import { EventPage } from './pages/event';
import { HomePage } from './pages/home';
import type { PageEnv } from './pages/layout';
import { MePage } from './pages/me';
import { OrganiserPage } from './pages/organiser';
import { PayPage } from './pages/pay';
import { TicketsPage } from './pages/tickets';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE_PATHS = ['/', '/events/*', '/me', '/organiser', '/pay/*', '/reservations/*', '/static/*'];
/** Events per page of the home page. */
const HOME_PAGE_SIZE = 12;

export type WebRouteDeps = {
  /** The development sign-in (POST /v1/dev/token) exists. */
  devSignIn: boolean;
  jwtSecret: string;
  /** The dev payment provider's test-card routes exist (development only). */
  devPayments: boolean;
};

/**
 * The web booking frontend (buyer journey, organiser dashboard) and its development token
 * route. Returns the HTML rendering of the app's one error boundary for its pages.
 */
export function webRoutes(app: OpenAPIHono<AuthEnv>, events: EventService, deps: WebRouteDeps): HtmlErrorRenderer {
  if (deps.devSignIn) devTokenRoute(app, deps.jwtSecret);

  const assets = loadAssets();
  const env: PageEnv = { devSignIn: deps.devSignIn, asset: assets.url };
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
  for (const path of PAGE_PATHS) app.use(path, headers);

  app.use('/static/*', etag());
  app.get('/static/:file', (c) => {
    const a = assets.get(c.req.param('file'));
    if (!a) throw Errors.notFound('file');
    // Revalidated each time (ETag, 304): tiny files, and a deploy is picked up at once.
    return c.body(a.body, 200, { 'content-type': a.type, 'cache-control': 'no-cache' });
  });

  app.get('/', async (c) => {
    const q = c.req.query('q')?.trim().slice(0, 100) || undefined;
    const cursor = c.req.query('cursor') || undefined;
    const page = await events.list({ limit: HOME_PAGE_SIZE, q, cursor });
    return html(c, <HomePage env={env} events={page.events} nextCursor={page.nextCursor} q={q} paged={!!cursor} />);
  });

  app.get('/events/:id', async (c) => {
    const id = c.req.param('id');
    if (!UUID.test(id)) throw Errors.notFound('event');
    const event = await events.get(id.toLowerCase());
    // Counts are a nicety for the first paint; the page refreshes them live anyway.
    const counts = await events.availability(event.id).catch(() => null);
    return html(c, <EventPage env={env} event={event} counts={counts} />);
  });

  app.get('/me', (c) => html(c, <MePage env={env} />));
  app.get('/reservations/:id/tickets', (c) => {
    const id = c.req.param('id');
    if (!UUID.test(id)) throw Errors.notFound('reservation');
    return html(c, <TicketsPage env={env} reservationId={id.toLowerCase()} />);
  });
  if (deps.devPayments) {
    app.get('/pay/:paymentId', (c) => {
      const id = c.req.param('paymentId');
      if (!UUID.test(id)) throw Errors.notFound('payment');
      return html(c, <PayPage env={env} paymentId={id.toLowerCase()} />);
    });
  }
  app.get('/organiser', (c) => html(c, <OrganiserPage env={env} />));

  return {
    wants: (c) => c.req.method === 'GET' && isPagePath(c.req.path),
    render: (c, answer: ErrorAnswer) => html(c, <ErrorPage env={env} answer={answer} />, answer.status, answer.headers),
  };
}

const isPagePath = (path: string) =>
  PAGE_PATHS.some((p) => (p.endsWith('/*') ? path.startsWith(p.slice(0, -1)) : path === p));

type Page = HtmlEscapedString | Promise<HtmlEscapedString>;

/** JSX renders elements only; the doctype keeps browsers out of quirks mode. */
async function html(c: Context, page: Page, status = 200, headers?: Record<string, string>): Promise<Response> {
  return c.html(`<!doctype html>${await page}`, status as 200, headers);
}
