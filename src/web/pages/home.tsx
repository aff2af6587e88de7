import type { FC } from 'hono/jsx';
import type { BoxEvent } from '../../events/model';
import { Layout, money, When, type PageEnv } from './layout';

/** One page of the events on sale, newest sale first; `q` searches names, `cursor` pages on. */
export const HomePage: FC<{ env: PageEnv; events: BoxEvent[]; nextCursor: string | null; q?: string; paged: boolean }> = ({
  env,
  events,
  nextCursor,
  q,
  paged,
}) => (
  <Layout env={env} title="Events on sale" script="home.js" current="events">
    <h1>Events on sale</h1>
    <form class="search" method="get" action="/" role="search">
      <label>
        Find an event
        <input type="search" name="q" value={q ?? ''} maxlength={100} placeholder="Event name" />
      </label>
      <button type="submit">Search</button>
      {q ? <a href="/">Show all</a> : null}
    </form>
    {events.length === 0 ? (
      <p>{q ? `No event on sale matches “${q}”.` : 'No events are on sale right now. Organisers can create one on the Organiser page.'}</p>
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
              {e.zones.length} {e.zones.length === 1 ? 'zone' : 'zones'}, from {money(Math.min(...e.zones.map((z) => z.priceCents)), e.currency)}
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
    <nav class="pager" aria-label="More events">
      {paged ? <a href={q ? `/?q=${encodeURIComponent(q)}` : '/'}>First page</a> : <span></span>}
      {nextCursor ? (
        <a href={`/?${new URLSearchParams({ ...(q ? { q } : {}), cursor: nextCursor }).toString()}`} rel="next">
          Next page
        </a>
      ) : null}
    </nav>
  </Layout>
);

