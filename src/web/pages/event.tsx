import type { FC } from 'hono/jsx';
import type { BoxEvent, Zone } from '../../events/model';
import { Layout, money, When, type PageEnv } from './layout';

type ZoneCounts = { code: string; available: number; held: number; sold: number; capacity: number };

const zoneKind = (z: Zone) => (z.kind === 'seated' ? `Seated, ${z.rows} rows × ${z.seatsPerRow}` : 'General admission');

/** Zones, prices and live availability (refreshed by event.js). */
const ZonesTable: FC<{ event: BoxEvent; counts: ZoneCounts[] | null }> = ({ event, counts }) => (
  <section aria-labelledby="zones-h">
    <h2 id="zones-h">Zones and prices</h2>
    <div class="table-wrap">
      <table id="zones">
        <thead>
          <tr>
            <th scope="col">Zone</th>
            <th scope="col">Price</th>
            <th scope="col" class="col-type">
              Type
            </th>
            <th scope="col">Available</th>
          </tr>
        </thead>
        <tbody>
          {event.zones.map((z) => {
            const c = counts?.find((x) => x.code === z.code);
            return (
              <tr data-zone={z.code}>
                <th scope="row">
                  {z.name}
                  {/* On a phone the Type column folds in here, so Available keeps its room. */}
                  <span class="zone-kind">{zoneKind(z)}</span>
                </th>
                <td>{money(z.priceCents, event.currency)}</td>
                <td class="col-type">{zoneKind(z)}</td>
                <td class="avail">{c ? `${c.available} of ${c.capacity}` : '…'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  </section>
);

/** Before anything: join the waiting room or go straight to choosing. */
const StartStep: FC<{ event: BoxEvent }> = ({ event }) => (
  <div id="step-start" class="step">
    <p id="start-hint" class="muted"></p>
    <button type="button" id="start" class="primary" disabled>
      {event.queue.enabled ? 'Join the waiting room' : 'Choose tickets'}
    </button>
  </div>
);

/** The live place in the waiting room (event.js fills it from the SSE stream). */
const QueueStep: FC = () => (
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
);

/** Zone, then seats from the live map (seated) or a quantity (GA). */
const ChooseStep: FC<{ event: BoxEvent }> = ({ event }) => (
  <div id="step-choose" class="step" hidden>
    <h3>Choose tickets</h3>
    <p id="pass-note" class="muted"></p>
    <fieldset id="zone-pick">
      <legend>Zone</legend>
      {event.zones.map((z) => (
        <label class="choice">
          <input type="radio" name="zone" value={z.code} data-kind={z.kind} />
          {z.name} · {money(z.priceCents, event.currency)}
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
      <fieldset id="best-available" class="best">
        <legend>Best available</legend>
        <p class="muted">Or let us pick: the best seats side by side, front rows first.</p>
        <div class="row-form">
          <label>
            Seats together
            <input type="number" id="best-qty" min={1} max={event.maxSeatsPerUser} value={2} inputmode="numeric" />
          </label>
          <button type="button" id="best-hold">
            Find the best seats
          </button>
        </div>
        <p id="best-note" class="muted" aria-live="polite"></p>
      </fieldset>
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
);

/** The hold's countdown, confirm and release. */
const HoldStep: FC = () => (
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
);

const DoneStep: FC = () => (
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
);

const ExpiredStep: FC = () => (
  <div id="step-expired" class="step" hidden>
    <h3>Your hold expired</h3>
    <p>The time to confirm ran out, so the tickets went back on sale for everyone.</p>
    <button type="button" id="again" class="primary">
      Choose again
    </button>
  </div>
);

/** The booking steps event.js walks through: start, queue, choose, hold, done, expired. */
const Journey: FC<{ event: BoxEvent }> = ({ event }) => (
  <section id="journey" aria-labelledby="journey-h">
    <h2 id="journey-h">Book</h2>
    <p id="message" class="message" role="alert" aria-live="assertive"></p>
    <StartStep event={event} />
    <QueueStep />
    <ChooseStep event={event} />
    <HoldStep />
    <DoneStep />
    <ExpiredStep />
  </section>
);

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

      <ZonesTable event={event} counts={counts} />
      <Journey event={event} />
    </div>
  </Layout>
);
