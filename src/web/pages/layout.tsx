import type { Child, FC } from 'hono/jsx';

/** What every page needs to know about the deployment. */
export type PageEnv = {
  /** The development sign-in (POST /v1/dev/token) exists: never in production. */
  devSignIn: boolean;
  asset(name: string): string;
};


const formats = new Map<string, Intl.NumberFormat>();
/** Minor units in the event's currency, in one locale (the browser pages format the same way). */
export function money(cents: number, currency = 'EUR'): string {
  let f = formats.get(currency);
  if (!f) formats.set(currency, (f = new Intl.NumberFormat('en-US', { style: 'currency', currency })));
  return f.format(cents / 100);
}
/** UTC on the server; the client rewrites every <time> into the reader's own zone. */
export const When: FC<{ at: Date }> = ({ at }) => (
  <time datetime={at.toISOString()}>{at.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>
);

export const Layout: FC<{ env: PageEnv; title: string; script?: string; children?: Child; current?: string }> = ({
  env,
  title,
  script,
  children,
  current,
}) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · boxoffice`}</title>
      <link rel="stylesheet" href={env.asset('app.css')} />
      <link rel="icon" href="data:," />
      {script ? <script type="module" src={env.asset(script)}></script> : null}
    </head>
    <body data-dev-signin={env.devSignIn ? 'on' : 'off'}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          boxoffice
        </a>
        <nav aria-label="Main">
          <a href="/" aria-current={current === 'events' ? 'page' : undefined}>
            Events
          </a>
          <a href="/me" aria-current={current === 'me' ? 'page' : undefined}>
            My reservations
          </a>
          <a href="/organiser" aria-current={current === 'organiser' ? 'page' : undefined}>
            Organiser
          </a>
        </nav>
        <div id="whoami" class="whoami" aria-live="polite"></div>
      </header>
      <SignIn env={env} />
      <main id="main" tabindex={-1}>
        {children}
      </main>
      <noscript>
        <p class="notice">Booking needs JavaScript; the event list and prices work without it.</p>
      </noscript>
    </body>
  </html>
);

const SignIn: FC<{ env: PageEnv }> = ({ env }) =>
  env.devSignIn ? (
    <section id="signin" class="signin" aria-labelledby="signin-h" hidden>
      <h2 id="signin-h">Sign in (development)</h2>
      <p class="hint">
        Development only: pick any name and a role and the API issues a test token. Production deployments sign people in
        through their identity provider and have no such form.
      </p>
      <form id="dev-signin" class="row-form">
        <label>
          Your name
          <input name="sub" id="signin-name" required maxlength={128} autocomplete="username" />
        </label>
        <label>
          Role
          <select name="role" id="signin-role">
            <option value="buyer">Buyer</option>
            <option value="organiser">Organiser</option>
          </select>
        </label>
        <button type="submit">Sign in</button>
      </form>
      <p id="signin-error" class="error" role="alert"></p>
    </section>
  ) : (
    <section id="signin" class="signin" aria-labelledby="signin-h" hidden>
      <h2 id="signin-h">Sign in</h2>
      <p class="hint">Sign in through your organisation's identity provider to book.</p>
    </section>
  );

