import type { FC } from 'hono/jsx';
import { Layout, type PageEnv } from './layout';

export const MePage: FC<{ env: PageEnv }> = ({ env }) => (
  <Layout env={env} title="My reservations" script="me.js" current="me">
    <h1>My reservations</h1>
    <p id="message" class="message" role="alert" aria-live="assertive"></p>
    <ul id="reservations" class="cards" aria-live="polite"></ul>
  </Layout>
);
