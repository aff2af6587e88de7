import type { FC } from 'hono/jsx';
import { Layout, type PageEnv } from './layout';

/** A confirmed booking's tickets: one QR code per seat (GA: per unit), for the door. */
export const TicketsPage: FC<{ env: PageEnv; reservationId: string }> = ({ env, reservationId }) => (
  <Layout env={env} title="My tickets" script="tickets.js" current="me">
    <h1>My tickets</h1>
    <p id="message" class="message" role="alert" aria-live="assertive"></p>
    <p id="tickets-summary" data-reservation={reservationId}></p>
    <ul id="tickets" class="cards tickets" aria-live="polite"></ul>
  </Layout>
);
