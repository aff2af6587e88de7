import type { FC } from 'hono/jsx';
import type { BoxEvent } from '../../events/model';
import { Layout, money, When, type PageEnv } from './layout';

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

