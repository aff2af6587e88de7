import type { FC } from 'hono/jsx';
import { Layout, type PageEnv } from './layout';

/**
 * The development provider's test-card page (PAYMENT_PROVIDER=dev): no card data, two test
 * cards. pay.js makes the dev provider send its signed webhook, as a real provider would.
 */
export const PayPage: FC<{ env: PageEnv; paymentId: string }> = ({ env, paymentId }) => (
  <Layout env={env} title="Payment" script="pay.js" current="me">
    <h1>Payment</h1>
    <p id="message" class="message" role="alert" aria-live="assertive"></p>
    <div id="pay" class="step" data-payment={paymentId}>
      <p class="notice">Test payments: nothing is charged. Pick a test card.</p>
      <p id="pay-summary" aria-live="polite"></p>
      <p>
        Your seats are held until <strong id="pay-until"></strong>.
      </p>
      <div class="actions">
        <button type="button" id="card-ok" class="primary">
          Pay with test card 4242 4242 4242 4242
        </button>
        <button type="button" id="card-declined">
          Use declined test card 4000 0000 0000 0002
        </button>
      </div>
    </div>
    <div id="pay-done" class="step" hidden>
      <h2>Paid: you're booked</h2>
      <p class="code-line">
        Booking code: <strong id="pay-booking-code" class="code"></strong>
      </p>
      <p>
        <a id="pay-tickets" class="button primary" href="#">
          Show my tickets
        </a>
      </p>
    </div>
    <div id="pay-failed" class="step" hidden>
      <h2>Payment declined</h2>
      <p>Nothing was charged. Your seats stay held until the time runs out, so you can try again.</p>
      <button type="button" id="pay-retry" class="primary">
        Try again
      </button>
    </div>
    <div id="pay-refunded" class="step" hidden>
      <h2>Payment refunded</h2>
      <p id="pay-refunded-why">
        The payment arrived after your hold had expired and the seats had gone back on sale, so it was refunded in full.
      </p>
      <p>
        <a href="/me">See my reservations</a>
      </p>
    </div>
  </Layout>
);
