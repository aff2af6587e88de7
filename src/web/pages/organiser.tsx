import type { FC } from 'hono/jsx';
import { Layout, type PageEnv } from './layout';

/** Which event the dashboard shows. */
const EventPicker: FC = () => (
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
);

/** The headline figures, refreshed by organiser.js. */
const KPIS: [label: string, id: string][] = [
  ['Sold', 'k-sold'],
  ['Held', 'k-held'],
  ['Available', 'k-available'],
  ['In the queue', 'k-queue'],
  ['Admitted / s', 'k-admit'],
  ['Holds / s', 'k-holds'],
  ['Confirms / s', 'k-confirms'],
];

const Kpis: FC = () => (
  <dl class="stats kpis">
    {KPIS.map(([label, id]) => (
      <div>
        <dt>{label}</dt>
        <dd id={id}>–</dd>
      </div>
    ))}
  </dl>
);

const RatesChart: FC = () => (
  <figure class="chart">
    <svg id="chart" viewBox="0 0 600 180" role="img" aria-label="Rates over the last two minutes"></svg>
    <figcaption id="chart-cap">Per second, up to the last two minutes: holds, confirms and admissions.</figcaption>
    <ul class="legend" id="chart-legend"></ul>
  </figure>
);

const ZoneStats: FC = () => (
  // Focusable: on a phone the table scrolls sideways, and a keyboard must reach that too.
  <div class="table-wrap" tabindex={0} role="region" aria-labelledby="zone-stats-cap">
    <table id="zone-stats">
      <caption id="zone-stats-cap">Per zone</caption>
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
);

/** Pause, resume and the admission rate of the event's waiting room. */
const QueueControls: FC = () => (
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
    <form id="revoke-form" class="row-form">
      <label>
        Buyer's user id
        <input id="revoke-user" required maxlength={128} autocomplete="off" />
      </label>
      <button type="submit">Revoke their pass</button>
    </form>
  </section>
);

/** Open, close or cancel the sale. */
const Lifecycle: FC = () => (
  <section aria-labelledby="life-h" id="lifecycle">
    <h3 id="life-h">Sale</h3>
    <p id="status-line" aria-live="polite"></p>
    <div class="row-form">
      <button type="button" id="open-sales" hidden>
        Open sales
      </button>
      <button type="button" id="close-sales" hidden>
        Close sales
      </button>
      <button type="button" id="cancel-event" class="danger" hidden>
        Cancel event
      </button>
    </div>
  </section>
);

/** Edit the event: filled from the event, sends only what changed. */
const EditEvent: FC = () => (
  <section aria-labelledby="edit-h">
    <h3 id="edit-h">Edit event</h3>
    <form id="edit" class="create" novalidate>
      <label>
        Name of the event
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
          Sales close
          <input name="salesCloseAt" type="datetime-local" required />
        </label>
        <label>
          Hold time (seconds)
          <input name="holdSeconds" type="number" min={10} max={86400} required />
        </label>
        <label>
          Max tickets per person
          <input name="maxSeatsPerUser" type="number" min={1} max={100} required />
        </label>
        <label>
          Most buyers with a pass at once (empty: no cap)
          <input name="maxActive" type="number" min={1} max={10000000} />
        </label>
      </div>
      <fieldset>
        <legend>Zones</legend>
        <p class="muted">Capacity and rows can only grow; prices change only until sales open.</p>
        <div id="zones-patch"></div>
      </fieldset>
      <button type="submit" class="primary">
        Save changes
      </button>
    </form>
  </section>
);

/** Live figures of one event, its sale, its settings and its waiting-room controls. */
const Dashboard: FC = () => (
  <section id="dashboard" aria-labelledby="dash-h" hidden>
    <h2 id="dash-h">
      Live: <span id="dash-name"></span>
    </h2>
    <p class="muted" id="dash-updated" aria-live="off"></p>
    <Kpis />
    <RatesChart />
    <ZoneStats />
    <Lifecycle />
    <QueueControls />
    <EditEvent />
  </section>
);

/** The form that creates an event with its zones. */
const CreateEvent: FC = () => (
  <section aria-labelledby="create-h">
    <h2 id="create-h">Create an event</h2>
    <form id="create" class="create" novalidate>
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
        <label>
          Currency (ISO 4217; fixed once created)
          <input name="currency" value="EUR" required pattern="[A-Z]{3}" maxlength={3} title="three capital letters, e.g. EUR" />
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
      <label class="choice">
        <input name="draft" type="checkbox" /> Save as a draft (not listed, no sales until you open it)
      </label>
      <button type="submit" class="primary">
        Create event
      </button>
    </form>
  </section>
);

export const OrganiserPage: FC<{ env: PageEnv }> = ({ env }) => (
  <Layout env={env} title="Organiser" script="organiser.js" current="organiser">
    <h1>Organiser</h1>
    <p id="message" class="message" role="alert" aria-live="assertive"></p>
    <div id="organiser" hidden>
      <EventPicker />
      <Dashboard />
      <CreateEvent />
    </div>
  </Layout>
);
