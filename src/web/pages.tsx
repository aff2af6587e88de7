import type { Child, FC } from 'hono/jsx';
import type { BoxEvent, Zone } from '../events/model';

/** What every page needs to know about the deployment. */
export type PageEnv = {
  /** The development sign-in (POST /v1/dev/token) exists: never in production. */
  devSignIn: boolean;
  asset(name: string): string;
};

type ZoneCounts = { code: string; available: number; held: number; sold: number; capacity: number };

const money = (cents: number) => `€${(cents / 100).toFixed(2)}`;
/** UTC on the server; the client rewrites every <time> into the reader's own zone. */
const When: FC<{ at: Date }> = ({ at }) => (
  <time datetime={at.toISOString()}>{at.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>
);

const Layout: FC<{ env: PageEnv; title: string; script?: string; children?: Child; current?: string }> = ({
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

export const HomePage: FC<{ env: PageEnv; events: BoxEvent[] }> = ({ env, events }) => (
  <Layout env={env} title="Events on sale" script="home.js" current="events">
    <h1>Events on sale</h1>
    {events.length === 0 ? (
      <p>No events are on sale right now. Organisers can create one on the Organiser page.</p>
    ) : (
      <ul class="cards" id="event-list">
        {events.map((e) => (
          <li class="card">
            <h2>
              <a href={`/events/${e.id}`}>{e.name}</a>
            </h2>
            <p>
              <When at={e.startsAt} />
            </p>
            <p class="muted">
              {e.zones.length} {e.zones.length === 1 ? 'zone' : 'zones'}, from {money(Math.min(...e.zones.map((z) => z.priceCents)))}
              {e.salesOpenAt.getTime() > Date.now() ? (
                <>
                  {' '}
                  · sales open <When at={e.salesOpenAt} />
                </>
              ) : (
                ' · on sale now'
              )}
            </p>
          </li>
        ))}
      </ul>
    )}
  </Layout>
);

const zoneKind = (z: Zone) => (z.kind === 'seated' ? `Seated, ${z.rows} rows × ${z.seatsPerRow}` : 'General admission');

export const EventPage: FC<{ env: PageEnv; event: BoxEvent; counts: ZoneCounts[] | null }> = ({ env, event, counts }) => (
  <Layout env={env} title={event.name} script="event.js" current="events">
    <div id="event" data-event-id={event.id}>
      <h1>{event.name}</h1>
      <p>
        Starts <When at={event.startsAt} />. Sales <When at={event.salesOpenAt} /> to <When at={event.salesCloseAt} />.
      </p>
      <p class="muted">
        Up to {event.maxSeatsPerUser} tickets per person. Seats are held for {Math.round(event.holdSeconds / 60) || 1} min while
        you confirm.{event.queue.enabled ? ' Entry is through a waiting room.' : ''}
      </p>

      <section aria-labelledby="zones-h">
        <h2 id="zones-h">Zones and prices</h2>
        <div class="table-wrap">
          <table id="zones">
            <thead>
              <tr>
                <th scope="col">Zone</th>
                <th scope="col">Price</th>
                <th scope="col">Type</th>
                <th scope="col">Available</th>
              </tr>
            </thead>
            <tbody>
              {event.zones.map((z) => {
                const c = counts?.find((x) => x.code === z.code);
                return (
                  <tr data-zone={z.code}>
                    <th scope="row">{z.name}</th>
                    <td>{money(z.priceCents)}</td>
                    <td>{zoneKind(z)}</td>
                    <td class="avail">{c ? `${c.available} of ${c.capacity}` : '…'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>

      <section id="journey" aria-labelledby="journey-h">
        <h2 id="journey-h">Book</h2>
        <p id="message" class="message" role="alert" aria-live="assertive"></p>

        <div id="step-start" class="step">
          <p id="start-hint" class="muted"></p>
          <button type="button" id="start" class="primary" disabled>
            {event.queue.enabled ? 'Join the waiting room' : 'Choose tickets'}
          </button>
        </div>

        <div id="step-queue" class="step" hidden>
          <h3>Waiting room</h3>
          <p id="conn" class="conn" data-state="connecting" aria-live="polite">
            Connecting…
          </p>
          <dl class="stats" aria-live="polite">
            <div>
              <dt>Your position</dt>
              <dd id="q-position">–</dd>
            </div>
            <div>
              <dt>People ahead</dt>
              <dd id="q-ahead">–</dd>
            </div>
            <div>
              <dt>Estimated wait</dt>
              <dd id="q-eta">–</dd>
            </div>
          </dl>
          <p id="q-note" class="muted">
            Keep this page open: you will go straight to seat selection when it is your turn.
          </p>
        </div>

        <div id="step-choose" class="step" hidden>
          <h3>Choose tickets</h3>
          <p id="pass-note" class="muted"></p>
          <fieldset id="zone-pick">
            <legend>Zone</legend>
            {event.zones.map((z) => (
              <label class="choice">
                <input type="radio" name="zone" value={z.code} data-kind={z.kind} />
                {z.name} · {money(z.priceCents)}
              </label>
            ))}
          </fieldset>
          <div id="seat-area" hidden>
            <ul class="legend" aria-label="Seat colours">
              <li>
                <span class="swatch available"></span> Available
              </li>
              <li>
                <span class="swatch selected"></span> Your choice
              </li>
              <li>
                <span class="swatch held"></span> Held by someone
              </li>
              <li>
                <span class="swatch sold"></span> Sold
              </li>
            </ul>
            <p class="muted" id="seat-help">
              Use Tab to reach the seat map, arrow keys to move, Enter or Space to pick a seat. The map refreshes live.
            </p>
            <div id="seat-block-wrap" hidden>
              <label>
                Rows
                <select id="seat-block"></select>
              </label>
            </div>
            <div id="seatmap" class="seatmap" role="group" aria-label="Seat map" aria-describedby="seat-help"></div>
          </div>
          <div id="ga-area" hidden>
            <label>
              Number of tickets
              <input type="number" id="qty" min={1} max={event.maxSeatsPerUser} value={1} inputmode="numeric" />
            </label>
          </div>
          <p id="selection" aria-live="polite"></p>
          <button type="button" id="hold" class="primary" disabled>
            Hold tickets
          </button>
        </div>

        <div id="step-hold" class="step" hidden>
          <h3>Your hold</h3>
          <p id="hold-summary"></p>
          <p>
            Held for you for <strong id="countdown" role="timer" aria-live="off"></strong>. Confirm before the time runs out.
          </p>
          <div class="actions">
            <button type="button" id="confirm" class="primary">
              Confirm booking
            </button>
            <button type="button" id="release">
              Release
            </button>
          </div>
        </div>

        <div id="step-done" class="step" hidden>
          <h3>You're booked</h3>
          <p id="done-summary"></p>
          <p class="code-line">
            Booking code: <strong id="booking-code" class="code"></strong>
          </p>
          <p>
            <a href="/me">See my reservations</a>
          </p>
        </div>

        <div id="step-expired" class="step" hidden>
          <h3>Your hold expired</h3>
          <p>The time to confirm ran out, so the tickets went back on sale for everyone.</p>
          <button type="button" id="again" class="primary">
            Choose again
          </button>
        </div>
      </section>
    </div>
  </Layout>
);

export const MePage: FC<{ env: PageEnv }> = ({ env }) => (
  <Layout env={env} title="My reservations" script="me.js" current="me">
    <h1>My reservations</h1>
    <p id="message" class="message" role="alert" aria-live="assertive"></p>
    <ul id="reservations" class="cards" aria-live="polite"></ul>
  </Layout>
);

export const OrganiserPage: FC<{ env: PageEnv }> = ({ env }) => (
  <Layout env={env} title="Organiser" script="organiser.js" current="organiser">
    <h1>Organiser</h1>
    <p id="message" class="message" role="alert" aria-live="assertive"></p>
    <div id="organiser" hidden>
      <section aria-labelledby="pick-h">
        <h2 id="pick-h">Watch an event</h2>
        <form id="pick" class="row-form">
          <label>
            Event
            <select id="pick-event"></select>
          </label>
          <button type="submit">Open dashboard</button>
        </form>
      </section>

      <section id="dashboard" aria-labelledby="dash-h" hidden>
        <h2 id="dash-h">
          Live: <span id="dash-name"></span>
        </h2>
        <p class="muted" id="dash-updated" aria-live="off"></p>
        <dl class="stats kpis">
          <div>
            <dt>Sold</dt>
            <dd id="k-sold">–</dd>
          </div>
          <div>
            <dt>Held</dt>
            <dd id="k-held">–</dd>
          </div>
          <div>
            <dt>Available</dt>
            <dd id="k-available">–</dd>
          </div>
          <div>
            <dt>In the queue</dt>
            <dd id="k-queue">–</dd>
          </div>
          <div>
            <dt>Admitted / s</dt>
            <dd id="k-admit">–</dd>
          </div>
          <div>
            <dt>Holds / s</dt>
            <dd id="k-holds">–</dd>
          </div>
          <div>
            <dt>Confirms / s</dt>
            <dd id="k-confirms">–</dd>
          </div>
        </dl>
        <figure class="chart">
          <svg id="chart" viewBox="0 0 600 180" role="img" aria-label="Rates over the last two minutes"></svg>
          <figcaption id="chart-cap">Per second, up to the last two minutes: holds, confirms and admissions.</figcaption>
          <ul class="legend" id="chart-legend"></ul>
        </figure>
        <div class="table-wrap">
          <table id="zone-stats">
            <caption>Per zone</caption>
            <thead>
              <tr>
                <th scope="col">Zone</th>
                <th scope="col">Sold</th>
                <th scope="col">Held</th>
                <th scope="col">Available</th>
                <th scope="col">Capacity</th>
                <th scope="col">
                  <span class="sr-only">Sold, held, available</span>
                </th>
              </tr>
            </thead>
            <tbody></tbody>
          </table>
        </div>
        <section aria-labelledby="queue-h" id="queue-controls">
          <h3 id="queue-h">Waiting room</h3>
          <p id="queue-state" aria-live="polite"></p>
          <div class="row-form">
            <button type="button" id="pause" aria-pressed="false">
              Pause admission
            </button>
            <form id="rate-form" class="row-form">
              <label>
                Admit per second
                <input type="number" id="rate" min={1} max={100000} required inputmode="numeric" />
              </label>
              <button type="submit">Set rate</button>
            </form>
          </div>
        </section>
      </section>

      <section aria-labelledby="create-h">
        <h2 id="create-h">Create an event</h2>
        <form id="create" class="create">
          <label>
            Event name
            <input name="name" required maxlength={200} />
          </label>
          <div class="grid2">
            <label>
              Starts at
              <input name="startsAt" type="datetime-local" required />
            </label>
            <label>
              Sales open
              <input name="salesOpenAt" type="datetime-local" required />
            </label>
            <label>
              Sales close (optional, default: start)
              <input name="salesCloseAt" type="datetime-local" />
            </label>
            <label>
              Hold time (seconds)
              <input name="holdSeconds" type="number" min={10} max={86400} value={600} required />
            </label>
            <label>
              Max tickets per person
              <input name="maxSeatsPerUser" type="number" min={1} max={100} value={6} required />
            </label>
          </div>
          <fieldset>
            <legend>Waiting room</legend>
            <label class="choice">
              <input name="queueEnabled" type="checkbox" checked /> Use a waiting room
            </label>
            <div class="grid2">
              <label>
                Admit per second
                <input name="admitPerSecond" type="number" min={1} max={100000} value={50} />
              </label>
              <label>
                Pass valid for (seconds)
                <input name="passSeconds" type="number" min={30} max={86400} value={900} />
              </label>
            </div>
          </fieldset>
          <fieldset>
            <legend>Zones</legend>
            <div id="zones-edit"></div>
            <button type="button" id="add-zone">
              Add zone
            </button>
          </fieldset>
          <button type="submit" class="primary">
            Create event
          </button>
        </form>
      </section>
    </div>
  </Layout>
);

export const NotFoundPage: FC<{ env: PageEnv; what: string }> = ({ env, what }) => (
  <Layout env={env} title="Not found">
    <h1>Not found</h1>
    <p>We couldn't find that {what}. It may have been removed, or the link may be mistyped.</p>
    <p>
      <a href="/">See the events on sale</a>
    </p>
  </Layout>
);

export const UnavailablePage: FC<{ env: PageEnv }> = ({ env }) => (
  <Layout env={env} title="Briefly unavailable">
    <h1>Briefly unavailable</h1>
    <p>The box office can't reach its data right now. Please try again in a few seconds.</p>
  </Layout>
);
